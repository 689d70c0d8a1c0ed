-- Audit trail (PostgreSQL): every privileged action (accounts, roles, subgroups, invitations,
-- seeding), appended in the transaction of the change it records. Append-only: the trigger
-- refuses any UPDATE or DELETE (and TRUNCATE), so a record can be neither edited nor removed
-- through SQL run by the service. Nothing expires it (no retention period).

CREATE TABLE audit_events (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details JSONB NOT NULL
);
-- Newest first is `ORDER BY seq DESC` on the primary key; the filters by actor and target
-- walk these backwards.
CREATE INDEX audit_events_actor ON audit_events (actor, seq DESC);
CREATE INDEX audit_events_target ON audit_events (target, seq DESC);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;

CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
