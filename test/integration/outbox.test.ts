import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { inArray, isNotNull, sql } from 'drizzle-orm';
import { createTestDatabase } from '../helpers/database.js';
import { type Database, type Executor, connectPostgres } from '../../src/platform/db/client.js';
import { inTransaction } from '../../src/platform/db/transaction.js';
import { systemContext } from '../../src/platform/auth/actor.js';
import { emit } from '../../src/platform/events/outbox.js';
import { sequenceEvents } from '../../src/platform/events/sequencer.js';
import { type EventRow, readEventsAfter } from '../../src/platform/events/feed.js';
import { events } from '../../src/platform/events/event.table.js';
import { companies } from '../../src/modules/customer/company.table.js';

// The outbox promise: an event exists if and only if its transaction commits, and `seq` numbers
// events in commit order with no gaps, so a reader polling `seq > cursor` never misses one.
//
// Layout: the first group of tests runs on every engine, PGlite included. They commit and roll back
// one transaction at a time, and they reproduce the "late committer" (a transaction that wrote its
// event before others but committed after they were numbered) by back-dating its event before commit.
// The second group needs a PostgreSQL server: PGlite is one in-process connection that runs one
// transaction at a time, so it cannot hold transaction A open while B and C commit, nor let writers
// and sequencers race from several connections. On PGlite that group is not registered (and says so).

const tdb = await createTestDatabase();
t.teardown(() => tdb.close());
const db: Executor = tdb.database.db;
const ctx = systemContext('outbox-test');
const onServer = tdb.database.kind === 'postgres' && tdb.url !== undefined;

/** One event about a fresh entity; the entity id is how the test finds its own events. */
const event = (entityId: string = randomUUID(), type = 'thing.created') => ({
  type, entityType: 'thing', entityId, before: null, after: { entityId },
});

/** This test's events as stored, numbered or not. */
async function stored(entityIds: string[]): Promise<EventRow[]> {
  if (entityIds.length === 0) return [];
  return db.select().from(events).where(inArray(events.entityId, entityIds));
}

const seqOf = (rows: EventRow[], entityId: string) => rows.find((r) => r.entityId === entityId)?.seq ?? null;

/** Numbers across the whole table must be 1..N: a gap anywhere would be a place a reader waits forever. */
async function assertGapFree(t: Test, what: string) {
  const r = await db
    .select({ n: sql<number>`count(*)::int`, distinct: sql<number>`count(DISTINCT seq)::int`, lo: sql<number>`min(seq)::int`, hi: sql<number>`max(seq)::int` })
    .from(events)
    .where(isNotNull(events.seq));
  const s = r[0];
  t.ok(s && s.n > 0, `${what}: something is numbered`);
  t.equal(s?.distinct, s?.n, `${what}: no seq is used twice`);
  t.equal(s?.lo, 1, `${what}: numbering starts at 1`);
  t.equal(s?.hi, s?.n, `${what}: no gaps`);
}

t.test('a committed event is numbered once and stays numbered', async (t) => {
  const e = event();
  await inTransaction(db, (tx) => emit(tx, ctx, e));
  const [row] = await stored([e.entityId]);
  t.equal(row?.seq, null, 'unnumbered until the sequencer runs');
  t.equal(row?.actorType, 'system');
  t.equal(row?.requestId, 'outbox-test');
  t.same(row?.data, { before: null, after: { entityId: e.entityId } });

  const feed = await readEventsAfter(db, 0, 1000, inArray(events.entityId, [e.entityId]));
  t.equal(feed.length, 1, 'the reader numbers what has committed and sees it at once');
  const seq = feed[0]?.seq;
  t.ok(typeof seq === 'number' && seq > 0);

  await sequenceEvents(db);
  await sequenceEvents(db);
  t.equal(seqOf(await stored([e.entityId]), e.entityId), seq, 'later runs do not renumber it');
  t.same(await readEventsAfter(db, seq as number, 1000, inArray(events.entityId, [e.entityId])), [], 'a cursor at it is past it');
});

