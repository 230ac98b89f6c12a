-- Saved insights: a trend, funnel or retention table with its definition
-- (the JSON the insights API takes), and dated notes drawn on the site's
-- charts.
CREATE TABLE insights (
    id          VARCHAR PRIMARY KEY,
    site_id     BIGINT NOT NULL,
    name        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    definition  VARCHAR NOT NULL,
    author      VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE annotations (
    id          VARCHAR PRIMARY KEY,
    site_id     BIGINT NOT NULL,
    day         DATE NOT NULL,
    text        VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
