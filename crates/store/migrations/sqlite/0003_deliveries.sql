-- Webhook deliveries already seen, so a delivery sent twice starts one run.
CREATE TABLE deliveries (
    id           INTEGER PRIMARY KEY,
    provider     TEXT NOT NULL,
    delivery_id  TEXT NOT NULL,
    service      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    -- `received` while being processed, then `queued` with the run it started.
    outcome      TEXT NOT NULL,
    run_id       BIGINT REFERENCES runs (id),
    UNIQUE (provider, delivery_id)
);
