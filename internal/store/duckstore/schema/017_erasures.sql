-- Users deleted on request. The user is kept only as a hash of the ID the
-- request named. deleted_at is set in the transaction that deleted the
-- rows; scrubbed_at once nothing of them is left in the files (the event
-- catalog rebuilt, the write-ahead log's segments removed, the database
-- file rewritten). A row without scrubbed_at at the start is scrubbed
-- then.
CREATE TABLE erasures (
    id          VARCHAR PRIMARY KEY,
    site_id     BIGINT NOT NULL,
    user_hash   BIGINT NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    deleted_at  TIMESTAMP NOT NULL,
    scrubbed_at TIMESTAMP,
    counts      VARCHAR NOT NULL -- the receipt's counts as JSON
);
