-- Failed sign-ins per pair of account and client address, shared by every replica so
-- that spreading guesses over replicas gains nothing (the SQLite server keeps them in
-- memory). `key` is the throttle's key: SHA-256 of the folded account name, then the
-- client address (IPv6 by its /64). Times are milliseconds since the epoch; 0 is none.
CREATE TABLE login_failures (
    key           BYTEA  PRIMARY KEY,
    failures      BIGINT NOT NULL,
    blocks        BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    last_failure  BIGINT NOT NULL
);
