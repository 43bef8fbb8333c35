import { sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import type { ContactRow } from './contact.table.js';
import {
  CONTACT_WEIGHTS, MAX_CANDIDATES, NAME_SIMILARITY, contactKeysChanged, useNameSimilarity,
} from './duplicate.repository.js';

// The duplicate-candidate refresh of duplicate.repository.ts for many contacts at once, as a batch
// writes them: the same arms, rechecks, weights and per-contact limit, in three statements for the
// whole batch instead of four per contact. Written after every row of the batch is in place, so the
// batch's contacts find one another as well as the rest of the table.

const w = CONTACT_WEIGHTS;
/**
 * Contacts looked up per statement. Each lookup costs what it costs one by one (a very common name reads
 * many rows), so a whole batch in one statement could outlast the statement timeout that no single
 * lookup comes near; a hundred keep each statement well inside it.
 */
const LOOKUPS_PER_STATEMENT = 100;

/** Replaces the candidate pairs of every live contact whose identifying values changed. */
export async function refreshContactCandidatesMany(tx: Executor, written: { row: ContactRow; before: ContactRow | null }[]): Promise<void> {
  const rows = written.filter((x) => contactKeysChanged(x.before, x.row)).map((x) => x.row);
  if (!rows.length) return;
  const ids = rows.map((r) => r.id);
  const live = rows.filter((r) => !r.deletedAt && !r.mergedIntoId);
  await tx.execute(sql`DELETE FROM duplicate_candidates WHERE entity = 'contact'
    AND (a_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid)
      OR b_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid))`);
  if (!live.length) return;
  await useNameSimilarity(tx);
  for (let i = 0; i < live.length; i += LOOKUPS_PER_STATEMENT) await insertPairs(tx, live.slice(i, i + LOOKUPS_PER_STATEMENT));
}

async function insertPairs(tx: Executor, live: ContactRow[]): Promise<void> {
  const selves = JSON.stringify(live.map((r) => ({
    id: r.id,
    emails: [...new Set([r.email, ...r.additionalEmails].filter((e): e is string => !!e))],
    phones: [...new Set([r.phone, ...r.additionalPhones].filter((p): p is string => !!p))],
    name_key: r.nameKey,
    company_id: r.companyId,
  })));
  // Each arm joins on its own index; a pair found from both of its sides is stored once (DISTINCT ON),
  // in one key order for every writer so concurrent refreshes do not lock pairs crosswise.
  // The email arm joins the emails one by one (unnest): `o.email = ANY(s.emails)` against the partial
  // live-email index was planned as a nested loop over every live contact (5 000 rows × 100 selves,
  // 238 of the statement's 418 ms at 5 000 contacts, EXPLAIN ANALYZE); the same pairs either way.
  await tx.execute(sql`
    WITH s AS (
      SELECT * FROM jsonb_to_recordset(${selves}::jsonb) AS s(id uuid, emails text[], phones text[], name_key text, company_id uuid)
    ), found AS (
      SELECT s.id AS self, o.id FROM s CROSS JOIN LATERAL unnest(s.emails) AS e(email) JOIN contacts o ON o.email = e.email AND o.deleted_at IS NULL
      UNION SELECT s.id, o.id FROM s JOIN contacts o ON o.phone = ANY(s.phones)
      UNION SELECT s.id, o.id FROM s JOIN contacts o ON o.additional_emails && s.emails
      UNION SELECT s.id, o.id FROM s JOIN contacts o ON o.additional_phones && s.phones
      UNION SELECT s.id, o.id FROM s JOIN contacts o ON s.name_key <> '' AND o.name_key % s.name_key
    ), flagged AS (
      SELECT f.self, o.id,
        coalesce(o.email = ANY(s.emails) OR o.additional_emails && s.emails, false) AS same_email,
        coalesce(o.phone = ANY(s.phones) OR o.additional_phones && s.phones, false) AS same_phone,
        (s.name_key <> '' AND similarity(o.name_key, s.name_key) >= ${NAME_SIMILARITY}) AS similar_name,
        coalesce(o.company_id = s.company_id, false) AS same_company
      FROM found f JOIN s ON s.id = f.self JOIN contacts o ON o.id = f.id
      WHERE o.deleted_at IS NULL AND o.id <> f.self
    ), scored AS (
      SELECT self, id, same_email, same_phone, similar_name, same_company,
        least(100, same_email::int * ${w.same_email} + same_phone::int * ${w.same_phone} + similar_name::int * ${w.similar_name}
          + same_company::int * ${w.same_company}) AS score,
        row_number() OVER (PARTITION BY self ORDER BY same_email::int * ${w.same_email} + same_phone::int * ${w.same_phone}
          + similar_name::int * ${w.similar_name} + same_company::int * ${w.same_company} DESC, id) AS rank
      FROM flagged WHERE same_email OR same_phone OR similar_name
    )
    INSERT INTO duplicate_candidates (entity, a_id, b_id, score, reasons)
    SELECT DISTINCT ON (least(self, id), greatest(self, id)) 'contact', least(self, id), greatest(self, id), score,
      array_remove(ARRAY[
        CASE WHEN same_email THEN 'same_email' END, CASE WHEN same_phone THEN 'same_phone' END,
        CASE WHEN similar_name THEN 'similar_name' END, CASE WHEN same_company THEN 'same_company' END], NULL)
    FROM scored WHERE rank <= ${MAX_CANDIDATES}
    ORDER BY least(self, id), greatest(self, id)
    ON CONFLICT (entity, a_id, b_id) DO UPDATE SET score = excluded.score, reasons = excluded.reasons, updated_at = now()`);
}
