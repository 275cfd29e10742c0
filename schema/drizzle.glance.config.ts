import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './schema/glance.ts',
  out: './schema/migrations/glance',
});
