-- The selectors' texts by key (the clicks table's sel_key), so that a
-- heatmap's element query groups and counts without reading a text and
-- looks up the texts of the elements it answers here (docs/heatmaps.md,
-- "Speed"). The writers of clicks append a selector's row the first time
-- they see its key since the store opened; a key may have several rows
-- (after a restart), which readers group, and which the store folds into
-- one when they are many (duckstore.foldClickSelectors).
CREATE TABLE click_selectors (
    site_id  BIGINT NOT NULL,
    sel_key  BIGINT NOT NULL,
    selector VARCHAR NOT NULL
);
INSERT INTO click_selectors SELECT site_id, sel_key, min(selector) FROM clicks WHERE sel_key <> 0 GROUP BY site_id, sel_key;
