-- Audit trail (SQLite): every privileged action (accounts, roles, subgroups, invitations,
-- seeding), appended in the transaction of the change it records. Append-only: the triggers
-- refuse any UPDATE or DELETE, so a record can be neither edited nor removed through SQL run
-- by the service. Nothing expires it (no retention period).

CREATE TABLE audit_events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details TEXT NOT NULL
);
-- Newest first is `ORDER BY seq DESC` on the primary key; the filters by actor and target
-- walk these backwards.
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_target ON audit_events (target, seq);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
