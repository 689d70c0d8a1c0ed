-- Domain aggregates (PostgreSQL). Each aggregate row keeps the domain type's serde form in `doc`
-- plus the columns queries use; `version` implements optimistic concurrency.

CREATE TABLE projects (
    id          UUID PRIMARY KEY,
    forge       TEXT NOT NULL,
    host        TEXT NOT NULL,
    owner_norm  TEXT NOT NULL,
    name_norm   TEXT NOT NULL,
    doc         JSONB NOT NULL,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (forge, host, owner_norm, name_norm)
);

CREATE TABLE project_maintainers (
    project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_maintainers_user ON project_maintainers (user_id, project_id);

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    handle_norm   TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    doc           JSONB NOT NULL,
    version       BIGINT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    token_hash   BYTEA PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scopes       JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
    id_hash    BYTEA PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_hash  BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE invitations (
    token_hash  BYTEA PRIMARY KEY,
    email       TEXT NOT NULL,
    roles       JSONB NOT NULL,
    subgroup_id UUID,
    invited_by  UUID,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ,
    accepted_by UUID
);

CREATE TABLE subgroups (
    id         UUID PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    doc        JSONB NOT NULL,
    version    BIGINT NOT NULL
);

CREATE TABLE subgroup_members (
    subgroup_id UUID NOT NULL REFERENCES subgroups (id) ON DELETE CASCADE,
    user_id     UUID NOT NULL,
    coordinator BOOLEAN NOT NULL,
    PRIMARY KEY (subgroup_id, user_id)
);
CREATE INDEX subgroup_members_user ON subgroup_members (user_id, subgroup_id);

CREATE TABLE cases (
    id               UUID PRIMARY KEY,
    project_id       UUID NOT NULL REFERENCES projects (id),
    status           TEXT NOT NULL,
    tlp              TEXT NOT NULL,
    queue_open       BOOLEAN NOT NULL,
    received_at      TIMESTAMPTZ NOT NULL,
    sla_due          TIMESTAMPTZ NOT NULL,
    published_at     TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ NOT NULL,
    verdict          TEXT,
    owner_norm       TEXT NOT NULL,
    name_norm        TEXT NOT NULL,
    author_norm      TEXT,
    pull_request_url TEXT,
    doc              JSONB NOT NULL,
    version          BIGINT NOT NULL
);
-- Expert queue: only open cases, in deadline order.
CREATE INDEX cases_queue ON cases (sla_due, id) WHERE queue_open;
-- Public list: newest first, optionally by verdict.
CREATE INDEX cases_published ON cases (published_at, id) WHERE published_at IS NOT NULL;
CREATE INDEX cases_published_verdict ON cases (verdict, published_at, id) WHERE published_at IS NOT NULL;
CREATE INDEX cases_project ON cases (project_id, received_at);
CREATE INDEX cases_pull_request ON cases (pull_request_url) WHERE pull_request_url IS NOT NULL;

CREATE TABLE case_subgroups (
    case_id     UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    subgroup_id UUID NOT NULL,
    PRIMARY KEY (case_id, subgroup_id)
);
CREATE INDEX case_subgroups_subgroup ON case_subgroups (subgroup_id, case_id);

CREATE TABLE case_tags (
    case_id UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL CHECK (kind IN ('vector', 'language')),
    value   TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, value)
);
CREATE INDEX case_tags_value ON case_tags (kind, value, case_id);

CREATE TABLE assessments (
    id           UUID PRIMARY KEY,
    case_id      UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    expert_id    UUID NOT NULL,
    status       TEXT NOT NULL,
    verdict      TEXT,
    submitted_at TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX assessments_case ON assessments (case_id);
CREATE INDEX assessments_expert ON assessments (expert_id, updated_at);

CREATE TABLE comments (
    id         UUID PRIMARY KEY,
    case_id    UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    author_id  UUID NOT NULL,
    tlp        TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    doc        JSONB NOT NULL
);
CREATE INDEX comments_case ON comments (case_id, created_at, id);

CREATE TABLE case_events (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id  UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    at       TIMESTAMPTZ NOT NULL,
    kind     TEXT NOT NULL,
    actor_id UUID,
    doc      JSONB NOT NULL,
    log_seq  BIGINT
);
CREATE INDEX case_events_case ON case_events (case_id, id);
