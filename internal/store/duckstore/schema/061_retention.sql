-- How long a site keeps its data, in days; 0 keeps it for good. The
-- janitor deletes what is older (recordings have their own retention).
CREATE TABLE site_retention (
    site_id       BIGINT PRIMARY KEY,
    events_days   INTEGER NOT NULL,
    sessions_days INTEGER NOT NULL,
    history_days  INTEGER NOT NULL,
    surveys_days  INTEGER NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
