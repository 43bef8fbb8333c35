import { index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/**
 * The distinct search keys of contacts (contact-search.ts): for every word of `lower(search_text)`,
 * `>` + its first 7 characters and `<` + its last 5, as contact_search_keys_of() computes them and
 * `contacts_search_keys_idx` indexes them per contact. A query word that must start (or end) a word
 * becomes a range over this small table, and the contacts come from the GIN index. Truncated keys
 * repeat (names, the beginnings of emails and phones), so a new contact seldom adds one. Kept by
 * triggers on contacts (migration 0026): every write adds its keys; a GDPR erasure removes the keys no
 * other contact has. A key left behind by an ordinary update only widens the candidates.
 */
export const contactSearchKeys = pgTable(
  'contact_search_keys',
  {
    key: text('key').notNull(),
  },
  (t) => [
    // text_pattern_ops: `key LIKE '>abc%'` is a range scan (the database's collation is not C); it
    // is also the unique index the triggers' ON CONFLICT lands on.
    uniqueIndex('contact_search_keys_key').on(t.key.op('text_pattern_ops')),
    // the first word of a phrase may end a word ("ose muller" finds "jose muller"): a prefix of the reversed key
    index('contact_search_keys_reversed_idx').on(sql`reverse(${t.key}) text_pattern_ops`),
  ],
);

/**
 * Keys an update took out of a contact that no other contact seemed to have. They stay in
 * contact_search_keys, where removing them would race with a writer adding the same key, until the
 * next GDPR erasure: it locks the keys and removes these too, so a person's former email does not
 * outlive their erasure there (as its first 7 and last 5 characters).
 */
export const contactSearchKeysUnlinked = pgTable('contact_search_keys_unlinked', {
  key: text('key').notNull(),
});
