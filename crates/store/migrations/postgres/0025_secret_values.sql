-- Secret values kept by Tandem, sealed (XChaCha20-Poly1305) under a key that lives outside the
-- database; `key_id` names that key (not the key itself) so a value sealed under another key is
-- reported as such. Names are the ones the platform file declares under `secrets`.
CREATE TABLE secret_values (
    name        TEXT PRIMARY KEY,
    version     BIGINT NOT NULL,
    key_id      TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    sealed      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL
);
