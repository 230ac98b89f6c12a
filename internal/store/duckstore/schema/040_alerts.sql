-- Alerts: each site's destinations and rules (control data, one JSON
-- document a site, kept by package notify), the causes that ingestion,
-- recordings, surveys and feedback record in the same transaction as the
-- change that makes them, the outbox of messages to deliver, the log of
-- delivery attempts, and the members each "enters a segment" rule saw.
CREATE TABLE alert_config (
    site_id    BIGINT PRIMARY KEY,
    config     VARCHAR NOT NULL,   -- notify.Config as JSON; secrets sealed
    watch      VARCHAR[] NOT NULL, -- the cause kinds the site's rules need
    updated_at TIMESTAMP NOT NULL
);

CREATE SEQUENCE alert_cause_seq;
CREATE TABLE alert_causes (
    id       BIGINT PRIMARY KEY DEFAULT nextval('alert_cause_seq'),
    site_id  BIGINT NOT NULL,
    kind     VARCHAR NOT NULL, -- change, recording, response, feedback
    ref      VARCHAR NOT NULL, -- recording ID, survey/response ID, feedback ID
    user_key BIGINT NOT NULL,  -- change: the user whose data changed
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE alert_messages (
    id             VARCHAR PRIMARY KEY, -- the webhook-id, the same on every attempt
    site_id        BIGINT NOT NULL,
    rule_id        VARCHAR NOT NULL,    -- '' for a test send
    destination_id VARCHAR NOT NULL,
    type           VARCHAR NOT NULL,
    summary        VARCHAR NOT NULL,    -- one line, for digests and the log
    body           VARCHAR NOT NULL,    -- the event as JSON: {type, timestamp, data}
    status         VARCHAR NOT NULL,    -- pending, delivered, failed, held, digested
    attempts       INTEGER NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    next_at        TIMESTAMP NOT NULL,
    done_at        TIMESTAMP
);
CREATE INDEX alert_messages_status ON alert_messages (status);

CREATE TABLE alert_attempts (
    message_id     VARCHAR NOT NULL,
    site_id        BIGINT NOT NULL,
    destination_id VARCHAR NOT NULL,
    attempt        INTEGER NOT NULL,
    attempted_at   TIMESTAMP NOT NULL,
    status         INTEGER NOT NULL, -- HTTP status, 0 when none came
    error          VARCHAR NOT NULL,
    latency_ms     DOUBLE NOT NULL,
    response       VARCHAR NOT NULL  -- the start of the response body
);

CREATE TABLE alert_destination_state (
    site_id        BIGINT NOT NULL,
    destination_id VARCHAR NOT NULL,
    failures       INTEGER NOT NULL, -- failed attempts in a row
    disabled_at    TIMESTAMP,
    reason         VARCHAR NOT NULL,
    PRIMARY KEY (site_id, destination_id)
);

CREATE TABLE alert_members (
    rule_id  VARCHAR NOT NULL,
    user_key BIGINT NOT NULL,
    PRIMARY KEY (rule_id, user_key)
);
