-- IDs deleted with "delete and suppress": later messages naming one of
-- them are dropped. Only the ID's hash (site, kind and ID hashed
-- together, as identities.id_hash) is kept, never the ID.
CREATE TABLE suppressions (
    site_id       BIGINT NOT NULL,
    id_hash       BIGINT NOT NULL,
    suppressed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (site_id, id_hash)
);
