//! Reporting periods: a calendar month (`2026-11`), a calendar quarter
//! (`2026-Q4`) or an ISO week (`2026-W48`), each a half-open UTC interval.

use chrono::{DateTime, Months, NaiveDate, TimeZone, Utc, Weekday};

/// A parsed period: its canonical name and its [start, end) in UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

const FORMATS: &str = "expected YYYY-MM (month), YYYY-Qn (quarter) or YYYY-Www (ISO week)";

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

impl Period {
    /// `now` bounded by the period's end, for "as of" figures.
    pub fn as_of(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.end.min(now)
    }

    /// Parses a period name; the error says which formats are accepted.
    pub fn parse(value: &str) -> Result<Period, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("is required: {FORMATS}"));
        }
        let bad = || format!("'{value}' is not a period: {FORMATS}");
        let (year, rest) = value.split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        if !(2000..=2999).contains(&year) {
            return Err(format!("'{value}': the year must be from 2000 to 2999"));
        }
        let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        let (start, end) = if let Some(q) = rest.strip_prefix('Q') {
            let q: u32 = match q {
                "1" | "2" | "3" | "4" => q.parse().map_err(|_| bad())?,
                _ => return Err(bad()),
            };
            let start = NaiveDate::from_ymd_opt(year, 3 * (q - 1) + 1, 1).ok_or_else(bad)?;
            (start, start + Months::new(3))
        } else if let Some(w) = rest.strip_prefix('W') {
            if !digits(w) {
                return Err(bad());
            }
            let week: u32 = w.parse().map_err(|_| bad())?;
            let start = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
                .ok_or_else(|| format!("'{value}': {year} has no ISO week {week}"))?;
            (start, start + chrono::Days::new(7))
        } else {
            if !digits(rest) {
                return Err(bad());
            }
            let month: u32 = rest.parse().map_err(|_| bad())?;
            let start = NaiveDate::from_ymd_opt(year, month, 1)
                .ok_or_else(|| format!("'{value}': there is no month {month}"))?;
            (start, start + Months::new(1))
        };
        Ok(Period {
            name: value.to_owned(),
            start: midnight(start),
            end: midnight(end),
        })
    }

    /// Whether the period is whole calendar months (a month or a quarter),
    /// not a week.
    pub fn whole_months(&self) -> bool {
        !self.name.contains('W')
    }

    /// Weeks in the period (a month is about 4.4).
    pub fn weeks(&self) -> f64 {
        (self.end - self.start).num_seconds() as f64 / (7.0 * 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn months_quarters_and_weeks() {
        let m = Period::parse("2026-02").expect("month");
        assert_eq!(
            (m.start, m.end),
            (at("2026-02-01T00:00:00Z"), at("2026-03-01T00:00:00Z"))
        );
        let q = Period::parse("2026-Q4").expect("quarter");
        assert_eq!(
            (q.start, q.end),
            (at("2026-10-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))
        );
        // ISO week 1 of 2026 starts on Monday 2025-12-29.
        let w = Period::parse("2026-W01").expect("week");
        assert_eq!(
            (w.start, w.end),
            (at("2025-12-29T00:00:00Z"), at("2026-01-05T00:00:00Z"))
        );
        assert!((w.weeks() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn bad_periods_say_what_is_accepted() {
        for bad in [
            "",
            "2026",
            "2026-13",
            "2026-1",
            "2026-Q5",
            "2026-Q0",
            "2026-W54",
            "26-11",
            "2026/11",
            "2026-W1",
            "1999-01",
            "2026-11-01",
            "november",
        ] {
            let e = Period::parse(bad).expect_err(bad);
            assert!(!e.is_empty(), "{bad}");
        }
        assert!(
            Period::parse("2026-W60")
                .expect_err("week 60")
                .contains("no ISO week")
        );
        // 2026 has 53 ISO weeks; 2025 has 52.
        assert!(Period::parse("2026-W53").is_ok());
        assert!(Period::parse("2025-W53").is_err());
    }
}
