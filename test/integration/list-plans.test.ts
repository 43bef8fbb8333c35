import t from 'tap';
import { and, isNull, sql } from 'drizzle-orm';
import { createTestDatabase } from '../helpers/database.js';
import { compileList, cursorOf, compileSort } from '../../src/platform/http/collection.js';
import { contactCollection } from '../../src/modules/customer/contact.repository.js';
import { contacts } from '../../src/modules/customer/contact.table.js';
import { dealCollection } from '../../src/modules/pipeline/deal.repository.js';
import { deals } from '../../src/modules/pipeline/deal.table.js';
import { companyCollection } from '../../src/modules/customer/company.repository.js';
import { companies } from '../../src/modules/customer/company.table.js';
import { activityCollection } from '../../src/modules/customer/activity.repository.js';
import { activities } from '../../src/modules/customer/activity.table.js';
import { orderCollection } from '../../src/modules/customer/order.repository.js';
import { orders } from '../../src/modules/customer/order.table.js';
import { ticketCollection } from '../../src/modules/service/ticket.repository.js';
import { tickets } from '../../src/modules/service/ticket.table.js';
import type { CollectionSpec } from '../../src/platform/http/collection.js';
import type { PgTable } from 'drizzle-orm/pg-core';

// The keyset contract of docs/performance.md, checked on the plan rather than on a clock: a listing
// with a cursor must be one btree range scan that starts at the cursor (its row comparison is an
// Index Cond, not a Filter) and needs no Sort, so page 1000 reads what page 1 reads. This breaks if the
// sort expressions of collection.ts and the index expressions of the *.table.ts files drift apart.
// Sequential scans, bitmap scans and sorts are switched off (a plan needing one is still made, at a
// prohibitive cost, so a missing index shows as a Sort): on a test-sized table they would win on cost
// alone, and the question here is whether an index *can* serve the query, not which plan is cheapest.

const tdb = await createTestDatabase();
t.teardown(() => tdb.close());
const db = tdb.database.db;

const stages = ['customer', 'lead', 'churned'] as const;
await db.insert(contacts).values(Array.from({ length: 300 }, (_, i) => ({
  firstName: `F${i % 17}`,
  lastName: i % 10 === 0 ? null : `L${i % 23}`,
  lifecycleStage: stages[i % stages.length],
})));
await db.execute(sql`ANALYZE contacts`);

async function planOf(query: { toSQL(): unknown }): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL enable_seqscan = off`);
    await tx.execute(sql`SET LOCAL enable_bitmapscan = off`);
    await tx.execute(sql`SET LOCAL enable_sort = off`);
    const res = await tx.execute(sql`EXPLAIN (COSTS OFF) ${query as never}`);
    return (res as unknown as { rows: { 'QUERY PLAN': string }[] }).rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}

t.test('the bench list (stage = customer, by lastName) on a deep cursor: one index range scan from the cursor', async (t) => {
  const sort = 'lastName';
  const cursor = cursorOf(compileSort(contactCollection, sort), { lastName: 'L5', id: '00000000-0000-7000-8000-000000000000' });
  const list = compileList(contactCollection, { sort, cursor, filter: { lifecycleStage: { eq: 'customer' } } });
  const plan = await planOf(db.select().from(contacts).where(and(list.where, isNull(contacts.deletedAt))).orderBy(...list.orderBy).limit(list.fetch));
  t.match(plan, /Index Scan using contacts_last_name_sort_idx/, plan);
  t.match(plan, /Index Cond: .*ROW\(\(last_name IS NULL\), COALESCE\(last_name, ''::text\), id\) > ROW\(false, 'L5'::text/, 'the cursor bounds the scan');
  t.notMatch(plan, /Sort/, 'the index gives the order');
});

t.test('descending on a nullable key, cursor in the NULLs: still a range scan, backwards', async (t) => {
  const sort = '-lastName';
  const cursor = cursorOf(compileSort(contactCollection, sort), { lastName: null, id: '00000000-0000-7000-8000-000000000000' });
  const list = compileList(contactCollection, { sort, cursor });
  const plan = await planOf(db.select().from(contacts).where(and(list.where, isNull(contacts.deletedAt))).orderBy(...list.orderBy).limit(list.fetch));
  t.match(plan, /Index Scan Backward using contacts_last_name_sort_idx/, plan);
  t.match(plan, /Index Cond: \(ROW\(/);
  t.notMatch(plan, /Sort/);
});

t.test('every sortable field of the big lists has an index that serves its keyset order, both ways', async (t) => {
  const lists: [CollectionSpec, PgTable][] = [
    [contactCollection, contacts], [companyCollection, companies], [dealCollection, deals],
    [activityCollection, activities], [ticketCollection, tickets], [orderCollection, orders],
  ];
  for (const [spec, table] of lists) {
    for (const [name, f] of Object.entries(spec.fields)) {
      if (!f.sortable) continue;
      for (const sort of [name, `-${name}`]) {
        const list = compileList(spec, { sort });
        const plan = await planOf(db.select().from(table).orderBy(...list.orderBy).limit(list.fetch));
        t.notMatch(plan, /Sort/, `sort=${sort}: no Sort\n${plan}`);
      }
    }
  }
});
