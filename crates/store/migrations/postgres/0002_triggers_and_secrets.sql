-- What starts a service's pipeline (webhook secret name, polling, schedules), as JSON.
ALTER TABLE services ADD COLUMN triggers TEXT NOT NULL DEFAULT '{}';

-- Secrets by name and where their values come from; values themselves are never stored.
CREATE TABLE secrets (
    name    TEXT PRIMARY KEY,
    source  TEXT NOT NULL
);
