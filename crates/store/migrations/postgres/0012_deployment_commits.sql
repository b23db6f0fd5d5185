-- The commits a deployment brought to its market: reachable from its release's commit and not
-- from the release the market ran before (what DORA's lead time counts).
CREATE TABLE deployment_commits (
    deployment_id BIGINT NOT NULL REFERENCES deployments (id),
    sha           TEXT NOT NULL,
    authored_at   BIGINT NOT NULL,
    committed_at  BIGINT NOT NULL,
    PRIMARY KEY (deployment_id, sha)
);
