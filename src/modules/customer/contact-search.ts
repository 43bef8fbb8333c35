import { type SQL, and, or, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { escapeLike, normaliseSearchText, searchCondition, searchConditionLowered } from './search.js';

// `q` over contacts when the query has several words. The match is searchCondition's, unchanged and
// checked last on every candidate; what changes is where the candidates come from. Both of its
// branches pin the words of the record (its search text split at spaces, lower-cased, as ILIKE sees it):
//   each word starts a word   → every query word is a prefix of some record word;
//   the phrase "p1 p2 … pm"   → p1 ends a record word, p2 … pm-1 are record words, pm starts one.
// Each record word is indexed by two keys (contact_search_keys_of, migration 0026): `>` + its first
// PREFIX_KEY characters and `<` + its last SUFFIX_KEY. A query word up to that length becomes a range
// over contact_search_keys (the distinct keys, small: names, and email and phone beginnings repeat);
// a longer one is its own key. The contacts come from the GIN index on their keys
// (contacts_search_keys_idx): a few posting lists of whole-word keys, where the trigram index read the
// long lists common Arabic names share (`ال…`). A word shorter than MIN_AFFIX is left out of the
// candidates (it would expand to a large part of the keys); the final check still applies it. A single
// word keeps the trigram index: the phrase alone may sit anywhere inside a word.

/** Must match contact_search_keys_of() in migration 0026. */
const PREFIX_KEY = 7;
const SUFFIX_KEY = 5;
/** Shortest prefix or suffix looked up among the keys. */
const MIN_AFFIX = 3;

/** The record's keys, as the GIN index holds them. */
const keysOf = (column: PgColumn) => sql`contact_search_keys_of(${column})`;
const length = (w: string) => [...w].length;

function startKeys(w: string): SQL {
  if (length(w) >= PREFIX_KEY) return sql`ARRAY['>' || left(lower(${w}), ${PREFIX_KEY})]`;
  return sql`ARRAY(SELECT v.key FROM contact_search_keys v WHERE v.key LIKE '>' || lower(${`${escapeLike(w)}%`}))`;
}

// a key ending with w: reversed in JS by code point, as PostgreSQL's reverse() does, then escaped
// (escaping first would put each backslash after the character it escapes)
function endKeys(w: string): SQL {
  if (length(w) >= SUFFIX_KEY) return sql`ARRAY['<' || right(lower(${w}), ${SUFFIX_KEY})]`;
  return sql`ARRAY(SELECT v.key FROM contact_search_keys v
    WHERE reverse(v.key) LIKE lower(${`${escapeLike([...w].reverse().join(''))}%`}) AND v.key LIKE '<%')`;
}

/** Contacts with a word starting (or ending) with `w`, or undefined when `w` is too short to narrow. */
function hasWordWith(keys: SQL, w: string, at: 'start' | 'end'): SQL | undefined {
  if (length(w) < MIN_AFFIX) return undefined;
  return sql`${keys} && ${at === 'start' ? startKeys(w) : endKeys(w)}`;
}

/** The candidates: a superset of searchCondition's matches (see above), or undefined if nothing narrows them. */
function candidates(column: PgColumn, norm: string): SQL | undefined {
  const keys = keysOf(column);
  const sequence = norm.split(' ');
  const distinct = [...new Set(sequence)];
  const starts = distinct.map((w) => hasWordWith(keys, w, 'start')).filter((c): c is SQL => c !== undefined);
  // a whole record word has both its keys
  const middle = sequence.slice(1, -1).flatMap((w) => [sql`'>' || left(lower(${w}), ${PREFIX_KEY})`, sql`'<' || right(lower(${w}), ${SUFFIX_KEY})`]);
  const phrase = [
    hasWordWith(keys, sequence[0] as string, 'end'),
    middle.length ? sql`${keys} @> ARRAY[${sql.join(middle, sql`, `)}]` : undefined,
    hasWordWith(keys, sequence.at(-1) as string, 'start'),
  ].filter((c): c is SQL => c !== undefined);
  if (starts.length === 0 || phrase.length === 0) return undefined;
  return or(and(...starts), and(...phrase));
}

/** searchCondition for contacts' search text, with candidates from the word keys for queries of several words. */
export function contactSearchCondition(column: PgColumn, q: string): SQL {
  const norm = normaliseSearchText(q);
  const narrowed = norm.includes(' ') ? candidates(column, norm) : undefined;
  if (!narrowed) return searchCondition(column, q);
  // The exact condition in its lowered form: the same truth, and (unlike ILIKE on the column, which the
  // planner would AND into the bitmap) no use for the trigram index, whose long lists this avoids.
  return sql`(${narrowed} AND ${searchConditionLowered(column, q)})`;
}
