-- The JSON Schema of a service's config that a release was built with (the file `tandem.yml`
-- names, read at the release's commit); NULL when it names none.
ALTER TABLE releases ADD COLUMN config_schema TEXT;
