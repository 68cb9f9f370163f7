//! RFC 9901 test vectors: disclosure digests, and the published examples processed and
//! verified with the RFC's issuer key (appendix A.5).

use elicense_crypto::sdjwt::{self, Disclosure, KbPolicy};
use elicense_crypto::{Jwk, Verifier};
use serde_json::json;

fn example(name: &str) -> String {
    let path = format!("{}/testdata/rfc9901/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .split_whitespace()
        .collect()
}

fn issuer_key() -> Box<dyn Verifier> {
    let jwk: Jwk = serde_json::from_value(json!({
        "kty": "EC", "crv": "P-256",
        "x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
        "y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"
    }))
    .unwrap();
    jwk.verifier(None).unwrap()
}

#[test]
fn disclosure_digests_from_the_rfc() {
    let vectors = [
        // §4.2.1 / §4.2.3: family_name "Möbius".
        (
            "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0",
            "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0",
            Some("family_name"),
            json!("Möbius"),
        ),
        // §4.2.2: array element "FR".
        (
            "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0",
            "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs",
            None,
            json!("FR"),
        ),
        // §5.1: given_name, family_name and the two nationalities.
        (
            "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd",
            "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4",
            Some("given_name"),
            json!("John"),
        ),
        (
            "WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZSJd",
            "TGf4oLbgwd5JQaHyKVQZU9UdGE0w5rtDsrZzfUaomLo",
            Some("family_name"),
            json!("Doe"),
        ),
        (
            "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0",
            "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo",
            None,
            json!("US"),
        ),
        (
            "WyJuUHVvUW5rUkZxM0JJZUFtN0FuWEZBIiwgIkRFIl0",
            "7Cf6JkPudry3lcbwHgeZ8khAv1U1OSlerP0VkBJrWZ0",
            None,
            json!("DE"),
        ),
    ];
    for (encoded, digest, name, value) in vectors.clone() {
        let d = Disclosure::parse(encoded).unwrap();
        assert_eq!(d.digest, digest);
        assert_eq!(d.encoded, encoded);
        assert_eq!(d.array_element, name.is_none());
        assert_eq!(d.name, name.unwrap_or(""));
        assert_eq!(d.value, value);
    }
    assert_eq!(
        Disclosure::parse(vectors[0].0).unwrap().salt,
        "_26bc4LT-ac6q2KI6cBW5es"
    );
}

#[test]
fn section_5_1_processes_to_the_expected_payload() {
    let parsed = sdjwt::parse(&example("section5_1.txt")).unwrap();
    assert_eq!(parsed.disclosures.len(), 10);
    assert_eq!(parsed.issuer(), Some("https://issuer.example.com"));
    let v = parsed
        .verify(&*issuer_key(), &KbPolicy::none(1_700_000_000))
        .unwrap();
    assert!(v.is_valid(), "{:?}", v.problems);
    assert_eq!(
        serde_json::Value::Object(v.claims.clone()),
        json!({
            "iss": "https://issuer.example.com",
            "iat": 1683000000,
            "exp": 1883000000,
            "sub": "user_42",
            "nationalities": ["US", "DE"],
            "cnf": {"jwk": {
                "kty": "EC", "crv": "P-256",
                "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
                "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"
            }},
            "given_name": "John",
            "family_name": "Doe",
            "email": "johndoe@example.com",
            "phone_number": "+1-202-555-0101",
            "phone_number_verified": true,
            "address": {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"},
            "birthdate": "1940-01-01",
            "updated_at": 1570000000
        })
    );
    assert!(
        v.disclosed.contains(&"nationalities[1]".to_owned()),
        "{:?}",
        v.disclosed
    );
    assert_eq!(
        v.holder_jwk.unwrap().x,
        "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc"
    );

    // Expired by 2030 (exp 1883000000).
    let late = parsed
        .verify(&*issuer_key(), &KbPolicy::none(1_900_000_000))
        .unwrap();
    assert_eq!(
        late.problems.iter().map(|p| p.code).collect::<Vec<_>>(),
        ["sdjwt.expired"]
    );
}

#[test]
fn section_5_1_presentation_keeps_only_chosen_claims() {
    let p = sdjwt::present(&example("section5_1.txt"), &["given_name", "nationalities"]).unwrap();
    let v = sdjwt::parse(&p)
        .unwrap()
        .verify(&*issuer_key(), &KbPolicy::none(1_700_000_000))
        .unwrap();
    assert!(v.is_valid(), "{:?}", v.problems);
    assert_eq!(v.claims["given_name"], "John");
    assert_eq!(v.claims["nationalities"], json!(["US", "DE"]));
    assert!(!v.claims.contains_key("family_name"));
    assert!(!v.claims.contains_key("address"));
}

#[test]
fn appendix_a1_nested_object() {
    let parsed = sdjwt::parse(&example("a1.txt")).unwrap();
    let v = parsed
        .verify(&*issuer_key(), &KbPolicy::none(1_700_000_000))
        .unwrap();
    assert!(v.is_valid(), "{:?}", v.problems);
    assert_eq!(
        v.claims["address"],
        json!({"region": "港区", "country": "JP"})
    );
    assert_eq!(v.disclosed, ["address.region", "address.country"]);
}

#[test]
fn appendix_a2_complex_structure() {
    let parsed = sdjwt::parse(&example("a2.txt")).unwrap();
    let v = parsed
        .verify(&*issuer_key(), &KbPolicy::none(1_700_000_000))
        .unwrap();
    assert!(v.is_valid(), "{:?}", v.problems);
    let vc = &v.claims["verified_claims"];
    assert_eq!(vc["verification"]["trust_framework"], "de_aml");
    assert_eq!(vc["verification"]["time"], "2012-04-23T18:25Z");
    assert_eq!(vc["verification"]["evidence"][0]["method"], "pipp");
    assert_eq!(vc["claims"]["given_name"], "Max");
    assert_eq!(vc["claims"]["family_name"], "Müller");
    assert_eq!(vc["claims"]["address"]["street_address"], "Weidenstraße 22");
    assert!(!v.claims.contains_key("_sd"));
}

#[test]
fn appendix_a3_sd_jwt_vc_with_key_binding() {
    let text = example("a3_kb.txt");
    let parsed = sdjwt::parse(&text).unwrap();
    assert!(parsed.kb_jwt.is_some());
    assert_eq!(parsed.jws.header.typ.as_deref(), Some("dc+sd-jwt"));
    let iat = 1_748_454_271;
    let policy = KbPolicy::required("https://verifier.example.org", "1234567890", iat + 10);
    let v = parsed.verify(&*issuer_key(), &policy).unwrap();
    assert!(v.is_valid(), "{:?}", v.problems);
    assert_eq!(v.claims["age_equal_or_over"], json!({"18": true}));
    assert_eq!(v.claims["nationalities"], json!(["DE"]));
    assert_eq!(v.claims["vct"], "urn:eudi:pid:de:1");

    let codes = |p: KbPolicy| -> Vec<&'static str> {
        parsed
            .verify(&*issuer_key(), &p)
            .unwrap()
            .problems
            .iter()
            .map(|p| p.code)
            .collect()
    };
    assert_eq!(
        codes(KbPolicy::required(
            "https://verifier.example.org",
            "other",
            iat
        )),
        ["kb.nonce"]
    );
    assert_eq!(
        codes(KbPolicy::required(
            "https://evil.example",
            "1234567890",
            iat
        )),
        ["kb.aud"]
    );
    assert_eq!(
        codes(KbPolicy::required(
            "https://verifier.example.org",
            "1234567890",
            iat + 3600
        )),
        ["kb.iat"]
    );
    assert_eq!(
        codes(KbPolicy::required(
            "https://verifier.example.org",
            "1234567890",
            iat - 3600
        )),
        ["kb.iat"]
    );

    // Dropping a disclosure (the last one, nationalities) changes sd_hash.
    let mut parts: Vec<&str> = text.split('~').collect();
    parts.remove(parts.len() - 2);
    let p = sdjwt::parse(&parts.join("~")).unwrap();
    let v = p
        .verify(
            &*issuer_key(),
            &KbPolicy::required("https://verifier.example.org", "1234567890", iat),
        )
        .unwrap();
    assert_eq!(
        v.problems.iter().map(|p| p.code).collect::<Vec<_>>(),
        ["kb.sd_hash"]
    );
}
