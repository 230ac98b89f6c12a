-- Recording settings, and the admission of recordings: one row a browser
-- session's tab, made when its first chunk comes and counted against the
-- site's daily quota in the same transaction. The chunks' index and the
-- recordings' listing are analytical data, kept beside the events.
CREATE TABLE recording_settings (
    site_id        BIGINT PRIMARY KEY,
    enabled        BOOLEAN NOT NULL,
    sample_rate    DOUBLE PRECISION NOT NULL,
    daily_quota    INTEGER NOT NULL,
    retention_days INTEGER NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE recordings (
    id              TEXT PRIMARY KEY,
    site_id         BIGINT NOT NULL,
    browser_session TEXT NOT NULL,
    anonymous_id    TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (site_id, anonymous_id, browser_session)
);
CREATE INDEX recordings_day ON recordings (site_id, created_at);
