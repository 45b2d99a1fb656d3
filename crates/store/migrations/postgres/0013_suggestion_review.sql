-- Kept in step with migrations/sqlite/0013_suggestion_review.sql.
-- An admin accepts a suggested term into the store's lexicon (with the
-- severity it gets) or dismisses it; accepted terms are loaded into every
-- engine, on every node, at start and on reload.
ALTER TABLE lexicon_suggestions ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';  -- pending | accepted | dismissed
ALTER TABLE lexicon_suggestions ADD COLUMN severity TEXT;                          -- block | review, once accepted
ALTER TABLE lexicon_suggestions ADD COLUMN decided_by TEXT;
ALTER TABLE lexicon_suggestions ADD COLUMN decided_at BIGINT;
