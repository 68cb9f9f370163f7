//! Calendar dates in the `YYYY-MM-DD` form used by every format of this crate.
//!
//! Invariant: formatting then parsing a [`Date`] gives back the same date; parsing accepts
//! exactly four-digit years, two-digit months and days, and real calendar dates.

use serde::{Deserialize, Deserializer, Serializer};
use time::macros::format_description;
use time::Date;

const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

/// Parses `YYYY-MM-DD`; `None` when the text is not exactly that or not a real date.
pub fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 10 || !s.is_ascii() {
        return None;
    }
    Date::parse(s, FORMAT).ok()
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Adds whole months; a day that does not exist in the target month becomes its last day
/// (2024-02-29 plus 12 months is 2025-02-28). `None` on overflow.
pub fn add_months(d: Date, months: u32) -> Option<Date> {
    let total = i64::from(d.year()) * 12 + i64::from(u8::from(d.month()) - 1) + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = time::Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).ok()
}

/// serde `with` module for a [`Date`] as `YYYY-MM-DD`.
pub mod serde_date {
    use super::*;

    /// Serialises as `YYYY-MM-DD`.
    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_date(*d))
    }

    /// Deserialises from `YYYY-MM-DD`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let text = String::deserialize(d)?;
        parse_date(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a YYYY-MM-DD date: {text:?}")))
    }
}

/// serde `with` module for an `Option<Date>` as `YYYY-MM-DD` or null.
pub mod serde_date_opt {
    use super::*;

    /// Serialises as `YYYY-MM-DD` or null.
    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format_date(*d)),
            None => s.serialize_none(),
        }
    }

    /// Deserialises from `YYYY-MM-DD` or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => parse_date(&text).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!("not a YYYY-MM-DD date: {text:?}"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn round_trip_and_strictness() {
        assert_eq!(parse_date("2000-02-29"), Some(date!(2000 - 02 - 29)));
        assert_eq!(format_date(date!(0999 - 01 - 05)), "0999-01-05");
        for bad in [
            "1900-02-29",
            "2020-6-15",
            "2020-06-15 ",
            "20200615",
            "2020-13-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn months_clamp_to_month_end() {
        assert_eq!(
            add_months(date!(2024 - 02 - 29), 12),
            Some(date!(2025 - 02 - 28))
        );
        assert_eq!(
            add_months(date!(2020 - 06 - 15), 72),
            Some(date!(2026 - 06 - 15))
        );
        assert_eq!(
            add_months(date!(2020 - 01 - 31), 1),
            Some(date!(2020 - 02 - 29))
        );
    }
}
