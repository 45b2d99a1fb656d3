-- Evidence captures: what was fetched (a WARC request and response record
-- pair, each a gzip member) kept in blobs by SHA-256, with what it is
-- evidence for. Retention never removes a capture whose case is open or
-- whose site is in the registry and not restored (the legal hold).
CREATE TABLE captures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256      TEXT NOT NULL,           -- the blob
    kind        TEXT NOT NULL,           -- warc
    url         TEXT NOT NULL,           -- the target fetched
    domain      TEXT,                    -- its registrable domain
    case_id     TEXT,
    sweep_id    TEXT,
    decision_id TEXT,
    bytes       INTEGER NOT NULL,
    captured_at INTEGER NOT NULL
);
CREATE INDEX captures_by_domain ON captures (domain, id);
CREATE INDEX captures_by_case ON captures (case_id);
CREATE INDEX captures_by_sweep ON captures (sweep_id);
CREATE INDEX captures_by_time ON captures (captured_at);
CREATE INDEX audit_events_by_subject ON audit_events (subject, seq);
