//! Mutual recognition (互认): which license types regions accept from each other.
//!
//! A [`RecognitionList`] (the Yangtze River Delta's, Sichuan–Chongqing's) names member areas
//! and license types; the hub publishes the lists in the signed trust list. [`covers`] is
//! the one decision whether a node in `home` may accept a license issued in `license_area`.
//!
//! Invariants of [`covers`]:
//! - Within one province nothing is needed ([`Coverage::SameProvince`]); a national home
//!   (`100000`, the hub's own matters) accepts from everywhere ([`Coverage::National`]).
//! - Across provinces a license is accepted only when one list has a member covering `home`,
//!   a member covering `license_area` and the type among its types; the list returned is
//!   one that does. Otherwise [`NotListed`] (`recognition.not_listed`) names the pair and the
//!   type.
//! - A member area covers the areas under it: a province code (`PP0000`) its cities and
//!   counties, a city code (`PPCC00`) its counties, a county code itself only.
//! - The decision is symmetric: what `home` accepts from `license_area` under the lists,
//!   `license_area` accepts from `home`.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

/// The national hub's area code.
const NATIONAL: &str = "100000";

/// A mutual-recognition list: the license types the member areas accept from each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecognitionList {
    /// Stable identifier (`yrd`, `chengyu`, …).
    pub id: String,
    /// Name (长三角, 川渝, …).
    pub name: String,
    /// Member areas (GB/T 2260 codes; a province code covers its cities and counties).
    pub areas: Vec<String>,
    /// License type codes the members accept from each other.
    pub types: Vec<String>,
}

/// Why a license may be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage<'a> {
    /// Issued in the home province: no list is needed.
    SameProvince,
    /// The home is the national hub, which accepts from every region.
    National,
    /// Another province, covered by this list.
    Listed(&'a RecognitionList),
}

/// No list covers the pair and type (see the module invariants).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no mutual-recognition list covers license type {type_code} issued in area {license_area} \
     for use in area {home}"
)]
pub struct NotListed {
    /// The accepting node's area.
    pub home: String,
    /// The area of the license's issuer.
    pub license_area: String,
    /// The license type.
    pub type_code: String,
}

impl ErrorCode for NotListed {
    fn code(&self) -> &'static str {
        "recognition.not_listed"
    }
}

/// True when member area `member` covers the area `code` (see the module invariants).
pub fn area_covers(member: &str, code: &str) -> bool {
    if member.len() != 6 || code.len() != 6 || !member.is_ascii() || !code.is_ascii() {
        return false;
    }
    let prefix = if member.ends_with("0000") {
        2
    } else if member.ends_with("00") {
        4
    } else {
        6
    };
    code[..prefix] == member[..prefix]
}

/// True when `a` and `b` lie in the same province (first two digits).
fn same_province(a: &str, b: &str) -> bool {
    a.len() >= 2 && b.len() >= 2 && a.is_ascii() && b.is_ascii() && a[..2] == b[..2]
}

/// Whether a node in `home` may accept a license of `type_code` issued in `license_area`
/// under `lists` (see the module invariants).
pub fn covers<'a>(
    lists: &'a [RecognitionList],
    home: &str,
    license_area: &str,
    type_code: &str,
) -> Result<Coverage<'a>, NotListed> {
    if home == NATIONAL {
        return Ok(Coverage::National);
    }
    if same_province(home, license_area) {
        return Ok(Coverage::SameProvince);
    }
    let member = |l: &RecognitionList, code: &str| l.areas.iter().any(|a| area_covers(a, code));
    lists
        .iter()
        .find(|l| {
            l.types.iter().any(|t| t == type_code) && member(l, home) && member(l, license_area)
        })
        .map(Coverage::Listed)
        .ok_or_else(|| NotListed {
            home: home.to_owned(),
            license_area: license_area.to_owned(),
            type_code: type_code.to_owned(),
        })
}

