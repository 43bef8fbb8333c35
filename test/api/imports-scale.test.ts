import { Readable } from 'node:stream';
import t from 'tap';
import { type SQL, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { createModules } from '../../src/app.js';
import type { Executor } from '../../src/platform/db/client.js';
import type { CustomerServices } from '../../src/modules/customer/index.js';
import type { PipelineServices } from '../../src/modules/pipeline/index.js';
import { createImportService } from '../../src/modules/integration/import.service.js';

// A 100k-row CSV import, the upload streamed (the test never holds the file either), with the server's
// resident memory sampled throughout. Memory is asserted against a generous bound; time is not.

const ROWS = 100_000;
/**
 * Applying goes through the contacts batch service, a chunk at a time: the test applies two chunks —
 * enough to show that applying holds one chunk, not the file — and leaves the rest stored. A full run
 * is a benchmark (npm run bench:import), not a test. Chunks of 1000 rows keep it short on a busy machine.
 */
const APPLY_CHUNKS = 2;
const CHUNK = 1000;
const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db as Executor;
const admin = h.user('admin');
const { all } = createModules({ config: h.config, db, signAccessToken: (c) => h.app.jwt.sign(c) });
const [, customer, pipeline] = all as unknown as [unknown, { services: CustomerServices }, { services: PipelineServices }];
const imports = createImportService({ db, customer: customer.services, pipeline: pipeline.services });
const count = async (q: SQL) => ((await db.execute(q)) as unknown as { rows: { n: number }[] }).rows[0]!.n;

function* csv(): Generator<string> {
  yield 'firstName,lastName,email,tags\n';
  let lines: string[] = [];
  for (let i = 1; i <= ROWS; i++) {
    lines.push(`Scale${i},"Person, ${i}",scale${i}@bulk.test,bulk;n${i % 10}`);
    if (lines.length === 1000) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length) yield `${lines.join('\n')}\n`;
}

/** The sample is of this process: the server runs in it (inject), so this is the server's RSS. */
function sampler() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => void (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  return {
    peek: () => Math.max(peak, process.memoryUsage().rss),
    stop: () => (clearInterval(timer), Math.max(peak, process.memoryUsage().rss)),
  };
}

// Server only: with in-process PGlite the database's own pages live in this process too (about +250 MB
// for 100k stored rows), so RSS would measure the database rather than the import's streaming.
if (h.db.url) t.test('a 100k-row CSV: streamed in and stored with bounded memory, then applied chunk by chunk', async (t) => {
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  const mem = sampler();
  const t0 = Date.now();
  const res = await h.request({
    method: 'POST', url: '/v1/imports?entity=contacts&idProperty=email',
    headers: { ...admin.auth, 'content-type': 'text/csv' }, payload: Readable.from(csv()),
  });
  t.equal(res.statusCode, 202, 'acknowledged once every row is stored');
  const id = res.json().id;
  const uploadMs = Date.now() - t0;
  const uploadPeak = mem.peek();
  t.match((await h.request({ method: 'GET', url: `/v1/imports/${id}`, headers: admin.auth })).json(), { totalRows: ROWS, processed: 0, status: 'queued' });
  t.equal(await count(sql`SELECT count(*)::int AS n FROM import_rows WHERE import_id = ${id}`), ROWS, 'every row stored');

  const t1 = Date.now();
  let applied = 0;
  for (let i = 0; i < APPLY_CHUNKS; i++) applied += await imports.runDue(db, { maxChunks: 1, chunkRows: CHUNK });
  const applyMs = Date.now() - t1;
  const peak = mem.stop();
  t.equal(applied, APPLY_CHUNKS * CHUNK);
  t.match((await h.request({ method: 'GET', url: `/v1/imports/${id}`, headers: admin.auth })).json(), {
    status: 'running', processed: applied, created: applied, failed: 0, errors: [],
  });
  t.equal(await count(sql`SELECT count(*)::int AS n FROM contacts WHERE email LIKE '%@bulk.test'`), applied, 'the applied rows written once');
  t.equal(await count(sql`SELECT count(*)::int AS n FROM import_rows WHERE import_id = ${id}`), ROWS - applied, 'the rest wait, stored');

  const mb = (b: number) => Math.round(b / 1024 / 1024);
  const perRow = (applyMs / applied).toFixed(1);
  t.comment(`${ROWS} rows uploaded in ${uploadMs} ms; ${applied} applied in ${applyMs} ms (${perRow} ms/row through the contacts batch service, set-based)`);
  t.comment(`RSS: before ${mb(base)} MB, peak during upload ${mb(uploadPeak)} MB, peak overall ${mb(peak)} MB (+${mb(peak - base)} MB)`);
  t.ok(peak - base < 300 * 1024 * 1024, `peak RSS stays within +300 MB of the start (+${mb(peak - base)} MB)`);
});
