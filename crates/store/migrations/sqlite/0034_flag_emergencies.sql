-- Emergency changes of feature flags: a kill switch flipped at once by one person (who, when,
-- why, in which market or everywhere), in force until lifted, and reviewed afterwards by
-- someone of the other side: the verdict, who gave it and when. A lift is a change request
-- (four-eyes); once it is applied the kill is lifted.
CREATE TABLE flag_emergencies (
    id              INTEGER PRIMARY KEY,
    service         TEXT NOT NULL,
    flag            TEXT NOT NULL,
    market          TEXT,
    reason          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_role    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    verdict         TEXT,
    reviewed_by     TEXT,
    reviewed_role   TEXT,
    review_comment  TEXT,
    reviewed_at     BIGINT,
    lift_change     BIGINT,
    lifted_at       BIGINT
);
CREATE INDEX flag_emergencies_in_force ON flag_emergencies (flag) WHERE lifted_at IS NULL;
