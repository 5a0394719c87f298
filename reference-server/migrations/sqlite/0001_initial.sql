-- Users log in with their email; passwords are bcrypt hashes.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    first_name    TEXT    NOT NULL DEFAULT '',
    last_name     TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);

-- Registered clients with the seed design's metadata. Lists are stored space-separated.
-- The secret is kept only as its SHA-256 digest.
CREATE TABLE clients (
    client_id                  TEXT    PRIMARY KEY,
    secret_digest              BLOB,
    client_name                TEXT    NOT NULL,
    client_uri                 TEXT,
    grant_types                TEXT    NOT NULL,
    redirect_uris              TEXT    NOT NULL,
    response_types             TEXT    NOT NULL,
    scope                      TEXT    NOT NULL,
    token_endpoint_auth_method TEXT    NOT NULL,
    access_token_ttl           INTEGER
);

-- A grant is one authorization given to one client: the family of every access and
-- refresh token issued from one password / client-credentials request, one authorization
-- code, and every refresh of those. Revoking the grant revokes the whole family.
CREATE TABLE grants (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id  TEXT    NOT NULL REFERENCES clients(client_id),
    user_id    INTEGER REFERENCES users(id),
    scope      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- Access and refresh tokens, stored only as SHA-256 digests of the opaque value.
-- A refresh token is marked used when it is rotated; presenting it again is reuse.
CREATE TABLE tokens (
    digest     BLOB    PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    grant_id   INTEGER NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL,
    user_id    INTEGER,
    scope      TEXT    NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER
);
CREATE INDEX tokens_grant ON tokens(grant_id);
CREATE INDEX tokens_expiry ON tokens(expires_at);
