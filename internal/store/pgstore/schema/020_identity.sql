-- The scaled analytics store's decisions (internal/store/scaled,
-- docs/scale-out-design.md c): PostgreSQL decides entity keys, merges,
-- attribute key types, sessions and message-ID dedupe; ClickHouse gets
-- the rows. A site's writes take pg_advisory_xact_lock(7301, site_id) in
-- their transaction, so that nodes decide one after the other.

-- Keys of users and companies. A merged entity points at the entity it
-- joined (chains flattened: never at a merged one) with the merge's number.
CREATE SEQUENCE entity_keys;
CREATE SEQUENCE merge_seqs;
CREATE SEQUENCE override_versions;
CREATE TABLE entities (
    key         BIGINT PRIMARY KEY,
    site_id     BIGINT NOT NULL,
    identified  BOOLEAN NOT NULL DEFAULT false,
    merged_into BIGINT,
    merged_seq  BIGINT
);
CREATE INDEX entities_merged_into ON entities (merged_into) WHERE merged_into IS NOT NULL;

-- External IDs (kind 1 user ID, 2 anonymous ID, 3 group ID) and the key
-- each was first given; read through entities.merged_into.
CREATE TABLE identities (
    site_id     BIGINT NOT NULL,
    kind        SMALLINT NOT NULL,
    external_id TEXT NOT NULL,
    entity_key  BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, kind, external_id)
);
CREATE INDEX identities_entity ON identities (entity_key);

-- Attribute keys: the first value fixes the type.
CREATE TABLE attr_keys (
    site_id    BIGINT NOT NULL,
    entity     SMALLINT NOT NULL,
    key        TEXT NOT NULL,
    type       SMALLINT NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, entity, key)
);

-- Current attribute values by live entity key (merges move them, into's
-- value winning): what a write compares a new value with, and what a
-- search by value reads.
CREATE TABLE attr_values (
    site_id    BIGINT NOT NULL,
    entity     SMALLINT NOT NULL,
    entity_key BIGINT NOT NULL,
    key        TEXT NOT NULL,
    type       SMALLINT NOT NULL,
    s          TEXT,
    n          DOUBLE PRECISION,
    b          BOOLEAN,
    t          TIMESTAMPTZ,
    changed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (entity_key, key)
);
CREATE INDEX attr_values_key ON attr_values (site_id, entity, key);

-- Sessions as the writers decide them: a message joins a session of its
-- user (and device) within the idle gap, below the cap. ch_user_key is
-- the key the session's ClickHouse rows carry (the user's key when it
-- started), version the last version sent.
CREATE SEQUENCE session_ids;
CREATE TABLE visit_sessions (
    session_id  BIGINT PRIMARY KEY,
    site_id     BIGINT NOT NULL,
    user_key    BIGINT NOT NULL,
    ch_user_key BIGINT NOT NULL,
    device      TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ NOT NULL,
    state       JSONB NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX visit_sessions_user ON visit_sessions (user_key, ended_at);

-- Message IDs seen lately, for dedupe across nodes; rows older than the
-- window are deleted.
CREATE TABLE message_ids (
    site_id    BIGINT NOT NULL,
    message_id TEXT NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, message_id)
);
CREATE INDEX message_ids_seen ON message_ids (seen_at);

-- User–company links sent to ClickHouse's user_groups, each once.
CREATE TABLE group_links (
    user_key  BIGINT NOT NULL,
    group_key BIGINT NOT NULL,
    PRIMARY KEY (user_key, group_key)
);
