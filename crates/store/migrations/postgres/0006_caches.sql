-- Job caches: for a service and a key (a hash of the job name and its key files' contents), the
-- blob holding the saved folders as a tar archive.
CREATE TABLE caches (
    service     TEXT NOT NULL,
    key         TEXT NOT NULL,
    digest      TEXT NOT NULL,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (service, key)
);
