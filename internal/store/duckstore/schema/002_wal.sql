-- The position in the write-ahead log up to which messages are applied,
-- updated in the same transaction as the rows it stands for.
CREATE TABLE wal_state (applied_lsn BIGINT NOT NULL);
INSERT INTO wal_state VALUES (0);
