-- Every market process the `process` driver started and has not yet seen stopped, so that a
-- server started again after a crash finds them: it adopts the one serving a live market's
-- recorded deployment on its port and stops the rest (whole process group). A row is written
-- before the process starts (`instance` is put in its environment, which finds it when the
-- server died before recording its pid); pid, group and start time (clock ticks after boot,
-- from /proc/<pid>/stat, with the boot's id) are written once it runs, so a recycled pid is
-- never taken for it.
CREATE TABLE market_processes (
    id            INTEGER PRIMARY KEY,
    service       TEXT NOT NULL,
    market        TEXT NOT NULL,
    release_id    BIGINT NOT NULL,
    deployment_id BIGINT NOT NULL,
    port          INTEGER NOT NULL,
    instance      TEXT NOT NULL UNIQUE,
    pid           BIGINT,
    pgid          BIGINT,
    start_ticks   BIGINT,
    boot_id       TEXT,
    -- 1 once it serves the market (promoted), 0 while its gates judge it
    serving       INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE INDEX market_processes_by_market ON market_processes (service, market);
