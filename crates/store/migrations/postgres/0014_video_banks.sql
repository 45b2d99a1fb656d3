-- Kept in step with migrations/sqlite/0014_video_banks.sql.
-- vPDQ banks: a banked video's frames, and the shares of frames (percent)
-- a match needs on each side.
ALTER TABLE bank_entries ADD COLUMN frames TEXT;
ALTER TABLE banks ADD COLUMN query_pct BIGINT NOT NULL DEFAULT 80;
ALTER TABLE banks ADD COLUMN compared_pct BIGINT NOT NULL DEFAULT 0;
