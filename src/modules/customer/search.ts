import { type SQL, and, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { CollectionSpec } from '../../platform/http/collection.js';

// Search text is normalised the same way when stored and when queried (API.md §2), so "احمد" finds
// "أحمد", "فاطمه" finds "فاطمة" and "jose muller" finds "José Müller". Done in JS, not SQL: one
// implementation for writes and queries, and no dependency on unaccent's (non-immutable) dictionary.

const TASHKEEL_AND_TATWEEL = /[\u064B-\u065F\u0670\u0640]/g;
const COMBINING_MARKS = /\p{M}/gu;
const LETTER_FORMS: Record<string, string> = { 'أ': 'ا', 'إ': 'ا', 'آ': 'ا', 'ٱ': 'ا', 'ة': 'ه', 'ى': 'ي' };
const FORMS = /[أإآٱةى]/g;

/** Folds case, Latin accents, Arabic diacritics, tatweel and letter variants; collapses whitespace. */
export function normaliseSearchText(text: string): string {
  return text
    .replace(TASHKEEL_AND_TATWEEL, '')
    // before NFKD: NFKD would split آ into ا + madda (U+0653), which the step above already removes anyway
    .replace(FORMS, (c) => LETTER_FORMS[c] ?? c)
    .normalize('NFKD')
    .replace(COMBINING_MARKS, '')
    .normalize('NFC')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/** The stored search text of a record: its searchable values, normalised, space-separated. */
export function searchTextOf(values: readonly (string | null | undefined | readonly string[])[]): string {
  return normaliseSearchText(values.flat().filter((v): v is string => typeof v === 'string' && v.length > 0).join(' '));
}

export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * The match condition of `q` on a normalised search column, every branch served by the GIN trigram
 * index: the whole query appears somewhere (an email part, phone digits, "jose mul"), or each of its
 * words starts a word of the record, in any order ("muller jose"). No fuzzy similarity match: for
 * short queries it matches nearly everything; similarity only ranks (searchRank).
 * A query that normalises to nothing (only diacritics, say) matches nothing.
 */
export function searchCondition(column: PgColumn, q: string): SQL {
  return matchCondition(normaliseSearchText(q), (pattern) => sql`${column} ILIKE ${pattern}`);
}

/**
 * searchCondition as `lower(column) LIKE lower(pattern)`, which is what ILIKE computes in a multi-byte
 * database (PostgreSQL's like.c lowers both sides, then matches as LIKE), with the column lowered once
 * for all the patterns instead of once per ILIKE (~5 µs each on Arabic text). Not an indexed
 * expression, so for use on rows another index found (contact-search.ts).
 */
export function searchConditionLowered(column: PgColumn, q: string): SQL {
  const match = matchCondition(normaliseSearchText(q), (pattern) => sql`lowered.text LIKE lower(${pattern})`);
  return sql`(SELECT ${match} FROM (SELECT lower(${column}) AS text) AS lowered)`;
}

function matchCondition(norm: string, like: (pattern: string) => SQL): SQL {
  if (!norm) return sql`FALSE`;
  const phrase = like(`%${escapeLike(norm)}%`);
  const words = [...new Set(norm.split(' '))];
  if (words.length === 1 && words[0] === norm) return phrase;
  const wordStarts = words.map((w) => sql`(${like(`${escapeLike(w)}%`)} OR ${like(`% ${escapeLike(w)}%`)})`);
  // Both branches hold every word somewhere, so "contains each word" is implied; said first, it is what
  // the planner hands the trigram index: one scan over the words' trigrams, instead of 1 + 2 × words
  // scans (the two spellings of a word start have the same trigrams, and common ones like "ال" of
  // Arabic surnames are long posting lists). The exact condition is then checked on those rows only.
  const containsEach = words.map((w) => like(`%${escapeLike(w)}%`));
  return sql`(${and(...containsEach)} AND (${phrase} OR ${and(...wordStarts)}))`;
}

// A query of plain letters, digits and spaces (names, as people type them): every character is one
// pg_trgm counts as part of a word, so where the query stands as whole words in the text its trigrams
// are exactly those of a stretch of the text's, and word_similarity is 1 there.
const PLAIN_WORDS = /^[a-z0-9\u0621-\u063a\u0641-\u064a]+( [a-z0-9\u0621-\u063a\u0641-\u064a]+)*$/;

/**
 * Relevance of a record to `q`, rounded so keyset cursors compare it exactly (numeric, 4 decimals).
 * word_similarity costs ~35 µs a row and a common full name matches hundreds of rows; a record that
 * holds a plain query as whole words ranks 1 without it (a LIKE on the lower-cased text, ~2 µs).
 * The same value either way (test/api/contacts-search-words.test.ts compares them).
 */
export function searchRank(column: PgColumn, q: string): SQL {
  const norm = normaliseSearchText(q);
  const similarity = sql`round(word_similarity(${norm}, ${column})::numeric, 4)`;
  if (!PLAIN_WORDS.test(norm)) return similarity;
  return sql`(CASE WHEN (' ' || lower(${column}) || ' ') LIKE ${`% ${norm} %`} THEN 1.0000 ELSE ${similarity} END)`;
}

/**
 * With `q`, the collection gains a `relevance` sort key (searchRank), and lists without an explicit
 * sort come by relevance, then id; the cursor carries the rounded rank, so paging stays keyset-exact.
 */
export function rankedCollection(spec: CollectionSpec, column: PgColumn, q: string): CollectionSpec {
  return {
    ...spec,
    defaultSort: '-relevance,-id',
    fields: { ...spec.fields, relevance: { expr: searchRank(column, q), type: 'decimal', nullable: false, sortable: true, filterable: false } },
  };
}
