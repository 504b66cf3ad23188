-- Schema version 5. The rest of the Jobworth family: when a desk's user authorized (the cloud
-- résumé's five minutes run from then) and whether its résumé was read, and what merchants pushed.
ALTER TABLE desks ADD COLUMN authorized_at BIGINT;
ALTER TABLE desks ADD COLUMN resume_read_at BIGINT;
UPDATE desks SET authorized_at = COALESCE(became_terminal_at, updated_at) WHERE persona IS NOT NULL;

-- One jobdata/add call: who it is about, and its job_data_list as sent (a JSON array).
CREATE TABLE job_data (
    acceptance_id TEXT   PRIMARY KEY,
    seq           BIGINT GENERATED ALWAYS AS IDENTITY,
    app_id        TEXT   NOT NULL,
    conn_key      TEXT,
    user_id       TEXT,
    open_id       TEXT,
    cert_type     TEXT,
    cert_no_shown TEXT,
    user_name     TEXT,
    items         TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX job_data_by_app ON job_data (app_id, created_at);

-- Job postings; a merchant's ka_position_id names one posting, pushed again to update it.
CREATE TABLE positions (
    position_id    TEXT   PRIMARY KEY,
    seq            BIGINT GENERATED ALWAYS AS IDENTITY,
    app_id         TEXT   NOT NULL,
    ka_position_id TEXT,
    info           TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX positions_by_ka ON positions (app_id, ka_position_id) WHERE ka_position_id IS NOT NULL;

-- Uploaded pictures, checked (JPG/PNG, at most 1 MB decoded) before they are stored.
CREATE TABLE pictures (
    pic_id     TEXT   PRIMARY KEY,
    seq        BIGINT GENERATED ALWAYS AS IDENTITY,
    app_id     TEXT   NOT NULL,
    pic_type   TEXT,
    media_type TEXT   NOT NULL,
    size       BIGINT NOT NULL,
    sha256     TEXT   NOT NULL,
    content    BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX pictures_by_app ON pictures (app_id, created_at);
