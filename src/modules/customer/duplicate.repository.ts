import { type SQL, and, desc, eq, isNull, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Executor } from '../../platform/db/client.js';
import { queryRows } from '../../platform/db/execute.js';
import type { OwnedColumns } from '../../platform/auth/permissions.js';
import type { CollectionSpec, CompiledList } from '../../platform/http/collection.js';
import { searchTextOf } from './search.js';
import { type ContactRow, contacts } from './contact.table.js';
import { type CompanyRow, companies } from './company.table.js';
import { duplicateCandidates as d } from './duplicate.table.js';

// Duplicate candidates are kept current by the writes: after a contact or company is written, its own
// candidates are looked up through indexes only (email and phone btrees, trigram GIN on search_text
// and name_key) and its rows in duplicate_candidates replaced. A company's lookup runs in the write's
// transaction; a contact's is queued by the write and runs set-based after it (duplicate-queue.ts,
// duplicate-batch.repository.ts). No query ever compares all pairs, so the cost of a write does not
// grow with the table.

export type DuplicateEntity = 'contact' | 'company';
export const CONTACT_REASONS = ['same_email', 'same_phone', 'similar_name', 'same_company'] as const;
export const COMPANY_REASONS = ['same_domain', 'similar_name', 'same_phone'] as const;
export type DuplicateReason = (typeof CONTACT_REASONS)[number] | (typeof COMPANY_REASONS)[number];

/**
 * Score weights (0–100, the sum capped at 100). An identifier match weighs most: a shared email is
 * nearly always the same person, a shared phone often (households, switchboards), a similar name
 * alone least. `same_company` only adds to another reason, never makes a pair by itself; a company's
 * phone likewise only adds (companies.phone has no index to find pairs by).
 */
export const CONTACT_WEIGHTS: Record<(typeof CONTACT_REASONS)[number], number> = {
  same_email: 50, same_phone: 40, similar_name: 30, same_company: 10,
};
export const COMPANY_WEIGHTS: Record<(typeof COMPANY_REASONS)[number], number> = {
  same_domain: 60, similar_name: 40, same_phone: 30,
};
/** trigram similarity of the normalised names from which they count as similar */
export const NAME_SIMILARITY = 0.6;
/** candidates kept per write: a very common name must not make one write store thousands of pairs */
export const MAX_CANDIDATES = 50;

/** first and last name, normalised like search (Arabic and Latin folding): what names compare by */
export const contactNameKey = (v: { firstName?: string | null; lastName?: string | null }) => searchTextOf([v.firstName, v.lastName]);
export const companyNameKey = (v: { name?: string | null }) => searchTextOf([v.name]);
/** `www.acme.com` and `acme.com` are one domain; the live-unique index already rules out equal ones */
const bareDomain = (domain: string) => domain.replace(/^www\./, '');

const inList = (column: SQL, values: readonly string[]) => sql`${column} IN (${sql.join(values.map((v) => sql`${v}`), sql`, `)})`;

/**
 * The records any finder matches, as a UNION of one indexed SELECT per finder. One big OR would be
 * planned as a whole, and the planner, pricing trigram GIN scans high, then prefers a sequential
 * scan (measured: 360 ms on 100 k contacts); planned apart, each arm takes its own index. Only the
 * email and domain arms say `deleted_at IS NULL`, which their partial unique indexes need; liveness is
 * checked once on the joined rows, so no other arm can read the whole partial index instead.
 */
const found = (table: SQL, arms: SQL[]) => sql.join(arms.map((where) => sql`SELECT id FROM ${table} WHERE ${where}`), sql` UNION `);

/** The candidate lookup of one company: domain (btree, live-unique) and name (trigram GIN). */
export function companyCandidatesSql(row: CompanyRow): SQL | undefined {
  const domains = row.domain ? [...new Set([bareDomain(row.domain), `www.${bareDomain(row.domain)}`])] : [];
  const key = row.nameKey;
  const arms: SQL[] = [];
  if (domains.length) arms.push(sql`${inList(sql`domain`, domains)} AND deleted_at IS NULL`);
  if (key) arms.push(sql`name_key % ${key}`);
  if (!arms.length) return undefined;
  const w = COMPANY_WEIGHTS;
  return sql`SELECT id, same_domain, similar_name, same_phone FROM (
      SELECT o.id,
        ${domains.length ? sql`coalesce(${inList(sql`o.domain`, domains)}, false)` : sql`false`} AS same_domain,
        ${key ? sql`similarity(o.name_key, ${key}) >= ${NAME_SIMILARITY}` : sql`false`} AS similar_name,
        coalesce(o.phone = ${row.phone}::text, false) AS same_phone
      FROM (${found(sql`companies`, arms)}) f JOIN companies o ON o.id = f.id
      WHERE o.deleted_at IS NULL AND o.id <> ${row.id}
    ) c
    WHERE same_domain OR similar_name
    ORDER BY same_domain::int * ${w.same_domain} + similar_name::int * ${w.similar_name} + same_phone::int * ${w.same_phone} DESC, id
    LIMIT ${MAX_CANDIDATES}`;
}

interface Pair {
  otherId: string;
  score: number;
  reasons: DuplicateReason[];
}

