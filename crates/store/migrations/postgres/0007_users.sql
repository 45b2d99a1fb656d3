-- Kept in step with ../sqlite/0007_users.sql: same tables, columns and meaning.
-- Console accounts: a name, a role (admin | reviewer | auditor) and an
-- argon2id password hash (PHC string). API keys stay in api_keys.
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);
