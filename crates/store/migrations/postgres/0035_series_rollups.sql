-- Probes write minute buckets only; finished hours are rolled up from them (issue 20). The
-- hours before `done_until` (Unix ms, on an hour) are rolled up; later ones are read from the
-- minutes. Without a row (a new database, or one from before this migration), the newest hour
-- bucket is where the rollups start: hours written live before stay, and the last of them
-- (perhaps partial) is rolled up again from its minutes. The migration writes no row, so a new
-- database stays empty (`tandem db copy` copies only into an empty one).
CREATE TABLE series_rollups (
    -- seconds per bucket of the coarser resolution
    resolution BIGINT PRIMARY KEY,
    done_until BIGINT NOT NULL
);
