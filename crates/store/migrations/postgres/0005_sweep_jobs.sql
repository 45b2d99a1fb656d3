-- Kept in step with ../sqlite/0005_sweep_jobs.sql: same tables, columns and meaning.
-- Distributed sweeps: the source is cut into jobs (a batch of items each,
-- carried in the row, so workers need no shared files). A worker claims a
-- job with a lease and renews it while it works; an expired lease lets
-- another worker take the job over. Results go to sweep_items, whose
-- primary key makes a replayed job write nothing twice.
CREATE TABLE sweep_jobs (
    sweep_id    TEXT NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
    job_no      BIGINT NOT NULL,
    payload     TEXT NOT NULL,          -- JSON array of {seq, key, item | error}
    status      TEXT NOT NULL,          -- pending | done
    lease_owner TEXT,
    lease_until BIGINT,                 -- Unix milliseconds
    attempts    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (sweep_id, job_no)
);
CREATE INDEX sweep_jobs_pending ON sweep_jobs (status, sweep_id, job_no);
