import { randomUUID } from 'node:crypto';
import t from 'tap';
import { sql } from 'drizzle-orm';
import { openPglite } from '../../src/platform/db/client.js';
import { appliedMigrationCount, runMigrations, shippedMigrationCount } from '../../src/platform/db/migrations.js';
import { queryRows } from '../../src/platform/db/execute.js';

// `npm start` with no DATABASE_URL migrates the embedded database (PGlite), whatever server the
// rest of the suite runs on. PGlite sends each migration chunk as one prepared statement, so a chunk
// holding two statements (a missing `--> statement-breakpoint`) passes on PostgreSQL and stops the
// embedded start: this runs every migration there, and the triggers they install.

const database = await openPglite(undefined);
t.teardown(() => database.close());
const db = database.db;

t.test('every shipped migration applies on the embedded database', async (t) => {
  await runMigrations(database);
  t.equal(await appliedMigrationCount(db), shippedMigrationCount());
});

t.test("the migrations' triggers run there: an order written by SQL updates its customer's summary", async (t) => {
  const contact = randomUUID();
  await db.execute(sql`INSERT INTO contacts (id, first_name, search_text) VALUES (${contact}, 'Embedded', 'embedded')`);
  await db.execute(sql`INSERT INTO orders (id, contact_id, status, total, currency, placed_at)
    VALUES (${randomUUID()}, ${contact}, 'paid', 12.5, 'SAR', '2026-07-01T00:00:00Z')`);
  const rows = await queryRows<{ orders: number; revenue: string }>(db, sql`SELECT orders, revenue::text AS revenue FROM customer_currency_summaries WHERE contact_id = ${contact}`);
  t.same(rows.rows, [{ orders: 1, revenue: '12.5000' }]);
});
