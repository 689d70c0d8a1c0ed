-- Job queue and transparency log (SQLite).
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC), see src/dbtime.rs.
-- UUIDs are 16-byte BLOBs.

CREATE TABLE jobs (
    id               BLOB PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at           INTEGER NOT NULL,
    -- When the job next becomes leasable: run_at while queued, the lease expiry while running.
    next_at          INTEGER NOT NULL,
    leased_by        TEXT,
    lease_expires_at INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER
);
CREATE INDEX jobs_leasable ON jobs (next_at) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_state ON jobs (state, created_at);

CREATE TABLE log_entries (
    seq        INTEGER PRIMARY KEY NOT NULL,
    prev_hash  BLOB NOT NULL,
    ts         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    case_id    BLOB,
    body_type  TEXT NOT NULL CHECK (body_type IN ('payload', 'commitment', 'reveal')),
    payload    TEXT,
    commitment BLOB,
    reveals    TEXT,
    hash       BLOB NOT NULL
);
CREATE INDEX log_entries_case ON log_entries (case_id, seq);

-- One row: the chain head. Appenders update it first, which serializes appends.
CREATE TABLE log_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    size      INTEGER NOT NULL,
    head_hash BLOB NOT NULL,
    last_ts   INTEGER
);
INSERT INTO log_head (id, size, head_hash, last_ts) VALUES (1, 0, zeroblob(32), NULL);

-- Private openings of sealed entries; never exported until revealed by a reveal entry.
CREATE TABLE log_secrets (
    seq          INTEGER PRIMARY KEY NOT NULL REFERENCES log_entries (seq),
    case_id      BLOB NOT NULL,
    salt         BLOB NOT NULL,
    content      TEXT NOT NULL,
    revealed_seq INTEGER
);
CREATE INDEX log_secrets_unrevealed ON log_secrets (case_id, seq) WHERE revealed_seq IS NULL;

CREATE TABLE log_checkpoints (
    size      INTEGER NOT NULL,
    head_hash BLOB NOT NULL,
    ts        INTEGER NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (size, ts)
);

-- The instance's Ed25519 key, created on first start (see src/translog/mod.rs).
CREATE TABLE instance_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    secret_key  BLOB NOT NULL,
    public_key  BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);