t.test('a rolled-back transaction leaves no event, numbered or not', async (t) => {
  const e = event();
  await t.rejects(inTransaction(db, async (tx) => {
    await emit(tx, ctx, e);
    throw new Error('changed my mind');
  }), /changed my mind/);
  await sequenceEvents(db);
  t.same(await stored([e.entityId]), []);
  t.same(await readEventsAfter(db, 0, 1000, inArray(events.entityId, [e.entityId])), []);
});

t.test('emit inside a failed transaction leaves nothing', async (t) => {
  // the event is written, then a later statement of the same transaction fails
  const after = event();
  await t.rejects(inTransaction(db, async (tx) => {
    await emit(tx, ctx, after);
    await tx.insert(companies).values({ name: null as unknown as string });
  }));
  // one bad event in a list: none of the list is written
  const good = event();
  await t.rejects(inTransaction(db, (tx) => emit(tx, ctx, [good, event('not-a-uuid')])));
  // an event emitted after the transaction already failed (statement caught, transaction aborted)
  const late = event();
  await t.rejects(inTransaction(db, async (tx) => {
    await tx.execute(sql`SELECT 1/0`).catch(() => undefined);
    await emit(tx, ctx, late);
  }));
  await sequenceEvents(db);
  t.same(await stored([after.entityId, good.entityId, late.entityId]), []);
});

t.test('events of one call are numbered consecutively in the order given', async (t) => {
  const list = [event(), event(), event(), event()];
  await inTransaction(db, (tx) => emit(tx, ctx, list));
  const feed = await readEventsAfter(db, 0, 1000, inArray(events.entityId, list.map((e) => e.entityId)));
  t.same(feed.map((r) => r.entityId), list.map((e) => e.entityId), 'cause before effect');
  const seqs = feed.map((r) => r.seq as number);
  t.same(seqs, seqs.map((_, i) => (seqs[0] as number) + i), 'no gaps inside one transaction');
});

t.test('a late committer gets a seq after everything already numbered (one connection)', async (t) => {
  // Transaction A writes its event first but commits last. Without concurrency we reproduce that by
  // back-dating A's event inside its transaction: the sequencer must still number it after B and C,
  // because numbering follows when an event became visible, not when it was written.
  const [a, b, c] = [event(), event(), event()];
  const mine = inArray(events.entityId, [a.entityId, b.entityId, c.entityId]);
  await inTransaction(db, (tx) => emit(tx, ctx, b));
  await inTransaction(db, (tx) => emit(tx, ctx, c));
  const first = await readEventsAfter(db, 0, 1000, mine);
  t.same(first.map((r) => r.entityId), [b.entityId, c.entityId]);
  const cursor = first.at(-1)?.seq as number;

  await inTransaction(db, async (tx) => {
    await emit(tx, ctx, a);
    await tx.update(events).set({ occurredAt: new Date(Date.now() - 60_000) }).where(inArray(events.entityId, [a.entityId]));
  });
  const next = await readEventsAfter(db, cursor, 1000, mine);
  t.same(next.map((r) => r.entityId), [a.entityId], 'the reader at C\'s cursor gets A');
  t.ok((next[0]?.seq as number) > cursor);
  await assertGapFree(t, 'after a late commit');
});

t.test('several sequencer calls at once number every event exactly once', async (t) => {
  const list = Array.from({ length: 30 }, () => event());
  for (let i = 0; i < list.length; i += 6) await inTransaction(db, (tx) => emit(tx, ctx, list.slice(i, i + 6)));
  // on PGlite these take turns; on a server they contend for the advisory lock
  await Promise.all(Array.from({ length: 5 }, () => sequenceEvents(db)));
  await sequenceEvents(db);
  const rows = await stored(list.map((e) => e.entityId));
  t.equal(rows.length, list.length);
  t.ok(rows.every((r) => r.seq !== null), 'all numbered');
  t.equal(new Set(rows.map((r) => r.seq)).size, list.length, 'no number used twice');
  await assertGapFree(t, 'after concurrent sequencer calls');
});

