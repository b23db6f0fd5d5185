-- On SQLite, 0027 turns three BOOLEAN columns into INTEGER ones (sqlx's `Any` driver reads
-- SQLite booleans only as integers), which moves each to the end of its table. PostgreSQL
-- keeps them BOOLEAN but moves them the same way, so that version 27 means the same tables,
-- columns in the same order, on both backends (`SELECT *` and `tandem db copy` rely on it).
ALTER TABLE rollouts ADD COLUMN queued_flag BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE rollouts SET queued_flag = queued;
ALTER TABLE rollouts DROP COLUMN queued;
ALTER TABLE rollouts RENAME COLUMN queued_flag TO queued;

ALTER TABLE gate_results ADD COLUMN passed_flag BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE gate_results SET passed_flag = passed;
ALTER TABLE gate_results DROP COLUMN passed;
ALTER TABLE gate_results RENAME COLUMN passed_flag TO passed;

ALTER TABLE change_requests ADD COLUMN production_flag BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE change_requests SET production_flag = production;
ALTER TABLE change_requests DROP COLUMN production;
ALTER TABLE change_requests RENAME COLUMN production_flag TO production;
