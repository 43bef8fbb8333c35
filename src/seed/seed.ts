import { type PgTable, getTableConfig } from 'drizzle-orm/pg-core';
import type { Database } from '../platform/db/client.js';
import { externalIds } from '../platform/db/external-ids.table.js';
import { activities } from '../modules/customer/activity.table.js';
import { companies } from '../modules/customer/company.table.js';
import { contacts } from '../modules/customer/contact.table.js';
import { feedback } from '../modules/customer/feedback.table.js';
import { loyaltyBalances, loyaltyTransactions } from '../modules/customer/loyalty.table.js';
import { orderLines, orders } from '../modules/customer/order.table.js';
import { dealContacts, dealStageHistory, deals } from '../modules/pipeline/deal.table.js';
import { leads } from '../modules/pipeline/lead.table.js';
import { pipelineStages, pipelines } from '../modules/pipeline/pipeline.table.js';
import { slaPolicies } from '../modules/service/sla-policy.table.js';
import { ticketComments, tickets } from '../modules/service/ticket.table.js';
import { campaignEvents, campaignRecipients, campaigns } from '../modules/marketing/campaign.table.js';
import { segments } from '../modules/marketing/segment.table.js';
import { type BulkWriter, openBulkWriter } from './bulk-writer.js';
import type { Row } from './copy-text.js';
import { type Login, createAccounts } from './people-accounts.js';
import type { Scale } from './scale.js';
import { DAY, HISTORY_DAYS, type World } from './world.js';
import { companyRows, contactRows, externalIdRows } from './customers.gen.js';
import { dealContactRows, dealHistoryRows, dealRows, leadRows, pipelineRows, seedPipelines, stageRows } from './pipeline.gen.js';
import { satisfactionFeedbackRows, seedSlaPolicy, ticketCommentRows, ticketRows } from './service.gen.js';
import { loyaltyBalanceRows, loyaltyRows, npsRows, orderLineRows, orderRows } from './commerce.gen.js';
import { activityRows } from './activities.gen.js';
import { campaignEventRows, campaignRows, recipientRows, segmentRows } from './marketing.gen.js';

// Fills an empty database with demo data: accounts through the identity service, everything else
// written with COPY, with the search indexes rebuilt once at the end instead of row by row.

export interface SeedOptions {
  scale: Scale;
  seed: number;
  /** the end of the generated history; the same seed and `until` give the same rows. Default: today 00:00 UTC */
  until?: Date;
  /** rows of `table` written since the last call */
  onProgress?: (table: string, rows: number) => void;
}

export interface SeedResult {
  logins: Login[];
  rows: Record<string, number>;
}

export class SeedRefused extends Error {
  override name = 'SeedRefused';
}

const BULK_TABLES = [
  companies, contacts, externalIds, leads, deals, dealContacts, dealStageHistory, activities, tickets, ticketComments,
  feedback, orders, orderLines, loyaltyTransactions, loyaltyBalances, campaigns, campaignRecipients, campaignEvents,
];

export function startOfTodayUtc(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

async function assertEmpty(writer: BulkWriter) {
  const [row] = await writer.query<{ taken: boolean }>(`SELECT EXISTS (SELECT 1 FROM contacts) OR EXISTS (SELECT 1 FROM companies)
    OR EXISTS (SELECT 1 FROM pipelines) OR EXISTS (SELECT 1 FROM sla_policies) OR EXISTS (SELECT 1 FROM users WHERE email LIKE '%@crm.example') AS taken`);
  if (row?.taken) throw new SeedRefused('The database already has customers, pipelines or demo users: seed:demo fills an empty database only');
}

/**
 * Secondary indexes of the bulk tables are dropped before the load and built again after it: one
 * sort per index instead of a million insertions into it. Indexes behind constraints (primary
 * keys) stay. Returns their definitions, to rebuild them even when the load fails.
 */
async function dropSecondaryIndexes(writer: BulkWriter): Promise<string[]> {
  const names = BULK_TABLES.map((t) => getTableConfig(t).name);
  const rows = await writer.query<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    [names],
  );
  for (const r of rows) await writer.run(`DROP INDEX "${r.indexname}"`);
  return rows.map((r) => r.indexdef);
}

export async function seedDemo(database: Database, o: SeedOptions): Promise<SeedResult> {
  const writer = await openBulkWriter(database);
  try {
    await assertEmpty(writer);
    const { users, logins } = await createAccounts(database.db, o.seed);
    const until = (o.until ?? startOfTodayUtc()).getTime();
    const start = until - HISTORY_DAYS * DAY;
    const byRole: Record<string, typeof users> = {};
    for (const u of users) (byRole[u.role] ??= []).push(u);
    const w: World = { seed: o.seed, scale: o.scale, until, start, users, byRole, pipelines: seedPipelines(o.seed, start) };
    const policy = seedSlaPolicy(o.seed, start);
    const balances = new Map<number, { balance: number; at: Date }>();

    const rows: Record<string, number> = {};
    const copy = async (name: string, table: PgTable, generated: Iterable<Row>) => {
      rows[name] = (rows[name] ?? 0) + await writer.copy(table, generated, (n) => o.onProgress?.(name, n));
    };
    const indexes = await dropSecondaryIndexes(writer);
    try {
      await copy('sla_policies', slaPolicies, [policy]);
      await copy('pipelines', pipelines, pipelineRows(w));
      await copy('pipeline_stages', pipelineStages, stageRows(w));
      await copy('companies', companies, companyRows(w));
      await copy('contacts', contacts, contactRows(w));
      await copy('external_ids', externalIds, externalIdRows(w));
      await copy('leads', leads, leadRows(w));
      await copy('deals', deals, dealRows(w));
      await copy('deal_contacts', dealContacts, dealContactRows(w));
      await copy('deal_stage_history', dealStageHistory, dealHistoryRows(w));
      await copy('activities', activities, activityRows(w));
      await copy('tickets', tickets, ticketRows(w, policy));
      await copy('ticket_comments', ticketComments, ticketCommentRows(w, policy));
      await copy('feedback', feedback, satisfactionFeedbackRows(w, policy));
      await copy('feedback', feedback, npsRows(w));
      await copy('orders', orders, orderRows(w));
      await copy('order_lines', orderLines, orderLineRows(w));
      await copy('loyalty_transactions', loyaltyTransactions, loyaltyRows(w, balances));
      await copy('loyalty_balances', loyaltyBalances, loyaltyBalanceRows(w, balances));
      await copy('segments', segments, segmentRows(w));
      await copy('campaigns', campaigns, campaignRows(w));
      await copy('campaign_recipients', campaignRecipients, recipientRows(w));
      await copy('campaign_events', campaignEvents, campaignEventRows(w));
    } finally {
      for (const definition of indexes) await writer.run(definition);
    }
    // VACUUM, not only ANALYZE: it sets the visibility map, without which index-only scans read the heap
    await writer.run('VACUUM (ANALYZE)');
    return { logins, rows };
  } finally {
    await writer.release();
  }
}
