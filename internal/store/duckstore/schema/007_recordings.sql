-- Session recordings. The rrweb events themselves are blobs (one per chunk,
-- zstd-compressed, under DATA/recordings/SITE/RECORDING/SEQ.zst); these
-- tables index them.
--
-- One row per recording. Its user is not stored as a key: queries resolve
-- user_id, else anonymous_id, through identities when they run, so a
-- recording follows a later identify or merge. user_hash and anon_hash are
-- the identities' id_hash for the two, for the join.
CREATE TABLE recordings (
    id              VARCHAR PRIMARY KEY,
    site_id         BIGINT NOT NULL,
    browser_session VARCHAR NOT NULL,
    anonymous_id    VARCHAR NOT NULL,
    anon_hash       BIGINT NOT NULL,
    user_id         VARCHAR NOT NULL,
    user_hash       BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    ended_at        TIMESTAMP NOT NULL,
    chunk_count     INTEGER NOT NULL,
    bytes_stored    BIGINT NOT NULL,
    bytes_raw       BIGINT NOT NULL,
    first_seq       INTEGER NOT NULL,
    first_url       VARCHAR NOT NULL,
    pages           VARCHAR[] NOT NULL
);

-- One row per stored chunk; a row exists only once its blob is durable.
CREATE TABLE recording_chunks (
    recording_id VARCHAR NOT NULL,
    seq          INTEGER NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    ended_at     TIMESTAMP NOT NULL,
    events       INTEGER NOT NULL,
    bytes_stored BIGINT NOT NULL,
    bytes_raw    BIGINT NOT NULL,
    received_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (recording_id, seq)
);

-- Recordings whose rows are deleted but whose blobs may not be yet: a
-- deletion removes the rows and adds one of these in one transaction, then
-- deletes the blobs, then this row. A crash in between leaves blobs
-- without rows (deleted again at the next start of the janitor), never
-- rows without blobs.
CREATE TABLE recording_deletions (
    site_id      BIGINT NOT NULL,
    recording_id VARCHAR NOT NULL,
    deleted_at   TIMESTAMP NOT NULL
);

-- Per-site settings; a site without a row has the defaults
-- (store.DefaultRecordingSettings).
CREATE TABLE recording_settings (
    site_id        BIGINT PRIMARY KEY,
    enabled        BOOLEAN NOT NULL,
    sample_rate    DOUBLE NOT NULL,
    daily_quota    INTEGER NOT NULL,
    retention_days INTEGER NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
