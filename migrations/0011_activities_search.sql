ALTER TABLE "activities" ADD COLUMN "search_text" text DEFAULT '' NOT NULL;--> statement-breakpoint
-- Activities written before search_text existed. New writes are normalised by the service
-- (src/modules/customer/search.ts); this SQL mirrors it step by step for the rows already there:
-- tashkeel and tatweel out, letter variants folded, NFKD, combining marks out, NFC, lower case, spaces.
UPDATE "activities" SET "search_text" = btrim(regexp_replace(lower(normalize(regexp_replace(normalize(
    translate(regexp_replace(coalesce("subject", '') || ' ' || coalesce("body", ''), '[\u064B-\u065F\u0670\u0640]', '', 'g'), 'أإآٱةى', 'ااااهي'),
    NFKD), '[\u0300-\u036F\u0483-\u0489\u0591-\u05BD\u05BF\u05C1\u05C2\u05C4\u05C5\u05C7\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06DC\u06DF-\u06E4\u06E7\u06E8\u06EA-\u06ED\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F]', '', 'g'), NFC)), '\s+', ' ', 'g'))
WHERE "subject" IS NOT NULL OR "body" IS NOT NULL;--> statement-breakpoint
-- 0006's backfill of companies differs from the service on non-ASCII names: its translate() target had
-- one letter too many (ة became ي, ى became ه), and unaccent folds what the service keeps (ø, ß) and
-- keeps what it folds (ؤ, ئ), so such names were not found by q. Recomputed the service's way here.
UPDATE "companies" SET "search_text" = btrim(regexp_replace(lower(normalize(regexp_replace(normalize(
    translate(regexp_replace(coalesce("name", '') || ' ' || coalesce("domain", ''), '[\u064B-\u065F\u0670\u0640]', '', 'g'), 'أإآٱةى', 'ااااهي'),
    NFKD), '[\u0300-\u036F\u0483-\u0489\u0591-\u05BD\u05BF\u05C1\u05C2\u05C4\u05C5\u05C7\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06DC\u06DF-\u06E4\u06E7\u06E8\u06EA-\u06ED\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F]', '', 'g'), NFC)), '\s+', ' ', 'g'))
WHERE "name" ~ '[^\x01-\x7F]';--> statement-breakpoint
CREATE INDEX "activities_search_trgm_idx" ON "activities" USING gin ("search_text" gin_trgm_ops);
