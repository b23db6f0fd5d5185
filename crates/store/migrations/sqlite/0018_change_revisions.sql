-- Who wrote each revision of a change request: its opener wrote revision 1, each edit the next.
-- Every author of any revision is barred from reviewing the change (four-eyes).
CREATE TABLE change_revisions (
    id          INTEGER PRIMARY KEY,
    change_id   BIGINT NOT NULL REFERENCES change_requests (id),
    revision    BIGINT NOT NULL,
    author      TEXT NOT NULL,
    role        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    UNIQUE (change_id, revision)
);

-- Revision 1 of every change request so far: its opener.
INSERT INTO change_revisions (change_id, revision, author, role, at)
SELECT id, 1, author, author_role, created_at FROM change_requests;

-- Later revisions so far: whoever the `change.revised` event names (recorded in the same
-- transaction as the edit). The editor's role was not kept: the opener's side stands in for
-- it, which bars the editor from reviewing as before. (A one-off backfill of SQLite data; a
-- new PostgreSQL database has none to carry over.)
INSERT INTO change_revisions (change_id, revision, author, role, at)
SELECT c.id, json_extract(e.data, '$.revision'), json_extract(e.data, '$.by'), c.author_role, e.at
FROM events e
JOIN change_requests c ON e.subject = 'change/' || c.id
WHERE e.kind = 'change.revised'
  AND json_extract(e.data, '$.by') IS NOT NULL
  AND json_extract(e.data, '$.revision') IS NOT NULL;
