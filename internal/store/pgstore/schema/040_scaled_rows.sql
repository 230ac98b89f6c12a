-- The scaled analytics store's small rows (internal/store/scaled): what
-- is upserted, deleted one by one or read by primary key, which
-- ClickHouse does badly and these volumes do not need. Survey responses
-- and answers are also copied to ClickHouse, where segments read them;
-- recordings' rows too, where the listing joins them with sessions and
-- events. Everything here is read by the API from PostgreSQL.

CREATE TABLE survey_responses (
    site_id      BIGINT NOT NULL,
    survey_id    TEXT NOT NULL,
    response_id  TEXT NOT NULL,
    anonymous_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    url          TEXT NOT NULL,
    answers      TEXT NOT NULL,
    nps          INTEGER,
    completed    BOOLEAN NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ,
    PRIMARY KEY (site_id, survey_id, response_id)
);
CREATE INDEX survey_responses_created ON survey_responses (site_id, survey_id, created_at);
CREATE INDEX survey_responses_user ON survey_responses (site_id, user_id);
CREATE INDEX survey_responses_anon ON survey_responses (site_id, anonymous_id);

CREATE TABLE survey_answers (
    site_id     BIGINT NOT NULL,
    survey_id   TEXT NOT NULL,
    response_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    num         DOUBLE PRECISION,
    text        TEXT,
    answered_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX survey_answers_response ON survey_answers (site_id, survey_id, response_id);

CREATE TABLE survey_dismissals (
    site_id      BIGINT NOT NULL,
    survey_id    TEXT NOT NULL,
    anonymous_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    dismissed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX survey_dismissals_survey ON survey_dismissals (site_id, survey_id, dismissed_at);

CREATE TABLE feedback_items (
    id           TEXT PRIMARY KEY,
    site_id      BIGINT NOT NULL,
    anonymous_id TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    session_id   TEXT NOT NULL,
    url          TEXT NOT NULL,
    rating       INTEGER NOT NULL,
    comment      TEXT NOT NULL,
    selector     TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX feedback_items_created ON feedback_items (site_id, created_at);

-- The recordings' index: one row a recording (admitted in recordings,
-- 004) and one a stored chunk, whose primary key makes a chunk indexed
-- once however many nodes receive it.
CREATE TABLE recording_index (
    id              TEXT PRIMARY KEY,
    site_id         BIGINT NOT NULL,
    browser_session TEXT NOT NULL,
    anonymous_id    TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    ended_at        TIMESTAMPTZ NOT NULL,
    chunk_count     INTEGER NOT NULL,
    bytes_stored    BIGINT NOT NULL,
    bytes_raw       BIGINT NOT NULL,
    first_seq       INTEGER NOT NULL,
    first_url       TEXT NOT NULL,
    pages           TEXT[] NOT NULL
);
CREATE INDEX recording_index_site ON recording_index (site_id, started_at);
CREATE INDEX recording_index_session ON recording_index (site_id, browser_session);

CREATE TABLE recording_chunks (
    recording_id TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    site_id      BIGINT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ NOT NULL,
    events       INTEGER NOT NULL,
    bytes_stored BIGINT NOT NULL,
    bytes_raw    BIGINT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (recording_id, seq)
);

-- Deleted recordings whose blobs the recording service has yet to
-- delete (the outbox of recording.Remover).
CREATE TABLE recording_deletions (
    site_id    BIGINT NOT NULL,
    id         TEXT NOT NULL,
    deleted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, id)
);

-- Acknowledged messages that the store refused when it applied them, set
-- aside with the reason; node and lsn say where in whose log they were.
CREATE TABLE quarantine (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id        BIGINT NOT NULL,
    node           TEXT NOT NULL,
    lsn            BIGINT NOT NULL,
    message_id     TEXT NOT NULL,
    kind           SMALLINT NOT NULL,
    reason         TEXT NOT NULL,
    message        TEXT NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX quarantine_site ON quarantine (site_id, id);

-- Users' deletions (store.EraseJobs), and the hashes of the IDs whose
-- later messages are dropped (EraseOptions.Suppress).
CREATE TABLE erase_jobs (
    id           TEXT PRIMARY KEY,
    site_id      BIGINT NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT NOT NULL,
    user_kind    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    suppress     BOOLEAN NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    receipt      TEXT
);

CREATE TABLE suppressed_ids (
    site_id       BIGINT NOT NULL,
    id_hash       BIGINT NOT NULL,
    suppressed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, id_hash)
);

-- Versions of the rows that the scaled store sends to ClickHouse's
-- ReplacingMergeTrees when a later write must win whatever its times say
-- (a survey response saved again).
CREATE SEQUENCE row_versions;

-- When a message last joined each session (the writer's clock): sessions
-- untouched for the keep period are pruned, however old their own times.
ALTER TABLE visit_sessions ADD COLUMN touched_at TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE INDEX visit_sessions_touched ON visit_sessions (touched_at);

-- Each node's write-ahead log: the last record applied, set in the
-- transaction that applies it, so that a restart replays exactly what
-- follows.
CREATE TABLE node_logs (
    node        TEXT PRIMARY KEY,
    applied_lsn BIGINT NOT NULL
);
