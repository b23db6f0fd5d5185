-- Tandem's first schema. Times are Unix milliseconds (BIGINT) so the same SQL serves
-- SQLite and PostgreSQL; ids are integers; lists are JSON text.

CREATE TABLE markets (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    region    TEXT NOT NULL,
    currency  TEXT NOT NULL,
    locale    TEXT NOT NULL,
    timezone  TEXT NOT NULL,
    state     TEXT NOT NULL,
    position  BIGINT NOT NULL
);

CREATE TABLE waves (
    name      TEXT PRIMARY KEY,
    position  BIGINT NOT NULL,
    markets   TEXT NOT NULL
);

CREATE TABLE services (
    name      TEXT PRIMARY KEY,
    repo      TEXT NOT NULL,
    branch    TEXT NOT NULL,
    config    TEXT NOT NULL
);

CREATE TABLE ideas (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    markets    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE commits (
    service      TEXT NOT NULL,
    sha          TEXT NOT NULL,
    parents      TEXT NOT NULL,
    author       TEXT NOT NULL,
    authored_at  BIGINT NOT NULL,
    committed_at BIGINT NOT NULL,
    message      TEXT NOT NULL,
    PRIMARY KEY (service, sha)
);

CREATE TABLE commit_ideas (
    service   TEXT NOT NULL,
    sha       TEXT NOT NULL,
    idea_key  TEXT NOT NULL,
    PRIMARY KEY (service, sha, idea_key)
);
CREATE INDEX commit_ideas_by_idea ON commit_ideas (idea_key);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,
    commit_sha  TEXT NOT NULL,
    branch      TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    state       TEXT NOT NULL,
    error       TEXT,
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT
);
CREATE INDEX runs_by_service ON runs (service, id);

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    run_id      BIGINT NOT NULL REFERENCES runs (id),
    name        TEXT NOT NULL,
    position    BIGINT NOT NULL,
    needs       TEXT NOT NULL,
    state       TEXT NOT NULL,
    exit_code   BIGINT,
    log_digest  TEXT,
    started_at  BIGINT,
    finished_at BIGINT,
    UNIQUE (run_id, name)
);

CREATE TABLE steps (
    id          INTEGER PRIMARY KEY,
    job_id      BIGINT NOT NULL REFERENCES jobs (id),
    position    BIGINT NOT NULL,
    name        TEXT NOT NULL,
    command     TEXT NOT NULL,
    state       TEXT NOT NULL,
    exit_code   BIGINT,
    started_at  BIGINT,
    finished_at BIGINT
);

CREATE TABLE artifacts (
    id       INTEGER PRIMARY KEY,
    run_id   BIGINT NOT NULL REFERENCES runs (id),
    job_id   BIGINT NOT NULL REFERENCES jobs (id),
    name     TEXT NOT NULL,
    path     TEXT NOT NULL,
    digest   TEXT NOT NULL,
    size     BIGINT NOT NULL
);

CREATE TABLE releases (
    id          INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,
    version     TEXT NOT NULL,
    commit_sha  TEXT NOT NULL,
    run_id      BIGINT NOT NULL REFERENCES runs (id),
    spec        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (service, version)
);

CREATE TABLE rollouts (
    id          INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,
    release_id  BIGINT NOT NULL REFERENCES releases (id),
    state       TEXT NOT NULL,
    plan        TEXT NOT NULL,
    current_wave BIGINT NOT NULL,
    reason      TEXT,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT
);

CREATE TABLE deployments (
    id           INTEGER PRIMARY KEY,
    rollout_id   BIGINT REFERENCES rollouts (id),
    service      TEXT NOT NULL,
    market       TEXT NOT NULL,
    release_id   BIGINT NOT NULL REFERENCES releases (id),
    previous_release_id BIGINT REFERENCES releases (id),
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    url          TEXT,
    pid          BIGINT,
    reason       TEXT,
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX deployments_by_market ON deployments (service, market, id);

CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY,
    service       TEXT NOT NULL,
    market        TEXT NOT NULL,
    deployment_id BIGINT REFERENCES deployments (id),
    title         TEXT NOT NULL,
    state         TEXT NOT NULL,
    opened_at     BIGINT NOT NULL,
    resolved_at   BIGINT
);

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    last_used_at BIGINT
);

-- Append-only: every state change above writes one row here in the same transaction.
CREATE TABLE events (
    id       INTEGER PRIMARY KEY,
    at       BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    data     TEXT NOT NULL
);
