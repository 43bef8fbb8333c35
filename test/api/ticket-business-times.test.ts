import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp } from '../helpers/app.js';
import { businessMinutesBetween } from '../../src/modules/service/business-time.js';
import { refreshBusinessTimes, ticketCalendars } from '../../src/modules/service/ticket-business-times.js';
import { migrationsFolder } from '../../src/platform/db/migrations.js';

// The stored business times (docs/metrics.md "Response times") are kept by every write that moves the
// instants they measure — create, PATCH (REST and GraphQL), batch, an agent's first public comment, a
// reopen, another policy — in the write's own transaction, so the refresher finds nothing left to do;
// and migration 0019 fills them for tickets in an around-the-clock calendar, as the refresher would.

const h = await startTestApp();
t.teardown(() => h.close());
const db = h.db.database.db;
const admin = h.user('admin');
const support = h.user('support');
const rowsOf = async <R>(q: ReturnType<typeof sql>) => ((await db.execute(q)) as unknown as { rows: R[] }).rows;

async function created(url: string, body: Record<string, unknown>) {
  const res = await h.request({ method: 'POST', url, headers: admin.auth, payload: body });
  if (res.statusCode !== 201) throw new Error(`create ${url} failed: ${res.body}`);
  return res.json();
}
const patch = async (id: string, body: Record<string, unknown>) => {
  const res = await h.request({ method: 'PATCH', url: `/v1/tickets/${id}`, headers: support.auth, payload: body });
  if (res.statusCode !== 200) throw new Error(`PATCH ticket failed: ${res.body}`);
};
const targets = [{ priority: 'normal', firstResponseMinutes: 60, resolutionMinutes: 600 }];
const ROUND_CLOCK = { timeZone: 'Asia/Riyadh', businessHours: null, holidays: [] };
const OFFICE = { timeZone: 'UTC', businessHours: [1, 2, 3, 4, 5].map((day) => ({ day, start: '08:00', end: '12:00' })), holidays: [] };
const defaultPolicy = (await created('/v1/sla-policies', { name: 'Around the clock', isDefault: true, targets, ...ROUND_CLOCK })).id as string;
const officePolicy = (await created('/v1/sla-policies', { name: 'Office', targets, ...OFFICE })).id as string;
const requester = (await created('/v1/contacts', { email: 'bt@example.com' })).id as string;
/** the calendar keys the freshness check compares with (ticketCalendars) */
const calendars = await ticketCalendars(db);
const keyOf = (cal: typeof ROUND_CLOCK | typeof OFFICE) => calendars.keyOf(cal === OFFICE ? officePolicy : defaultPolicy);

interface Stored {
  created_at: Date; first_responded_at: Date | null; solved_at: Date | null;
  business_calendar: string | null; business_first_response_minutes: number | null; business_first_response_for: Date | null;
  business_resolution_minutes: number | null; business_resolution_for: Date | null;
}
const storedOf = async (id: string) => (await rowsOf<Stored>(sql`SELECT created_at, first_responded_at, solved_at, business_calendar,
  business_first_response_minutes, business_first_response_for, business_resolution_minutes, business_resolution_for
  FROM tickets WHERE id = ${id}`))[0]!;
/** a ticket made to look two days and a bit old, so its durations are not 0 */
const aged = async (id: string) => db.execute(sql`UPDATE tickets SET created_at = created_at - interval '2 days 3 hours 7 minutes' WHERE id = ${id}`);
const ms = (d: Date | null) => (d === null ? null : new Date(d).getTime());
/** around the clock without holidays, business minutes are the calendar minutes, rounded */
const calendarMinutes = (from: Date, to: Date | null) => (to === null ? null : Math.round((ms(to)! - ms(from)!) / 60_000));

function assertStored(t: Test, s: Stored, cal: typeof ROUND_CLOCK | typeof OFFICE, what: string) {
  t.equal(s.business_calendar, keyOf(cal), `${what}: measured in its calendar`);
  t.equal(ms(s.business_first_response_for), ms(s.first_responded_at), `${what}: first response measured to the ticket's instant`);
  t.equal(ms(s.business_resolution_for), ms(s.solved_at), `${what}: resolution measured to the ticket's instant`);
  const expected = cal === ROUND_CLOCK
    ? [calendarMinutes(s.created_at, s.first_responded_at), calendarMinutes(s.created_at, s.solved_at)]
    : [s.first_responded_at && businessMinutesBetween(OFFICE, new Date(s.created_at), new Date(s.first_responded_at)),
      s.solved_at && businessMinutesBetween(OFFICE, new Date(s.created_at), new Date(s.solved_at))];
  t.same([s.business_first_response_minutes, s.business_resolution_minutes], expected, `${what}: the minutes`);
}

