-- Markets launched through Tandem (`tandem market launch`): who, when, and the readiness
-- checklist they passed (JSON). A launched market is live whatever the platform file's
-- `state` says: `sync_platform` applies these rows after writing the file's markets.
CREATE TABLE market_launches (
    market       TEXT PRIMARY KEY,
    launched_at  BIGINT NOT NULL,
    launched_by  TEXT NOT NULL,
    checklist    TEXT NOT NULL
);

-- A planned market becomes `launching` when its first deployment goes live (a release is
-- deployed there ahead of its launch), recorded with an event in the deployment's transaction.
-- The event's id is the next one (`events_next_id`, 0001); the store hashes it into the chain.
CREATE FUNCTION market_launching() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO events (at, kind, subject, data)
    SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint, 'market.launching', 'market/' || NEW.market,
           json_build_object('market', NEW.market, 'service', NEW.service, 'deployment', NEW.id, 'release', NEW.release_id)::text
    WHERE EXISTS (SELECT 1 FROM markets WHERE id = NEW.market AND state = 'planned');
    UPDATE markets SET state = 'launching' WHERE id = NEW.market AND state = 'planned';
    RETURN NULL;
END
$$;
CREATE TRIGGER market_launching AFTER UPDATE OF state ON deployments
FOR EACH ROW WHEN (NEW.state = 'live') EXECUTE FUNCTION market_launching();
