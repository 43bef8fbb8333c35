import { type SQL, and, or, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { escapeLike, normaliseSearchText, searchCondition, searchConditionLowered } from './search.js';

// `q` over contacts when the query has several words. The match is searchCondition's, unchanged and
// checked last on every candidate; what changes is where the candidates come from. Both of its
// branches pin the words of the record (its search text split at spaces, as PostgreSQL's ILIKE sees
// it, lower-cased):
//   each word starts a word   → every query word is a prefix of some record word;
//   the phrase "p1 p2 … pm"   → p1 ends a record word, p2 … pm-1 are record words, pm starts one.
// A prefix or suffix becomes a range over contact_search_words (the vocabulary, small), and the
// contacts come from the GIN index on their word arrays (contacts_search_words_idx): a few posting
// lists of whole words, where the trigram index read the long lists common Arabic names share (`ال…`).
// A prefix shorter than MIN_AFFIX is left out of the candidates (it would expand to a large part of
// the vocabulary); the final check still applies it. A single word keeps the trigram index: the
// phrase alone may sit anywhere inside a word, which no word range finds.

/** Shortest prefix or suffix looked up in the vocabulary. */
const MIN_AFFIX = 3;

/** The record's words, exactly as the GIN index and the vocabulary's triggers compute them. */
const wordsOf = (column: PgColumn) => sql`string_to_array(lower(${column}), ' ')`;

const vocabularyPrefix = (w: string) =>
  sql`ARRAY(SELECT v.word FROM contact_search_words v WHERE v.word LIKE lower(${`${escapeLike(w)}%`}))`;
// reversed in JS by code point, as PostgreSQL's reverse() does, then escaped (escaping first would
// put each backslash after the character it escapes)
const vocabularySuffix = (w: string) =>
  sql`ARRAY(SELECT v.word FROM contact_search_words v WHERE reverse(v.word) LIKE lower(${`${escapeLike([...w].reverse().join(''))}%`}))`;

/** Contacts with a word starting (or ending) with `w`, or undefined when `w` is too short to narrow. */
function hasWordWith(words: SQL, w: string, at: 'start' | 'end'): SQL | undefined {
  if ([...w].length < MIN_AFFIX) return undefined;
  return sql`${words} && ${at === 'start' ? vocabularyPrefix(w) : vocabularySuffix(w)}`;
}

/** The candidates: a superset of searchCondition's matches (see above), or undefined if nothing narrows them. */
function candidates(column: PgColumn, norm: string): SQL | undefined {
  const words = wordsOf(column);
  const sequence = norm.split(' ');
  const distinct = [...new Set(sequence)];
  const starts = distinct.map((w) => hasWordWith(words, w, 'start')).filter((c): c is SQL => c !== undefined);
  const middle = sequence.slice(1, -1);
  const phrase = [
    hasWordWith(words, sequence[0] as string, 'end'),
    middle.length ? sql`${words} @> ARRAY[${sql.join(middle.map((w) => sql`lower(${w})`), sql`, `)}]::text[]` : undefined,
    hasWordWith(words, sequence.at(-1) as string, 'start'),
  ].filter((c): c is SQL => c !== undefined);
  if (starts.length === 0 || phrase.length === 0) return undefined;
  return or(and(...starts), and(...phrase));
}

/** searchCondition for contacts' search text, with candidates from the word index for queries of several words. */
export function contactSearchCondition(column: PgColumn, q: string): SQL {
  const norm = normaliseSearchText(q);
  const narrowed = norm.includes(' ') ? candidates(column, norm) : undefined;
  if (!narrowed) return searchCondition(column, q);
  // The exact condition in its lowered form: the same truth, and (unlike ILIKE on the column, which the
  // planner would AND into the bitmap) no use for the trigram index, whose long lists this avoids.
  return sql`(${narrowed} AND ${searchConditionLowered(column, q)})`;
}
