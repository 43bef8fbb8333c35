import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/client.js';
import { CONTACT_WEIGHTS, MAX_CANDIDATES, NAME_SIMILARITY, useNameSimilarity } from './duplicate.repository.js';

// The contact duplicate-candidate lookup, for as many contacts as the refresh queue (duplicate-queue.ts)
// hands over: their emails and phones through the btrees, the other contacts' additional ones through
// the GIN indexes on those arrays, the name through the trigram index on name_key; the exact reasons
// rechecked on the rows found, scored with duplicate.repository.ts's weights and per-contact limit, a
// statement per hundred contacts. The contacts are read from the table inside the statement, so a
// pass always scores what is committed now. (Additional emails were once found by LIKE on
// search_text's trigrams: every email shares "@example.com"'s trigrams with most of the table.)

const w = CONTACT_WEIGHTS;
/**
 * Contacts looked up per statement. Each lookup costs what it costs one by one (a very common name reads
 * many rows), so a whole batch in one statement could outlast the statement timeout that no single
 * lookup comes near; a hundred keep each statement well inside it.
 */
const LOOKUPS_PER_STATEMENT = 100;

/** Replaces the candidate pairs of these contacts; a deleted, merged or missing one is left with none. */
export async function replaceContactPairs(tx: Executor, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  await tx.execute(sql`DELETE FROM duplicate_candidates WHERE entity = 'contact'
    AND (a_id = ANY(${sqlUuids(ids)}) OR b_id = ANY(${sqlUuids(ids)}))`);
  await useNameSimilarity(tx);
  for (let i = 0; i < ids.length; i += LOOKUPS_PER_STATEMENT) await insertPairs(tx, ids.slice(i, i + LOOKUPS_PER_STATEMENT));
}

/** ids as one uuid[] parameter: one bind value however many ids */
const sqlUuids = (ids: readonly string[]) => sql`${`{${ids.join(',')}}`}::uuid[]`;

async function insertPairs(tx: Executor, ids: readonly string[]): Promise<void> {
  await tx.execute(contactPairsSql(ids));
}

/** The statement that stores the candidate pairs of these contacts (exported for the plan test's EXPLAIN). */
export function contactPairsSql(ids: readonly string[]): SQL {
  // Each arm joins on its own index; a pair found from both of its sides is stored once (DISTINCT ON),
  // in one key order for every writer so concurrent refreshes do not lock pairs crosswise.
  // The email arm joins the emails one by one (unnest): `o.email = ANY(s.emails)` against the partial
  // live-email index was planned as a nested loop over every live contact (5 000 rows × 100 selves,
  // 238 of the statement's 418 ms at 5 000 contacts, EXPLAIN ANALYZE); the same pairs either way.
  return sql`
    WITH s AS (
      SELECT c.id, c.name_key, c.company_id,
        ARRAY(SELECT DISTINCT x FROM unnest(array_prepend(c.email, c.additional_emails)) AS x WHERE x IS NOT NULL AND x <> '') AS emails,
        ARRAY(SELECT DISTINCT x FROM unnest(array_prepend(c.phone, c.additional_phones)) AS x WHERE x IS NOT NULL AND x <> '') AS phones
      FROM contacts c WHERE c.id = ANY(${sqlUuids(ids)}) AND c.deleted_at IS NULL AND c.merged_into_id IS NULL
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
    ON CONFLICT (entity, a_id, b_id) DO UPDATE SET score = excluded.score, reasons = excluded.reasons, updated_at = now()`;
}
