-- The heatmaps' derived columns (docs/heatmaps.md, "Speed"): computed from
-- each row's signal and properties when it is written, so that a heatmap's
-- queries filter, group and count small integers, not texts and formulas:
--   sig      the signal's number (store.Signal: 0 $pageview, 1 $click,
--            2 $rage_click, 3 $dead_click, 4 $scroll);
--   pv_key   the page view's key, store.TextKey(pageview_id): the first 60
--            bits of its MD5 digest, 0 without an ID;
--   sel_key  the selector's key, store.TextKey(selector), 0 without one;
--   spot     where on the element (store.SpotCell): column + 5 × row of a
--            5 × 5 grid, the middle without offsets;
--   cell     where on the page (store.GridCell): column (1/50 of the
--            viewport's width) + 50 × row (20 px), NULL without a position.
-- The rows stored before are copied into a table with the new columns,
-- computed by the same expressions as duckstore.clickDerived
-- (TestClickKeysMigrationReadsAsGo), in their order.
CREATE TABLE clicks_130 (
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
    clicks          DOUBLE,
    depth           DOUBLE,
    viewport_height DOUBLE,
    page_height     DOUBLE,
    sig             UTINYINT NOT NULL,
    pv_key          BIGINT NOT NULL,
    sel_key         BIGINT NOT NULL,
    spot            UTINYINT NOT NULL,
    cell            INTEGER
);
INSERT INTO clicks_130 SELECT *, CASE name WHEN '$pageview' THEN 0 WHEN '$click' THEN 1 WHEN '$rage_click' THEN 2
        WHEN '$dead_click' THEN 3 ELSE 4 END::UTINYINT,
    CASE WHEN coalesce(pageview_id, '') = '' THEN 0 ELSE ('0x' || left(md5(pageview_id), 15))::BIGINT END,
    CASE WHEN coalesce(selector, '') = '' THEN 0 ELSE ('0x' || left(md5(selector), 15))::BIGINT END,
    (least(greatest(floor(CASE WHEN isfinite(offset_x) THEN offset_x ELSE 0.5::DOUBLE END * 5), 0), 4) +
        5 * least(greatest(floor(CASE WHEN isfinite(offset_y) THEN offset_y ELSE 0.5::DOUBLE END * 5), 0), 4))::UTINYINT,
    CASE WHEN isfinite(page_x) AND isfinite(page_y) AND isfinite(viewport_width) AND viewport_width > 0
        THEN (least(greatest(floor(page_x / viewport_width * 50), 0), 49) +
            50 * least(greatest(floor(page_y / 20), 0), 999))::INTEGER END FROM clicks;
DROP TABLE clicks;
ALTER TABLE clicks_130 RENAME TO clicks;
