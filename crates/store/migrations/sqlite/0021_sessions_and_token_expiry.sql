-- Tokens expire and can be revoked; a revoked or expired token authenticates nobody.
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE tokens ADD COLUMN revoked_at BIGINT;

-- A browser's sign-in: its own random id (only its sha256 kept here), an absolute expiry, an
-- idle limit measured from last_seen_at, revoked at sign-out or when its token is revoked.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    hash         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    source       TEXT NOT NULL,
    token_id     BIGINT REFERENCES tokens (id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX sessions_by_token ON sessions (token_id);

-- One-time sign-in codes (a link such as the demo's): short-lived, deleted on first use.
CREATE TABLE login_codes (
    hash       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    token_id   BIGINT REFERENCES tokens (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
