-- Submitted change texts, content-addressed by `sha256:<hex>` (a case's source.patch_ref), so
-- every replica reads them and a database backup includes them (see src/changes.rs).
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC).

CREATE TABLE change_texts (
    patch_ref  TEXT PRIMARY KEY NOT NULL,
    content    BLOB NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
