-- The page groups whose heatmap backgrounds the tracker captures in
-- sessions that are not recorded (store.RecordingSettings.Backgrounds), as
-- a JSON array of {"page", "match"}.
ALTER TABLE recording_settings ADD COLUMN backgrounds TEXT NOT NULL DEFAULT '[]';
