-- Authorization codes, stored only as SHA-256 digests, bound to client, redirection URI,
-- scope, user and PKCE challenge. `grant_id` names the tokens issued from the code so a
-- second redemption can revoke them.
CREATE TABLE codes (
    digest                BLOB    PRIMARY KEY,
    client_id             TEXT    NOT NULL,
    user_id               INTEGER NOT NULL,
    redirect_uri          TEXT    NOT NULL,
    redirect_uri_sent     INTEGER NOT NULL,
    scope                 TEXT    NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    issued_at             INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    used_at               INTEGER,
    grant_id              INTEGER
);
CREATE INDEX codes_expiry ON codes(expires_at);
