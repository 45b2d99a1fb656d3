-- The tamper-evident audit log: append-only, each event chained to the
-- previous one by SHA-256 (see cleanweb_core::audit). `cleanweb audit
-- verify` recomputes the chain.
CREATE TABLE audit_events (
    seq        BIGINT PRIMARY KEY,      -- 1, 2, 3, … without gaps
    at_ms      BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    details    TEXT NOT NULL,           -- JSON
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
