-- The event catalog: every event of a site (track events, page and
-- screen views, by kind and name) with how many were stored, the first
-- and last of their timestamps and the ways they arrived (a bit set of
-- store.Source); and each event's top-level properties with the JSON
-- types their values had (a bit set of eventcat.Types), how many events
-- had them and a few distinct sample values. The applier adds each batch
-- in the transaction that stores its events; a bulk load adds its events
-- when it finishes.
CREATE TABLE event_catalog (
    site_id    BIGINT NOT NULL,
    kind       UTINYINT NOT NULL,
    name       VARCHAR NOT NULL,
    events     BIGINT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen  TIMESTAMP NOT NULL,
    sources    UTINYINT NOT NULL,
    PRIMARY KEY (site_id, kind, name)
);

CREATE TABLE event_properties (
    site_id BIGINT NOT NULL,
    kind    UTINYINT NOT NULL,
    name    VARCHAR NOT NULL,
    key     VARCHAR NOT NULL,
    types   UTINYINT NOT NULL,
    events  BIGINT NOT NULL,
    samples VARCHAR[] NOT NULL,
    PRIMARY KEY (site_id, kind, name, key)
);

-- A row here means the catalog may not describe the events table: the
-- events stored before this migration, or a bulk load that has not
-- finished. The store rebuilds the catalog from the events when it opens
-- with a row here, and deletes the rows in the same transaction.
CREATE TABLE event_catalog_stale (since TIMESTAMP NOT NULL, reason VARCHAR NOT NULL);
INSERT INTO event_catalog_stale VALUES (now()::TIMESTAMP, 'events stored before the event catalog');