/// The lists that apply to `area`: those with a member covering it or under it (a
/// province's operator sees the lists its cities are in too).
pub fn applying_to<'a>(
    lists: &'a [RecognitionList],
    area: &'a str,
) -> impl Iterator<Item = &'a RecognitionList> + 'a {
    lists.iter().filter(move |l| {
        l.areas
            .iter()
            .any(|a| area_covers(a, area) || area_covers(area, a))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn yrd() -> RecognitionList {
        RecognitionList {
            id: "yrd".into(),
            name: "长三角".into(),
            areas: vec![
                "310000".into(),
                "320000".into(),
                "330000".into(),
                "340000".into(),
            ],
            types: vec!["T1".into(), "T2".into()],
        }
    }

    #[test]
    fn examples() {
        let lists = [yrd()];
        // Nanjing (320100) accepts a Hangzhou county's (330106) T1.
        assert_eq!(
            covers(&lists, "320100", "330106", "T1"),
            Ok(Coverage::Listed(&lists[0]))
        );
        let e = covers(&lists, "320100", "330106", "T9").unwrap_err();
        assert_eq!(e.code(), "recognition.not_listed");
        assert!(e.to_string().contains("T9") && e.to_string().contains("330106"));
        assert!(covers(&lists, "320100", "510104", "T1").is_err());
        assert_eq!(
            covers(&lists, "510100", "510104", "T9"),
            Ok(Coverage::SameProvince)
        );
        assert_eq!(
            covers(&lists, "100000", "510104", "T9"),
            Ok(Coverage::National)
        );
        assert!(area_covers("320100", "320102") && !area_covers("320100", "320200"));
        assert!(area_covers("320102", "320102") && !area_covers("320102", "320103"));
        assert_eq!(applying_to(&lists, "320100").count(), 1);
        assert_eq!(applying_to(&lists, "510000").count(), 0);
    }

    fn province() -> impl Strategy<Value = u32> {
        prop::sample::select(vec![11u32, 31, 32, 33, 34, 44, 50, 51])
    }

    /// A division code in province `p`: the province, one of its cities or counties.
    fn area_in(p: u32) -> impl Strategy<Value = String> {
        (0u32..3, 1u32..20, 1u32..30).prop_map(move |(lvl, c, d)| match lvl {
            0 => format!("{p:02}0000"),
            1 => format!("{p:02}{c:02}00"),
            _ => format!("{p:02}{c:02}{d:02}"),
        })
    }

    fn area() -> impl Strategy<Value = String> {
        province().prop_flat_map(area_in)
    }

    fn list() -> impl Strategy<Value = RecognitionList> {
        (
            prop::collection::vec(province(), 0..4),
            prop::collection::vec(prop::sample::select(vec!["T1", "T2", "T3"]), 0..3),
        )
            .prop_map(|(ps, ts)| RecognitionList {
                id: "l".into(),
                name: "l".into(),
                areas: ps.iter().map(|p| format!("{p:02}0000")).collect(),
                types: ts.into_iter().map(str::to_owned).collect(),
            })
    }

    proptest! {
        #[test]
        fn same_province_needs_no_list(p in province(), lists in prop::collection::vec(list(), 0..3), t in "[A-Z][0-9]") {
            let home = format!("{p:02}0100");
            let lic = format!("{p:02}0203");
            prop_assert_eq!(covers(&lists, &home, &lic, &t), Ok(Coverage::SameProvince));
        }

        #[test]
        fn symmetric_and_only_what_a_list_says(
            lists in prop::collection::vec(list(), 0..4),
            home in area(), lic in area(),
            t in prop::sample::select(vec!["T1", "T2", "T3", "T4"]),
        ) {
            let there = covers(&lists, &home, &lic, t);
            let back = covers(&lists, &lic, &home, t);
            prop_assert_eq!(there.is_ok(), back.is_ok());
            match there {
                Ok(Coverage::Listed(l)) => {
                    prop_assert!(l.types.iter().any(|x| x == t));
                    prop_assert!(l.areas.iter().any(|a| area_covers(a, &home)));
                    prop_assert!(l.areas.iter().any(|a| area_covers(a, &lic)));
                }
                Ok(Coverage::SameProvince) => prop_assert_eq!(&home[..2], &lic[..2]),
                Ok(Coverage::National) => prop_assert!(false, "no national home here"),
                Err(e) => {
                    prop_assert_ne!(&home[..2], &lic[..2]);
                    prop_assert_eq!(e.code(), "recognition.not_listed");
                    // No list has the type with both provinces in it.
                    let both = |l: &RecognitionList| {
                        l.types.iter().any(|x| x == t)
                            && l.areas.iter().any(|a| a[..2] == home[..2])
                            && l.areas.iter().any(|a| a[..2] == lic[..2])
                    };
                    prop_assert!(!lists.iter().any(both));
                }
            }
        }

        #[test]
        fn adding_a_covering_list_allows(lists in prop::collection::vec(list(), 0..3), home in area(), lic in area(), t in "[A-Z][0-9]") {
            let mut more = lists.clone();
            more.push(RecognitionList {
                id: "x".into(),
                name: "x".into(),
                areas: vec![format!("{}0000", &home[..2]), format!("{}0000", &lic[..2])],
                types: vec![t.clone()],
            });
            prop_assert!(covers(&more, &home, &lic, &t).is_ok());
        }
    }
}
