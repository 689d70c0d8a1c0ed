-- Trend reports (PostgreSQL): the case columns and side table the report aggregations read,
-- indexes for period scans over published cases, and the stored reports themselves.

-- The maintainer's suspicion (1-5), when the first automated report was attached, and when the
-- first human assessment was submitted. Written on every save from the case and its events.
ALTER TABLE cases ADD COLUMN suspicion SMALLINT;
ALTER TABLE cases ADD COLUMN reported_at TIMESTAMPTZ;
ALTER TABLE cases ADD COLUMN first_assessed_at TIMESTAMPTZ;

UPDATE cases SET
    suspicion = (doc->'concern'->>'suspicion')::SMALLINT,
    first_assessed_at = (doc->>'first_assessed_at')::TIMESTAMPTZ,
    reported_at = (SELECT MIN(e.at) FROM case_events e WHERE e.case_id = cases.id AND e.kind = 'report-attached');

-- Detectors that fired on a case (one row per detector, however many findings it made).
CREATE TABLE case_findings (
    case_id  UUID NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    detector TEXT NOT NULL,
    PRIMARY KEY (case_id, detector)
);
INSERT INTO case_findings (case_id, detector)
SELECT DISTINCT c.id, f.detector
FROM cases c, jsonb_array_elements_text(COALESCE(c.doc->'report'->'finding_ids', '[]'::jsonb)) AS f(detector)
ON CONFLICT DO NOTHING;

-- Period scans over published cases by receipt and by first assessment (publication already
-- has `cases_published`).
CREATE INDEX cases_published_received ON cases (received_at) WHERE published_at IS NOT NULL;
CREATE INDEX cases_published_assessed ON cases (first_assessed_at) WHERE published_at IS NOT NULL;

-- Generated reports: one per period kind and start date, stored once (the primary key makes a
-- second replica's insert a no-op).
CREATE TABLE reports (
    period       TEXT NOT NULL CHECK (period IN ('week', 'month')),
    starts_on    TEXT NOT NULL,
    ends_at      TIMESTAMPTZ NOT NULL,
    generated_at TIMESTAMPTZ NOT NULL,
    doc          JSONB NOT NULL,
    PRIMARY KEY (period, starts_on)
);
CREATE INDEX reports_generated ON reports (generated_at);