t.test('every write path keeps the stored business times in its transaction', async (t) => {
  // created solved (REST): resolution 0 minutes, no first response
  const solvedAtOnce = (await created('/v1/tickets', { subject: 'Done', requesterId: requester, status: 'solved' })).id as string;
  const s0 = await storedOf(solvedAtOnce);
  t.ok(s0.solved_at, 'created solved');
  assertStored(t, s0, ROUND_CLOCK, 'create');

  // an agent's first public comment stamps firstRespondedAt, and its business minutes with it
  const tk = (await created('/v1/tickets', { subject: 'Help', requesterId: requester })).id as string;
  await aged(tk);
  const reply = await h.request({ method: 'POST', url: `/v1/tickets/${tk}/comments`, headers: support.auth, payload: { body: 'On it' } });
  t.equal(reply.statusCode, 201, reply.body);
  const s1 = await storedOf(tk);
  t.ok(s1.business_first_response_minutes! > 2 * 24 * 60, 'two days and more');
  assertStored(t, s1, ROUND_CLOCK, 'first comment');

  // solved, reopened (solvedAt cleared: so is the resolution), moved to another policy, closed over GraphQL
  await patch(tk, { status: 'solved' });
  assertStored(t, await storedOf(tk), ROUND_CLOCK, 'solved');
  t.ok((await storedOf(tk)).business_resolution_minutes! > 2 * 24 * 60);
  await patch(tk, { status: 'open' });
  const reopened = await storedOf(tk);
  t.same([reopened.business_resolution_minutes, reopened.business_resolution_for], [null, null], 'reopened: no resolution');
  await patch(tk, { slaPolicyId: officePolicy });
  assertStored(t, await storedOf(tk), OFFICE, 'another policy');
  const closed = await h.gql(support, 'mutation($id: ID!) { updateTicket(id: $id, input: { status: closed }) { status solvedAt } }', { id: tk });
  t.equal(closed.body.data?.updateTicket?.status, 'closed', JSON.stringify(closed.body.errors));
  const s2 = await storedOf(tk);
  t.ok(s2.solved_at, 'closing stamps solvedAt');
  assertStored(t, s2, OFFICE, 'closed over GraphQL');

  // batch create and update
  const batch = await h.request({ method: 'POST', url: '/v1/tickets/batch', headers: support.auth,
    payload: { operation: 'create', records: [{ subject: 'B1', requesterId: requester, status: 'closed' }] } });
  t.equal(batch.statusCode, 200, batch.body);
  const b1 = batch.json().results[0].id as string;
  assertStored(t, await storedOf(b1), ROUND_CLOCK, 'batch create');
  const b2 = (await created('/v1/tickets', { subject: 'B2', requesterId: requester })).id as string;
  await aged(b2);
  const upd = await h.request({ method: 'POST', url: '/v1/tickets/batch', headers: support.auth,
    payload: { operation: 'update', records: [{ id: b2, status: 'solved' }] } });
  t.equal(upd.statusCode, 200, upd.body);
  assertStored(t, await storedOf(b2), ROUND_CLOCK, 'batch update');

  t.equal(await refreshBusinessTimes(db), 0, 'no write left a ticket for the refresher');
});

t.test('migration 0019 fills the around-the-clock tickets as the refresher would, and leaves the others to it', async (t) => {
  const sqlText = readFileSync(`${migrationsFolder}/0019_service_analytics.sql`, 'utf8').split('--> statement-breakpoint')[1]!;
  t.match(sqlText, /UPDATE tickets/, 'the backfill is the migration\'s first statement after lifting the timeout');
  const insert = (createdAt: string, responded: string | null, solved: string | null, policy: string | null) => db.execute(sql`INSERT INTO tickets
    (id, subject, requester_id, status, created_at, first_responded_at, solved_at, sla_policy_id)
    VALUES (${randomUUID()}, 'SQL', ${requester}, ${solved ? 'solved' : 'open'}, ${createdAt}, ${responded}, ${solved}, ${policy}) `);
  // under the default (around the clock): 90 min 29.999 s rounds down, 1 day 30 s rounds up; one under the office hours
  await insert('2026-03-02T10:00:00Z', '2026-03-02T11:30:29.999Z', '2026-03-03T10:00:30Z', defaultPolicy);
  await insert('2026-03-04T10:00:00Z', '2026-03-04T09:00:00Z', null, null);
  await insert('2026-03-02T10:00:00Z', '2026-03-02T11:30:00Z', null, officePolicy);
  await db.execute(sql.raw(sqlText));
  const rows = await rowsOf<{ policy: string | null; cal: string | null; fr: number | null; res: number | null }>(sql`SELECT sla_policy_id AS policy,
    business_calendar AS cal, business_first_response_minutes AS fr, business_resolution_minutes AS res FROM tickets WHERE subject = 'SQL' ORDER BY created_at, business_calendar NULLS LAST`);
  const key = keyOf(ROUND_CLOCK);
  t.same(rows.map((r) => [r.cal, r.fr, r.res]), [
    [key, 90, 1441],
    [null, null, null],
    [key, 0, null],
  ], 'minutes rounded as businessMinutesBetween does; an answer stamped before creation is 0; the office ticket left');
  t.same(rows.map((r) => r.policy), [defaultPolicy, officePolicy, null]);
  const measuredByMigration = sql`SELECT id, business_first_response_minutes AS fr, business_resolution_minutes AS res FROM tickets
    WHERE business_calendar = ${key} ORDER BY id`;
  const before = await rowsOf(measuredByMigration);
  t.equal(await refreshBusinessTimes(db), 1, 'the refresher only had the office-hours ticket left');
  t.same(await rowsOf(measuredByMigration), before, 'and left every value the migration wrote as it was');
});
