-- Who did what and when, for administrative requests: the route (its
-- pattern, so user IDs in paths are not kept), the site, the actor (an
-- account's email, or an API token's ID) and the answer's status. Kept
-- for the server's configured time.
CREATE TABLE audit_log (
    id     VARCHAR PRIMARY KEY,
    at_time TIMESTAMP NOT NULL,
    actor  VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    site   VARCHAR NOT NULL, -- the site's public ID, '' for none
    status INTEGER NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at_time);
