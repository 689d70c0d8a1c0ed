-- Job queue and transparency log (PostgreSQL).

CREATE TABLE jobs (
    id               UUID PRIMARY KEY,
    name             TEXT NOT NULL,
    payload          JSONB NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at           TIMESTAMPTZ NOT NULL,
    -- When the job next becomes leasable: run_at while queued, the lease expiry while running.
    next_at          TIMESTAMPTZ NOT NULL,
    leased_by        TEXT,
    lease_expires_at TIMESTAMPTZ,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ
);
CREATE INDEX jobs_leasable ON jobs (next_at) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_state ON jobs (state, created_at);

CREATE TABLE log_entries (
    seq        BIGINT PRIMARY KEY,
    prev_hash  BYTEA NOT NULL,
    ts         TIMESTAMPTZ NOT NULL,
    kind       TEXT NOT NULL,
    case_id    UUID,
    body_type  TEXT NOT NULL CHECK (body_type IN ('payload', 'commitment', 'reveal')),
    payload    TEXT,
    commitment BYTEA,
    reveals    TEXT,
    hash       BYTEA NOT NULL
);
CREATE INDEX log_entries_case ON log_entries (case_id, seq);

-- One row: the chain head. Appenders update it first; the row lock serializes appends.
CREATE TABLE log_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    size      BIGINT NOT NULL,
    head_hash BYTEA NOT NULL,
    last_ts   TIMESTAMPTZ
);
INSERT INTO log_head (id, size, head_hash, last_ts) VALUES (1, 0, decode(repeat('00', 32), 'hex'), NULL);

-- Private openings of sealed entries; never exported until revealed by a reveal entry.
CREATE TABLE log_secrets (
    seq          BIGINT PRIMARY KEY REFERENCES log_entries (seq),
    case_id      UUID NOT NULL,
    salt         BYTEA NOT NULL,
    content      TEXT NOT NULL,
    revealed_seq BIGINT
);
CREATE INDEX log_secrets_unrevealed ON log_secrets (case_id, seq) WHERE revealed_seq IS NULL;

CREATE TABLE log_checkpoints (
    size      BIGINT NOT NULL,
    head_hash BYTEA NOT NULL,
    ts        TIMESTAMPTZ NOT NULL,
    signature BYTEA NOT NULL,
    PRIMARY KEY (size, ts)
);

-- The instance's Ed25519 key, created on first start (see src/translog/mod.rs).
CREATE TABLE instance_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    secret_key  BYTEA NOT NULL,
    public_key  BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
