-- Per-session counts of the tracker's interaction and frustration signals
-- ($click, $rage_click, $dead_click, $u_turn, $error) and the deepest
-- $scroll depth (0-100). Sessions stored before this migration count 0.
-- The view is dropped first and recreated so that it has the new columns.
DROP VIEW all_sessions;

ALTER TABLE sessions ADD COLUMN clicks INTEGER DEFAULT 0;
ALTER TABLE sessions ADD COLUMN rage_clicks INTEGER DEFAULT 0;
ALTER TABLE sessions ADD COLUMN dead_clicks INTEGER DEFAULT 0;
ALTER TABLE sessions ADD COLUMN u_turns INTEGER DEFAULT 0;
ALTER TABLE sessions ADD COLUMN errors INTEGER DEFAULT 0;
ALTER TABLE sessions ADD COLUMN max_scroll INTEGER DEFAULT 0;

ALTER TABLE open_sessions ADD COLUMN clicks INTEGER DEFAULT 0;
ALTER TABLE open_sessions ADD COLUMN rage_clicks INTEGER DEFAULT 0;
ALTER TABLE open_sessions ADD COLUMN dead_clicks INTEGER DEFAULT 0;
ALTER TABLE open_sessions ADD COLUMN u_turns INTEGER DEFAULT 0;
ALTER TABLE open_sessions ADD COLUMN errors INTEGER DEFAULT 0;
ALTER TABLE open_sessions ADD COLUMN max_scroll INTEGER DEFAULT 0;

CREATE VIEW all_sessions AS
    SELECT * FROM sessions UNION ALL SELECT * FROM open_sessions;
