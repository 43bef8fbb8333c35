-- Extensions every later migration may rely on. pg_trgm backs fuzzy search and similarity;
-- unaccent folds Latin accents for search. Both are "trusted" on PostgreSQL 13+, and PGlite ships them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS unaccent;
