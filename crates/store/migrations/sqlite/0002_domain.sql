-- Domain aggregates (SQLite). Each aggregate row keeps the domain type's serde form in `doc`
-- plus the columns queries use; `version` implements optimistic concurrency.

CREATE TABLE projects (
    id          BLOB PRIMARY KEY NOT NULL,
    forge       TEXT NOT NULL,
    host        TEXT NOT NULL,
    owner_norm  TEXT NOT NULL,
    name_norm   TEXT NOT NULL,
    doc         TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (forge, host, owner_norm, name_norm)
);

CREATE TABLE project_maintainers (
    project_id BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_maintainers_user ON project_maintainers (user_id, project_id);

CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    handle_norm   TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    doc           TEXT NOT NULL,
    version       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    token_hash   BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
    id_hash    BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_hash  BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE invitations (
    token_hash  BLOB PRIMARY KEY NOT NULL,
    email       TEXT NOT NULL,
    roles       TEXT NOT NULL,
    subgroup_id BLOB,
    invited_by  BLOB,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by BLOB
);

CREATE TABLE subgroups (
    id         BLOB PRIMARY KEY NOT NULL,
    slug       TEXT NOT NULL UNIQUE,
    doc        TEXT NOT NULL,
    version    INTEGER NOT NULL
);

CREATE TABLE subgroup_members (
    subgroup_id BLOB NOT NULL REFERENCES subgroups (id) ON DELETE CASCADE,
    user_id     BLOB NOT NULL,
    coordinator INTEGER NOT NULL,
    PRIMARY KEY (subgroup_id, user_id)
);
CREATE INDEX subgroup_members_user ON subgroup_members (user_id, subgroup_id);

CREATE TABLE cases (
    id               BLOB PRIMARY KEY NOT NULL,
    project_id       BLOB NOT NULL REFERENCES projects (id),
    status           TEXT NOT NULL,
    tlp              TEXT NOT NULL,
    queue_open       INTEGER NOT NULL,
    received_at      INTEGER NOT NULL,
    sla_due          INTEGER NOT NULL,
    published_at     INTEGER,
    updated_at       INTEGER NOT NULL,
    verdict          TEXT,
    owner_norm       TEXT NOT NULL,
    name_norm        TEXT NOT NULL,
    author_norm      TEXT,
    pull_request_url TEXT,
    doc              TEXT NOT NULL,
    version          INTEGER NOT NULL
);
-- Expert queue: only open cases, in deadline order.
CREATE INDEX cases_queue ON cases (sla_due, id) WHERE queue_open = 1;
-- Public list: newest first, optionally by verdict.
CREATE INDEX cases_published ON cases (published_at, id) WHERE published_at IS NOT NULL;
CREATE INDEX cases_published_verdict ON cases (verdict, published_at, id) WHERE published_at IS NOT NULL;
CREATE INDEX cases_project ON cases (project_id, received_at);
CREATE INDEX cases_pull_request ON cases (pull_request_url) WHERE pull_request_url IS NOT NULL;

CREATE TABLE case_subgroups (
    case_id     BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    subgroup_id BLOB NOT NULL,
    PRIMARY KEY (case_id, subgroup_id)
);
CREATE INDEX case_subgroups_subgroup ON case_subgroups (subgroup_id, case_id);

CREATE TABLE case_tags (
    case_id BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL CHECK (kind IN ('vector', 'language')),
    value   TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, value)
);
CREATE INDEX case_tags_value ON case_tags (kind, value, case_id);

CREATE TABLE assessments (
    id           BLOB PRIMARY KEY NOT NULL,
    case_id      BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    expert_id    BLOB NOT NULL,
    status       TEXT NOT NULL,
    verdict      TEXT,
    submitted_at INTEGER,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX assessments_case ON assessments (case_id);
CREATE INDEX assessments_expert ON assessments (expert_id, updated_at);

CREATE TABLE comments (
    id         BLOB PRIMARY KEY NOT NULL,
    case_id    BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    author_id  BLOB NOT NULL,
    tlp        TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    doc        TEXT NOT NULL
);
CREATE INDEX comments_case ON comments (case_id, created_at, id);

CREATE TABLE case_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id  BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    actor_id BLOB,
    doc      TEXT NOT NULL,
    log_seq  INTEGER
);
CREATE INDEX case_events_case ON case_events (case_id, id);
