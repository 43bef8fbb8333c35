import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { generateOpenapiYaml } from '../../src/platform/http/openapi-document.js';
import { startTestApp } from '../helpers/app.js';

// openapi.yaml at the project root is generated from the route schemas (`npm run openapi`) and
// committed so clients can read it without running the server. It must never drift from the server.

const committedPath = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));

t.test('the committed openapi.yaml is exactly what the server generates', async (t) => {
  const generated = await generateOpenapiYaml();
  const committed = readFileSync(committedPath, 'utf8');
  // byte for byte: a hand edit, or a route change without `npm run openapi`, fails here
  t.equal(committed, generated, 'openapi.yaml is stale or edited by hand: run `npm run openapi`');
});

t.test('the spec is served without a token and equals the generated document', async (t) => {
  const generated = await generateOpenapiYaml();
  const h = await startTestApp();
  t.teardown(() => h.close());

  const yaml = await h.request({ method: 'GET', url: '/openapi.yaml' });
  t.equal(yaml.statusCode, 200);
  t.match(String(yaml.headers['content-type']), /^application\/yaml/);
  t.equal(yaml.body, generated);

  const json = await h.request({ method: 'GET', url: '/openapi.json' });
  t.equal(json.statusCode, 200);
  t.match(String(json.headers['content-type']), /^application\/json/);
  t.same(json.json(), parse(generated));

  const docs = await h.request({ method: 'GET', url: '/docs' });
  t.ok(docs.statusCode < 400, `/docs answers without a token (${docs.statusCode})`);
});

t.test('the spec is OpenAPI 3 with full paths', async (t) => {
  const doc = parse(await generateOpenapiYaml()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  t.match(doc.openapi, /^3\.\d+\.\d+$/);
  const paths = Object.keys(doc.paths);
  for (const p of ['/v1/companies', '/v1/companies/{id}', '/v1/companies/count', '/v1/companies/batch', '/health', '/ready']) {
    t.ok(paths.includes(p), `documents ${p}`);
  }
  // everything but the open platform endpoints and campaign tracking links (API.md §5 Marketing)
  // lives under /v1, written out in full
  const platform = new Set(['/health', '/ready', '/t/o/{token}', '/t/c/{token}']);
  t.same(paths.filter((p) => !platform.has(p) && !p.startsWith('/v1/')), [], 'no path without its /v1 prefix');
  // GraphQL, GraphiQL, metrics and the spec itself are not REST resources of this document
  t.same(paths.filter((p) => /^\/(graphql|graphiql|metrics|openapi|docs)/.test(p)), []);
  t.ok(doc.paths['/v1/companies']?.get, 'GET /v1/companies is documented');
});
