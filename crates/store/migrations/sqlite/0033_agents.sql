-- Agents: the processes that run jobs (`tandem agent`), each known by a token of its own kind
-- (only its sha256 is kept), what it last said of itself, and what an operator asked of it.
CREATE TABLE agents (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    hash        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    rotated_at  BIGINT,
    revoked_at  BIGINT,
    labels      TEXT NOT NULL DEFAULT '[]',
    capacity    BIGINT NOT NULL DEFAULT 0,
    version     TEXT,
    host        TEXT,
    seen_at     BIGINT,
    mode        TEXT NOT NULL DEFAULT 'active'
);

-- A job offered to agents: its plan (JSON, no secret), the labels it needs, the agent holding
-- it under a lease, the sha256 of the job token that agent was given, how often it was taken
-- and lost, whether a cancel was asked, and why it still waits.
ALTER TABLE jobs ADD COLUMN plan TEXT;
ALTER TABLE jobs ADD COLUMN runs_on TEXT;
ALTER TABLE jobs ADD COLUMN offered_at BIGINT;
ALTER TABLE jobs ADD COLUMN agent_id BIGINT;
ALTER TABLE jobs ADD COLUMN claim_hash TEXT;
ALTER TABLE jobs ADD COLUMN lease_until BIGINT;
ALTER TABLE jobs ADD COLUMN claims BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN lost BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN cancel_asked_at BIGINT;
ALTER TABLE jobs ADD COLUMN waiting TEXT;
CREATE INDEX jobs_offered ON jobs (offered_at) WHERE agent_id IS NULL AND offered_at IS NOT NULL;

-- Work for agents that is not a pipeline job: a market's deploy command (`deploy.runs-on`). The
-- same claim and lease as a job's; the end carries the command's exit code and its log's tail.
CREATE TABLE agent_tasks (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    plan        TEXT NOT NULL,
    runs_on     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    agent_id    BIGINT,
    claim_hash  TEXT,
    lease_until BIGINT,
    state       TEXT NOT NULL,
    exit_code   BIGINT,
    error       TEXT,
    log         TEXT,
    finished_at BIGINT
);
CREATE INDEX agent_tasks_pending ON agent_tasks (created_at) WHERE state = 'pending';
