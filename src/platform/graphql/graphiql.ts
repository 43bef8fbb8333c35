import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/app-error.js';

// GraphiQL served from this server's own node_modules. Mercurius's built-in page loads React and
// GraphiQL from unpkg.com: it breaks on a machine without internet access, and runs third-party
// scripts (without integrity checks) in a page where developers paste their access tokens.

const require = createRequire(import.meta.url);
/** a file of an installed package, found through its package.json (React's "exports" hide the UMD builds) */
const packageFile = (name: string, file: string) => join(dirname(require.resolve(`${name}/package.json`)), file);

/** The assets the page loads, by the name it asks for; the versions are the ones in package.json. */
const assets: Record<string, { path: string; type: string }> = {
  'react.js': { path: packageFile('react', 'umd/react.production.min.js'), type: 'text/javascript' },
  'react-dom.js': { path: packageFile('react-dom', 'umd/react-dom.production.min.js'), type: 'text/javascript' },
  'graphiql.js': { path: packageFile('graphiql', 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.css': { path: packageFile('graphiql', 'graphiql.min.css'), type: 'text/css' },
};

const defaultQuery = `# Queries need a token. Put it under Headers below:
#   {"Authorization": "Bearer <token>"}
# with an access token from POST /v1/auth/login, or an API key crm_…
query Me {
  me {
    id
    email
    role
  }
}
`;

// The schema is introspected without a token (the endpoint allows it); the header editor is open so
// the first thing a visitor sees is where the token goes.
const startScript = `
const ws = location.protocol === 'https:' ? 'wss:' : 'ws:';
const fetcher = GraphiQL.createFetcher({ url: location.origin + '/graphql', subscriptionUrl: ws + '//' + location.host + '/graphql' });
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultQuery: ${JSON.stringify(defaultQuery)}, isHeadersEditorEnabled: true, shouldPersistHeaders: true, defaultEditorToolsVisibility: 'headers' }),
);
`;

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="robots" content="noindex">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>GraphiQL — Headless CRM</title>
  <link rel="stylesheet" href="/graphiql/assets/graphiql.css">
  <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/assets/react.js"></script>
  <script src="/graphiql/assets/react-dom.js"></script>
  <script src="/graphiql/assets/graphiql.js"></script>
  <script src="/graphiql/assets/start.js"></script>
</body>
</html>
`;

/** GET /graphiql and its assets; registered only outside production (API.md §1). */
export async function graphiqlRoutes(app: FastifyInstance): Promise<void> {
  app.get('/graphiql', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send(page));
  app.get<{ Params: { name: string } }>('/graphiql/assets/:name', { schema: { hide: true } }, async (req, reply) => {
    if (req.params.name === 'start.js') return reply.type('text/javascript; charset=utf-8').send(startScript);
    const asset = assets[req.params.name];
    if (!asset) throw new AppError('not_found', `No GraphiQL asset ${req.params.name}`);
    // the file names carry no version, so a browser must revalidate after an upgrade
    return reply.type(`${asset.type}; charset=utf-8`).header('cache-control', 'no-cache').send(await readFile(asset.path));
  });
}
