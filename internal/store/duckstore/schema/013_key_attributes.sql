-- The attributes an admin chose to show beside a user wherever one is
-- listed (segment members, recordings, respondents, exports); NULL: a
-- default pick (see the API's keyAttributes).
ALTER TABLE sites ADD COLUMN key_attributes VARCHAR[];
