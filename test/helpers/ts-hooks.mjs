// Module hooks that let the test processes import the project's TypeScript (see ts-register.mjs).
//
// ts-node, through @tapjs/typescript, cost each of the ~90 test processes ~0.9 s to start (it loads
// the TypeScript compiler to read tsconfig.json) and ~1 s to transpile the ~260 files the app is
// made of, again in every process. Here the same swc transform, with the options ts-node derived
// from tsconfig.json, runs only for files not seen before: its output is cached on disk by content.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const cacheDir = fileURLToPath(new URL('../../node_modules/.cache/test-ts/', import.meta.url));

// What ts-node passed to swc for this tsconfig.json (target ES2022, module NodeNext → ESM output).
const SWC_OPTIONS = {
  swcrc: false,
  sourceMaps: 'inline',
  module: { type: 'es6', noInterop: false, strictMode: true, ignoreDynamic: false },
  jsc: {
    parser: { syntax: 'typescript', tsx: false, dynamicImport: true, importAssertions: true },
    target: 'es2022',
    transform: { legacyDecorator: true },
    keepClassNames: true,
  },
};
const OPTIONS_KEY = JSON.stringify([require('@swc/core/package.json').version, SWC_OPTIONS]);

const ours = (url) => url.startsWith('file:') && !url.includes('/node_modules/');

/** `./x.js` names `./x.ts` in our sources (module NodeNext), as tsc resolves it. */
export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && /^\.{1,2}\//.test(specifier) && context.parentURL && ours(context.parentURL)) {
    const url = new URL(specifier, context.parentURL);
    const ts = new URL(`${url.href.slice(0, -3)}.ts`);
    if (!existsSync(url) && existsSync(ts)) return { url: ts.href, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}

let swc;

export async function load(url, context, next) {
  if (!url.endsWith('.ts') || !ours(url)) return next(url, context);
  const file = fileURLToPath(url);
  const source = readFileSync(file, 'utf8');
  const cached = join(cacheDir, `${createHash('sha1').update(OPTIONS_KEY).update(file).update('\0').update(source).digest('hex')}.js`);
  let code;
  try {
    code = readFileSync(cached, 'utf8');
  } catch {
    swc ??= require('@swc/core');
    code = swc.transformSync(source, { ...SWC_OPTIONS, filename: file }).code;
    // test processes start in parallel: each writes a whole file and renames it into place
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${cached}.${process.pid}`;
    writeFileSync(partial, code);
    renameSync(partial, cached);
  }
  return { format: 'module', source: code, shortCircuit: true };
}
