-- Site settings the tracker reads: respect_dnt makes the tracker capture
-- nothing in browsers that send Do-Not-Track or Global Privacy Control.
ALTER TABLE sites ADD COLUMN respect_dnt BOOLEAN DEFAULT false;
