-- The event catalog: every event of a site (track events, page and
-- screen views, by kind and name) with how many were stored, the first
-- and last of their timestamps and the ways they arrived (a bit set of
-- store.Source); and each event's top-level properties with the JSON
-- types their values had (a bit set of eventcat.Types), how many events
-- had them and a few distinct sample values.
--
-- The rows are partial sums: the applier appends one row per event and
-- property of each batch, in the transaction that stores the batch, and
-- readers add the rows of a key up (sum, min, max, bit_or). Appending
-- costs a fraction of what an upsert does; the applier folds the rows into
-- one per key (compactEventCatalog) when there are many.
CREATE TABLE event_catalog (
    site_id    BIGINT NOT NULL,
    kind       UTINYINT NOT NULL,
    name       VARCHAR NOT NULL,
    events     BIGINT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen  TIMESTAMP NOT NULL,
    sources    UTINYINT NOT NULL
);

CREATE TABLE event_properties (
    site_id BIGINT NOT NULL,
    kind    UTINYINT NOT NULL,
    name    VARCHAR NOT NULL,
    key     VARCHAR NOT NULL,
    types   UTINYINT NOT NULL,
    events  BIGINT NOT NULL,
    samples VARCHAR[] NOT NULL
);

-- A row here means the catalog may not describe the events table: the
-- events stored before this migration, or a bulk load that has not
-- finished. The store rebuilds the catalog from the events when it opens
-- with a row here, and deletes the rows in the same transaction.
CREATE TABLE event_catalog_stale (since TIMESTAMP NOT NULL, reason VARCHAR NOT NULL);
INSERT INTO event_catalog_stale VALUES (now()::TIMESTAMP, 'events stored before the event catalog');
