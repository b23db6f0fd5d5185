-- Work a server that does not conduct hands to the conductor and waits for (a rollback by
-- hand: it deploys, so only the conductor, which supervises the markets, may run it). On
-- SQLite (one server) it stays empty: the server conducts.
CREATE TABLE handoffs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    via         TEXT,
    address     TEXT,
    created_at  BIGINT NOT NULL,
    taken_by    TEXT,
    done_at     BIGINT,
    result      TEXT,
    error       TEXT
);
