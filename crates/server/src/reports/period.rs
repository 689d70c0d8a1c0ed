//! Report periods: ISO weeks (Monday to Monday, UTC) and calendar months.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

/// How long a report covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Monday 00:00 UTC to the next Monday.
    Week,
    /// The first of a month 00:00 UTC to the first of the next.
    Month,
}

/// Why a period or date in a URL or on the command line was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeriodError {
    /// Not `week` or `month`.
    #[error("unknown report period {0:?}: use `week` or `month`")]
    UnknownPeriod(String),
    /// Not a `YYYY-MM-DD` date.
    #[error("{0:?} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-16")]
    BadDate(String),
}

impl Period {
    /// Both periods.
    pub const ALL: [Period; 2] = [Period::Week, Period::Month];

    /// `week` or `month`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// Parses `week` or `month`.
    ///
    /// # Errors
    /// Anything else.
    pub fn parse(text: &str) -> Result<Period, PeriodError> {
        match text {
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            other => Err(PeriodError::UnknownPeriod(other.chars().take(40).collect())),
        }
    }

    /// The first day of the period containing `day`.
    #[must_use]
    pub fn start_of(self, day: Date) -> Date {
        match self {
            Period::Week => {
                day - Duration::days(i64::from(day.weekday().number_days_from_monday()))
            }
            Period::Month => day.replace_day(1).unwrap_or(day),
        }
    }

    /// The first day of the period after the one starting on `start`.
    #[must_use]
    pub fn next_start(self, start: Date) -> Date {
        match self {
            Period::Week => start + Duration::days(7),
            Period::Month => self.start_of(self.start_of(start) + Duration::days(32)),
        }
    }

    /// The first day of the period before the one starting on `start`.
    #[must_use]
    pub fn previous_start(self, start: Date) -> Date {
        match self {
            Period::Week => start - Duration::days(7),
            Period::Month => self.start_of(self.start_of(start) - Duration::days(1)),
        }
    }

    /// The period containing `day`.
    #[must_use]
    pub fn containing(self, day: Date) -> PeriodRange {
        PeriodRange::new(self, self.start_of(day))
    }

    /// The most recent period that has fully ended at `now`.
    #[must_use]
    pub fn latest_complete(self, now: OffsetDateTime) -> PeriodRange {
        let current = self.start_of(now.date());
        PeriodRange::new(self, self.previous_start(current))
    }
}

/// One concrete period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodRange {
    /// Week or month.
    pub period: Period,
    /// First day.
    pub start: Date,
    /// First day after it.
    pub end: Date,
    /// First day of the period before.
    pub previous_start: Date,
}

impl PeriodRange {
    /// The period of kind `period` containing `day` (so any day of it names it).
    #[must_use]
    pub fn new(period: Period, day: Date) -> PeriodRange {
        let start = period.start_of(day);
        PeriodRange {
            period,
            start,
            end: period.next_start(start),
            previous_start: period.previous_start(start),
        }
    }

    /// Parses a URL or command-line date `YYYY-MM-DD` into the period containing it.
    ///
    /// # Errors
    /// When the date is malformed.
    pub fn parse(period: Period, date: &str) -> Result<PeriodRange, PeriodError> {
        Ok(PeriodRange::new(period, parse_date(date)?))
    }

    /// Start as UTC midnight.
    #[must_use]
    pub fn from(&self) -> OffsetDateTime {
        self.start.midnight().assume_utc()
    }

    /// End (exclusive) as UTC midnight.
    #[must_use]
    pub fn to(&self) -> OffsetDateTime {
        self.end.midnight().assume_utc()
    }

    /// Start of the previous period as UTC midnight.
    #[must_use]
    pub fn previous_from(&self) -> OffsetDateTime {
        self.previous_start.midnight().assume_utc()
    }

    /// Whether the period has ended at `now`.
    #[must_use]
    pub fn is_complete(&self, now: OffsetDateTime) -> bool {
        self.to() <= now
    }

    /// A human title, e.g. "Week of 2026-11-16" or "November 2026".
    #[must_use]
    pub fn title(&self) -> String {
        match self.period {
            Period::Week => format!("Week of {}", format_date(self.start)),
            Period::Month => format!("{} {}", self.start.month(), self.start.year()),
        }
    }

    /// `week-2026-11-16`, for file names.
    #[must_use]
    pub fn slug(&self) -> String {
        format!("{}-{}", self.period.as_str(), format_date(self.start))
    }
}

/// `YYYY-MM-DD`.
#[must_use]
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Parses `YYYY-MM-DD`.
///
/// # Errors
/// When the text is not such a date.
pub fn parse_date(text: &str) -> Result<Date, PeriodError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).map_err(|_| PeriodError::BadDate(text.chars().take(40).collect()))
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let w = PeriodRange::new(Period::Week, date!(2026 - 11 - 19));
        assert_eq!(
            (w.start, w.end, w.previous_start),
            (
                date!(2026 - 11 - 16),
                date!(2026 - 11 - 23),
                date!(2026 - 11 - 09)
            )
        );
        let m = PeriodRange::new(Period::Month, date!(2026 - 03 - 31));
        assert_eq!(
            (m.start, m.end, m.previous_start),
            (
                date!(2026 - 03 - 01),
                date!(2026 - 04 - 01),
                date!(2026 - 02 - 01)
            )
        );
        let jan = PeriodRange::new(Period::Month, date!(2027 - 01 - 15));
        assert_eq!(
            (jan.end, jan.previous_start),
            (date!(2027 - 02 - 01), date!(2026 - 12 - 01))
        );
        assert_eq!(m.title(), "March 2026");
        assert_eq!(w.slug(), "week-2026-11-16");
    }

    #[test]
    fn the_latest_complete_period_has_ended() {
        let now = datetime!(2026-11-21 09:00 UTC);
        let w = Period::Week.latest_complete(now);
        assert_eq!(w.start, date!(2026 - 11 - 09));
        assert!(w.is_complete(now));
        let m = Period::Month.latest_complete(now);
        assert_eq!(m.start, date!(2026 - 10 - 01));
        // On a period's first instant the one before is complete.
        let w2 = Period::Week.latest_complete(datetime!(2026-11-16 00:00 UTC));
        assert_eq!(w2.start, date!(2026 - 11 - 09));
    }

    #[test]
    fn bad_periods_and_dates_say_what_to_write() {
        assert!(
            Period::parse("year")
                .unwrap_err()
                .to_string()
                .contains("`week` or `month`")
        );
        assert!(
            PeriodRange::parse(Period::Week, "2026-13-01")
                .unwrap_err()
                .to_string()
                .contains("YYYY-MM-DD")
        );
        assert!(PeriodRange::parse(Period::Week, "<script>").is_err());
    }
}
