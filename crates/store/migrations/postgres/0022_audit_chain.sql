-- The events table becomes the audit log: who did it (actor), through which credential (via:
-- `token/7`, a session), from which address, with which outcome, and a sha256 chain. `hash`
-- covers the row's fields and `prev_hash` (the hash of the row before it), so an edited,
-- deleted or reordered row breaks the chain (`tandem audit verify`). The store computes both in
-- Rust when it appends a row; rows written before this migration (or by a SQL trigger) are
-- hashed by the store the next time it opens or appends, with no actor.
ALTER TABLE events ADD COLUMN actor TEXT;
ALTER TABLE events ADD COLUMN via TEXT;
ALTER TABLE events ADD COLUMN address TEXT;
ALTER TABLE events ADD COLUMN outcome TEXT NOT NULL DEFAULT 'ok';
ALTER TABLE events ADD COLUMN prev_hash TEXT;
ALTER TABLE events ADD COLUMN hash TEXT;

-- The audit page and `tandem audit` filter by actor and by kind, newest first.
CREATE INDEX events_by_actor ON events (actor, id);
CREATE INDEX events_by_kind ON events (kind, id);

-- Append-only: a hashed row cannot be changed or deleted through Tandem's own connection (a
-- mistake in code fails loudly). Someone who owns the tables can drop these; the chain finds
-- that.
CREATE FUNCTION events_append_only_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: events rows cannot be changed';
END
$$;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
FOR EACH ROW WHEN (OLD.hash IS NOT NULL) EXECUTE FUNCTION events_append_only_update();

CREATE FUNCTION events_append_only_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: events rows cannot be deleted';
END
$$;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
FOR EACH ROW WHEN (OLD.hash IS NOT NULL) EXECUTE FUNCTION events_append_only_delete();
