-- Blobs shared by several servers on one PostgreSQL database (see that backend's 0029). On
-- SQLite the data folder holds every blob and these tables stay empty: they exist so that
-- both backends keep the same tables at the same version (`db copy` compares them).
CREATE TABLE blobs (
    digest      TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    chunks      BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE blob_chunks (
    digest      TEXT NOT NULL REFERENCES blobs (digest) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    bytes       BLOB NOT NULL,
    PRIMARY KEY (digest, seq)
);
