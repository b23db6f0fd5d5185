-- Config kept by Tandem: every version of a service's layers (defaults, regions, markets).
CREATE TABLE config_versions (
    id          INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,
    version     BIGINT NOT NULL,
    layers      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    message     TEXT NOT NULL,
    change_id   BIGINT,
    created_at  BIGINT NOT NULL,
    UNIQUE (service, version)
);

-- Which config version each market runs, as a log: the newest row of a (service, market) is in
-- force. A market with no row runs the newest version.
CREATE TABLE market_configs (
    id            INTEGER PRIMARY KEY,
    service       TEXT NOT NULL,
    market        TEXT NOT NULL,
    version       BIGINT NOT NULL,
    deployment_id BIGINT REFERENCES deployments (id),
    set_by        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    set_at        BIGINT NOT NULL
);
CREATE INDEX market_configs_by_market ON market_configs (service, market, id);

-- Change requests: a proposed config (new layers) or flag file, reviewed before it applies.
CREATE TABLE change_requests (
    id           INTEGER PRIMARY KEY,
    service      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    author       TEXT NOT NULL,
    author_role  TEXT NOT NULL,
    state        TEXT NOT NULL,
    revision     BIGINT NOT NULL,
    base_version BIGINT NOT NULL,
    proposed     TEXT NOT NULL,
    production   BOOLEAN NOT NULL,
    result       TEXT,
    version      BIGINT,
    rollout_id   BIGINT REFERENCES rollouts (id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE change_reviews (
    id          INTEGER PRIMARY KEY,
    change_id   BIGINT NOT NULL REFERENCES change_requests (id),
    revision    BIGINT NOT NULL,
    reviewer    TEXT NOT NULL,
    role        TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    comment     TEXT,
    at          BIGINT NOT NULL
);

-- A rollout moves a release (`release`) or a config version (`config`) through the waves.
ALTER TABLE rollouts ADD COLUMN kind TEXT NOT NULL DEFAULT 'release';
ALTER TABLE rollouts ADD COLUMN config_version BIGINT;
ALTER TABLE rollouts ADD COLUMN change_id BIGINT;
-- The config version a deployment started the market with.
ALTER TABLE deployments ADD COLUMN config_version BIGINT;
