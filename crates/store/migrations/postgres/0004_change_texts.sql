-- Submitted change texts, content-addressed by `sha256:<hex>` (a case's source.patch_ref), so
-- every replica reads them and a database backup includes them (see src/changes.rs).

CREATE TABLE change_texts (
    patch_ref  TEXT PRIMARY KEY,
    -- Bytes, not TEXT: PostgreSQL TEXT cannot hold NUL characters, which a hostile change may carry.
    content    BYTEA NOT NULL,
    bytes      BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
