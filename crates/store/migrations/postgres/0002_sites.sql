-- Kept in step with ../sqlite/0002_sites.sql: same tables, columns and meaning.
-- The site registry: append-only status events; a site's status is its
-- latest event's.
CREATE TABLE site_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain      TEXT NOT NULL,
    status      TEXT NOT NULL,       -- watch | warned | rectification | closed | restored
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    evidence    TEXT NOT NULL,       -- JSON array of references
    deadline_ms BIGINT,
    at_ms       BIGINT NOT NULL
);
CREATE INDEX site_events_by_domain ON site_events (domain, id);
