#!/usr/bin/env node
// `npx crm …`: in a checkout, the TypeScript source through tsx, so the command always matches the
// code (a dist/ left by an earlier build could be stale); where only the compiled dist/ exists, that.
import { existsSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';

const source = new URL('../src/cli/crm.ts', import.meta.url);
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/cli/crm.js', import.meta.url).href);
}
