//! `elicense id check VALUE... [--json]`: GB/T 36904 identifiers, GB 11643 resident IDs and
//! GB 32100 USCCs, kind auto-detected; says what is wrong with each; exit 0 only if all valid.

use elicense_core::error::ErrorCode;
use elicense_core::gb11643::ResidentId;
use elicense_core::gb32100::Uscc;
use elicense_core::ident::Identifier;
use serde::Serialize;
use serde_json::{json, Value};

use crate::output;

#[derive(Debug, Serialize)]
struct Checked {
    value: String,
    /// `identifier`, `resident_id`, `uscc` or `unknown`.
    kind: &'static str,
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// Parts of a valid value, or deviations of an invalid identifier read leniently.
    #[serde(skip_serializing_if = "Value::is_null")]
    details: Value,
}

fn ok(value: &str, kind: &'static str, details: Value) -> Checked {
    Checked {
        value: value.into(),
        kind,
        valid: true,
        code: None,
        message: None,
        details,
    }
}

fn bad<E: ErrorCode + std::fmt::Display>(
    value: &str,
    kind: &'static str,
    e: E,
    details: Value,
) -> Checked {
    Checked {
        value: value.into(),
        kind,
        valid: false,
        code: Some(e.code()),
        message: Some(e.to_string()),
        details,
    }
}

fn check_one(v: &str) -> Checked {
    if v.contains('.') {
        return match Identifier::parse(v) {
            Ok(id) => ok(
                v,
                "identifier",
                json!({
                    "type_code": id.type_code().as_str(),
                    "issuer": id.issuer().as_str(),
                    "serial": id.serial(),
                    "version": format!("{:03}", id.version()),
                    "check": id.check_char().to_string(),
                }),
            ),
            Err(e) => {
                let deviations = match Identifier::parse_lenient(v) {
                    Ok(l) => json!(l
                        .deviations
                        .iter()
                        .map(|d| json!({"code": d.code(), "message": d.to_string()}))
                        .collect::<Vec<_>>()),
                    Err(_) => Value::Null,
                };
                bad(
                    v,
                    "identifier",
                    e,
                    if deviations.is_null() {
                        Value::Null
                    } else {
                        json!({ "deviations": deviations })
                    },
                )
            }
        };
    }
    let rid = ResidentId::parse(v);
    let uscc = Uscc::parse(v);
    match (rid, uscc) {
        (Ok(r), _) => ok(
            v,
            "resident_id",
            json!({
                "birth_date": elicense_core::date::format_date(r.birth_date()),
                "region": r.region(),
                "sex": if r.is_male() { "male" } else { "female" },
            }),
        ),
        (_, Ok(_)) => ok(v, "uscc", Value::Null),
        (Err(re), Err(ue)) => {
            if looks_like_resident_id(v) {
                bad(v, "resident_id", re, Value::Null)
            } else {
                bad(v, "uscc", ue, Value::Null)
            }
        }
    }
}

/// A value reads as a resident ID when its first 17 characters are digits (one slip allowed)
/// and, from 17 characters on, characters 7-10 read as a birth year 1800-2099; else a USCC.
fn looks_like_resident_id(v: &str) -> bool {
    let digit = |c: char| {
        c.to_digit(10)
            .or_else(|| ('０'..='９').contains(&c).then(|| c as u32 - '０' as u32))
    };
    let chars: Vec<char> = v.chars().collect();
    let body = &chars[..chars.len().min(17)];
    if body.iter().filter(|c| digit(**c).is_some()).count() + 1 < body.len() {
        return false;
    }
    if chars.len() < 17 {
        return true;
    }
    chars[6..10]
        .iter()
        .try_fold(0u32, |y, c| digit(*c).map(|d| y * 10 + d))
        .is_some_and(|y| (1800..=2099).contains(&y))
}

pub fn check(values: &[String], as_json: bool) -> i32 {
    let results: Vec<Checked> = values.iter().map(|v| check_one(v)).collect();
    if as_json {
        output::json(&results);
    } else {
        for r in &results {
            match (&r.code, &r.message) {
                (None, _) => println!("ok       {:<12} {}", r.kind, r.value),
                (Some(code), Some(msg)) => {
                    println!(
                        "INVALID  {:<12} {}\n         [{code}] {msg}",
                        r.kind, r.value
                    );
                    if let Some(devs) = r.details.get("deviations").and_then(Value::as_array) {
                        for d in devs {
                            println!(
                                "         - [{}] {}",
                                d["code"].as_str().unwrap_or(""),
                                d["message"].as_str().unwrap_or("")
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if results.iter().all(|r| r.valid) {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_kinds() {
        assert_eq!(check_one("11010519491231002X").kind, "resident_id");
        assert!(check_one("11010519491231002X").valid);
        assert_eq!(check_one("91330000755918469E").kind, "uscc");
        assert_eq!(check_one("113700000045030270").kind, "uscc");
        let bad_rid = check_one("110105194912310021");
        assert_eq!(
            (bad_rid.kind, bad_rid.code),
            ("resident_id", Some("resident_id.bad_check"))
        );
        let bad_uscc = check_one("11220000013544541K");
        assert_eq!(
            (bad_uscc.kind, bad_uscc.code),
            ("uscc", Some("uscc.bad_check"))
        );
        let id = check_one("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.E");
        assert_eq!(
            (id.kind, id.code),
            ("identifier", Some("identifier.bad_check"))
        );
        assert!(
            check_one("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F")
                .valid
        );
    }
}
