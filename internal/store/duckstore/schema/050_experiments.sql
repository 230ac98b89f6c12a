-- Experiments (A/B tests): where the variant comes from, the control,
-- the period and the goals, as the canonical JSON of
-- experiment.Definition. Results are computed from the events and
-- attributes on each read.
CREATE TABLE experiments (
    id          VARCHAR PRIMARY KEY,
    site_id     BIGINT NOT NULL,
    name        VARCHAR NOT NULL,
    definition  VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
