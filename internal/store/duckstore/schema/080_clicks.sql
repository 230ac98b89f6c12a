-- The heatmaps' page views and signals, with the properties their queries
-- read as typed columns (docs/heatmaps.md, "Speed"): every page view (kind
-- 3, named $pageview here) and every $click, $rage_click, $dead_click and
-- $scroll event (track events, kind 2) is also a row here, appended in the
-- transaction that stores it (and by bulk loads). Merges
-- move user keys here as in events; a user's erasure, retention and a
-- site's deletion delete rows here with the events. A column is NULL when
-- the event had no such property, or (numbers) when it was not a number:
-- what json_extract_string and TRY_CAST(… AS DOUBLE) read from the
-- event's properties.
CREATE TABLE clicks (
    site_id         BIGINT NOT NULL,
    user_key        BIGINT NOT NULL,
    session_id      BIGINT NOT NULL,
    name            VARCHAR NOT NULL,
    ts              TIMESTAMP NOT NULL,
    url             VARCHAR NOT NULL,
    path            VARCHAR NOT NULL,
    selector        VARCHAR,
    pageview_id     VARCHAR,
    offset_x        DOUBLE,
    offset_y        DOUBLE,
    page_x          DOUBLE,
    page_y          DOUBLE,
    viewport_width  DOUBLE,
    clicks          DOUBLE, -- the clicks of a rage burst
    depth           DOUBLE, -- $scroll: the deepest point reached, % of the page
    viewport_height DOUBLE,
    page_height     DOUBLE
);

-- The events stored before this table: the same reading of their
-- properties as duckstore.clicksFromEvents (TestClicksMigrationReadsAsRebuild), in the events' order (that of
-- their arrival, as the applier appends rows), without a sort.
INSERT INTO clicks SELECT site_id, user_key, session_id, CASE WHEN kind = 3 THEN '$pageview' ELSE name END, ts, url, path,
    json_extract_string(properties, '$."selector"'),
    json_extract_string(properties, '$."pageview_id"'),
    TRY_CAST(json_extract_string(properties, '$."offset_x"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."offset_y"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."page_x"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."page_y"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."viewport_width"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."clicks"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."depth"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."viewport_height"') AS DOUBLE),
    TRY_CAST(json_extract_string(properties, '$."page_height"') AS DOUBLE)
FROM events WHERE kind = 3 OR (kind = 2 AND name IN ('$click', '$rage_click', '$dead_click', '$scroll'));
