-- Which way each event arrived: 0 the Segment HTTP API (server libraries,
-- imports, the bulk path), 1 the browser tracker. The dashboard's
-- installation check tells a site's owner which one is sending. Events
-- stored before this migration count as 0.
ALTER TABLE events ADD COLUMN source UTINYINT DEFAULT 0;
