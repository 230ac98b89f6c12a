-- Dashboard accounts, browser sessions and invitations; token names and
-- last use. Secrets (session IDs, invitation tokens) are stored as SHA-256
-- hashes, passwords as argon2id hashes.
CREATE TABLE accounts (
    id            VARCHAR PRIMARY KEY,
    email         VARCHAR NOT NULL UNIQUE,
    name          VARCHAR NOT NULL,
    role          VARCHAR NOT NULL,
    password_hash VARCHAR NOT NULL,
    site_ids      BIGINT[] NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP
);

CREATE TABLE account_sessions (
    id_hash      VARCHAR PRIMARY KEY,
    account_id   VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);

CREATE TABLE invites (
    id         VARCHAR PRIMARY KEY,
    token_hash VARCHAR NOT NULL UNIQUE,
    email      VARCHAR NOT NULL,
    role       VARCHAR NOT NULL,
    site_ids   BIGINT[] NOT NULL,
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

ALTER TABLE tokens ADD COLUMN name VARCHAR DEFAULT '';
ALTER TABLE tokens ADD COLUMN last_used_at TIMESTAMP;
