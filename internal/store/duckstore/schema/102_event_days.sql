-- Each user's days with each track event: a row per site, event name, user
-- and UTC day, with the day's first and last such event and how many, for
-- did(…) conditions without property filters (userdays.go). Kept as
-- user_days is: appended per batch and bulk load, folded and sorted by
-- site, name and user by the layout upkeep (so a condition on one event
-- reads that event's row groups only), moved by merges and deleted with
-- the events.
CREATE TABLE event_days (
    site_id  BIGINT NOT NULL,
    name     VARCHAR NOT NULL,
    user_key BIGINT NOT NULL,
    day      DATE NOT NULL,
    first_ts TIMESTAMP NOT NULL,
    last_ts  TIMESTAMP NOT NULL,
    events   BIGINT NOT NULL
);

INSERT INTO event_days SELECT site_id, name, user_key, CAST(ts AS DATE) AS day, min(ts), max(ts), count(*)
    FROM events WHERE kind = 2 GROUP BY site_id, name, user_key, day ORDER BY site_id, name, user_key, day;

INSERT INTO table_layout VALUES ('event_days', 0, NULL);
