-- Query parameters whose values the server drops from a site's URLs at
-- ingest, beside the built-in secret names (store.Site.ScrubParams).
ALTER TABLE sites ADD COLUMN scrub_params TEXT[];
