-- The log of a job still running, as its writer hands it out (every 250 ms at most), for
-- servers other than the one running the job (see PostgreSQL's 0030). On SQLite (one server)
-- the job's log file serves, and this table stays empty.
CREATE TABLE live_logs (
    job_id        BIGINT NOT NULL,
    start_offset  BIGINT NOT NULL,
    bytes         BLOB NOT NULL,
    PRIMARY KEY (job_id, start_offset)
);
