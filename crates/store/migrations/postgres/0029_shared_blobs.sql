-- Blobs (logs, artifacts, caches) shared by every server on this database: each server keeps
-- its own data folder as a cache and reads a blob it lacks from here. A blob is its row in
-- `blobs` and its bytes in chunks of at most 1 MiB (so no blob is ever held whole in memory),
-- written in one transaction: a reader never sees half of one.
CREATE TABLE blobs (
    digest      TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    chunks      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE blob_chunks (
    digest      TEXT NOT NULL REFERENCES blobs (digest) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    bytes       BYTEA NOT NULL,
    PRIMARY KEY (digest, seq)
);
-- Logs are gzip and artifacts mostly compressed already: kept out of line, not compressed again.
ALTER TABLE blob_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;
