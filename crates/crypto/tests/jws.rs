//! JWS parsing is strict: each kind of bad input gives its stable code.

mod common;

use elicense_crypto::b64;
use elicense_crypto::jws::{self, Header};
use elicense_crypto::{Alg, KeyPair, Signer};
use serde_json::json;

fn token(header: &str, payload: &str, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(payload.as_bytes()),
        b64::encode(sig)
    )
}

#[test]
fn round_trip_all_algs_and_two_step() {
    for (i, alg) in Alg::ALL.into_iter().enumerate() {
        let key = KeyPair::generate(alg, &mut common::rng(500 + i as u64));
        let mut header = Header::new(alg)
            .with_typ("statuslist+jwt")
            .with_kid(key.kid());
        header
            .extra
            .insert("x5u".into(), json!("https://example.cn/x"));
        let payload = json!({"sub": "证照", "iat": 1});
        let one = jws::sign(&key, &header, &payload).unwrap();

        let prepared = jws::prepare(&header, &payload);
        let sig = key.sign(prepared.signing_input()).unwrap(); // e.g. in an HSM
        let two = prepared.complete(&sig);
        for t in [&one, &two] {
            let p = jws::parse(t).unwrap();
            assert_eq!(p.header, header);
            assert_eq!(p.payload, payload);
            p.verify_with(&*key.verifier()).unwrap();
        }
        // Fixed member order.
        let h = String::from_utf8(b64::decode(one.split('.').next().unwrap()).unwrap()).unwrap();
        assert!(
            h.starts_with(&format!(
                r#"{{"alg":"{}","typ":"statuslist+jwt","kid":"#,
                alg.jws_name()
            )),
            "{h}"
        );
    }
}

#[test]
fn bad_inputs_give_stable_codes() {
    let sig = [7u8; 64];
    let cases: Vec<(String, &str)> = vec![
        (token(r#"{"alg":"none"}"#, "{}", b""), "jws.unsupported_alg"),
        (
            format!(
                "{}.{}.",
                b64::encode(br#"{"alg":"none"}"#),
                b64::encode(b"{}")
            ),
            "jws.unsupported_alg",
        ),
        (
            token(r#"{"alg":"HS256"}"#, "{}", &[0; 32]),
            "jws.unsupported_alg",
        ),
        (
            token(r#"{"alg":"RS256"}"#, "{}", &sig),
            "jws.unsupported_alg",
        ),
        (
            token(r#"{"alg":"es256"}"#, "{}", &sig),
            "jws.unsupported_alg",
        ),
        (
            token(r#"{"alg":"ES256"}"#, "{}", &sig[..63]),
            "jws.signature_length",
        ),
        (
            token(r#"{"alg":"EdDSA"}"#, "{}", &[0; 65]),
            "jws.signature_length",
        ),
        (
            token(r#"{"alg":"SM2"}"#, "{}", &[0; 72]),
            "jws.signature_length",
        ),
        (
            token(r#"{"alg":"ES256","crit":["b64"],"b64":false}"#, "{}", &sig),
            "jws.unsupported_crit",
        ),
        (token(r#"{"typ":"JWT"}"#, "{}", &sig), "jws.malformed"),
        (token(r#"{"alg":5}"#, "{}", &sig), "jws.malformed"),
        (
            token(r#"{"alg":"ES256","kid":1}"#, "{}", &sig),
            "jws.malformed",
        ),
        (token(r#"["alg"]"#, "{}", &sig), "jws.malformed"),
        (token(r#"{"alg":"ES256"}"#, "[1]", &sig), "jws.malformed"),
        (
            token(r#"{"alg":"ES256"}"#, "not json", &sig),
            "jws.malformed",
        ),
        (
            token(r#"{"alg":"ES256"}"#, "{}", &sig) + ".x",
            "jws.malformed",
        ),
        ("a.b".to_owned(), "jws.malformed"),
        ("".to_owned(), "jws.malformed"),
        (
            token(r#"{"alg":"ES256"}"#, "{}", &sig).replacen('.', "=.", 1),
            "jws.malformed",
        ),
        (
            token(r#"{"alg":"ES256"}"#, "{}", &sig).replace('.', "+."),
            "jws.malformed",
        ),
    ];
    for (t, code) in cases {
        let err = jws::parse(&t).unwrap_err();
        assert_eq!(err.code(), code, "{t}: {err}");
    }
}

#[test]
fn signature_with_wrong_key_or_payload_fails_verification() {
    let key = KeyPair::generate(Alg::Sm2, &mut common::rng(510));
    let other = KeyPair::generate(Alg::Sm2, &mut common::rng(511));
    let t = jws::sign(&key, &Header::new(Alg::Sm2), &json!({"a": 1})).unwrap();
    let p = jws::parse(&t).unwrap();
    assert_eq!(
        p.verify_with(&*other.verifier()).unwrap_err().code(),
        "signature.invalid"
    );
    let parts: Vec<&str> = t.split('.').collect();
    let swapped = format!("{}.{}.{}", parts[0], b64::encode(br#"{"a":2}"#), parts[2]);
    let p = jws::parse(&swapped).unwrap();
    assert_eq!(
        p.verify_with(&*key.verifier()).unwrap_err().code(),
        "signature.invalid"
    );
}
