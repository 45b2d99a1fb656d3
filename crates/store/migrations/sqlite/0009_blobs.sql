-- Evidence blobs: the images behind stored decisions, by SHA-256, kept in
-- the database so every server and worker sharing it sees them.
CREATE TABLE blobs (
    sha256     TEXT PRIMARY KEY,
    bytes      BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
