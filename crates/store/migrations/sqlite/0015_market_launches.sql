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
CREATE TRIGGER market_launching AFTER UPDATE OF state ON deployments
WHEN NEW.state = 'live'
BEGIN
    INSERT INTO events (at, kind, subject, data)
    SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'market.launching', 'market/' || NEW.market,
           json_object('market', NEW.market, 'service', NEW.service, 'deployment', NEW.id, 'release', NEW.release_id)
    WHERE EXISTS (SELECT 1 FROM markets WHERE id = NEW.market AND state = 'planned');
    UPDATE markets SET state = 'launching' WHERE id = NEW.market AND state = 'planned';
END;
