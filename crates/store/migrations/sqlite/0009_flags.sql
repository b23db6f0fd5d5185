-- Every version of each service's feature-flag file, as written: the newest is in force.
CREATE TABLE flag_versions (
    id          INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,
    version     BIGINT NOT NULL,
    text        TEXT NOT NULL,
    etag        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    reason      TEXT,
    created_at  BIGINT NOT NULL,
    UNIQUE (service, version)
);
