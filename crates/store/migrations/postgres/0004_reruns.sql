-- A re-run of failed jobs points at the run it repeats; the jobs that passed there are reused.
ALTER TABLE runs ADD COLUMN rerun_of BIGINT REFERENCES runs (id);
