import { and, asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { queryRows, sqlArray } from '../../platform/db/execute.js';
import { externalIds } from '../../platform/db/external-ids.table.js';
import { auditLogs } from '../../platform/audit/audit.table.js';
import { ERASED } from '../../platform/audit/erasure.js';
import { contacts, type ContactRow } from './contact.table.js';
import { activities } from './activity.table.js';
import { feedback } from './feedback.table.js';
import { loyaltyTransactions } from './loyalty.table.js';
import { orders } from './order.table.js';
import { duplicateCandidates } from './duplicate.table.js';
import { orderColumns } from './order.repository.js';
import { activitySearchText } from './activity.repository.js';
import { normaliseSearchText } from './search.js';
import { balancesOf } from './loyalty.repository.js';
import type { OrderRecord } from './order.schema.js';

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * One person in the data: the contact a merged id leads to, and every contact merged into it
 * (transitively), the surviving contact first; locked when `lock` (an erasure).
 */
export async function personRows(db: Executor, id: string, lock = false): Promise<ContactRow[]> {
  const { rows } = await queryRows<{ id: string; root: boolean }>(db, sql`
    WITH RECURSIVE up(id, merged_into_id) AS (
      SELECT id, merged_into_id FROM contacts WHERE id = ${id}
      UNION SELECT c.id, c.merged_into_id FROM contacts c JOIN up ON c.id = up.merged_into_id
    ), person(id) AS (
      SELECT id FROM up WHERE merged_into_id IS NULL
      UNION SELECT c.id FROM contacts c JOIN person p ON c.merged_into_id = p.id
    ) SELECT id, id IN (SELECT id FROM up WHERE merged_into_id IS NULL) AS root FROM person`);
  if (rows.length === 0) return [];
  const query = db.select().from(contacts).where(inArray(contacts.id, rows.map((r) => r.id))).orderBy(asc(contacts.createdAt));
  const found = lock ? await query.for('update') : await query;
  const rootId = rows.find((r) => r.root)?.id;
  return [...found.filter((c) => c.id === rootId), ...found.filter((c) => c.id !== rootId)];
}

/** Everything the customer module holds about these contacts, as rows (the service shapes them). */
export async function customerDataOf(db: Executor, ids: string[]) {
  const [acts, ords, fb, tx, balances, audit] = await Promise.all([
    db.select().from(activities).where(inArray(activities.contactId, ids)).orderBy(asc(activities.occurredAt), asc(activities.id)),
    db.select(orderColumns).from(orders).where(inArray(orders.contactId, ids)).orderBy(asc(orders.placedAt), asc(orders.id)) as Promise<OrderRecord[]>,
    db.select().from(feedback).where(inArray(feedback.contactId, ids)).orderBy(asc(feedback.createdAt), asc(feedback.id)),
    db.select().from(loyaltyTransactions).where(inArray(loyaltyTransactions.contactId, ids)).orderBy(asc(loyaltyTransactions.createdAt), asc(loyaltyTransactions.id)),
    balancesOf(db, ids),
    db.select({
      occurredAt: auditLogs.occurredAt, action: auditLogs.action, entityType: auditLogs.entityType, entityId: auditLogs.entityId,
      actorType: auditLogs.actorType, actorId: auditLogs.actorId, before: auditLogs.before, after: auditLogs.after,
    }).from(auditLogs).where(and(eq(auditLogs.entityType, 'contact'), inArray(auditLogs.entityId, ids))).orderBy(asc(auditLogs.occurredAt), asc(auditLogs.id)),
  ]);
  return { activities: acts, orders: ords, feedback: fb, loyaltyTransactions: tx, balances, audit };
}

/** Clears the personal fields of the contacts; the rows stay (soft-deleted) so orders and totals keep their owner. */
export async function eraseContacts(tx: Executor, ids: string[], at: Date): Promise<void> {
  await tx.update(contacts).set({
    firstName: null, lastName: null, email: null, phone: null, additionalEmails: [], additionalPhones: [],
    jobTitle: null, address: null, custom: {}, externalIds: {}, searchText: '', nameKey: '',
    emailOptIn: false, smsOptIn: false, erasedAt: at, deletedAt: sql`coalesce(${contacts.deletedAt}, ${at.toISOString()}::timestamptz)`,
    updatedAt: at, version: sql`${contacts.version} + 1`,
  }).where(inArray(contacts.id, ids));
  await tx.delete(externalIds).where(and(eq(externalIds.entityType, 'contact'), inArray(externalIds.entityId, ids)));
  await tx.delete(duplicateCandidates).where(and(eq(duplicateCandidates.entity, 'contact'),
    or(inArray(duplicateCandidates.aId, ids), inArray(duplicateCandidates.bId, ids))));
}

/** The person's activities lose subject and body; answers their ids (their audit rows are scrubbed too). */
export async function eraseActivities(tx: Executor, ids: string[], at: Date): Promise<string[]> {
  const rows = await tx.update(activities).set({ subject: ERASED, body: null, searchText: '', updatedAt: at, version: sql`${activities.version} + 1` })
    .where(inArray(activities.contactId, ids)).returning({ id: activities.id });
  return rows.map((r) => r.id);
}

/**
 * Other records' activities that mention the person by a strong identifier (email, phone, full name):
 * the mention is cut out of subject and body. Served by the trigram index on search_text.
 */
export async function eraseMentions(tx: Executor, needles: string[], at: Date): Promise<string[]> {
  if (needles.length === 0) return [];
  const patterns = sqlArray(needles.map((n) => `%${escapeLike(n)}%`), 'text');
  const { rows } = await queryRows<{ id: string; subject: string | null; body: string | null }>(tx, sql`
    SELECT id, subject, body FROM activities
    WHERE search_text LIKE ANY(${patterns}) OR lower(coalesce(subject, '') || ' ' || coalesce(body, '')) LIKE ANY(${patterns})`);
  const cut = (text: string | null) => {
    if (text === null) return null;
    let out = text;
    for (const n of needles) out = out.replace(new RegExp(n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), ERASED);
    // a mention spelled with other diacritics or letter forms survives the cut: the whole text goes
    const folded = normaliseSearchText(out);
    return needles.some((n) => folded.includes(n)) ? ERASED : out;
  };
  for (const r of rows) {
    const subject = cut(r.subject);
    const body = cut(r.body);
    await tx.update(activities).set({ subject, body, searchText: activitySearchText({ subject, body }), updatedAt: at, version: sql`${activities.version} + 1` })
      .where(eq(activities.id, r.id));
  }
  return rows.map((r) => r.id);
}

/** Feedback comments are the person's words; scores stay for NPS and CSAT figures. */
export async function eraseFeedbackComments(tx: Executor, ids: string[], at: Date): Promise<string[]> {
  const rows = await tx.update(feedback).set({ comment: null, updatedAt: at, version: sql`${feedback.version} + 1` })
    .where(inArray(feedback.contactId, ids)).returning({ id: feedback.id });
  return rows.map((r) => r.id);
}

/**
 * Caches and staging areas that may hold a copy of the person's data: replayable responses of
 * idempotent requests and waiting import rows are dropped, import error messages are cut.
 */
export async function eraseCopies(tx: Executor, needles: string[]): Promise<void> {
  if (needles.length === 0) return;
  const patterns = sqlArray(needles.map((n) => `%${escapeLike(n)}%`), 'text');
  await tx.execute(sql`DELETE FROM idempotency_keys WHERE lower(coalesce(response_body, '')) LIKE ANY(${patterns})`);
  await tx.execute(sql`DELETE FROM import_rows WHERE lower(data::text) LIKE ANY(${patterns})`);
  await tx.execute(sql`UPDATE import_errors SET message = ${`${ERASED} (GDPR erasure)`} WHERE lower(message) LIKE ANY(${patterns})`);
}
