-- vPDQ banks: a banked video's frames, and the shares of frames (percent)
-- a match needs on each side.
ALTER TABLE bank_entries ADD COLUMN frames TEXT;
ALTER TABLE banks ADD COLUMN query_pct INTEGER NOT NULL DEFAULT 80;
ALTER TABLE banks ADD COLUMN compared_pct INTEGER NOT NULL DEFAULT 0;
