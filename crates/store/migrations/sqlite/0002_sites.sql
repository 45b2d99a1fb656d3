-- The site registry: append-only status events; a site's status is its
-- latest event's.
CREATE TABLE site_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    domain      TEXT NOT NULL,
    status      TEXT NOT NULL,       -- watch | warned | rectification | closed | restored
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    evidence    TEXT NOT NULL,       -- JSON array of references
    deadline_ms INTEGER,
    at_ms       INTEGER NOT NULL
);
CREATE INDEX site_events_by_domain ON site_events (domain, id);
