import { readFileSync } from 'node:fs';
import t from 'tap';
import { generateClientTypes, generatedPath, specPath } from '../../clients/typescript/scripts/codegen.js';

// clients/typescript/src/generated/openapi.ts is openapi.yaml as TypeScript (`npm run client:generate`).
// Committed so the client builds without a generation step; this fails when the two part ways.

t.test('the client types are exactly what openapi.yaml generates', async (t) => {
  const generated = await generateClientTypes(readFileSync(specPath, 'utf8'));
  t.equal(readFileSync(generatedPath, 'utf8'), generated, 'clients/typescript types are stale or edited by hand: run `npm run client:generate`');
});

t.test('a change to the spec changes the types, so a stale file cannot pass', async (t) => {
  const spec = readFileSync(specPath, 'utf8');
  const renamed = spec.replace(/^ {4}Problem:$/m, '    ProblemRenamed:').replaceAll('"#/components/schemas/Problem"', '"#/components/schemas/ProblemRenamed"');
  t.not(renamed, spec, 'the spec names a Problem schema');
  const generated = await generateClientTypes(renamed);
  t.match(generated, /ProblemRenamed: \{/);
  t.not(generated, readFileSync(generatedPath, 'utf8'));
});
