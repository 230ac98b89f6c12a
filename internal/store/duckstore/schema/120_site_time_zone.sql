-- The IANA time zone whose calendar a site's insights follow when a
-- definition names none (store.Site.TimeZone); NULL: UTC.
ALTER TABLE sites ADD COLUMN time_zone VARCHAR;
