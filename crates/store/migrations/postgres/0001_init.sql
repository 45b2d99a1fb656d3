-- Kept in step with ../sqlite/0001_init.sql: same tables, columns and meaning.
-- Decisions the engine made. Non-allow decisions are always kept; allow
-- decisions only when [store] store_allow is on.
CREATE TABLE decisions (
    id             TEXT PRIMARY KEY,      -- UUIDv7, time-ordered
    created_at     BIGINT NOT NULL,      -- Unix milliseconds
    source         TEXT NOT NULL,         -- api | cli | sweep | report
    client_id      TEXT,                  -- the item's own id
    verdict        TEXT NOT NULL,         -- allow | review | block
    categories     TEXT NOT NULL,         -- space-separated label categories, for filters
    labels         TEXT NOT NULL,         -- JSON array of labels with evidence
    warnings       TEXT NOT NULL,         -- JSON array of strings
    meta           TEXT,                  -- the item's meta, JSON
    content_sha256 TEXT NOT NULL,         -- content reference (see Item::content_sha256)
    text           TEXT,                  -- the item's text, kept for review
    url            TEXT,
    elapsed_us     BIGINT NOT NULL
);
CREATE INDEX decisions_by_time ON decisions (created_at);
CREATE INDEX decisions_by_verdict ON decisions (verdict, created_at);
CREATE INDEX decisions_by_content ON decisions (content_sha256);

-- API keys, stored only as SHA-256 hashes of the secret.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,              -- admin | operator
    key_hash   TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
