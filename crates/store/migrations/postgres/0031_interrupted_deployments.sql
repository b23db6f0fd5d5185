-- A deployment its server stopped during (killed, its host lost, its lease taken over) is
-- marked failed and tried again by the rollout when it resumes; it is no change failure, and
-- DORA's keys do not count it. 1: interrupted so; 0: anything else.
ALTER TABLE deployments ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
