import type { Fixtures } from './fixtures.js';
import type { RequestSpec, Scenario } from './load.js';

// The scenarios of the performance issue (#11), each a stream of requests over the seeded data.

const rotate = <T>(list: readonly T[]) => {
  let i = 0;
  return () => list[i++ % list.length] as T;
};

const GRAPHQL_BY_ID = 'query($id: ID!) { contact(id: $id) { id firstName lastName email phone lifecycleStage version company { id name } } }';
const GRAPHQL_360 = `query($id: ID!) { contact360(id: $id) {
  contact { id firstName lastName email } company { id name }
  recentActivities { id type subject occurredAt } openTasks { id subject dueAt }
  openDeals { id name amount currency } openTickets { id subject status }
  orders { count total lastPlacedAt } lifetimeValue loyaltyBalance lastNps { score }
} }`;

const graphql = (query: string, variables: Record<string, unknown>): RequestSpec =>
  ({ method: 'POST', path: '/graphql', body: JSON.stringify({ query, variables }) });

/**
 * `warmupSeconds`: each read first runs that long unmeasured (load.ts), so it is measured warm.
 *
 * Every read request is built once, before the scenario runs, and the scenario rotates over that
 * pool. The load generator shares the two cores with the server and PostgreSQL: building a GraphQL
 * POST body per request (JSON.stringify of the query text) while a REST GET built nothing charged the
 * GraphQL door for the generator's own work. With a pool each door costs the generator only
 * autocannon's framing of a request.
 */
export function readScenarios(f: Fixtures, warmupSeconds = 0): Scenario[] {
  const pool = (specs: RequestSpec[]) => rotate(specs);
  const byId = (build: (id: string) => RequestSpec) => pool(f.contactIds.map(build));
  const listPage = (path: string) => pool([{ method: 'GET', path }]);
  const reads: Scenario[] = [
    { name: 'REST GET contact by id', next: byId((id) => ({ method: 'GET', path: `/v1/contacts/${id}` })) },
    { name: 'REST list, filter + sort, page 1', next: listPage(f.listPath) },
    {
      name: `REST list, filter + sort, page ${f.deepPage}`,
      next: listPage(`${f.listPath}${f.deepCursor ? `&cursor=${encodeURIComponent(f.deepCursor)}` : ''}`),
    },
    { name: 'REST q search', next: pool(f.names.map((name) => ({ method: 'GET', path: `/v1/contacts?q=${encodeURIComponent(name)}&limit=20` }))) },
    { name: 'GraphQL contact by id', next: byId((id) => graphql(GRAPHQL_BY_ID, { id })) },
    { name: 'REST 360', next: byId((id) => ({ method: 'GET', path: `/v1/contacts/${id}/360` })) },
    { name: 'GraphQL 360', next: byId((id) => graphql(GRAPHQL_360, { id })) },
    { name: 'REST analytics kpis', next: listPage('/v1/analytics/kpis') },
  ];
  return reads.map((s) => ({ ...s, warmupSeconds }));
}

/** Short names for `--only` (bench/options.ts), in the order the scenarios run. */
export const SCENARIO_KEYS: Record<string, (name: string) => boolean> = {
  get: (n) => n === 'REST GET contact by id',
  list: (n) => n === 'REST list, filter + sort, page 1',
  deep: (n) => n.startsWith('REST list, filter + sort, page ') && n !== 'REST list, filter + sort, page 1',
  q: (n) => n === 'REST q search',
  graphql: (n) => n === 'GraphQL contact by id',
  rest360: (n) => n === 'REST 360',
  graphql360: (n) => n === 'GraphQL 360',
  kpis: (n) => n === 'REST analytics kpis',
  create: (n) => n === 'REST create contact',
  patch: (n) => n === 'REST PATCH with If-Match',
  batch: (n) => n === 'REST batch upsert of 1000',
};

export function writeScenarios(f: Fixtures, runId: string, o: { quick: boolean }): Scenario[] {
  let created = 0;
  let batches = 0;
  // PATCH walks the sampled contacts in reverse (GET scenarios read them forwards), each with the
  // version it was last seen at: a 412 here would be a real conflict, counted as an error.
  const versions = new Map<string, number>();
  const patchIds = rotate([...f.contactIds].reverse());
  let patched = 0;
  return [
    {
      name: 'REST create contact',
      next: () => {
        const n = created++;
        return { method: 'POST', path: '/v1/contacts', body: JSON.stringify({ firstName: 'Bench', lastName: `Create ${n}`, email: `create-${runId}-${n}@bench.example`, lifecycleStage: 'lead' }) };
      },
    },
    {
      name: 'REST PATCH with If-Match',
      next: () => {
        const id = patchIds();
        return { method: 'PATCH', path: `/v1/contacts/${id}`, headers: { 'if-match': `"${versions.get(id) ?? f.contactVersions.get(id) ?? 1}"` }, body: JSON.stringify({ jobTitle: `Bench ${patched++}` }) };
      },
      onResponse: (status, body, request) => {
        if (status !== 200) return;
        const id = request.path.split('/').pop()!;
        versions.set(id, (JSON.parse(body) as { version: number }).version);
      },
    },
    {
      name: 'REST batch upsert of 1000',
      // a batch takes seconds; the quick run keeps one in flight so its leftovers end soon after it
      connections: o.quick ? 1 : 4,
      minSeconds: 10,
      next: () => {
        const b = batches++;
        // a pool of 5000 emails: the first passes create, later ones update
        const records = Array.from({ length: 1000 }, (_, j) => {
          const k = (b * 1000 + j) % 5000;
          return { email: `upsert-${runId}-${k}@bench.example`, firstName: 'Batch', lastName: `Upsert ${k}`, jobTitle: `pass ${b}` };
        });
        return { method: 'POST', path: '/v1/contacts/batch', body: JSON.stringify({ operation: 'upsert', idProperty: 'email', records }) };
      },
    },
  ];
}
