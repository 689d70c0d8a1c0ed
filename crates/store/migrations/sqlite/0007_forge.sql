-- Forge intake (SQLite): webhook deliveries already handled (replay refusal), and the pull
-- request each forge-forwarded case came from with the S-Express comment posted on it.

CREATE TABLE forge_deliveries (
    forge       TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (forge, delivery_id)
);
CREATE INDEX forge_deliveries_age ON forge_deliveries (received_at);

CREATE TABLE forge_threads (
    case_id    BLOB PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    forge      TEXT NOT NULL,
    api_base   TEXT NOT NULL,
    owner_norm TEXT NOT NULL,
    repo_norm  TEXT NOT NULL,
    number     BIGINT NOT NULL,
    doc        TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX forge_threads_pull ON forge_threads (forge, api_base, owner_norm, repo_norm, number);
