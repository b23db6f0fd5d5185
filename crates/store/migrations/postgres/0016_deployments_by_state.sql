-- The market matrix finds each market's live and in-flight deployment without reading its
-- whole history; the overview lists open incidents without reading every incident.
CREATE INDEX deployments_by_state ON deployments (service, market, state, id);
CREATE INDEX incidents_open ON incidents (id) WHERE state = 'open';
