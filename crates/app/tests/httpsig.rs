//! HTTP Message Signatures (RFC 9421): the Ed25519 example of RFC 9421 Appendix B.2.6 with
//! the test key of B.1.4, round trips, and refusal of tampered, stale, incomplete and
//! digest-mismatched requests.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use elicense_app::federation::httpsig::{
    self, signature_base, HttpRequest, SignatureParams, VerifyPolicy,
};
use elicense_crypto::{Alg, KeyPair, Signer as _, Verifier};
use proptest::prelude::*;

/// RFC 9421 B.1.4 `test-key-ed25519` (PKCS#8, base64 of the PEM body).
const TEST_KEY_ED25519: &str = "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF";
/// Its public key (SPKI, base64 of the PEM body).
const TEST_KEY_ED25519_PUBLIC: &str =
    "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=";

/// RFC 9421 B.2: the test request.
fn test_request() -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        target_uri: "https://example.com/foo?param=Value&Pet=dog".parse().unwrap(),
        headers: vec![
            ("Host".into(), "example.com".into()),
            ("Date".into(), "Tue, 20 Apr 2021 02:07:55 GMT".into()),
            ("Content-Type".into(), "application/json".into()),
            (
                "Content-Digest".into(),
                "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:".into(),
            ),
            ("Content-Length".into(), "18".into()),
        ],
        body: br#"{"hello": "world"}"#.to_vec(),
    }
}

#[test]
fn rfc9421_b26_ed25519_example() {
    let params = SignatureParams {
        components: [
            "date",
            "@method",
            "@path",
            "@authority",
            "content-type",
            "content-length",
        ]
        .map(String::from)
        .to_vec(),
        created: Some(1618884473),
        keyid: Some("test-key-ed25519".into()),
        ..Default::default()
    };
    let base = signature_base(&test_request(), &params).unwrap();
    assert_eq!(
        base,
        "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n\
         \"@authority\": example.com\n\"content-type\": application/json\n\
         \"content-length\": 18\n\"@signature-params\": (\"date\" \"@method\" \"@path\" \
         \"@authority\" \"content-type\" \"content-length\");created=1618884473;\
         keyid=\"test-key-ed25519\""
    );
    let key = KeyPair::from_pkcs8_der(&STANDARD.decode(TEST_KEY_ED25519).unwrap()).unwrap();
    // The public key of B.1.4 is the last 32 bytes of its SPKI.
    let spki = STANDARD.decode(TEST_KEY_ED25519_PUBLIC).unwrap();
    assert_eq!(
        elicense_crypto::b64::decode(&key.public_jwk().x).unwrap(),
        spki[spki.len() - 32..]
    );
    let expected = STANDARD
        .decode(
            "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==",
        )
        .unwrap();
    // Ed25519 is deterministic: the same base and key give the RFC's signature.
    assert_eq!(key.sign(base.as_bytes()).unwrap(), expected);
    key.verifier().verify(base.as_bytes(), &expected).unwrap();
    assert_eq!(
        params.serialize(),
        "(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\""
    );
    assert_eq!(SignatureParams::parse(&params.serialize()).unwrap(), params);
}

const NOW: i64 = 1_750_000_000;

fn node_request(body: &[u8]) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        target_uri: "https://hub.example.gov.cn/api/v1/federation/entries?from=7"
            .parse()
            .unwrap(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_vec(),
    }
}

fn signed(key: &KeyPair, body: &[u8]) -> HttpRequest {
    let mut req = node_request(body);
    httpsig::sign(&mut req, key, NOW).unwrap();
    req
}

fn check(req: &HttpRequest, key: &KeyPair, now: i64) -> Result<String, httpsig::HttpSigError> {
    httpsig::verify(req, now, VerifyPolicy::default(), |kid: &str| {
        (kid == key.kid()).then(|| key.verifier())
    })
}

fn key() -> KeyPair {
    KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng)
}

