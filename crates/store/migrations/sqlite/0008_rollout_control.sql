-- What people decided about a rollout while it ran: a market skipped, a wave approved or
-- promoted, a freeze overridden (admin, with a reason). One row per decision: a second
-- operator deciding the same thing at the same moment is refused, not recorded twice.
CREATE TABLE rollout_decisions (
    id          INTEGER PRIMARY KEY,
    rollout_id  BIGINT NOT NULL REFERENCES rollouts (id),
    kind        TEXT NOT NULL,
    wave        BIGINT NOT NULL DEFAULT -1,
    market      TEXT NOT NULL DEFAULT '',
    decided_by  TEXT NOT NULL,
    reason      TEXT,
    decided_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX rollout_decisions_once ON rollout_decisions (rollout_id, kind, wave, market);

-- Every gate a deployment went through, with its figures and the reason a person reads.
CREATE TABLE gate_results (
    id            INTEGER PRIMARY KEY,
    deployment_id BIGINT NOT NULL REFERENCES deployments (id),
    gate          TEXT NOT NULL,
    passed        BOOLEAN NOT NULL,
    value         DOUBLE PRECISION,
    bound         DOUBLE PRECISION,
    previous      DOUBLE PRECISION,
    reason        TEXT NOT NULL,
    recorded_at   BIGINT NOT NULL
);
CREATE INDEX gate_results_by_deployment ON gate_results (deployment_id, id);

-- One rollout (or rollback) per service and market at a time. A lock row names who holds it.
CREATE TABLE market_locks (
    service     TEXT NOT NULL,
    market      TEXT NOT NULL,
    rollout_id  BIGINT REFERENCES rollouts (id),
    holder      TEXT NOT NULL,
    acquired_at BIGINT NOT NULL,
    PRIMARY KEY (service, market)
);

-- A rollout waiting for another one's locks (started with `queue`).
ALTER TABLE rollouts ADD COLUMN queued BOOLEAN NOT NULL DEFAULT FALSE;

-- The platform file's policies (approvals, freezes, notifications), each as JSON.
CREATE TABLE platform_policies (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
