-- The monitor: each live market's health as last probed, and measurements kept as
-- downsampled series (one row per bucket; two resolutions, see core::monitor::RESOLUTIONS).
CREATE TABLE market_health (
    service TEXT NOT NULL,
    market TEXT NOT NULL,
    deployment_id INTEGER,
    -- up or down (down: `failures` probes failed in a row)
    state TEXT NOT NULL,
    failures_in_a_row INTEGER NOT NULL DEFAULT 0,
    probed_at INTEGER NOT NULL,
    last_ok_at INTEGER,
    latency_ms REAL,
    error TEXT,
    -- the incident the monitor opened for this outage, until it recovers
    incident_id INTEGER,
    PRIMARY KEY (service, market)
);

CREATE TABLE series_buckets (
    service TEXT NOT NULL,
    market TEXT NOT NULL,
    metric TEXT NOT NULL,
    -- seconds per bucket
    resolution INTEGER NOT NULL,
    -- Unix ms at the bucket's start
    bucket INTEGER NOT NULL,
    count INTEGER NOT NULL,
    sum REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    last REAL NOT NULL,
    PRIMARY KEY (service, market, metric, resolution, bucket)
) WITHOUT ROWID;
CREATE INDEX series_buckets_by_age ON series_buckets (resolution, bucket);

-- The monitor reads the live and deploying deployments every tick.
CREATE INDEX deployments_by_state_alone ON deployments (state);
