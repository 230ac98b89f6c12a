-- The write key in clear, beside its hash: it sits in the source of every
-- page that has the snippet, so it is not a secret, and admins need it to
-- copy the snippet again. Sites made before this migration have NULL
-- until their key is rotated. API tokens stay stored as hashes only.
ALTER TABLE sites ADD COLUMN write_key VARCHAR;
