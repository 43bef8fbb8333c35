-- Companies written before search_text and external_ids existed. New writes are normalised by the
-- service (src/modules/customer/search.ts); this SQL mirrors it for the rows already there.
UPDATE "companies" SET "search_text" = btrim(regexp_replace(
  translate(
    lower(unaccent(regexp_replace(coalesce("name", '') || ' ' || coalesce("domain", ''), '[\u064B-\u065F\u0670\u0640]', '', 'g'))),
    'أإآٱةى', 'اااايهي'),
  '\s+', ' ', 'g'));
--> statement-breakpoint
INSERT INTO "external_ids" ("entity_type", "system", "external_id", "entity_id")
SELECT 'company', e.key, e.value, c."id"
FROM "companies" c, jsonb_each_text(c."external_ids") e
WHERE c."deleted_at" IS NULL
ON CONFLICT DO NOTHING;
