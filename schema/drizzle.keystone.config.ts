import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './schema/keystone.ts',
  out: './schema/migrations/keystone',
});
