-- Open-dataset snapshots (PostgreSQL): built once a day by the `build_dataset` job and served
-- from the database by every replica, like the trend reports (see crates/store/src/dataset.rs).

-- One row per UTC day. `building` while a builder writes its chunks (its heartbeat shows it is
-- alive); `complete` with the snapshot's description in `doc` once every chunk is written.
CREATE TABLE dataset_snapshots (
    id           UUID PRIMARY KEY,
    snapshot_on  TEXT NOT NULL UNIQUE,
    state        TEXT NOT NULL CHECK (state IN ('building', 'complete')),
    builder      TEXT NOT NULL,
    heartbeat_at TIMESTAMPTZ NOT NULL,
    generated_at TIMESTAMPTZ,
    doc          JSONB
);
CREATE INDEX dataset_snapshots_complete ON dataset_snapshots (generated_at) WHERE state = 'complete';

-- The snapshot's files (`jsonl`, `csv`), in order, a few MiB per row.
CREATE TABLE dataset_chunks (
    snapshot_id UUID NOT NULL REFERENCES dataset_snapshots (id) ON DELETE CASCADE,
    file        TEXT NOT NULL CHECK (file IN ('jsonl', 'csv')),
    seq         BIGINT NOT NULL,
    data        BYTEA NOT NULL,
    PRIMARY KEY (snapshot_id, file, seq)
);
