//! Dates of licenses are calendar dates in China Standard Time (UTC+8). A license valid
//! "from D1 until D2" is valid from D1 00:00 CST up to the end of D2.

use time::{Date, OffsetDateTime, UtcOffset};

const CST: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("valid offset"),
};

/// Unix seconds of `d` 00:00 CST.
pub fn day_start(d: Date) -> i64 {
    d.midnight().assume_offset(CST).unix_timestamp()
}

/// Unix seconds of the first moment after the end of `d` (CST).
pub fn day_end(d: Date) -> i64 {
    day_start(d) + 86_400
}

/// The CST calendar date at unix time `t`.
pub fn date_at(t: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(t)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(CST)
        .date()
}

/// `YYYY-MM-DD`.
pub fn format(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Parses `YYYY-MM-DD`.
pub fn parse(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).ok()
}

/// Parses an optional requested end of validity (`valid_until`), `license.bad_date` if it is
/// not a `YYYY-MM-DD` date.
pub fn parse_valid_until(value: Option<&str>) -> crate::error::Result<Option<Date>> {
    value
        .map(|s| {
            parse(s).ok_or_else(|| {
                crate::error::AppError::new(
                    crate::error::ErrorKind::Invalid,
                    "license.bad_date",
                    format!("valid_until {s:?} is not a YYYY-MM-DD date"),
                )
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cst_day_bounds() {
        let d = parse("2026-01-01").unwrap();
        // 2026-01-01 00:00 CST = 2025-12-31 16:00 UTC.
        assert_eq!(day_start(d), 1_767_196_800);
        assert_eq!(day_end(d) - day_start(d), 86_400);
        assert_eq!(date_at(day_start(d)), d);
        assert_eq!(date_at(day_end(d) - 1), d);
        assert_eq!(format(d), "2026-01-01");
        assert!(parse("2026-02-30").is_none());
    }
}
