//! Budget periods: a quarter ("2026-Q4"), a month ("2026-11") or a year
//! ("2026"), as the first and last day, UTC.

use chrono::{Datelike, NaiveDate};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    /// The canonical spelling, e.g. "2026-Q4".
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

impl Period {
    pub fn parse(value: &str) -> Result<Period, String> {
        let v = value.trim().to_ascii_uppercase();
        let bad = || format!("{value:?} is not a period: use YYYY-Qn, YYYY-MM or YYYY");
        let (year, rest) = match v.split_once('-') {
            Some((y, r)) => (y, Some(r)),
            None => (v.as_str(), None),
        };
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&year) {
            return Err(format!("year {year} is outside 2000..2100"));
        }
        let (first_month, months, name) = match rest {
            None => (1, 12, format!("{year}")),
            Some(q) if q.starts_with('Q') => {
                if !digits(&q[1..]) {
                    return Err(bad());
                }
                let n: u32 = q[1..].parse().map_err(|_| bad())?;
                if !(1..=4).contains(&n) || q.len() != 2 {
                    return Err(bad());
                }
                ((n - 1) * 3 + 1, 3, format!("{year}-Q{n}"))
            }
            Some(m) => {
                if !digits(m) {
                    return Err(bad());
                }
                let n: u32 = m.parse().map_err(|_| bad())?;
                if !(1..=12).contains(&n) || m.len() != 2 {
                    return Err(bad());
                }
                (n, 1, format!("{year}-{n:02}"))
            }
        };
        let starts_on = NaiveDate::from_ymd_opt(year, first_month, 1).ok_or_else(bad)?;
        let next = starts_on
            .checked_add_months(chrono::Months::new(months))
            .ok_or_else(bad)?;
        let ends_on = next.pred_opt().ok_or_else(bad)?;
        debug_assert_eq!(ends_on.year(), year);
        Ok(Period {
            name,
            starts_on,
            ends_on,
        })
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && day <= self.ends_on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn periods() {
        let cases = [
            ("2026-Q4", "2026-Q4", d(2026, 10, 1), d(2026, 12, 31)),
            ("2026-q1", "2026-Q1", d(2026, 1, 1), d(2026, 3, 31)),
            ("2028-02", "2028-02", d(2028, 2, 1), d(2028, 2, 29)),
            ("2026-11", "2026-11", d(2026, 11, 1), d(2026, 11, 30)),
            ("2027", "2027", d(2027, 1, 1), d(2027, 12, 31)),
        ];
        for (input, name, from, to) in cases {
            let p = Period::parse(input).expect(input);
            assert_eq!(
                (p.name.as_str(), p.starts_on, p.ends_on),
                (name, from, to),
                "{input}"
            );
        }
        for bad in [
            "", "26-Q1", "2026-Q5", "2026-Q0", "2026-13", "2026-1", "1999", "2026-Q12", "Q4-2026",
            "2026-+1", "+202-Q1",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad:?} accepted");
        }
        let q = Period::parse("2026-Q4").expect("q4");
        assert!(q.contains(d(2026, 12, 31)) && !q.contains(d(2027, 1, 1)));
    }
}
