-- User deletion jobs, so that a job and its receipt survive a restart and
-- a job interrupted by a crash is resumed. The user's ID is kept only
-- while the job is queued: the transaction that deletes the user's rows
-- blanks it (and the rewrite that follows leaves no copy of it), as does
-- a failure. The receipt is the JSON the API shows, without the user's ID.
CREATE TABLE erase_jobs (
    id           VARCHAR PRIMARY KEY,
    site_id      BIGINT NOT NULL,
    status       VARCHAR NOT NULL, -- queued, scrubbing, done, failed
    error        VARCHAR NOT NULL,
    user_kind    VARCHAR NOT NULL,
    user_id      VARCHAR NOT NULL, -- '' once the job is past queued
    suppress     BOOLEAN NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    receipt      VARCHAR            -- store.Erasure as JSON, user ID blank
);
