import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { queryRows } from '../../platform/db/execute.js';
import { recordAudit } from '../../platform/audit/audit.js';

// The pipeline's links to contacts and companies, moved when the customer module merges duplicates
// (registered in index.ts through customer.merge.registerLinkMover). They run inside the merge's
// transaction with the records already locked; each moved deal or lead gets a new version and an
// audit row naming what it pointed to before.

const ids = (list: readonly string[]) => sql.join(list.map((id) => sql`${id}::uuid`), sql`, `);

/**
 * deal_contacts: a deal linked to a duplicate is linked to the primary instead, at the duplicate's
 * position; a deal linked to both (or to two duplicates) keeps one row. leads.converted_contact_id follows.
 */
export async function moveContactLinks(tx: Executor, ctx: RequestContext, primaryId: string, duplicateIds: readonly string[]): Promise<Record<string, number>> {
  const before = await contactIdsOfDeals(tx, sql`SELECT deal_id FROM deal_contacts WHERE contact_id IN (${ids(duplicateIds)})`);
  if (before.length) {
    const dealIds = before.map((d) => d.id);
    await queryRows(tx, sql`
      INSERT INTO deal_contacts (deal_id, contact_id, position)
      SELECT deal_id, ${primaryId}::uuid, min(position) FROM deal_contacts
      WHERE contact_id IN (${ids(duplicateIds)}) GROUP BY deal_id
      ON CONFLICT DO NOTHING`);
    await queryRows(tx, sql`DELETE FROM deal_contacts WHERE contact_id IN (${ids(duplicateIds)})`);
    await queryRows(tx, sql`UPDATE deals SET version = version + 1, updated_at = now() WHERE id IN (${ids(dealIds)})`);
    const after = new Map((await contactIdsOfDeals(tx, ids(dealIds))).map((d) => [d.id, d.contactIds]));
    await recordAudit(tx, ctx, before.map((d) => ({
      action: 'update', entityType: 'deal', entityId: d.id, before: { contactIds: d.contactIds }, after: { contactIds: after.get(d.id) ?? [] },
    })));
  }
  const leads = await relinkLeads(tx, ctx, 'converted_contact_id', 'convertedContactId', primaryId, duplicateIds);
  return { dealContacts: before.length, leads };
}

/** contactIds of the deals `dealIds` selects, in their order (as the deal DTO lists them) */
async function contactIdsOfDeals(tx: Executor, dealIds: SQL): Promise<{ id: string; contactIds: string[] }[]> {
  const { rows } = await queryRows<{ id: string; contactIds: string[] }>(tx, sql`
    SELECT deal_id AS id, array_agg(contact_id::text ORDER BY position, contact_id) AS "contactIds"
    FROM deal_contacts WHERE deal_id IN (${dealIds}) GROUP BY deal_id ORDER BY deal_id`);
  return rows;
}

/** deals.company_id and leads.converted_company_id follow the surviving company. */
export async function moveCompanyLinks(tx: Executor, ctx: RequestContext, primaryId: string, duplicateIds: readonly string[]): Promise<Record<string, number>> {
  const { rows: deals } = await queryRows<{ id: string; old: string }>(tx, sql`
    UPDATE deals AS t SET company_id = ${primaryId}::uuid, version = t.version + 1, updated_at = now()
    FROM (SELECT id, company_id AS old FROM deals WHERE company_id IN (${ids(duplicateIds)})) o
    WHERE t.id = o.id AND t.company_id IN (${ids(duplicateIds)})
    RETURNING t.id, o.old`);
  await recordAudit(tx, ctx, deals.map((d) => ({
    action: 'update', entityType: 'deal', entityId: d.id, before: { companyId: d.old }, after: { companyId: primaryId },
  })));
  const leads = await relinkLeads(tx, ctx, 'converted_company_id', 'convertedCompanyId', primaryId, duplicateIds);
  return { deals: deals.length, leads };
}

async function relinkLeads(
  tx: Executor, ctx: RequestContext, column: 'converted_contact_id' | 'converted_company_id', field: string,
  primaryId: string, duplicateIds: readonly string[],
): Promise<number> {
  const c = sql.identifier(column);
  const { rows } = await queryRows<{ id: string; old: string }>(tx, sql`
    UPDATE leads AS t SET ${c} = ${primaryId}::uuid, version = t.version + 1, updated_at = now()
    FROM (SELECT id, ${c} AS old FROM leads WHERE ${c} IN (${ids(duplicateIds)})) o
    WHERE t.id = o.id AND t.${c} IN (${ids(duplicateIds)})
    RETURNING t.id, o.old`);
  await recordAudit(tx, ctx, rows.map((r) => ({ action: 'update', entityType: 'lead', entityId: r.id, before: { [field]: r.old }, after: { [field]: primaryId } })));
  return rows.length;
}
