-- When an artifact may be collected (Unix ms); NULL keeps it. Artifacts of a run that made a
-- release are never collected, whatever this says.
ALTER TABLE artifacts ADD COLUMN expires_at BIGINT;

-- Who built a release: the Tandem build and the machine that ran its pipeline.
ALTER TABLE releases ADD COLUMN builder TEXT NOT NULL DEFAULT '';
