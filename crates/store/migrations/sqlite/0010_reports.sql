-- Public reports. A case is one reported target (a canonical URL or the
-- SHA-256 of uploaded content); reports about the same target join it.
CREATE TABLE cases (
    id           TEXT PRIMARY KEY,
    target       TEXT NOT NULL UNIQUE,    -- url:<canonical> | sha256:<hex>
    kind         TEXT NOT NULL,           -- url | image | text
    url          TEXT,                    -- as first reported
    category     TEXT NOT NULL,           -- the first reporter's category
    status       TEXT NOT NULL,           -- received | in_review | confirmed | not_confirmed
    report_count INTEGER NOT NULL,
    first_report TEXT NOT NULL,           -- rewards go to the first reporter
    decision_id  TEXT,                    -- the triage decision, once made
    triage_error TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX cases_by_decision ON cases (decision_id);

-- Reports as received. The contact is sealed with XChaCha20-Poly1305 under
-- a key that is never in the database; reporter_id is a keyed pseudonym
-- (for reward caps), not the contact.
CREATE TABLE reports (
    id           TEXT PRIMARY KEY,
    receipt_hash TEXT NOT NULL UNIQUE,
    category     TEXT NOT NULL,
    description  TEXT NOT NULL,
    contact      BLOB,
    reporter_id  TEXT,
    created_at   INTEGER NOT NULL
);

CREATE TABLE case_reports (
    case_id   TEXT NOT NULL,
    report_id TEXT NOT NULL,
    at_ms     INTEGER NOT NULL,
    PRIMARY KEY (case_id, report_id)
);
CREATE INDEX case_reports_by_report ON case_reports (report_id);

-- The reward ledger: one entry per confirmed case, for its first reporter.
CREATE TABLE rewards (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     TEXT NOT NULL UNIQUE,
    report_id   TEXT NOT NULL,
    reporter_id TEXT,
    category    TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    capped      INTEGER NOT NULL,
    status      TEXT NOT NULL,            -- owed | paid
    created_at  INTEGER NOT NULL,
    paid_at     INTEGER,
    paid_by     TEXT
);
