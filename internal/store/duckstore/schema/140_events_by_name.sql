-- Every track, page and screen event again, narrow and kept in order by
-- what it is: a row per event with its kind, its name (a track event's
-- name, a page's or screen's path) in name_or_path, its user and time.
-- The events are kept in time order, so a condition on one event's name
-- compares the name of every event of the period; here that event's rows
-- are together, in order by user, and read alone (insights' trends and
-- funnel steps without property filters: eventsbyname.go). The applier
-- and bulk loads append rows with the events; the layout upkeep puts the
-- appended rows in order; merges move user keys here as in events; a
-- user's erasure, retention and a site's deletion delete rows here with
-- the events.
CREATE TABLE events_by_name (
    site_id      BIGINT NOT NULL,
    kind         UTINYINT NOT NULL,
    name_or_path VARCHAR NOT NULL,
    user_key     BIGINT NOT NULL,
    ts           TIMESTAMP NOT NULL
);

INSERT INTO events_by_name
    SELECT site_id, kind, CASE WHEN kind = 2 THEN name ELSE path END AS name_or_path, user_key, ts
    FROM events WHERE kind IN (2, 3, 4)
    ORDER BY site_id, kind, name_or_path, user_key, ts;

INSERT INTO table_layout VALUES ('events_by_name', 0, NULL);
