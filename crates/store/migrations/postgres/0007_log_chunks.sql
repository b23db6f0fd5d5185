-- A finished job's log is kept as gzip-compressed chunks of at most 1 MiB of text each. The
-- job's log_digest names the log as a whole (the sha256 of its text); its chunks are listed here.
CREATE TABLE log_chunks (
    log_digest  TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    start       BIGINT NOT NULL,
    length      BIGINT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (log_digest, seq)
);
