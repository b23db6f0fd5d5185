-- Webhook deliveries are deduplicated on what the forge signed, not on the delivery-id header
-- (which no signature covers): `digest` is the sha256 of the body, unique per service. The
-- header's id is kept for the operator only. A push delivery names its commit; one commit is
-- claimed by at most one delivery at a time (`received` or `queued`), so forges announcing the
-- same commit start one run. `reason` says why a delivery was ignored or refused.
CREATE TABLE deliveries_by_digest (
    id           INTEGER PRIMARY KEY,
    provider     TEXT NOT NULL,
    delivery_id  TEXT,
    service      TEXT NOT NULL,
    digest       TEXT NOT NULL,
    branch       TEXT,
    commit_sha   TEXT,
    received_at  BIGINT NOT NULL,
    -- `received` while being processed, `queued` with the run it started, `ignored` (the
    -- commit was already announced or built), `refused` (not on the branch, not in the
    -- repository); a refused delivery may be delivered again and is checked again.
    outcome      TEXT NOT NULL,
    reason       TEXT,
    run_id       BIGINT REFERENCES runs (id),
    UNIQUE (service, digest)
);
-- Deliveries received before: their header id stands in for the digest (unique per provider).
INSERT INTO deliveries_by_digest (id, provider, delivery_id, service, digest, received_at, outcome, run_id)
SELECT id, provider, delivery_id, service, 'id:' || provider || ':' || delivery_id, received_at, outcome, run_id
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_by_digest RENAME TO deliveries;
CREATE UNIQUE INDEX deliveries_claim ON deliveries (service, commit_sha)
    WHERE outcome IN ('received', 'queued');
