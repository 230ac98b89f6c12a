-- The users whose data each alert message carries (a digest: every user
-- of the messages it lists), so that a user's deletion deletes the
-- messages and their delivery attempts too. A table of its own because
-- DuckDB cannot add a column to alert_messages, which has an index.
CREATE TABLE alert_message_users (
    message_id VARCHAR NOT NULL,
    site_id    BIGINT NOT NULL,
    user_key   BIGINT NOT NULL
);
