import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import type { PGlite } from '@electric-sql/pglite';
import { startTestApp } from '../helpers/app.js';
import { type TestDatabase, createTestDatabase } from '../helpers/database.js';
import { servePglite } from '../helpers/pglite-wire.js';

// DATABASE_READ_URL: the analytics figures come from the read database, every other read and write from
// the primary. The two databases hold different leads, so the figures show which one answered.

const replica = await createTestDatabase();
t.teardown(() => replica.close());

/** A connection string for the replica: its server URL, or in-memory PGlite served on 127.0.0.1. */
async function urlOf(db: TestDatabase): Promise<string> {
  if (db.url) return db.url;
  const served = await servePglite((db.database.db as unknown as { $client: PGlite }).$client);
  t.teardown(() => served.close());
  return `postgres://postgres@127.0.0.1:${served.port}/postgres`;
}

// a PGlite replica is one session: one connection (the primary passed to the app is not from config)
const h = await startTestApp({ env: { DATABASE_READ_URL: await urlOf(replica), DATABASE_POOL_MAX: '1' } });
t.teardown(() => h.close());
const admin = h.user('admin');

async function lead(db: TestDatabase, source: string, status: 'new' | 'converted') {
  await db.database.db.execute(sql`INSERT INTO leads (id, last_name, source, status, created_at)
    VALUES (${randomUUID()}, 'L', ${source}, ${status}, '2026-02-10T00:00:00Z')`);
}
// primary: one lead from "web"; replica: three from "replica", one converted
await lead(h.db, 'web', 'new');
for (const status of ['converted', 'new', 'new'] as const) await lead(replica, 'replica', status);

t.test('analytics reads the replica, REST and GraphQL', async (t) => {
  const res = await h.request({ method: 'GET', url: '/v1/analytics/sales/lead-sources?from=2026-02-01&to=2026-02-28', headers: admin.auth });
  t.equal(res.statusCode, 200, res.body);
  t.same(res.json().sources, [{ source: 'replica', leads: 3, converted: 1, conversionRate: 1 / 3 }]);

  const g = await h.gql(admin, '{ salesLeadSources(from: "2026-02-01", to: "2026-02-28") { leads sources { source } } }');
  t.same(g.body.data?.salesLeadSources, { leads: 3, sources: [{ source: 'replica' }] });
});

t.test('everything else stays on the primary', async (t) => {
  const list = await h.request({ method: 'GET', url: '/v1/leads?filter[source][eq]=web', headers: admin.auth });
  t.equal(list.statusCode, 200, list.body);
  t.equal(list.json().data.length, 1, 'the primary lead is listed');
  const replicaList = await h.request({ method: 'GET', url: '/v1/leads?filter[source][eq]=replica', headers: admin.auth });
  t.equal(replicaList.json().data.length, 0, 'the replica is not read by the leads module');

  const created = await h.request({ method: 'POST', url: '/v1/leads', headers: admin.auth, payload: { lastName: 'N', source: 'api' } });
  t.equal(created.statusCode, 201, created.body);
  const onPrimary = (await h.db.database.db.execute(sql`SELECT count(*)::int AS n FROM leads WHERE source = 'api'`)) as unknown as { rows: { n: number }[] };
  t.equal(onPrimary.rows[0]?.n, 1, 'a write lands on the primary');
});
