-- The log of a job still running, as its writer hands it out (every 250 ms at most): a
-- server other than the one running the job streams it from here. Rows go once the job's
-- whole log is stored (and, for a job that never ended, at the next collection).
CREATE TABLE live_logs (
    job_id        BIGINT NOT NULL,
    start_offset  BIGINT NOT NULL,
    bytes         BYTEA NOT NULL,
    PRIMARY KEY (job_id, start_offset)
);
