import { type SQL, getTableColumns, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { RequestContext } from '../../platform/auth/actor.js';
import { newId } from '../../platform/db/columns.js';
import { insertRowsSql } from '../../platform/db/bulk-insert.js';
import { queryRows } from '../../platform/db/execute.js';
import { auditDiffSql, auditInsertSql } from '../../platform/audit/audit.js';
import { eventInsertSql } from '../../platform/events/outbox.js';
import { type ContactInsert, type ContactRow, contacts } from './contact.table.js';

// The set-based writes of a contacts batch (contact-batch.ts), each ONE statement that writes the
// contacts and, from the rows it wrote, their audit rows and change events (data-modifying CTEs). The
// audit and event content is built by PostgreSQL from the written rows (contactDtoSql) instead of
// toContactDto per record in the server and the DTOs sent back as JSON twice: for 1000 contacts that
// was ~3 MB of JSON built, sent and parsed, and the largest share of the server's garbage.

/** toContactDto's `iso()` of a timestamp column: ISO 8601 in UTC with milliseconds (the columns keep ms). */
const isoSql = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Every key of toContactDto (contact.schema.ts) and its column; test/api/contacts-batch-dto.test.ts compares the two. */
const DTO_COLUMNS: readonly [key: string, column: string, kind?: 'ts'][] = [
  ['id', 'id'], ['createdAt', 'created_at', 'ts'], ['updatedAt', 'updated_at', 'ts'], ['version', 'version'], ['deletedAt', 'deleted_at', 'ts'],
  ['firstName', 'first_name'], ['lastName', 'last_name'], ['email', 'email'], ['phone', 'phone'],
  ['additionalEmails', 'additional_emails'], ['additionalPhones', 'additional_phones'], ['jobTitle', 'job_title'],
  ['companyId', 'company_id'], ['address', 'address'], ['tags', 'tags'], ['lifecycleStage', 'lifecycle_stage'], ['source', 'source'],
  ['externalIds', 'external_ids'], ['emailOptIn', 'email_opt_in'], ['smsOptIn', 'sms_opt_in'], ['consentSource', 'consent_source'],
  ['emailOptInAt', 'email_opt_in_at', 'ts'], ['smsOptInAt', 'sms_opt_in_at', 'ts'], ['ownerId', 'owner_id'], ['teamId', 'team_id'],
  ['custom', 'custom'],
];

/** toContactDto of the contacts row `alias` as a jsonb expression. */
export function contactDtoSql(alias: string): SQL {
  const pairs = DTO_COLUMNS.map(([key, column, kind]) => `'${key}', ${kind === 'ts' ? isoSql(`${alias}.${column}`) : `${alias}.${column}`}`);
  return sql.raw(`jsonb_build_object(${pairs.join(', ')})`);
}

/** Audit and event ids made here in the rows' order (uuidv7 ascends), so both follow the records' order. */
const idsOf = (ids: readonly string[]) => JSON.stringify(ids.map((id) => ({ id, audit_id: newId(), event_id: newId() })));
const idsSql = (ids: readonly string[]) => sql`jsonb_to_recordset(${idsOf(ids)}::jsonb) AS m(id uuid, audit_id uuid, event_id uuid)`;

/**
 * Inserts the rows with their audit rows (`create`) and `contact.created` events; a row that meets any
 * unique index (email, a unique custom field) is left out, with no audit row or event. Answers the ids written.
 */
export async function insertContactsRecorded(tx: Executor, ctx: RequestContext, values: (ContactInsert & { id: string })[]): Promise<Set<string>> {
  if (!values.length) return new Set();
  const { rows } = await queryRows<{ id: string }>(tx, sql`
    WITH ins AS (${insertRowsSql(contacts, values)} ON CONFLICT DO NOTHING RETURNING *),
    written AS MATERIALIZED (SELECT m.audit_id, m.event_id, ins.id, ${contactDtoSql('ins')} AS after FROM ins JOIN ${idsSql(values.map((v) => v.id))} USING (id)),
    audit AS (${auditInsertSql(ctx, sql`SELECT audit_id AS id, 'create' AS action, 'contact' AS entity_type, id AS entity_id, NULL::jsonb AS before, after FROM written`)}),
    feed AS (${eventInsertSql(ctx, sql`SELECT event_id AS id, 'contact.created' AS type, 'contact' AS entity_type, id AS entity_id, NULL::jsonb AS before, after FROM written`)})
    SELECT id FROM written`);
  return new Set(rows.map((r) => r.id));
}

/**
 * Writes each row's new values in one UPDATE (the rows are locked by the caller), with their audit rows
 * (`update`, only what changed) and `contact.updated` events, the before side read in the same
 * statement's snapshot. Only the columns some row changes are sent, the others' current values passed
 * through; version and updatedAt move as in updateContact.
 */
export async function updateContactsRecorded(
  tx: Executor, ctx: RequestContext, rows: { current: ContactRow; changes: Partial<ContactInsert> }[],
): Promise<void> {
  if (!rows.length) return;
  const columns = getTableColumns(contacts);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.changes)))] as (keyof typeof columns)[];
  const values = rows.map((r) => {
    const out: Record<string, unknown> = { id: r.current.id };
    for (const k of keys) out[columns[k].name] = (k in r.changes ? r.changes[k] : r.current[k]) ?? null;
    return out;
  });
  const shape = sql.join([sql`id uuid`, ...keys.map((k) => sql`${sql.identifier(columns[k].name)} ${sql.raw(columns[k].getSQLType())}`)], sql`, `);
  const set = sql.join(keys.map((k) => sql`${sql.identifier(columns[k].name)} = v.${sql.identifier(columns[k].name)}`), sql`, `);
  // `o` is the same row as the statement's snapshot saw it: the before side
  await tx.execute(sql`
    WITH upd AS (
      UPDATE contacts c SET ${set}, version = c.version + 1, updated_at = now()
      FROM jsonb_to_recordset(${JSON.stringify(values)}::jsonb) AS v(${shape}), contacts o
      WHERE c.id = v.id AND o.id = v.id
      RETURNING c.*, ${contactDtoSql('o')} AS before_dto),
    written AS MATERIALIZED (SELECT m.audit_id, m.event_id, upd.id, upd.before_dto AS before, ${contactDtoSql('upd')} AS after
      FROM upd JOIN ${idsSql(rows.map((r) => r.current.id))} USING (id)),
    audit AS (${auditInsertSql(ctx, sql`SELECT w.audit_id AS id, 'update' AS action, 'contact' AS entity_type, w.id AS entity_id, d.before, d.after
      FROM written w CROSS JOIN LATERAL ${auditDiffSql(sql`w.before`, sql`w.after`)} d`)}),
    feed AS (${eventInsertSql(ctx, sql`SELECT event_id AS id, 'contact.updated' AS type, 'contact' AS entity_type, id AS entity_id, before, after FROM written`)})
    SELECT count(*) FROM written`);
}
