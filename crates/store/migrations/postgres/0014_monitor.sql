-- The monitor: each live market's health as last probed, and measurements kept as
-- downsampled series (one row per bucket; two resolutions, see core::monitor::RESOLUTIONS).
CREATE TABLE market_health (
    service TEXT NOT NULL,
    market TEXT NOT NULL,
    deployment_id BIGINT,
    -- up or down (down: `failures` probes failed in a row)
    state TEXT NOT NULL,
    failures_in_a_row BIGINT NOT NULL DEFAULT 0,
    probed_at BIGINT NOT NULL,
    last_ok_at BIGINT,
    latency_ms DOUBLE PRECISION,
    error TEXT,
    -- the incident the monitor opened for this outage, until it recovers
    incident_id BIGINT,
    PRIMARY KEY (service, market)
);

CREATE TABLE series_buckets (
    service TEXT NOT NULL,
    market TEXT NOT NULL,
    metric TEXT NOT NULL,
    -- seconds per bucket
    resolution BIGINT NOT NULL,
    -- Unix ms at the bucket's start
    bucket BIGINT NOT NULL,
    count BIGINT NOT NULL,
    sum DOUBLE PRECISION NOT NULL,
    min DOUBLE PRECISION NOT NULL,
    max DOUBLE PRECISION NOT NULL,
    last DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (service, market, metric, resolution, bucket)
);
CREATE INDEX series_buckets_by_age ON series_buckets (resolution, bucket);

-- The monitor reads the live and deploying deployments every tick.
CREATE INDEX deployments_by_state_alone ON deployments (state);
