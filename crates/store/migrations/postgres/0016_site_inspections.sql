-- Kept in step with ../sqlite/0016_site_inspections.sql: same tables, columns and meaning.
-- Re-inspections in the registry's history: an `inspection` event carries
-- the site's status and deadline unchanged and may propose the next status
-- for an admin to confirm; status changes are `status` events. A site's
-- status is still its latest event's.
ALTER TABLE site_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'status';
ALTER TABLE site_events ADD COLUMN proposal TEXT;
