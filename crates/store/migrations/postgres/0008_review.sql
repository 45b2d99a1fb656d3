-- Kept in step with migrations/sqlite/0008_review.sql.
-- Human review. The queue is derived from decisions: every `review`, and
-- the sampled `block` decisions (qc_bucket below the configured sample),
-- that have no review state yet, or are escalated.
ALTER TABLE decisions ADD COLUMN priority BIGINT NOT NULL DEFAULT 0;
ALTER TABLE decisions ADD COLUMN qc_bucket BIGINT NOT NULL DEFAULT 0;
ALTER TABLE decisions ADD COLUMN review_state TEXT;   -- violation | not_violation | escalated
ALTER TABLE decisions ADD COLUMN image_sha256 TEXT;   -- the image blob, for the console
CREATE INDEX decisions_queue ON decisions (review_state, verdict, priority, created_at);

-- Who is working on an item; a claim past until_ms is free to take.
CREATE TABLE review_claims (
    decision_id TEXT PRIMARY KEY,
    reviewer    TEXT NOT NULL,
    until_ms    BIGINT NOT NULL
);

-- Reviewer decisions, append-only: a reversal is a new row.
CREATE TABLE reviews (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    decision_id     TEXT NOT NULL,
    reviewer        TEXT NOT NULL,
    outcome         TEXT NOT NULL,    -- violation | not_violation | escalate
    category        TEXT,             -- for violations
    note            TEXT NOT NULL,
    machine_verdict TEXT NOT NULL,    -- the engine's verdict, for overturn rates
    decided_at      BIGINT NOT NULL, -- when the engine decided, for time to decision
    at_ms           BIGINT NOT NULL
);
CREATE INDEX reviews_by_decision ON reviews (decision_id);
CREATE INDEX reviews_by_time ON reviews (at_ms);

-- Takedown webhook deliveries; id is also the Idempotency-Key.
CREATE TABLE webhook_deliveries (
    id         TEXT PRIMARY KEY,
    webhook    TEXT NOT NULL,
    event      TEXT NOT NULL,
    subject    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    status     TEXT NOT NULL,         -- pending | delivered | dead
    attempts   BIGINT NOT NULL,
    next_at    BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    done_at    BIGINT
);
CREATE INDEX webhook_due ON webhook_deliveries (status, next_at);

-- Console sessions, stored by the SHA-256 of the cookie value.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Per-user console preferences.
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN show_media BIGINT NOT NULL DEFAULT 0;

-- Terms reviewers suggest for the lexicon, for an admin to review.
CREATE TABLE lexicon_suggestions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    term         TEXT NOT NULL,
    category     TEXT NOT NULL,
    decision_id  TEXT,
    suggested_by TEXT NOT NULL,
    at_ms        BIGINT NOT NULL
);