if (onServer) {
  // Separate pools so writers, sequencers and the reader really use different connections.
  const open = (poolMax: number, applicationName = 'outbox-test'): Database =>
    connectPostgres({ url: tdb.url as string, poolMax, statementTimeoutMs: 30_000, connectionTimeoutMs: 10_000, applicationName });

  /** True while a connection of this test database with that name waits for a lock. */
  const waitsForLock = async (applicationName: string) => {
    const r = await db.execute(sql`
      SELECT 1 FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = ${applicationName} AND wait_event_type = 'Lock'`);
    return (r as unknown as { rows: unknown[] }).rows.length > 0;
  };

  t.test('commit order, not start order: an open transaction does not hide later commits, nor get skipped', async (t) => {
    const [a, b, c] = [event(), event(), event()];
    const mine = inArray(events.entityId, [a.entityId, b.entityId, c.entityId]);

    let releaseA!: () => void;
    const gate = new Promise<void>((r) => { releaseA = r; });
    let aWrote!: () => void;
    const wrote = new Promise<void>((r) => { aWrote = r; });
    const txA = inTransaction(db, async (tx) => {
      await emit(tx, ctx, a);
      aWrote();
      await gate; // A stays open, its event written but invisible
    });
    t.teardown(() => releaseA()); // never leave A hanging if an assertion throws
    await wrote;

    await inTransaction(db, (tx) => emit(tx, ctx, b));
    await inTransaction(db, (tx) => emit(tx, ctx, c));
    const seen = await readEventsAfter(db, 0, 1000, mine);
    t.same(seen.map((r) => r.entityId), [b.entityId, c.entityId], 'B and C are readable while A is open; A is not');
    t.ok(seen.every((r) => typeof r.seq === 'number'));
    const cursor = seen.at(-1)?.seq as number;

    // a reader polling now, with C's seq as its cursor, finds nothing yet
    t.same(await readEventsAfter(db, cursor, 1000, mine), []);

    releaseA();
    await txA;
    const later = await readEventsAfter(db, cursor, 1000, mine);
    t.same(later.map((r) => r.entityId), [a.entityId], 'the reader at C\'s cursor does not miss A');
    const seqA = later[0]?.seq as number;
    t.ok(seqA > (seen[0]?.seq as number) && seqA > cursor, 'A, written first but committed last, is numbered last');
    t.same((await readEventsAfter(db, 0, 1000, mine)).map((r) => r.entityId), [b.entityId, c.entityId, a.entityId]);
  });

  t.test('one sequencer at a time: a second one steps aside instead of renumbering', async (t) => {
    // S1 is made to stall half-way (its UPDATE waits for a row lock another transaction holds on x)
    // while a late committer w, back-dated before x, becomes visible. A second sequencer S2 must not
    // start numbering from the same starting point: it would hand w and x numbers that clash with, or
    // rewrite, the ones S1 is about to commit, and a reader would miss or repeat events.
    const holder = open(1);
    const s1 = open(1, 'outbox-seq-1');
    const s2 = open(1, 'outbox-seq-2');
    t.teardown(async () => {
      await Promise.all([holder.close(), s1.close(), s2.close()]);
    });
    const [x, w] = [event(), event()];
    const mine = inArray(events.entityId, [x.entityId, w.entityId]);
    await sequenceEvents(db); // start from a fully numbered table
    await inTransaction(db, (tx) => emit(tx, ctx, x));

    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let locked!: () => void;
    const holding = new Promise<void>((r) => { locked = r; });
    const hold = inTransaction(holder.db, async (tx) => {
      await tx.select().from(events).where(inArray(events.entityId, [x.entityId])).for('update');
      locked();
      await gate;
    });
    t.teardown(() => release());
    await holding;

    let s1Done = false;
    const first = sequenceEvents(s1.db).then((n) => { s1Done = true; return n; });
    for (let i = 0; !(await waitsForLock('outbox-seq-1')); i++) {
      if (s1Done || i > 5000) { t.fail('S1 did not stall on the held row'); break; }
      await sleep(2);
    }

    // the late committer: written "before" x, visible only now
    await inTransaction(db, async (tx) => {
      await emit(tx, ctx, w);
      await tx.update(events).set({ occurredAt: new Date(Date.now() - 60_000) }).where(inArray(events.entityId, [w.entityId]));
    });

    let s2Done = false;
    const second = sequenceEvents(s2.db).then((n) => { s2Done = true; return n; });
    while (!s2Done) {
      if (await waitsForLock('outbox-seq-2')) { t.fail('S2 queued behind S1 on the same rows instead of stepping aside'); break; }
      await sleep(2);
    }
    t.same(await stored([x.entityId, w.entityId]).then((r) => r.map((e) => e.seq)), [null, null], 'nothing numbered while S1 stalls');

    release();
    await hold;
    t.equal(await first, 1, 'S1 numbers what it saw: x');
    t.equal(await second, 0, 'S2 numbered nothing');
    const xSeq = seqOf(await stored([x.entityId]), x.entityId) as number;
    const next = await readEventsAfter(db, xSeq, 1000, mine);
    t.same(next.map((r) => r.entityId), [w.entityId], 'a reader past x still gets w');
    t.equal(next[0]?.seq, xSeq + 1);
    t.equal(seqOf(await stored([x.entityId]), x.entityId), xSeq, 'x keeps the number readers already saw');
    await assertGapFree(t, 'after a stalled sequencer');
  });

  t.test('50 racing writers, 4 racing sequencers and a polling reader: every committed event once, in order', async (t) => {
    const writers = open(25);
    const sequencers = Array.from({ length: 4 }, () => open(1));
    const reader = open(2);
    t.teardown(async () => {
      await writers.close();
      await Promise.all(sequencers.map((s) => s.close()));
      await reader.close();
    });

    const committed: string[] = [];
    const rolledBack: string[] = [];
    const all: string[] = [];
    let writing = true;

    // Each writer emits 1–3 events and keeps its transaction open a little, so commits interleave
    // with sequencer runs in an order unrelated to the order the events were written. Every
    // seventh writer rolls back.
    const writes = Array.from({ length: 50 }, async (_, i) => {
      const list = Array.from({ length: 1 + (i % 3) }, () => event());
      all.push(...list.map((e) => e.entityId));
      try {
        await inTransaction(writers.db, async (tx) => {
          await emit(tx, ctx, list);
          await sleep(Math.floor(Math.random() * 25));
          if (i % 7 === 3) throw new Error('roll back');
        }, 1);
        committed.push(...list.map((e) => e.entityId));
      } catch {
        rolledBack.push(...list.map((e) => e.entityId));
      }
    });

    const sequencing = sequencers.map(async (s) => {
      while (writing) await sequenceEvents(s.db);
    });

    // The reader polls like a feed consumer: cursor = the last seq it has seen.
    const mine = inArray(events.entityId, all);
    const received: EventRow[] = [];
    let cursor = 0;
    const poll = async () => {
      // the filter keeps the reader on this test's events (`all` was filled before the first await)
      const page = await readEventsAfter(reader.db, cursor, 1000, mine);
      for (const r of page) {
        t.ok((r.seq as number) > cursor, 'a reader never gets a seq at or below its cursor');
        received.push(r);
        cursor = r.seq as number;
      }
      return page.length;
    };
    const polling = (async () => {
      while (writing) {
        await poll();
        await sleep(2);
      }
    })();

    await Promise.all(writes);
    writing = false;
    await Promise.all([...sequencing, polling]);
    while ((await poll()) > 0); // drain what committed last

    t.ok(committed.length > 0 && rolledBack.length > 0, 'both outcomes happened');
    const rows = await db.select().from(events).where(mine);
    t.same(rows.map((r) => r.entityId).sort(), [...committed].sort(), 'exactly the committed events exist');
    t.ok(rows.every((r) => r.seq !== null), 'every committed event is numbered');
    t.equal(new Set(rows.map((r) => r.seq)).size, rows.length, 'no seq is shared');
    t.same(received.map((r) => r.entityId).sort(), [...committed].sort(), 'the polling reader got every committed event exactly once');
    t.notOk(received.some((r) => rolledBack.includes(r.entityId)), 'and no rolled-back one');
    await assertGapFree(t, 'after the race');
  });
} else {
  t.comment('outbox: the concurrent cases need a PostgreSQL server (TEST_DATABASE_URL); PGlite runs one transaction at a time');
}
