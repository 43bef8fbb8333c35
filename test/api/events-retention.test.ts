import t from 'tap';
import { sql } from 'drizzle-orm';
import { startTestApp, testConfig } from '../helpers/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createModules } from '../../src/app.js';
import { sequenceEvents } from '../../src/platform/events/sequencer.js';
import { queryRows } from '../../src/platform/db/execute.js';
import { fanOutWebhooks } from '../../src/modules/integration/delivery.service.js';
import { pruneEvents, prunedThrough } from '../../src/modules/integration/retention.js';
import { encodeFeedCursor } from '../../src/modules/integration/feed.schema.js';

// EVENT_RETENTION_DAYS: sequenced events older than the setting are deleted in batches, except those a
// feed consumer (feed_cursors) has not read yet and those a pending or failed webhook delivery needs.
// A change feed cursor from before the kept range is refused (400 on `after`), never silently skipped.
// Workers are off: the retention pass is run directly, and events are aged by moving occurred_at back.

const h = await startTestApp({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
t.teardown(() => h.close());
const admin = h.user('admin');
const db = h.db.database.db;
const DAYS = 30;

async function contact(firstName: string): Promise<string> {
  const res = await h.request({ method: 'POST', url: '/v1/contacts', headers: admin.auth, payload: { firstName } });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json().id;
}

interface Ev { id: string; seq: number | null; entity_id: string }
async function eventsOf(ids: string[]): Promise<Ev[]> {
  const r = await queryRows<{ id: string; seq: string | null; entity_id: string }>(db, sql`
    SELECT id, seq, entity_id FROM events WHERE entity_id IN (${sql.join(ids.map((i) => sql`${i}::uuid`), sql`, `)}) ORDER BY seq`);
  return r.rows.map((x) => ({ ...x, seq: x.seq === null ? null : Number(x.seq) }));
}

async function age(ids: string[], days: number) {
  await db.execute(sql`UPDATE events SET occurred_at = occurred_at - make_interval(days => ${days})
    WHERE entity_id IN (${sql.join(ids.map((i) => sql`${i}::uuid`), sql`, `)})`);
}

async function setCursor(name: string, seq: number) {
  await db.execute(sql`INSERT INTO feed_cursors (name, seq) VALUES (${name}, ${seq}) ON CONFLICT (name) DO UPDATE SET seq = ${seq}`);
}

/** Runs retention until it has nothing more to delete; returns how many it deleted. */
async function pruneAll(o: { days?: number; batch?: number } = {}): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await pruneEvents(db, { days: o.days ?? DAYS, ...(o.batch ? { batch: o.batch } : {}) });
    total += n;
    if (n === 0) return total;
  }
}

const feed = (after?: string) =>
  h.request({ method: 'GET', url: '/v1/events', headers: admin.auth, query: { limit: '200', ...(after ? { after } : {}) } });

t.test('EVENT_RETENTION_DAYS: default 30, 0 keeps everything, anything else is a configuration error', async (t) => {
  t.equal(testConfig().eventRetentionDays, 30);
  t.equal(testConfig({ EVENT_RETENTION_DAYS: '7' }).eventRetentionDays, 7);
  t.equal(testConfig({ EVENT_RETENTION_DAYS: '0' }).eventRetentionDays, 0);
  for (const bad of ['-1', '1.5', 'week']) {
    t.throws(() => loadConfig({ EVENT_RETENTION_DAYS: bad }), ConfigError, `${bad} is refused`);
    try {
      loadConfig({ EVENT_RETENTION_DAYS: bad });
    } catch (e) {
      t.match((e as ConfigError).problems, [/^EVENT_RETENTION_DAYS: /]);
    }
  }
  const workers = (cfg: ReturnType<typeof testConfig>) =>
    createModules({ config: cfg, db: undefined as never, signAccessToken: () => 'unused' }).all.flatMap((m) => m.workers ?? []).map((w) => w.name);
  t.ok(workers(testConfig()).includes('event retention'), 'the server runs it with its workers');
  t.notOk(workers(testConfig({ EVENT_RETENTION_DAYS: '0' })).includes('event retention'), 'not at all with 0');
});

t.test('events older than the retention are removed, newer ones and unsequenced ones kept', async (t) => {
  const old1 = await contact('Old one');
  const old2 = await contact('Old two');
  const fresh = await contact('Fresh');
  await sequenceEvents(db);
  const late = await contact('Not yet numbered'); // its event stays unsequenced: workers are off
  await age([old1, old2], DAYS + 1);
  await age([fresh], DAYS - 1);
  await age([late], DAYS + 5);
  t.equal(await pruneEvents(db, { days: 0 }), 0, 'days 0 deletes nothing');
  t.equal(await pruneAll({ batch: 1 }), 2, 'the two expired events, one batch at a time');
  t.same(await eventsOf([old1, old2]), [], 'expired: gone');
  t.equal((await eventsOf([fresh])).length, 1, 'within the retention: kept');
  const unsequenced = await eventsOf([late]);
  t.equal(unsequenced.length, 1, 'not yet in the feed: never touched');
  t.equal(unsequenced[0]?.seq, null);
  const page = await feed();
  t.equal(page.statusCode, 200, 'reading from the start is fine: it begins at the oldest kept event');
  const ids = page.json().data.map((e: { entityId: string }) => e.entityId);
  t.notOk(ids.includes(old1) || ids.includes(old2));
  t.ok(ids.includes(fresh) && ids.includes(late));
});

