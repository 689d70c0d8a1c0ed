-- Mail intake (PostgreSQL): each maintainer's secret intake address, kept as the SHA-256 of its
-- token (like API tokens), and the forwarded messages already turned into cases, so a message
-- delivered twice (an MTA retry, a maildir run interrupted after the case was stored) creates
-- one case.

CREATE TABLE mail_intake (
    user_id      UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BYTEA NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
);

CREATE TABLE mail_deliveries (
    message_key BYTEA PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    case_id     UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    received_at TIMESTAMPTZ NOT NULL
);
