//! Property tests: round trips, and every single-character substitution or adjacent
//! transposition is caught by the check characters (MOD 11-2, MOD 31), with one documented
//! exception: ISO/IEC 7064 MOD 37,36 is a hybrid system, which catches every substitution
//! but misses 72 of the 45,360 (state, ordered pair) adjacent transpositions (0.16 %).

use elicense_core::area::PROVINCES;
use elicense_core::gb32100::{ALPHABET as USCC_ALPHABET, NATIONAL_AREA};
use elicense_core::{mod37_36, Deviation, ErrorCode, Identifier, ResidentId, TypeCode, Uscc};
use proptest::prelude::*;

const ALNUM: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn uscc_chars(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        proptest::sample::select(USCC_ALPHABET.chars().collect::<Vec<_>>()),
        n,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// Positions 3-8 of a USCC: a province-level division code, or `100000` (national level).
fn registering_area() -> impl Strategy<Value = String> {
    let mut provinces: Vec<&str> = PROVINCES.iter().map(|p| p.0).collect();
    provinces.push("10");
    (proptest::sample::select(provinces), 0u32..10000).prop_map(|(p, rest)| match p {
        "10" => NATIONAL_AREA.to_owned(),
        p => format!("{p}{rest:04}"),
    })
}

/// A 17-character body with its check character.
fn with_check(body: &str) -> String {
    format!("{body}{}", Uscc::check_char_for(body).unwrap())
}

fn uscc() -> impl Strategy<Value = Uscc> {
    (uscc_chars(2), registering_area(), uscc_chars(9)).prop_map(|(head, area, tail)| {
        Uscc::parse(&with_check(&format!("{head}{area}{tail}"))).unwrap()
    })
}

fn identifier() -> impl Strategy<Value = Identifier> {
    (uscc(), "[0-9A-Z]{3}", uscc(), "[0-9A-Z]{1,64}", 1u16..=999).prop_map(
        |(body, seq, issuer, serial, version)| {
            let tc = TypeCode::new(&body, &seq).unwrap();
            Identifier::new(tc, issuer, &serial, version).unwrap()
        },
    )
}

fn resident_id() -> impl Strategy<Value = ResidentId> {
    (
        proptest::sample::select(PROVINCES.iter().map(|p| p.0).collect::<Vec<_>>()),
        0u32..10000,
        1900i32..2030,
        1u8..=12,
        1u8..=28,
        0u32..1000,
    )
        .prop_map(|(p, r, y, m, d, seq)| {
            let body = format!("{p}{r:04}{y:04}{m:02}{d:02}{seq:03}");
            let check = ResidentId::check_char_for(&body).unwrap();
            ResidentId::parse(&format!("{body}{check}")).unwrap()
        })
}

fn substitute(s: &str, at: usize, alphabet: &str, pick: usize) -> Option<String> {
    let mut chars: Vec<char> = s.chars().collect();
    let old = chars[at % chars.len()];
    let choices: Vec<char> = alphabet.chars().filter(|&c| c != old).collect();
    let i = at % chars.len();
    chars[i] = choices[pick % choices.len()];
    Some(chars.into_iter().collect())
}

fn transpose(s: &str, at: usize) -> Option<String> {
    let mut chars: Vec<char> = s.chars().collect();
    let i = at % (chars.len() - 1);
    if chars[i] == chars[i + 1] {
        return None;
    }
    chars.swap(i, i + 1);
    Some(chars.into_iter().collect())
}

/// Exhaustive over every state the MOD 37,36 recursion can be in before a pair (one prefix
/// character reaches each of the 36 states) and every ordered pair of distinct characters.
#[test]
fn mod37_36_transpositions() {
    let chars: Vec<char> = ALNUM.chars().collect();
    let (mut missed, mut total) = (0, 0);
    for &prefix in &chars {
        for &a in &chars {
            for &b in &chars {
                if a == b {
                    continue;
                }
                total += 1;
                let tail = "7Q";
                let x = format!("{prefix}{a}{b}{tail}");
                let y = format!("{prefix}{b}{a}{tail}");
                if mod37_36(&x) == mod37_36(&y) {
                    missed += 1;
                }
            }
        }
    }
    assert_eq!((missed, total), (72, 45_360));
    // Single substitutions are always caught, whatever the state.
    for &prefix in &chars {
        for &a in &chars {
            for &b in &chars {
                if a != b {
                    assert_ne!(
                        mod37_36(&format!("{prefix}{a}5")),
                        mod37_36(&format!("{prefix}{b}5"))
                    );
                }
            }
        }
    }
}

proptest! {
    #[test]
    fn identifier_round_trips(id in identifier()) {
        let text = id.to_string();
        prop_assert_eq!(Identifier::parse(&text).unwrap(), id.clone());
        let lenient = Identifier::parse_lenient(&text).unwrap();
        prop_assert!(lenient.deviations.is_empty());
        prop_assert_eq!(lenient.identifier.as_ref(), Some(&id));
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<Identifier>(&json).unwrap(), id.clone());
        let next = id.with_version(1 + id.version() % 999).unwrap();
        prop_assert!(next.same_license(&id));
    }

    #[test]
    fn identifier_body_errors_are_caught(id in identifier(), at in 0usize..200, pick in 0usize..100) {
        let text = id.to_string();
        let root = Identifier::ROOT.len() + 1;
        let dotted_body = &text[root..text.len() - 2];
        let body: String = dotted_body.chars().filter(|&c| c != '.').collect();
        let check = id.check_char();
        let sub = substitute(&body, at, ALNUM, pick).unwrap();
        prop_assert_ne!(mod37_36(&sub), Some(check));
        // Adjacent transpositions: see `mod37_36_transpositions` below for the rare ones that
        // MOD 37,36 cannot see.
        // The same faults in the dotted text are refused by the strict parser.
        let positions: Vec<usize> = dotted_body.char_indices().filter(|(_, c)| *c != '.').map(|(i, _)| i).collect();
        let i = positions[at % positions.len()];
        let mut bytes = dotted_body.as_bytes().to_vec();
        let old = bytes[i];
        bytes[i] = ALNUM.bytes().filter(|&b| b != old).nth(pick % 35).unwrap();
        let changed = format!("{}{}.{check}", &text[..root], String::from_utf8(bytes).unwrap());
        prop_assert!(Identifier::parse(&changed).is_err(), "{}", changed);
        let mut wrong = text.clone();
        wrong.pop();
        wrong.push(ALNUM.chars().filter(|&c| c != check).nth(pick % 35).unwrap());
        prop_assert!(Identifier::parse(&wrong).is_err());
    }

    #[test]
    fn resident_id_errors_are_caught(id in resident_id(), at in 0usize..18, pick in 0usize..100) {
        let text = id.to_string();
        prop_assert_eq!(ResidentId::parse(&text).unwrap(), id.clone());
        prop_assert_eq!(serde_json::from_str::<ResidentId>(&serde_json::to_string(&id).unwrap()).unwrap(), id);
        let alphabet = if at == 17 { "0123456789X" } else { "0123456789" };
        let sub = substitute(&text, at, alphabet, pick).unwrap();
        prop_assert!(ResidentId::parse(&sub).is_err(), "{}", sub);
        if let Some(t) = transpose(&text, at) {
            prop_assert!(ResidentId::parse(&t).is_err(), "{}", t);
        }
    }

    #[test]
    fn uscc_errors_are_caught(code in uscc(), at in 0usize..18, pick in 0usize..100) {
        let text = code.to_string();
        prop_assert_eq!(Uscc::parse(&text).unwrap(), code.clone());
        let sub = substitute(&text, at, USCC_ALPHABET, pick).unwrap();
        prop_assert!(Uscc::parse(&sub).is_err(), "{}", sub);
        if let Some(t) = transpose(&text, at) {
            prop_assert!(Uscc::parse(&t).is_err(), "{}", t);
        }
    }

    /// A letter anywhere in positions 3-8 (the registering authority's division code) is
    /// refused with `uscc.bad_area`, even with a correct check character; a strict identifier
    /// refuses such an issuer, and a lenient reading reports exactly that deviation.
    #[test]
    fn uscc_area_must_be_digits(
        code in uscc(),
        at in 2usize..8,
        letter in proptest::sample::select(USCC_ALPHABET.chars().filter(char::is_ascii_uppercase).collect::<Vec<_>>()),
        tc in "[0-9A-Z]{3}",
    ) {
        let mut chars: Vec<char> = code.as_str().chars().take(17).collect();
        chars[at] = letter;
        let body: String = chars.into_iter().collect();
        let text = with_check(&body);
        let e = Uscc::parse(&text).unwrap_err();
        prop_assert_eq!(e.code(), "uscc.bad_area");
        prop_assert!(e.to_string().contains("positions 3-8"));
        let type_code = format!("11100000000013338W{tc}");
        let dotted_body = format!("{type_code}{text}1001");
        let id = format!(
            "{}.{type_code}.{text}.1.001.{}",
            Identifier::ROOT,
            mod37_36(&dotted_body).unwrap()
        );
        prop_assert_eq!(Identifier::parse(&id).unwrap_err().code(), "identifier.bad_issuer_code");
        let lenient = Identifier::parse_lenient(&id).unwrap();
        prop_assert!(lenient.identifier.is_none());
        prop_assert_eq!(lenient.deviations.len(), 1);
        let is_bad_area = matches!(&lenient.deviations[0], Deviation::IssuerBadArea { check_ok: true, .. });
        prop_assert!(is_bad_area, "{:?}", lenient.deviations);
        // As the defining body of a type code, the same code makes the type code bad.
        prop_assert_eq!(
            TypeCode::parse(&format!("{text}{tc}")).unwrap_err().code(),
            "identifier.bad_type_code"
        );
    }

    #[test]
    fn parsers_never_panic(s in "\\PC{0,120}", tail in "[0-9A-Za-z._\\-]{0,90}") {
        let _ = Identifier::parse(&s);
        let _ = Identifier::parse_lenient(&s);
        let rooted = format!("{}.{tail}", Identifier::ROOT);
        let _ = Identifier::parse(&rooted);
        if let Ok(l) = Identifier::parse_lenient(&rooted) {
            prop_assert_eq!(l.identifier.is_some(), l.deviations.is_empty());
        }
        let _ = ResidentId::parse(&s);
        let _ = Uscc::parse(&s);
        let _ = TypeCode::parse(&s);
    }
}
