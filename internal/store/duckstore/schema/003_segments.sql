-- Saved segments. definition is the canonical JSON form of the condition
-- tree; text is its canonical text form, kept for display.
CREATE TABLE segments (
    id          VARCHAR PRIMARY KEY,
    site_id     BIGINT NOT NULL,
    name        VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    author      VARCHAR NOT NULL,
    definition  VARCHAR NOT NULL,
    text        VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
