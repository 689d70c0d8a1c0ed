-- Mail intake (SQLite): each maintainer's secret intake address, kept as the SHA-256 of its
-- token (like API tokens), and the forwarded messages already turned into cases, so a message
-- delivered twice (an MTA retry, a maildir run interrupted after the case was stored) creates
-- one case.

CREATE TABLE mail_intake (
    user_id      BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE TABLE mail_deliveries (
    message_key BLOB PRIMARY KEY NOT NULL,
    user_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    case_id     BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    received_at INTEGER NOT NULL
);
