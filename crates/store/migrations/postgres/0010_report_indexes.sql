-- Trend reports over large instances (PostgreSQL): covering indexes, so every aggregation of a
-- monthly report is an index-only scan and never reads the case rows (1-3 KB documents each).
-- With 1,000,000 cases a month's cohort is about 40,000 cases, read some fifteen times.

-- The cohort of a period (public cases published in [from, to)) with every column the
-- aggregations read: verdict mix, suspicion x verdict, timings, and the id the tag, detector
-- and subgroup joins go through.
CREATE INDEX cases_report_cohort ON cases (published_at, tlp)
    INCLUDE (verdict, suspicion, received_at, reported_at, first_assessed_at, id)
    WHERE published_at IS NOT NULL;

-- Received and first assessed in the period, among public published cases: the range column
-- first, then what the filter reads.
DROP INDEX cases_published_received;
DROP INDEX cases_published_assessed;
CREATE INDEX cases_published_received ON cases (received_at) INCLUDE (published_at, tlp)
    WHERE published_at IS NOT NULL;
CREATE INDEX cases_published_assessed ON cases (first_assessed_at) INCLUDE (published_at, tlp)
    WHERE published_at IS NOT NULL;