function scored<R extends string>(rows: Record<string, unknown>[], reasons: readonly R[], weights: Record<R, number>): Pair[] {
  return rows.map((r) => {
    const found = reasons.filter((k) => r[k] === true);
    const score = Math.min(100, found.reduce((s, k) => s + weights[k], 0));
    return { otherId: r.id as string, score, reasons: found as DuplicateReason[] };
  });
}

async function replacePairs(tx: Executor, entity: DuplicateEntity, id: string, pairs: Pair[]): Promise<void> {
  await tx.delete(d).where(and(eq(d.entity, entity), or(eq(d.aId, id), eq(d.bId, id))));
  if (!pairs.length) return;
  const rows = pairs
    .map((p) => ({ entity, aId: id < p.otherId ? id : p.otherId, bId: id < p.otherId ? p.otherId : id, score: p.score, reasons: p.reasons }))
    // one key order for every writer, so two concurrent refreshes do not lock pairs crosswise
    .sort((x, y) => (x.aId + x.bId < y.aId + y.bId ? -1 : 1));
  await tx.insert(d).values(rows).onConflictDoUpdate({
    target: [d.entity, d.aId, d.bId],
    set: { score: sql`excluded.score`, reasons: sql`excluded.reasons`, updatedAt: sql`now()` },
  });
}

/**
 * Makes the trigram index itself stop at NAME_SIMILARITY (`%` reads this setting), for the rest of the
 * caller's transaction only. At the default 0.3 a common name matches a large share of the table and
 * the lookup turns into a scan; at 0.6 the index returns only names that will count as similar.
 */
export async function useNameSimilarity(tx: Executor): Promise<void> {
  await tx.execute(sql`SELECT set_config('pg_trgm.similarity_threshold', ${String(NAME_SIMILARITY)}, true)`);
}

async function candidates(tx: Executor, query: SQL | undefined): Promise<Record<string, unknown>[]> {
  if (!query) return [];
  await useNameSimilarity(tx);
  return (await queryRows<Record<string, unknown>>(tx, query)).rows;
}

/** Whether a write changed nothing pairs depend on: then the stored pairs stay right as they are. */
const sameKeys = <R extends Record<string, unknown>>(keys: readonly (keyof R)[], a: R | null | undefined, b: R) =>
  !!a && keys.every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]));
const CONTACT_KEYS = ['email', 'additionalEmails', 'phone', 'additionalPhones', 'nameKey', 'companyId', 'deletedAt', 'mergedIntoId'] as const;
const COMPANY_KEYS = ['domain', 'nameKey', 'phone', 'deletedAt', 'mergedIntoId'] as const;

/** Whether a contact's write changed anything its candidate pairs depend on (always, for a new one). */
export const contactKeysChanged = (before: ContactRow | null | undefined, row: ContactRow) => !sameKeys<ContactRow>(CONTACT_KEYS, before, row);

/** Replaces the company's candidate pairs (unless `before` shows nothing they depend on changed); a deleted or merged company has none. */
export async function refreshCompanyCandidates(tx: Executor, row: CompanyRow, before?: CompanyRow | null): Promise<void> {
  if (sameKeys<CompanyRow>(COMPANY_KEYS, before, row)) return;
  const rows = await candidates(tx, row.deletedAt || row.mergedIntoId ? undefined : companyCandidatesSql(row));
  await replacePairs(tx, 'company', row.id, scored(rows, COMPANY_REASONS, COMPANY_WEIGHTS));
}

/** Pairs sort by score, then by the pair's ids: the primary key order the score index walks backwards. */
export const pairCollection: CollectionSpec = {
  id: { expr: d.bId, type: 'uuid', nullable: false, sortable: true },
  defaultSort: '-score,-aId',
  fields: {
    score: { expr: d.score, type: 'integer', nullable: false, sortable: true },
    aId: { expr: d.aId, type: 'uuid', nullable: false, sortable: true },
  },
};

export interface PairRow {
  aId: string;
  bId: string;
  score: number;
  reasons: string[];
}

/**
 * A page of pairs whose two records are both live and both readable by the caller: `scope` builds
 * the caller's scope condition for each side's columns.
 */
export async function listPairs(
  db: Executor, entity: DuplicateEntity, list: CompiledList, scope: (cols: OwnedColumns) => SQL | undefined,
): Promise<PairRow[]> {
  const table = entity === 'contact' ? contacts : companies;
  const a = alias(table, 'dup_a');
  const b = alias(table, 'dup_b');
  return db
    .select({ aId: d.aId, bId: d.bId, score: d.score, reasons: d.reasons })
    .from(d)
    .innerJoin(a, and(eq(a.id, d.aId), isNull(a.deletedAt), scope({ ownerId: a.ownerId, teamId: a.teamId })))
    .innerJoin(b, and(eq(b.id, d.bId), isNull(b.deletedAt), scope({ ownerId: b.ownerId, teamId: b.teamId })))
    .where(and(eq(d.entity, entity), list.where))
    .orderBy(...(list.orderBy.length ? list.orderBy : [desc(d.score)]))
    .limit(list.fetch);
}
