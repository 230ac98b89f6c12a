-- Each user's active days, for active_days and first-seen style counts:
-- a row says that on a UTC day a user sent track, page or screen events
-- (the kinds active_days counts), with the first and last one's time and
-- how many. The applier appends one row per user and day of each batch,
-- in the transaction that stores the events (and bulk loads do the
-- same), so a user's day may have several rows: readers group by user
-- and day, and the layout upkeep folds them (userdays.go). Merges move
-- user keys here as in events; a user's erasure, retention and a site's
-- deletion delete rows here with the events.
CREATE TABLE user_days (
    site_id  BIGINT NOT NULL,
    user_key BIGINT NOT NULL,
    day      DATE NOT NULL,
    first_ts TIMESTAMP NOT NULL,
    last_ts  TIMESTAMP NOT NULL,
    events   BIGINT NOT NULL
);

-- The events stored before this table, folded and in order.
INSERT INTO user_days SELECT site_id, user_key, CAST(ts AS DATE) AS day, min(ts), max(ts), count(*)
    FROM events WHERE kind IN (2, 3, 4) GROUP BY site_id, user_key, day ORDER BY site_id, user_key, day;

INSERT INTO table_layout VALUES ('user_days', 0, NULL);
