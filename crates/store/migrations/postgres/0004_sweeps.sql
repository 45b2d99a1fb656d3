-- Kept in step with ../sqlite/0004_sweeps.sql: same tables, columns and meaning.
-- Clean-up sweeps: one row per sweep, one per item done. An item is written
-- once (primary key), in the same transaction as its decision, so a sweep
-- resumed after a crash skips exactly what was done.
CREATE TABLE sweeps (
    id          TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    source      TEXT NOT NULL,          -- what is swept: a path
    kind        TEXT NOT NULL,          -- dir | jsonl | csv | urls
    options     TEXT NOT NULL,          -- JSON: how items are read
    status      TEXT NOT NULL,          -- running | done
    out_dir     TEXT NOT NULL
);

CREATE TABLE sweep_items (
    sweep_id    TEXT NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,       -- position in the source's order
    key         TEXT NOT NULL,          -- path, id or URL
    verdict     TEXT NOT NULL,          -- allow | review | block | error
    categories  TEXT NOT NULL DEFAULT '',
    decision_id TEXT,                   -- decisions.id, for review and block
    detail      TEXT,                   -- the decision (JSON) or the error
    PRIMARY KEY (sweep_id, seq)
);
