-- Where an incident came from (gate, rollback, probe, alertmanager, person), who opened and
-- resolved it, and the Alertmanager fingerprint that identifies the same alert again.
ALTER TABLE incidents ADD COLUMN source TEXT NOT NULL DEFAULT 'gate';
ALTER TABLE incidents ADD COLUMN opened_by TEXT;
ALTER TABLE incidents ADD COLUMN resolved_by TEXT;
ALTER TABLE incidents ADD COLUMN fingerprint TEXT;
ALTER TABLE incidents ADD COLUMN summary TEXT;
CREATE INDEX incidents_by_fingerprint ON incidents (fingerprint);
