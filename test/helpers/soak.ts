// The long suites (concurrency, fuzzing, faults) run in two sizes from the same files: a quick form
// small enough for `npm test` on 2 cores, and the full form of issue #12 under `npm run test:soak`
// (SOAK=1). Each call site names both sizes, so the figures in the docs are read off the code.

export const SOAK = process.env.SOAK === '1';

/** `quick` in `npm test`, `full` under SOAK=1. */
export const sized = (quick: number, full: number): number => (SOAK ? full : quick);
