-- Pushed authorization requests (RFC 9126): the parameters a client pushed, found by the
-- SHA-256 digest of the random part of the request_uri it got back, bound to the client,
-- valid until expires_at (seconds since the epoch) and used once (used_at).
CREATE TABLE pushed_requests (
    digest     BYTEA PRIMARY KEY,
    client_id  TEXT NOT NULL,
    params     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX pushed_requests_expiry ON pushed_requests(expires_at);
