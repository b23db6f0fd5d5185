-- Probes write minute buckets only; finished hours are rolled up from them (issue 20). The
-- hours before `done_until` (Unix ms, on an hour) are rolled up; later ones are read from the
-- minutes. Hours written live before this migration stay; the last of them (perhaps partial)
-- is rolled up again from its minutes.
CREATE TABLE series_rollups (
    -- seconds per bucket of the coarser resolution
    resolution BIGINT PRIMARY KEY,
    done_until BIGINT NOT NULL
);
INSERT INTO series_rollups (resolution, done_until)
SELECT 3600, COALESCE(MAX(bucket), 0) FROM series_buckets WHERE resolution = 3600;
