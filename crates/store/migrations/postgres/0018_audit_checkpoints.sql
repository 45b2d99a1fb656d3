-- Kept in step with ../sqlite/0018_audit_checkpoints.sql: same tables, columns and meaning.
-- Signed checkpoints of the audit chain: the head's number and hash,
-- signed with the deployment's evidence key (kept outside the database),
-- so someone who can write the database cannot rewrite the chain up to a
-- checkpoint and recompute every hash without the signatures failing.
CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY,
    hash       TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL,
    at_ms      BIGINT NOT NULL
);
