-- More of what users make and set: saved insights, annotations drawn on
-- charts, experiments' definitions, and each site's data retention (the
-- deletion it drives runs in the analytical backend).
CREATE TABLE insights (
    id         TEXT PRIMARY KEY,
    site_id    BIGINT NOT NULL,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    definition TEXT NOT NULL, -- the JSON the insights API takes
    author     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX insights_site ON insights (site_id);

CREATE TABLE annotations (
    id         TEXT PRIMARY KEY,
    site_id    BIGINT NOT NULL,
    day        DATE NOT NULL,
    text       TEXT NOT NULL,
    source     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX annotations_site ON annotations (site_id, day);

CREATE TABLE experiments (
    id         TEXT PRIMARY KEY,
    site_id    BIGINT NOT NULL,
    name       TEXT NOT NULL,
    definition TEXT NOT NULL, -- experiment.Definition as canonical JSON
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX experiments_site ON experiments (site_id);

CREATE TABLE site_retention (
    site_id       BIGINT PRIMARY KEY,
    events_days   INTEGER NOT NULL,
    sessions_days INTEGER NOT NULL,
    history_days  INTEGER NOT NULL,
    surveys_days  INTEGER NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
