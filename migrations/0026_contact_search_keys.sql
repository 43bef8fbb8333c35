-- the backfill and the GIN build read every contact (minutes at 1 M)
SET LOCAL statement_timeout = 0;--> statement-breakpoint
SELECT set_config('maintenance_work_mem', '256MB', true);--> statement-breakpoint
-- The search keys of a contact's search text (contact-search.ts): for every word of the lower-cased
-- text, split at spaces as ILIKE sees it, `>` + its first 7 characters and `<` + its last 5.
CREATE FUNCTION contact_search_keys_of(search_text text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY(SELECT k FROM unnest(string_to_array(lower(search_text), ' ')) w,
    LATERAL (VALUES ('>' || left(w, 7)), ('<' || right(w, 5))) x(k) WHERE w <> '')
$$;
--> statement-breakpoint
CREATE TABLE "contact_search_keys" (
	"key" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contact_search_keys_unlinked" (
	"key" text NOT NULL
);
--> statement-breakpoint
-- the keys of the contacts already there, before the indexes (built once, not row by row)
INSERT INTO contact_search_keys (key) SELECT DISTINCT k FROM contacts c, unnest(contact_search_keys_of(c.search_text)) k;
--> statement-breakpoint
CREATE UNIQUE INDEX "contact_search_keys_key" ON "contact_search_keys" USING btree ("key" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "contact_search_keys_reversed_idx" ON "contact_search_keys" USING btree (reverse("key") text_pattern_ops);--> statement-breakpoint
CREATE INDEX "contacts_search_keys_idx" ON "contacts" USING gin (contact_search_keys_of("search_text")) WITH (gin_pending_list_limit=128);
--> statement-breakpoint
-- Keeps contact_search_keys (contact-search-key.table.ts) the distinct keys of contacts' search text.
-- Inserts and COPY: one set-based statement per statement, sorted so that two writers adding the same
-- new keys take them in the same order. A key already there conflicts without waiting or locking.
CREATE FUNCTION contact_search_keys_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO contact_search_keys (key)
    SELECT DISTINCT k FROM new_rows n, unnest(contact_search_keys_of(n.search_text)) k ORDER BY k
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Updates that change the search text (a row trigger behind a WHEN: the many updates that leave it
-- alone cost nothing). The new keys are added. The keys taken out stay (a stale key only widens the
-- candidates; deleting it here would race with a writer adding it again), but those no other contact
-- seems to have are noted in contact_search_keys_unlinked for the next erasure.
-- A GDPR erasure (API.md §4) removes the erased person's keys and the noted ones that no contact has.
-- Its table lock waits for every transaction that has added keys (their INSERT holds ROW EXCLUSIVE
-- until commit) and holds back new ones until this one commits; so the check, a new statement with a
-- new snapshot, sees every contact that could keep a key, and no writer relies on a key this deletes.
-- Erasures are rare; writers are short transactions.
CREATE FUNCTION contact_search_keys_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  gone text[] := ARRAY(SELECT unnest(contact_search_keys_of(OLD.search_text)) EXCEPT SELECT unnest(contact_search_keys_of(NEW.search_text)));
BEGIN
  INSERT INTO contact_search_keys (key)
    SELECT DISTINCT k FROM unnest(contact_search_keys_of(NEW.search_text)) k ORDER BY k
    ON CONFLICT DO NOTHING;
  IF cardinality(gone) = 0 THEN
    RETURN NULL;
  END IF;
  IF NEW.erased_at IS NULL THEN
    INSERT INTO contact_search_keys_unlinked (key)
      SELECT g FROM unnest(gone) g WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE contact_search_keys_of(c.search_text) @> ARRAY[g]);
  ELSE
    LOCK TABLE contact_search_keys IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM contact_search_keys v
      WHERE (v.key = ANY(gone) OR v.key IN (SELECT u.key FROM contact_search_keys_unlinked u))
        AND NOT EXISTS (SELECT 1 FROM contacts c WHERE contact_search_keys_of(c.search_text) @> ARRAY[v.key]);
    DELETE FROM contact_search_keys_unlinked;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER contacts_search_keys_insert AFTER INSERT ON contacts REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION contact_search_keys_add();
--> statement-breakpoint
CREATE TRIGGER contacts_search_keys_update AFTER UPDATE OF search_text ON contacts
  FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) EXECUTE FUNCTION contact_search_keys_update();
