import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { COMMENT_HEADER, astToString } from 'openapi-typescript';

// The client's types are openapi.yaml turned into TypeScript by openapi-typescript. One function makes
// them, used both by `npm run client:generate` and by the drift test, so the two cannot disagree.

export const specPath = fileURLToPath(new URL('../../../openapi.yaml', import.meta.url));
export const generatedPath = fileURLToPath(new URL('../src/generated/openapi.ts', import.meta.url));

export async function generateClientTypes(specYaml = readFileSync(specPath, 'utf8')): Promise<string> {
  // silent: the spec's tracking links (/t/o, /t/c) answer with an image and a redirect, which the
  // linter inside openapi-typescript reports as missing 2XX/4XX responses on every run
  return COMMENT_HEADER + astToString(await openapiTS(specYaml, { silent: true }));
}
