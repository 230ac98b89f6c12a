-- Surveys and feedback. Responses, dismissals and feedback name the
-- visitor by external IDs (the user ID when known, else the anonymous ID)
-- and are joined to identities when read, so that merges need no update
-- here.
CREATE TABLE surveys (
    id         VARCHAR PRIMARY KEY,
    site_id    BIGINT NOT NULL,
    name       VARCHAR NOT NULL,
    status     VARCHAR NOT NULL,
    definition VARCHAR NOT NULL, -- survey.Definition as JSON
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One row per response; a response is upserted as the visitor answers.
-- nps is the answer to the survey's first NPS question.
CREATE TABLE survey_responses (
    site_id      BIGINT NOT NULL,
    survey_id    VARCHAR NOT NULL,
    response_id  VARCHAR NOT NULL,
    anonymous_id VARCHAR NOT NULL,
    user_id      VARCHAR NOT NULL,
    session_id   VARCHAR NOT NULL, -- the browser's session ID, for recordings
    url          VARCHAR NOT NULL,
    answers      VARCHAR NOT NULL, -- a JSON object by question ID
    nps          SMALLINT,
    completed    BOOLEAN NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    completed_at TIMESTAMP,
    PRIMARY KEY (site_id, survey_id, response_id)
);

-- The answers of each response, one row per answer (per chosen option for
-- multiple choice): num for scores, text for options and text. Segments
-- read this table.
CREATE TABLE survey_answers (
    site_id     BIGINT NOT NULL,
    survey_id   VARCHAR NOT NULL,
    response_id VARCHAR NOT NULL,
    question_id VARCHAR NOT NULL,
    num         DOUBLE,
    text        VARCHAR,
    answered_at TIMESTAMP NOT NULL
);

CREATE TABLE survey_dismissals (
    site_id      BIGINT NOT NULL,
    survey_id    VARCHAR NOT NULL,
    anonymous_id VARCHAR NOT NULL,
    user_id      VARCHAR NOT NULL,
    dismissed_at TIMESTAMP NOT NULL
);

CREATE TABLE feedback (
    id           VARCHAR PRIMARY KEY,
    site_id      BIGINT NOT NULL,
    anonymous_id VARCHAR NOT NULL,
    user_id      VARCHAR NOT NULL,
    session_id   VARCHAR NOT NULL,
    url          VARCHAR NOT NULL,
    rating       TINYINT NOT NULL,
    comment      VARCHAR NOT NULL,
    selector     VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE feedback_settings (
    site_id    BIGINT PRIMARY KEY,
    settings   VARCHAR NOT NULL, -- feedback.Settings as JSON
    updated_at TIMESTAMP NOT NULL
);
