-- The query parameters the browser tracker sends unscrubbed: by default it
-- drops the values of secret-looking parameters and masks long digit runs
-- in every URL (docs/tracker.md, "What the tracker scrubs"); NULL: none.
ALTER TABLE sites ADD COLUMN keep_params VARCHAR[];
