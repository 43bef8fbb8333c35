-- the backfill and the GIN build read every contact (about a minute at 1 M)
SET LOCAL statement_timeout = 0;--> statement-breakpoint
SELECT set_config('maintenance_work_mem', '256MB', true);--> statement-breakpoint
CREATE TABLE "contact_search_words" (
	"word" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contact_search_words_unlinked" (
	"word" text NOT NULL
);
--> statement-breakpoint
-- the words of the contacts already there, before the vocabulary's indexes (built once, not row by row)
INSERT INTO contact_search_words (word)
  SELECT DISTINCT w FROM contacts c, unnest(string_to_array(lower(c.search_text), ' ')) w;
--> statement-breakpoint
CREATE UNIQUE INDEX "contact_search_words_word_key" ON "contact_search_words" USING btree ("word" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "contact_search_words_reversed_idx" ON "contact_search_words" USING btree (reverse("word") text_pattern_ops);--> statement-breakpoint
CREATE INDEX "contacts_search_words_idx" ON "contacts" USING gin (string_to_array(lower("search_text"), ' ')) WITH (gin_pending_list_limit=128);
--> statement-breakpoint
-- Keeps contact_search_words (contact-search-word.table.ts) the vocabulary of contacts' search text.
-- Inserts and COPY: one set-based statement per statement, sorted so that two writers adding the same
-- new words take them in the same order. A word already there conflicts without waiting or locking.
CREATE FUNCTION contact_search_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO contact_search_words (word)
    SELECT DISTINCT w FROM new_rows n, unnest(string_to_array(lower(n.search_text), ' ')) w ORDER BY w
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Updates that change the search text (a row trigger behind a WHEN: the many updates that leave it
-- alone cost nothing). The new words are added. The words taken out stay in the vocabulary (a stale
-- word only widens the candidates; deleting it here would race with a writer adding it again), but
-- those no other contact seems to have are noted in contact_search_words_unlinked for the next erasure.
-- A GDPR erasure (API.md §4) removes the erased person's words and the noted ones that no contact
-- has. Its table lock waits for every transaction that has added words (their INSERT holds ROW
-- EXCLUSIVE until commit) and holds back new ones until this one commits; so the check, a new
-- statement with a new snapshot, sees every contact that could keep a word, and no writer relies on a
-- word this deletes. Erasures are rare; writers are short transactions.
CREATE FUNCTION contact_search_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  gone text[] := ARRAY(SELECT unnest(string_to_array(lower(OLD.search_text), ' '))
                       EXCEPT SELECT unnest(string_to_array(lower(NEW.search_text), ' ')));
BEGIN
  INSERT INTO contact_search_words (word)
    SELECT DISTINCT w FROM unnest(string_to_array(lower(NEW.search_text), ' ')) w ORDER BY w
    ON CONFLICT DO NOTHING;
  IF cardinality(gone) = 0 THEN
    RETURN NULL;
  END IF;
  IF NEW.erased_at IS NULL THEN
    INSERT INTO contact_search_words_unlinked (word)
      SELECT g FROM unnest(gone) g
      WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE string_to_array(lower(c.search_text), ' ') @> ARRAY[g]);
  ELSE
    LOCK TABLE contact_search_words IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM contact_search_words v
      WHERE (v.word = ANY(gone) OR v.word IN (SELECT u.word FROM contact_search_words_unlinked u))
        AND NOT EXISTS (SELECT 1 FROM contacts c WHERE string_to_array(lower(c.search_text), ' ') @> ARRAY[v.word]);
    DELETE FROM contact_search_words_unlinked;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER contacts_search_words_insert AFTER INSERT ON contacts REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION contact_search_words_add();
--> statement-breakpoint
CREATE TRIGGER contacts_search_words_update AFTER UPDATE OF search_text ON contacts
  FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) EXECUTE FUNCTION contact_search_words_update();
