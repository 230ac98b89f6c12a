-- A saved insight pinned to its site's overview (store.SavedInsight.Pinned).
ALTER TABLE insights ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT false;