t.test('a cursor from before the kept feed is a 400 on after, never a silent skip', async (t) => {
  const pruned = await prunedThrough(db);
  t.ok(pruned > 0, 'retention remembers the highest position it removed');
  const stale = encodeFeedCursor(pruned - 1);
  const res = await feed(stale);
  t.equal(res.statusCode, 400);
  const body = res.json();
  t.equal(body.code, 'validation_failed');
  t.equal(body.errors[0].path, 'after');
  t.match(body.errors[0].message, /events before \d{4}-\d\d-\d\dT[\d:.]+Z were removed by the retention setting \(EVENT_RETENTION_DAYS=30\)/);
  const gql = await h.gql(admin, 'query ($after: String) { events(after: $after) { nextCursor } }', { after: stale });
  t.equal(gql.body.errors?.[0]?.extensions.code, 'validation_failed', 'GraphQL events too');
  t.equal((await feed(encodeFeedCursor(pruned))).statusCode, 200, 'a cursor that saw every removed event goes on');
});

/** A fresh newest event, the fan-out consumer caught up, and whatever may go gone: a clean start. */
async function settle() {
  await contact('Settle');
  await sequenceEvents(db);
  await fanOutWebhooks(db);
  await pruneAll();
}

t.test('events a feed consumer has not read yet are kept until it has', async (t) => {
  await settle();
  const a = await contact('Unread A');
  const b = await contact('Unread B');
  const c = await contact('Recent C');
  await sequenceEvents(db);
  const [ea, eb] = await eventsOf([a, b]);
  await age([a, b], DAYS + 10);
  await setCursor('webhooks', ea?.seq as number); // fan-out has read up to A, not B
  t.equal(await pruneAll(), 1, 'only what the consumer has read');
  t.same((await eventsOf([a, b])).map((e) => e.id), [eb?.id], 'B waits for the consumer');
  await fanOutWebhooks(db); // the consumer catches up
  t.equal(await pruneAll(), 1, 'then B goes too');
  t.same(await eventsOf([b]), []);
  t.equal((await eventsOf([c])).length, 1);
  t.equal(await prunedThrough(db), eb?.seq, 'its own row is not a consumer: it only records what went');
});

t.test('the newest event stays however old, so positions are never handed out twice', async (t) => {
  await settle();
  const x = await contact('Last for a month');
  await sequenceEvents(db);
  await fanOutWebhooks(db);
  await age([x], DAYS + 30);
  t.equal(await pruneAll(), 0, 'an idle feed keeps its top event');
  const [ex] = await eventsOf([x]);
  const y = await contact('Next');
  await sequenceEvents(db);
  const [ey] = await eventsOf([y]);
  t.equal(ey?.seq, (ex?.seq as number) + 1, 'numbering goes on after it');
  await fanOutWebhooks(db);
  t.equal(await pruneAll(), 1, 'no longer the newest: it goes');
  t.same(await eventsOf([x]), []);
});

t.test('events of pending or failed deliveries are kept; delivered ones go with their log entries', async (t) => {
  await settle();
  const hook = await h.request({
    method: 'POST', url: '/v1/webhooks', headers: admin.auth, payload: { url: 'http://127.0.0.1:9/hook', events: ['contact.created'] },
  });
  t.equal(hook.statusCode, 201);
  const pending = await contact('Pending');
  const failed = await contact('Failed');
  const done = await contact('Delivered');
  const dead = await contact('Dead');
  await contact('Recent'); // the newest event is always kept: this one is it
  await fanOutWebhooks(db);
  const byContact = async (id: string) =>
    (await queryRows<{ id: string }>(db, sql`SELECT d.id FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE e.entity_id = ${id}::uuid`)).rows;
  t.equal((await byContact(pending)).length, 1, 'fan-out made a delivery per event');
  const setStatus = async (id: string, status: string) =>
    db.execute(sql`UPDATE webhook_deliveries d SET status = ${status} FROM events e WHERE e.id = d.event_id AND e.entity_id = ${id}::uuid`);
  await setStatus(failed, 'failed');
  await setStatus(done, 'succeeded');
  await setStatus(dead, 'dead');
  const doneDelivery = (await byContact(done))[0]?.id as string;
  await age([pending, failed, done, dead], DAYS + 3);
  t.equal(await pruneAll(), 2, 'the delivered and the dead one');
  t.equal((await eventsOf([pending, failed])).length, 2, 'pending and failed: still needed for their retries');
  t.same(await eventsOf([done, dead]), []);
  const left = await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM webhook_deliveries WHERE id = ${doneDelivery}::uuid`);
  t.equal(left.rows[0]?.n, 0, 'the log entry of a removed event is removed with it');
  const log = await h.request({ method: 'GET', url: `/v1/webhooks/${hook.json().id}/deliveries`, headers: admin.auth });
  t.equal(log.statusCode, 200);
  t.equal(log.json().data.length, 3, 'the delivery log: the two still waiting and the recent one');
  await setStatus(pending, 'succeeded');
  t.equal(await pruneAll(), 1, 'once delivered, its event can go');
});
