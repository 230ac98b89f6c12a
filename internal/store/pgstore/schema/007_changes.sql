-- The change counters of store.Versions, shared by every node: one row a
-- bucket of users (profile, activity) and row -1 for the counters of
-- everyone (site, surveys). A counter only grows.
CREATE TABLE change_counters (
    bucket   INTEGER PRIMARY KEY,
    profile  BIGINT NOT NULL DEFAULT 0,
    activity BIGINT NOT NULL DEFAULT 0,
    site     BIGINT NOT NULL DEFAULT 0,
    surveys  BIGINT NOT NULL DEFAULT 0
);
INSERT INTO change_counters (bucket) VALUES (-1);
