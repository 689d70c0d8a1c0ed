-- Notification settings and delivery bookkeeping (SQLite).
--
-- Settings are per user and live beside (not inside) the domain user: the e-mail address, the
-- events the user wants, and an optional outgoing webhook with its HMAC secret (kept in the
-- clear because signing needs it; it is shown to its owner once).
CREATE TABLE notify_settings (
    user_id        BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email          TEXT,
    email_norm     TEXT,
    events         TEXT NOT NULL,
    webhook_url    TEXT,
    webhook_secret TEXT,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX notify_settings_email ON notify_settings (email_norm);

-- The next transparency-log entry the notification scanner looks at. It starts at the current
-- end of the log, so enabling notifications never replays history.
CREATE TABLE notify_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    next_seq BIGINT NOT NULL
);
INSERT INTO notify_cursor (id, next_seq) SELECT 1, size FROM log_head WHERE id = 1;

-- One row per notification handed to its channel; the key makes delivery idempotent.
CREATE TABLE notify_deliveries (
    delivery_key TEXT PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL,
    channel      TEXT NOT NULL,
    sent_at      INTEGER NOT NULL
);
