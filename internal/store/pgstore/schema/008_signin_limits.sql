-- The sign-in limiter's windows (account.LimitStore): failures counted
-- per key (an email and client address pair, an address, an email) from
-- the window's first failure. Rows of ended windows are swept.
CREATE TABLE signin_limits (
    key      TEXT PRIMARY KEY,
    started  TIMESTAMPTZ NOT NULL,
    failures INTEGER NOT NULL
);
CREATE INDEX signin_limits_started ON signin_limits (started);
