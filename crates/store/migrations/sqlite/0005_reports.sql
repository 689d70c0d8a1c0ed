-- Trend reports (SQLite): the case columns and side table the report aggregations read,
-- indexes for period scans over published cases, and the stored reports themselves.
-- Timestamps are INTEGER microseconds since the Unix epoch (see dbtime.rs).

-- The maintainer's suspicion (1-5), when the first automated report was attached, and when the
-- first human assessment was submitted. Written on every save from the case and its events.
ALTER TABLE cases ADD COLUMN suspicion INTEGER;
ALTER TABLE cases ADD COLUMN reported_at INTEGER;
ALTER TABLE cases ADD COLUMN first_assessed_at INTEGER;

UPDATE cases SET
    suspicion = json_extract(doc, '$.concern.suspicion'),
    first_assessed_at = CAST(ROUND((julianday(json_extract(doc, '$.first_assessed_at')) - 2440587.5) * 86400000000.0) AS INTEGER),
    reported_at = (SELECT MIN(e.at) FROM case_events e WHERE e.case_id = cases.id AND e.kind = 'report-attached');

-- Detectors that fired on a case (one row per detector, however many findings it made).
CREATE TABLE case_findings (
    case_id  BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    detector TEXT NOT NULL,
    PRIMARY KEY (case_id, detector)
) WITHOUT ROWID;
INSERT OR IGNORE INTO case_findings (case_id, detector)
SELECT c.id, f.value
FROM cases c, json_each(COALESCE(json_extract(c.doc, '$.report.finding_ids'), '[]')) AS f;

-- Period scans over published cases by receipt and by first assessment (publication already
-- has `cases_published`).
CREATE INDEX cases_published_received ON cases (received_at) WHERE published_at IS NOT NULL;
CREATE INDEX cases_published_assessed ON cases (first_assessed_at) WHERE published_at IS NOT NULL;

-- Generated reports: one per period kind and start date, stored once (the primary key makes a
-- second replica's insert a no-op).
CREATE TABLE reports (
    period       TEXT NOT NULL CHECK (period IN ('week', 'month')),
    starts_on    TEXT NOT NULL,
    ends_at      INTEGER NOT NULL,
    generated_at INTEGER NOT NULL,
    doc          TEXT NOT NULL,
    PRIMARY KEY (period, starts_on)
);
CREATE INDEX reports_generated ON reports (generated_at);
