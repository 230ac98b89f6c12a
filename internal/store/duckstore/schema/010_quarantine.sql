-- Messages that were acknowledged (they are in the write-ahead log) but
-- that the database refused when they were applied: set aside with the
-- reason instead of stopping every message behind them. message is a
-- readable JSON rendering; raw is the log record's encoding of the
-- decided message, enough to apply it again once the cause is fixed.
CREATE SEQUENCE quarantine_id;
CREATE TABLE quarantine (
    id             BIGINT PRIMARY KEY DEFAULT nextval('quarantine_id'),
    site_id        BIGINT NOT NULL,
    lsn            BIGINT NOT NULL,
    message_id     VARCHAR NOT NULL,
    kind           UTINYINT NOT NULL,
    reason         VARCHAR NOT NULL,
    message        VARCHAR NOT NULL,
    raw            BLOB NOT NULL,
    quarantined_at TIMESTAMP NOT NULL
);
