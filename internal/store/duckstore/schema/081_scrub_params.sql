-- Query parameters whose values the server drops from page URLs at ingest,
-- besides those whose names look secret (internal/scrub); NULL: none.
ALTER TABLE sites ADD COLUMN scrub_params VARCHAR[];
