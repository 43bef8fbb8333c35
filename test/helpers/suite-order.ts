// The order `npm test` starts its files in: longest first, so that the last minutes are not one long
// file running alone on a 2-core machine while the other jobs sit idle (longest-processing-time-first
// scheduling). The measure is each file's wall-clock time in the last run on this checkout, kept in
// node_modules/.cache (like the transpile cache of ts-hooks.mjs). Files without a measure (a clean
// clone, a new file) start first, ranked by where the known long suites live.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const CACHE = fileURLToPath(new URL('../../node_modules/.cache/test-durations.json', import.meta.url));

/** Where the long files are (process-spawning, generated and matrix suites), longest first. */
const SLOW_FIRST = ['test/fuzz/', 'test/security/', 'test/integration/', 'test/faults/', 'test/concurrency/', 'test/api/roles-matrix', 'test/api/gdpr'];

const rank = (f: string) => {
  const i = SLOW_FIRST.findIndex((p) => f.startsWith(p));
  return i === -1 ? SLOW_FIRST.length : i;
};

function lastDurations(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(CACHE, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

export function longestFirst(files: string[]): string[] {
  const ms = lastDurations();
  const unknown = files.filter((f) => ms[f] === undefined).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const known = files.filter((f) => ms[f] !== undefined).sort((a, b) => (ms[b] as number) - (ms[a] as number) || a.localeCompare(b));
  return [...unknown, ...known];
}

/** Keeps this run's measures (and earlier ones of files this run left out). */
export function saveDurations(wallMs: Map<string, number>): void {
  const all = { ...lastDurations(), ...Object.fromEntries(wallMs) };
  mkdirSync(dirname(CACHE), { recursive: true });
  const partial = `${CACHE}.${process.pid}`;
  writeFileSync(partial, `${JSON.stringify(all, null, 1)}\n`);
  renameSync(partial, CACHE);
}