#[test]
fn round_trip_with_and_without_body() {
    let k = key();
    let req = signed(&k, br#"{"entries":[]}"#);
    assert_eq!(check(&req, &k, NOW).unwrap(), k.kid());
    assert_eq!(
        req.header("content-digest").unwrap(),
        httpsig::content_digest(br#"{"entries":[]}"#)
    );
    assert!(req
        .header("signature-input")
        .unwrap()
        .contains("(\"@method\" \"@target-uri\" \"content-digest\");created="));
    let mut get = node_request(b"");
    get.method = "GET".into();
    httpsig::sign(&mut get, &k, NOW).unwrap();
    assert!(get.header("content-digest").is_none());
    check(&get, &k, NOW + 10).unwrap();
}

#[test]
fn refusals_have_stable_codes() {
    let k = key();
    let req = signed(&k, b"{}");
    let code = |r: &HttpRequest, now| check(r, &k, now).unwrap_err().code();
    assert_eq!(code(&req, NOW + 301), "httpsig.stale");
    assert_eq!(code(&req, NOW - 31), "httpsig.stale");
    assert_eq!(code(&node_request(b"{}"), NOW), "httpsig.missing");
    assert_eq!(
        check(&req, &key(), NOW).unwrap_err().code(),
        "httpsig.unknown_key"
    );

    let mut body = req.clone();
    body.body = b"{\"x\":1}".to_vec();
    assert_eq!(code(&body, NOW), "httpsig.digest_mismatch");

    // Covering too little: a signature over @method alone (made with the same key).
    let mut thin = node_request(b"");
    let params = SignatureParams {
        components: vec!["@method".into()],
        created: Some(NOW),
        keyid: Some(k.kid().into()),
        alg: Some("ed25519".into()),
        ..Default::default()
    };
    let sig = k
        .sign(signature_base(&thin, &params).unwrap().as_bytes())
        .unwrap();
    thin.headers.push((
        "Signature-Input".into(),
        format!("sig1={}", params.serialize()),
    ));
    thin.headers.push((
        "Signature".into(),
        format!("sig1=:{}:", STANDARD.encode(sig)),
    ));
    assert_eq!(code(&thin, NOW), "httpsig.missing_component");

    // A body whose digest is not covered.
    let mut uncovered = thin.clone();
    uncovered.body = b"{}".to_vec();
    assert_eq!(code(&uncovered, NOW), "httpsig.missing_component");

    // Another algorithm named.
    let mut alg = req.clone();
    for (n, v) in alg.headers.iter_mut() {
        if n == "Signature-Input" {
            *v = v.replace("alg=\"ed25519\"", "alg=\"rsa-pss-sha512\"");
        }
    }
    assert_eq!(code(&alg, NOW), "httpsig.bad_alg");

    let mut garbled = req.clone();
    for (n, v) in garbled.headers.iter_mut() {
        if n == "Signature-Input" {
            *v = "sig1=(\"@method\"".into();
        }
    }
    assert_eq!(code(&garbled, NOW), "httpsig.malformed");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Changing any covered component (method, any part of the target URI, the body and its
    /// digest together) breaks the signature.
    #[test]
    fn tampering_with_a_covered_component_is_detected(
        which in 0usize..5,
        noise in "[a-z0-9]{1,8}",
    ) {
        let k = key();
        let req = signed(&k, br#"{"entries":[1]}"#);
        let mut t = req.clone();
        match which {
            0 => t.method = "PUT".into(),
            1 => t.target_uri.set_path(&format!("/api/v1/{noise}")),
            // The signed query is `from=7`: the tampered one always differs from it.
            2 => t.target_uri.set_query(Some(&format!("from=7{noise}"))),
            3 => { t.target_uri.set_host(Some(&format!("{noise}.example"))).unwrap(); }
            _ => {
                t.body = noise.as_bytes().to_vec();
                for (n, v) in t.headers.iter_mut() {
                    if n == "Content-Digest" {
                        *v = httpsig::content_digest(noise.as_bytes());
                    }
                }
            }
        }
        prop_assert_eq!(check(&t, &k, NOW).unwrap_err().code(), "httpsig.invalid");
    }
}
