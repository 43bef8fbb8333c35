import { parseArgs } from 'node:util';
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { and, desc, getTableColumns, isNull } from 'drizzle-orm';
import { contacts } from '../src/modules/customer/contact.table.js';
import { contactSearchCondition } from '../src/modules/customer/contact-search.js';
import { searchRank } from '../src/modules/customer/search.js';

// npm run bench:q-plans -- --database NAME [--names 40] [--old]: EXPLAIN (ANALYZE, BUFFERS) of the
// contacts `q` statement (as listContacts sends it, 21 rows by relevance) for sampled full names, on
// one warm connection: total buffers, matched rows and execution time per name, and their sums.
// --old plans the trigram-only condition (searchCondition) for comparison in the same minute.

const { values } = parseArgs({ options: { database: { type: 'string' }, names: { type: 'string', default: '40' }, old: { type: 'boolean', default: false } } });
if (!values.database || !/^[a-z_][a-z0-9_]{0,62}$/.test(values.database)) throw new Error('--database NAME');
const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${values.database}` });
await client.connect();
const db = drizzle(client);
const { searchCondition } = await import('../src/modules/customer/search.js');
const names = (await client.query<{ name: string }>(
  "SELECT first_name || ' ' || last_name AS name FROM contacts ORDER BY md5(id::text) DESC LIMIT $1", [Number(values.names)],
)).rows.map((r) => r.name);
const cond = (q: string) => (values.old ? searchCondition(contacts.searchText, q) : contactSearchCondition(contacts.searchText, q));
let totalMs = 0;
let totalBuffers = 0;
for (const pass of [1, 2]) {
  totalMs = 0; totalBuffers = 0;
  for (const q of names) {
    const query = db.select({ ...getTableColumns(contacts), relevance: searchRank(contacts.searchText, q) }).from(contacts)
      .where(and(isNull(contacts.deletedAt), cond(q))).orderBy(desc(searchRank(contacts.searchText, q)), desc(contacts.id)).limit(21).toSQL();
    const r = await client.query({ text: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query.sql}`, values: query.params as unknown[] });
    const plan = (r.rows[0] as { 'QUERY PLAN': [{ Plan: Record<string, number>; 'Execution Time': number; 'Planning Time': number }] })['QUERY PLAN'][0];
    const buffers = (plan.Plan['Shared Hit Blocks'] ?? 0) + (plan.Plan['Shared Read Blocks'] ?? 0);
    const ms = plan['Execution Time'] + plan['Planning Time'];
    totalMs += ms; totalBuffers += buffers;
    if (pass === 2) console.log(JSON.stringify({ q, buffers, ms: Math.round(ms * 10) / 10, planMs: Math.round(plan['Planning Time'] * 10) / 10 }));
  }
}
console.log(JSON.stringify({ names: names.length, meanMs: Math.round((totalMs / names.length) * 100) / 100, meanBuffers: Math.round(totalBuffers / names.length) }));
await client.end();
