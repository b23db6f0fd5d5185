-- An incident's page reads the events of one incident, one deployment and one market without
-- reading the whole append-only history.
CREATE INDEX events_by_subject ON events (subject, at);
