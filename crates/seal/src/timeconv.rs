//! Conversions between `time::OffsetDateTime` and the ASN.1 times of seals and certificates.
//!
//! Invariants: ASN.1 times here are whole seconds in UTC (sub-seconds are truncated when
//! encoding); X.509 times are UTCTime before 2050 and GeneralizedTime from 2050, as RFC 5280
//! §4.1.2.5 requires; nothing before 1970 is representable.

use std::time::Duration;

use der::asn1::{GeneralizedTime, UtcTime};
use time::OffsetDateTime;
use x509_cert::time::Time;

/// Whole seconds since 1970, or `None` before 1970.
fn unix(t: OffsetDateTime) -> Option<Duration> {
    u64::try_from(t.unix_timestamp())
        .ok()
        .map(Duration::from_secs)
}

pub(crate) fn to_generalized(t: OffsetDateTime) -> Option<GeneralizedTime> {
    GeneralizedTime::from_unix_duration(unix(t)?).ok()
}

pub(crate) fn from_generalized(t: &GeneralizedTime) -> OffsetDateTime {
    from_unix(t.to_unix_duration())
}

pub(crate) fn to_x509(t: OffsetDateTime) -> Option<Time> {
    let d = unix(t)?;
    // 2050-01-01T00:00:00Z
    if d.as_secs() < 2_524_608_000 {
        UtcTime::from_unix_duration(d).ok().map(Time::UtcTime)
    } else {
        GeneralizedTime::from_unix_duration(d)
            .ok()
            .map(Time::GeneralTime)
    }
}

pub(crate) fn from_x509(t: &Time) -> OffsetDateTime {
    from_unix(t.to_unix_duration())
}

fn from_unix(d: Duration) -> OffsetDateTime {
    // der's times stop at 9999, far inside OffsetDateTime's range.
    OffsetDateTime::from_unix_timestamp(d.as_secs() as i64).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
