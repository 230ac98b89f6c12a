-- Configuration: sites and API tokens. Secrets are stored as SHA-256 hashes.
CREATE TABLE sites (
    id             BIGINT PRIMARY KEY,
    public_id      VARCHAR NOT NULL UNIQUE,
    name           VARCHAR NOT NULL,
    write_key_hash VARCHAR NOT NULL UNIQUE,
    origins        VARCHAR[] NOT NULL,
    created_at     TIMESTAMP NOT NULL
);

CREATE TABLE tokens (
    id          VARCHAR PRIMARY KEY,
    site_id     BIGINT NOT NULL,
    scope       VARCHAR NOT NULL,
    secret_hash VARCHAR NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);

-- Identities map external IDs (kind 1 user ID, 2 anonymous ID, 3 group ID)
-- to internal entity keys. A user is the set of identities sharing a key;
-- merging two users repoints identities, so no table keeps a separate user
-- row that would need updating. id_hash is a 64-bit hash of
-- (site, kind, external_id) for fast probing.
CREATE TABLE identities (
    site_id     BIGINT NOT NULL,
    id_hash     BIGINT NOT NULL,
    kind        UTINYINT NOT NULL,
    external_id VARCHAR NOT NULL,
    entity_key  BIGINT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- The attribute catalog: one row per key and entity (0 user, 1 group).
CREATE TABLE attr_keys (
    site_id    BIGINT NOT NULL,
    entity     UTINYINT NOT NULL,
    key        VARCHAR NOT NULL,
    type       UTINYINT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    PRIMARY KEY (site_id, entity, key)
);

-- Current attribute values, one row per entity and key, typed: exactly one
-- of s, n, b, t is set, as type says. Segments filter this table.
CREATE TABLE attr_current (
    site_id    BIGINT NOT NULL,
    entity     UTINYINT NOT NULL,
    entity_key BIGINT NOT NULL,
    key        VARCHAR NOT NULL,
    type       UTINYINT NOT NULL,
    s          VARCHAR,
    n          DOUBLE,
    b          BOOLEAN,
    t          TIMESTAMP,
    changed_at TIMESTAMP NOT NULL
);

-- Every change of an attribute, append-only; is_null records an unset.
CREATE TABLE attr_history (
    site_id    BIGINT NOT NULL,
    entity     UTINYINT NOT NULL,
    entity_key BIGINT NOT NULL,
    key        VARCHAR NOT NULL,
    type       UTINYINT NOT NULL,
    s          VARCHAR,
    n          DOUBLE,
    b          BOOLEAN,
    t          TIMESTAMP,
    is_null    BOOLEAN NOT NULL,
    set_at     TIMESTAMP NOT NULL
);

-- Values refused because they did not fit their key's type.
CREATE TABLE attr_rejections (
    site_id    BIGINT NOT NULL,
    entity     UTINYINT NOT NULL,
    key        VARCHAR NOT NULL,
    expected   UTINYINT NOT NULL,
    received   VARCHAR NOT NULL,
    value      VARCHAR NOT NULL,
    entity_key BIGINT NOT NULL,
    message_id VARCHAR NOT NULL,
    rejected_at TIMESTAMP NOT NULL
);

-- Every stored message, in arrival order, so that time filters prune row
-- groups. kind follows store.Kind.
CREATE TABLE events (
    site_id     BIGINT NOT NULL,
    user_key    BIGINT NOT NULL,
    session_id  BIGINT NOT NULL,
    kind        UTINYINT NOT NULL,
    name        VARCHAR NOT NULL,
    ts          TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    message_id  VARCHAR NOT NULL,
    url         VARCHAR NOT NULL,
    path        VARCHAR NOT NULL,
    title       VARCHAR NOT NULL,
    referrer    VARCHAR NOT NULL,
    properties  VARCHAR NOT NULL -- a JSON object, compacted
);

-- Closed sessions. Sessions still open live in open_sessions (small, and
-- rewritten as they grow) until 30 minutes of idleness or 4 hours of length
-- close them; all_sessions is the union that queries read.
CREATE TABLE sessions (
    site_id      BIGINT NOT NULL,
    session_id   BIGINT NOT NULL,
    user_key     BIGINT NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    ended_at     TIMESTAMP NOT NULL,
    page_count   INTEGER NOT NULL,
    event_count  INTEGER NOT NULL,
    entry_page   VARCHAR NOT NULL,
    exit_page    VARCHAR NOT NULL,
    device_type  VARCHAR NOT NULL,
    browser      VARCHAR NOT NULL,
    os           VARCHAR NOT NULL,
    country      VARCHAR NOT NULL,
    locale       VARCHAR NOT NULL,
    timezone     VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    referrer     VARCHAR NOT NULL,
    utm_source   VARCHAR NOT NULL,
    utm_medium   VARCHAR NOT NULL,
    utm_campaign VARCHAR NOT NULL
);

CREATE TABLE open_sessions AS SELECT * FROM sessions LIMIT 0;

CREATE VIEW all_sessions AS
    SELECT * FROM sessions UNION ALL SELECT * FROM open_sessions;

-- Which users belong to which companies (Segment groups).
CREATE TABLE user_groups (
    site_id   BIGINT NOT NULL,
    user_key  BIGINT NOT NULL,
    group_key BIGINT NOT NULL,
    linked_at TIMESTAMP NOT NULL
);
