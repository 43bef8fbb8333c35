import { defineConfig } from 'drizzle-kit';

// drizzle-kit reads every table file and writes reviewed SQL into migrations/.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/platform/**/*.table.ts', './src/modules/**/*.table.ts'],
  out: './migrations',
});
