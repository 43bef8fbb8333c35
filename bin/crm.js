#!/usr/bin/env node
// `npx crm …`: the compiled CLI when `npm run build` made one (the Docker image), else the TypeScript
// source through tsx (a checkout after `npm ci`).
import { existsSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/crm.js', import.meta.url);
if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/crm.ts', import.meta.url).href);
}
