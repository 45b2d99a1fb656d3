-- Kept in step with ../sqlite/0003_banks.sql: same tables, columns and meaning.
-- Hash banks: named sets of image hashes (PDQ, MD5, SHA-256) with an action.
CREATE TABLE banks (
    name        TEXT PRIMARY KEY,
    signal      TEXT NOT NULL,          -- pdq | md5 | sha256
    category    TEXT NOT NULL,          -- label category of a match
    action      TEXT NOT NULL,          -- block | review | allow
    threshold   BIGINT NOT NULL,       -- PDQ distance threshold (ignored for exact banks)
    dihedral    BIGINT NOT NULL,       -- 1: also match rotated and flipped images
    created_at  BIGINT NOT NULL
);

CREATE TABLE bank_entries (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bank        TEXT NOT NULL REFERENCES banks (name) ON DELETE CASCADE,
    hash        TEXT NOT NULL,          -- lowercase hex
    source      TEXT,
    external_id TEXT,
    note        TEXT,
    added_by    TEXT,
    added_at    BIGINT NOT NULL,
    UNIQUE (bank, hash)
);
CREATE INDEX bank_entries_by_bank ON bank_entries (bank, id);
