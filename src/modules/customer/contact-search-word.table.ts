import { index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/**
 * The vocabulary of contacts' search text (search.ts): every distinct word of `lower(search_text)`,
 * as `contacts_search_words_idx` indexes them per contact. A query word that must start a word (or, for
 * the first word of a phrase, end one) becomes a range over this small table, and the contacts come
 * from the GIN index on their word arrays: a few posting lists of whole words instead of the long
 * trigram lists that common Arabic names share (`ال…`). Kept by triggers on contacts (migration 0023):
 * every write adds its words; a GDPR erasure removes the words no other contact has. A word left
 * behind by an ordinary update (a changed email) only widens the candidates, never the results.
 */
export const contactSearchWords = pgTable(
  'contact_search_words',
  {
    word: text('word').notNull(),
  },
  (t) => [
    // text_pattern_ops: `word LIKE 'abc%'` is a range scan (the database's collation is not C); it
    // is also the unique index the triggers' ON CONFLICT lands on.
    uniqueIndex('contact_search_words_word_key').on(t.word.op('text_pattern_ops')),
    // the first word of a phrase may end a word ("ose muller" finds "jose muller"): a prefix of the reversed word
    index('contact_search_words_reversed_idx').on(sql`reverse(${t.word}) text_pattern_ops`),
  ],
);

/**
 * Words an update took out of a contact that no other contact seemed to have (an old email, a
 * corrected name). They stay in contact_search_words, where removing them would race with a writer
 * adding the same word, until the next GDPR erasure: it locks the vocabulary and removes these too,
 * so a person's former email does not outlive their erasure there.
 */
export const contactSearchWordsUnlinked = pgTable('contact_search_words_unlinked', {
  word: text('word').notNull(),
});
