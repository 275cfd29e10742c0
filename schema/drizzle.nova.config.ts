import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './schema/nova.ts',
  out: './schema/migrations/nova',
});
