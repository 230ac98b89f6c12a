-- Alerts: each site's destinations and rules (one JSON document a site,
-- kept by package notify; secrets sealed inside it as duckstore keeps
-- them), the causes to evaluate, the outbox, the log of attempts, each
-- destination's state and the members each "enters a segment" rule saw.
--
-- Several nodes evaluate and deliver from these tables: causes and due
-- messages are leased to one node at a time (leased_by, lease_until),
-- taken with FOR UPDATE SKIP LOCKED so that nodes never wait on each
-- other's rows.
CREATE TABLE alert_config (
    site_id    BIGINT PRIMARY KEY,
    config     TEXT NOT NULL,
    watch      TEXT[] NOT NULL, -- the cause kinds the site's rules need
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE alert_causes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id     BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    ref         TEXT NOT NULL,
    user_key    BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    leased_by   TEXT,
    lease_until TIMESTAMPTZ
);

CREATE TABLE alert_messages (
    id             TEXT PRIMARY KEY, -- the webhook-id, the same on every attempt
    site_id        BIGINT NOT NULL,
    rule_id        TEXT NOT NULL,
    destination_id TEXT NOT NULL,
    type           TEXT NOT NULL,
    summary        TEXT NOT NULL,
    body           TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    next_at        TIMESTAMPTZ NOT NULL,
    done_at        TIMESTAMPTZ,
    leased_by      TEXT,
    lease_until    TIMESTAMPTZ
);
CREATE INDEX alert_messages_due ON alert_messages (next_at) WHERE status = 'pending';
CREATE INDEX alert_messages_held ON alert_messages (created_at) WHERE status = 'held';
CREATE INDEX alert_messages_rule ON alert_messages (rule_id, created_at);
CREATE INDEX alert_messages_site ON alert_messages (site_id, created_at);

CREATE TABLE alert_attempts (
    message_id     TEXT NOT NULL,
    site_id        BIGINT NOT NULL,
    destination_id TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    attempted_at   TIMESTAMPTZ NOT NULL,
    status         INTEGER NOT NULL, -- HTTP status, 0 when none came
    error          TEXT NOT NULL,
    latency_ms     DOUBLE PRECISION NOT NULL,
    response       TEXT NOT NULL
);
CREATE INDEX alert_attempts_site ON alert_attempts (site_id, attempted_at);

CREATE TABLE alert_destination_state (
    site_id        BIGINT NOT NULL,
    destination_id TEXT NOT NULL,
    failures       INTEGER NOT NULL,
    disabled_at    TIMESTAMPTZ,
    reason         TEXT NOT NULL,
    PRIMARY KEY (site_id, destination_id)
);

CREATE TABLE alert_members (
    rule_id  TEXT NOT NULL,
    user_key BIGINT NOT NULL,
    PRIMARY KEY (rule_id, user_key)
);
