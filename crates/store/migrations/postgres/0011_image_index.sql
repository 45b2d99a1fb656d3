-- Kept in step with migrations/sqlite/0011_image_index.sql.
-- Decisions by image, so the console can withhold a picture whenever any
-- decision, report or review about it involves minors.
CREATE INDEX decisions_by_image ON decisions (image_sha256);
