-- Each market's wave and its place in rollout order (by wave, then as the wave lists it; a
-- market in no wave after them all, in platform-file order), written by the platform's sync:
-- the markets page orders, filters and pages markets in SQL instead of putting every one
-- together to show a hundred.
ALTER TABLE markets ADD COLUMN wave TEXT;
ALTER TABLE markets ADD COLUMN place BIGINT NOT NULL DEFAULT 0;
CREATE INDEX markets_by_place ON markets (place);
