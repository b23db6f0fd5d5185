-- Numbers handed out in order (idea keys `T-n`, release `vN`, flag and config versions of a
-- service): one row per scope holding the last number taken. A writer takes the next one with
-- an upsert in the transaction that inserts the row it numbers, so two writers (two servers
-- on one database) never get the same number. A scope's row is made on first use, starting
-- after the numbers its table already holds, so no data is copied here.
CREATE TABLE id_counters (
    scope      TEXT PRIMARY KEY,
    last_taken BIGINT NOT NULL
);
