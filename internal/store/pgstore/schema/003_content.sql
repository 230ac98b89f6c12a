-- What administrators and members make: saved segments, survey
-- definitions and each site's feedback settings. Survey responses and
-- feedback items are analytical data and live beside the events.
CREATE TABLE segments (
    id          TEXT PRIMARY KEY,
    site_id     BIGINT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    author      TEXT NOT NULL,
    definition  TEXT NOT NULL, -- the condition tree's canonical JSON
    text        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX segments_site ON segments (site_id);

CREATE TABLE surveys (
    id         TEXT PRIMARY KEY,
    site_id    BIGINT NOT NULL,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL,
    definition TEXT NOT NULL, -- survey.Definition as JSON
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX surveys_site ON surveys (site_id, created_at);

CREATE TABLE feedback_settings (
    site_id    BIGINT PRIMARY KEY,
    settings   TEXT NOT NULL, -- feedback.Settings as JSON
    updated_at TIMESTAMPTZ NOT NULL
);
