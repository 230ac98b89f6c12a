-- Who did what and when, for administrative requests (see duckstore's
-- 062_audit.sql for what each column holds).
CREATE TABLE audit_log (
    id      TEXT PRIMARY KEY,
    at_time TIMESTAMPTZ NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    site    TEXT NOT NULL,
    status  INTEGER NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at_time);
