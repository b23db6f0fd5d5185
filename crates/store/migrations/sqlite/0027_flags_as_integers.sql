-- Booleans are integers (0 or 1) on SQLite. Three columns were declared BOOLEAN, which sqlx's
-- `Any` driver (one query text for SQLite and PostgreSQL) refuses to read; they become
-- INTEGER with the same values. SQLite cannot change a column's type in place: each is
-- copied into a new column, the old one dropped, the new one renamed (the column moves to the
-- end of its table; rows are read by column name). PostgreSQL keeps them BOOLEAN.
ALTER TABLE rollouts ADD COLUMN queued_flag INTEGER NOT NULL DEFAULT 0;
UPDATE rollouts SET queued_flag = CASE WHEN queued THEN 1 ELSE 0 END;
ALTER TABLE rollouts DROP COLUMN queued;
ALTER TABLE rollouts RENAME COLUMN queued_flag TO queued;

ALTER TABLE gate_results ADD COLUMN passed_flag INTEGER NOT NULL DEFAULT 0;
UPDATE gate_results SET passed_flag = CASE WHEN passed THEN 1 ELSE 0 END;
ALTER TABLE gate_results DROP COLUMN passed;
ALTER TABLE gate_results RENAME COLUMN passed_flag TO passed;

ALTER TABLE change_requests ADD COLUMN production_flag INTEGER NOT NULL DEFAULT 0;
UPDATE change_requests SET production_flag = CASE WHEN production THEN 1 ELSE 0 END;
ALTER TABLE change_requests DROP COLUMN production;
ALTER TABLE change_requests RENAME COLUMN production_flag TO production;
