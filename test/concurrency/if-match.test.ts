import t from 'tap';
import { and, eq, sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { httpClient } from '../helpers/http-client.js';
import { sized } from '../helpers/soak.js';
import { events } from '../../src/platform/events/event.table.js';
import { auditLogs } from '../../src/platform/audit/audit.table.js';

// Issue #12: "concurrent conflicting PATCHes with If-Match lose no update (acknowledged writes =
// version delta)". Many clients update one contact at once, each with the version it last saw; a
// stale one gets 412 with the current record and tries again with that version. Every 200 must be a
// write that happened (its own version, the events and audit rows agree) and nothing else may change
// the record. Real HTTP over many connections, so the writes truly race in the database. A 503
// (the pool shedding load: more requests at once than connections) is a refusal that changed nothing.

const ATTEMPTS = sized(300, 10_000);
const CLIENTS = sized(30, 500);
const CONNECTIONS = sized(30, 200);

const h = await startTestApp();
t.teardown(() => h.close());
await h.app.listen({ host: '127.0.0.1', port: 0 });
const http = httpClient(`http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`, CONNECTIONS);
t.teardown(() => http.close());
const admin = h.user('admin');
const auth = { authorization: admin.auth.authorization };

async function newContact(name: string) {
  const res = await http.request('POST', '/v1/contacts', { headers: auth, body: { firstName: name } });
  if (res.status !== 201) throw new Error(`setup: ${res.status} ${res.text}`);
  return res.json<{ id: string; version: number }>();
}

/** Rows the database holds about this contact's updates: events and audit records. */
async function updatesRecorded(id: string) {
  const db = h.db.database.db;
  const [ev] = await db.select({ n: sql<number>`count(*)::int` }).from(events).where(and(eq(events.entityId, id), eq(events.type, 'contact.updated')));
  const [au] = await db.select({ n: sql<number>`count(*)::int` }).from(auditLogs).where(and(eq(auditLogs.entityId, id), eq(auditLogs.action, 'update')));
  return { events: ev?.n ?? 0, audits: au?.n ?? 0 };
}

t.test(`${ATTEMPTS} conflicting PATCHes with If-Match from ${CLIENTS} clients: acknowledged writes = version delta`, async (t) => {
  const contact = await newContact('Racer');
  let left = ATTEMPTS;
  const acknowledged: { version: number; jobTitle: string }[] = [];
  const other: string[] = [];
  let conflicts = 0;
  let badConflicts = 0;
  let shed = 0;

  const client = async (c: number) => {
    let known = contact.version;
    for (let attempt = 0; left > 0; attempt++) {
      left--;
      const jobTitle = `client ${c} attempt ${attempt}`;
      const res = await http.request('PATCH', `/v1/contacts/${contact.id}`, { headers: { ...auth, 'if-match': `"${known}"` }, body: { jobTitle } });
      if (res.status === 200) {
        const body = res.json<{ version: number; jobTitle: string }>();
        if (body.version !== known + 1 || res.headers.etag !== `"${body.version}"`) other.push(`200 at version ${body.version} after If-Match ${known}`);
        acknowledged.push({ version: body.version, jobTitle: body.jobTitle });
        known = body.version;
      } else if (res.status === 412) {
        conflicts++;
        const body = res.json<{ code: string; current?: { version: number } }>();
        // the 412 carries the current record, so the client can retry without another GET
        const current = body.current?.version;
        if (body.code !== 'version_conflict' || typeof current !== 'number' || current <= known) badConflicts++;
        else known = current;
      } else if (res.status === 503 && res.headers['retry-after']) {
        shed++;
      } else {
        other.push(`${res.status} ${res.text.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));

  const final = (await http.request('GET', `/v1/contacts/${contact.id}`, { headers: auth })).json<{ version: number; jobTitle: string }>();
  t.same(other, [], 'every answer is 200, 412, or 503 with Retry-After (no 500, no 409)');
  t.equal(badConflicts, 0, 'every 412 is version_conflict with a newer current record');
  t.equal(acknowledged.length + conflicts + shed, ATTEMPTS, 'every attempt answered');
  t.ok(acknowledged.length > 1 && conflicts > 0, `the writes did conflict (${acknowledged.length} acknowledged, ${conflicts} refused with 412)`);
  t.equal(final.version - contact.version, acknowledged.length, 'version delta = acknowledged writes: no update lost, none applied unacknowledged');

  const versions = acknowledged.map((a) => a.version).sort((a, b) => a - b);
  t.same(versions, Array.from({ length: acknowledged.length }, (_, i) => contact.version + 1 + i), 'each acknowledged write got its own version, with no gap');
  const last = acknowledged.find((a) => a.version === final.version);
  t.equal(final.jobTitle, last?.jobTitle, 'the record holds the value of the write acknowledged last');

  const recorded = await updatesRecorded(contact.id);
  t.equal(recorded.events, acknowledged.length, 'one contact.updated event per acknowledged write');
  t.equal(recorded.audits, acknowledged.length, 'one audit record per acknowledged write');
  t.comment(`If-Match race: ${ATTEMPTS} attempts, ${acknowledged.length} acknowledged, ${conflicts} refused with 412, ${shed} shed with 503`);
});

t.test(`${sized(100, 1000)} concurrent PATCHes without If-Match all apply, one after another`, async (t) => {
  const n = sized(100, 1000);
  const contact = await newContact('Blind');
  const replies = await Promise.all(
    Array.from({ length: n }, (_, i) => http.request('PATCH', `/v1/contacts/${contact.id}`, { headers: auth, body: { jobTitle: `blind ${i}` } })),
  );
  const shed = replies.filter((r) => r.status === 503 && r.headers['retry-after']).length;
  t.same(replies.filter((r) => r.status !== 200 && !(r.status === 503 && r.headers['retry-after'])).map((r) => `${r.status} ${r.text.slice(0, 200)}`), [], 'all 200 (or 503 with Retry-After when the pool sheds load)');
  const ok = replies.filter((r) => r.status === 200);
  const versions = ok.map((r) => r.json<{ version: number }>().version).sort((a, b) => a - b);
  t.same(versions, Array.from({ length: ok.length }, (_, i) => contact.version + 1 + i), 'each write got its own version: none overwrote another unseen');
  const final = (await http.request('GET', `/v1/contacts/${contact.id}`, { headers: auth })).json<{ version: number }>();
  t.equal(final.version - contact.version, ok.length, 'version delta = acknowledged writes');
  t.equal((await updatesRecorded(contact.id)).events, ok.length, 'one event per acknowledged write');
  t.comment(`blind PATCHes: ${n} sent, ${ok.length} acknowledged, ${shed} shed with 503`);
});
