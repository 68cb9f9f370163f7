//! SD-JWT VC issuance, presentation and verification, run for every algorithm, plus the
//! bad-input codes and a property test that mangled credentials never verify clean.

mod common;

use elicense_crypto::sdjwt::{self, Disclosure, Issuance, KbPolicy};
use elicense_crypto::{b64, Alg, KeyPair, Signer};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const NOW: i64 = 1_767_225_700;
const AUD: &str = "https://verifier.example.cn";
const NONCE: &str = "n-0S6_WzA2Mj";

fn workload() -> (Map<String, Value>, Vec<(String, Value)>) {
    let path = format!(
        "{}/testdata/bench_driving_license_claims.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let plain = v["plain"].as_object().unwrap().clone();
    let sd = v["sd"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (plain, sd)
}

fn issuance(holder: Option<&KeyPair>) -> Issuance {
    let (plain, selective) = workload();
    Issuance {
        plain,
        selective,
        holder_jwk: holder.map(KeyPair::public_jwk),
        decoys: 3,
    }
}

fn codes(v: &sdjwt::Verified) -> Vec<&'static str> {
    v.problems.iter().map(|p| p.code).collect()
}

#[test]
fn issue_present_bind_verify_all_algs() {
    for (i, alg) in Alg::ALL.into_iter().enumerate() {
        for holder_alg in Alg::ALL {
            let mut rng = common::rng(600 + i as u64);
            let issuer = KeyPair::generate(alg, &mut rng);
            let holder = KeyPair::generate(holder_alg, &mut rng);
            let cred = sdjwt::issue(&issuer, &issuance(Some(&holder)), &mut rng).unwrap();
            assert!(cred.ends_with('~'));

            let parsed = sdjwt::parse(&cred).unwrap();
            assert_eq!(parsed.jws.header.typ.as_deref(), Some("dc+sd-jwt"));
            assert_eq!(parsed.kid(), Some(issuer.kid()));
            assert_eq!(parsed.issuer(), Some("https://dzzz.example.cn/issuer/jtgl"));
            assert_eq!(parsed.disclosures.len(), 12);
            let sd = parsed.jws.payload["_sd"].as_array().unwrap();
            assert_eq!(sd.len(), 15, "12 digests + 3 decoys");
            assert!(
                sd.windows(2).all(|w| w[0].as_str() < w[1].as_str()),
                "sorted"
            );

            let full = parsed
                .verify(&*issuer.verifier(), &KbPolicy::none(NOW))
                .unwrap();
            assert!(full.is_valid(), "{alg:?}: {:?}", full.problems);
            assert_eq!(full.claims["name"], "张伟");
            assert_eq!(full.claims["status"]["status_list"]["idx"], 0);
            assert!(!full.claims.contains_key("_sd") && !full.claims.contains_key("_sd_alg"));
            assert_eq!(full.disclosed.len(), 12);
            assert_eq!(full.holder_jwk.as_ref(), Some(&holder.public_jwk()));

            let shown = sdjwt::present(&cred, &["name", "vehicle_class"]).unwrap();
            let kb = sdjwt::add_key_binding(&shown, &holder, AUD, NONCE, NOW - 5).unwrap();
            let v = sdjwt::parse(&kb)
                .unwrap()
                .verify(&*issuer.verifier(), &KbPolicy::required(AUD, NONCE, NOW))
                .unwrap();
            assert!(v.is_valid(), "{alg:?}/{holder_alg:?}: {:?}", v.problems);
            let mut disclosed = v.disclosed.clone();
            disclosed.sort();
            assert_eq!(disclosed, ["name", "vehicle_class"]);
            assert!(!v.claims.contains_key("id_number"));
            assert_eq!(v.claims["iss"], "https://dzzz.example.cn/issuer/jtgl");
        }
    }
}

#[test]
fn two_step_issuance_and_key_binding() {
    let mut rng = common::rng(650);
    let issuer = KeyPair::generate(Alg::Sm2, &mut rng);
    let holder = KeyPair::generate(Alg::Es256, &mut rng);
    let prepared = sdjwt::prepare(&issuance(Some(&holder)), Alg::Sm2, issuer.kid(), &mut rng);
    let sig = issuer.sign(prepared.jws.signing_input()).unwrap(); // e.g. an HSM
    let cred = prepared.complete(&sig);
    let shown = sdjwt::present(&cred, &["sex"]).unwrap();
    let kb = sdjwt::key_binding_prepare(&shown, AUD, NONCE, NOW, Alg::Es256);
    let kb_sig = holder.sign(kb.signing_input()).unwrap(); // e.g. WebCrypto in a wallet
    let pres = format!("{shown}{}", kb.complete(&kb_sig));
    let v = sdjwt::parse(&pres)
        .unwrap()
        .verify(&*issuer.verifier(), &KbPolicy::required(AUD, NONCE, NOW))
        .unwrap();
    assert!(v.is_valid(), "{:?}", v.problems);
}

#[test]
fn bad_inputs_give_stable_codes() {
    let mut rng = common::rng(700);
    let issuer = KeyPair::generate(Alg::EdDSA, &mut rng);
    let cred = sdjwt::issue(&issuer, &issuance(None), &mut rng).unwrap();
    let jwt = cred.split('~').next().unwrap();
    let err = |s: &str| sdjwt::parse(s).unwrap_err().code();

    assert_eq!(err(jwt), "sdjwt.malformed", "a plain JWT is not an SD-JWT");
    assert_eq!(
        err(&cred[..cred.len() - 1]),
        "sdjwt.malformed",
        "truncated: trailing ~ lost"
    );
    assert_eq!(
        err(&cred[..cred.len() - 10]),
        "sdjwt.malformed",
        "truncated inside a disclosure"
    );
    assert_eq!(err(&format!("{jwt}~~")), "sdjwt.malformed");
    assert_eq!(err(&cred[..jwt.len() - 5]), "sdjwt.malformed");
    let (signing_input, _) = jwt.rsplit_once('.').unwrap();
    assert_eq!(
        err(&format!("{signing_input}.{}~", b64::encode(&[1; 63]))),
        "jws.signature_length"
    );
    assert_eq!(
        err(&format!("{jwt}~WyJhIiwgImIiXQ=~")),
        "sdjwt.bad_disclosure"
    );
    assert_eq!(
        err(&format!("{jwt}~{}~", b64::encode(b"not json"))),
        "sdjwt.bad_disclosure"
    );
    assert_eq!(
        err(&format!("{jwt}~{}~", b64::encode(br#"["s","a","b","c"]"#))),
        "sdjwt.bad_disclosure"
    );
    assert_eq!(
        err(&format!("{jwt}~{}~", b64::encode(br#"["s"]"#))),
        "sdjwt.bad_disclosure"
    );
    assert_eq!(
        err(&format!("{jwt}~{}~", b64::encode(br#"["s","_sd",1]"#))),
        "sdjwt.bad_disclosure"
    );
    assert_eq!(
        err(&format!("{jwt}~{}~", b64::encode(br#"[1,"a",1]"#))),
        "sdjwt.bad_disclosure"
    );
    assert_eq!(err(&format!("{jwt}~a.b~")), "sdjwt.bad_disclosure");
    assert_eq!(err(&format!("{jwt}~x.y.z")), "kb.malformed");
    assert_eq!(err(&"A".repeat(sdjwt::MAX_LEN + 1)), "sdjwt.too_large");

    let none = format!(
        "{}.{}.~",
        b64::encode(br#"{"alg":"none"}"#),
        jwt.split('.').nth(1).unwrap()
    );
    assert_eq!(err(&none), "jws.unsupported_alg");
    let hs = format!(
        "{}.{}.{}~",
        b64::encode(br#"{"alg":"HS256"}"#),
        jwt.split('.').nth(1).unwrap(),
        b64::encode(&[0; 32])
    );
    assert_eq!(err(&hs), "jws.unsupported_alg");
}

#[test]
fn verification_problems_have_codes() {
    let mut rng = common::rng(800);
    let issuer = KeyPair::generate(Alg::Es256, &mut rng);
    let holder = KeyPair::generate(Alg::EdDSA, &mut rng);
    let bound = sdjwt::issue(&issuer, &issuance(Some(&holder)), &mut rng).unwrap();
    let unbound = sdjwt::issue(&issuer, &issuance(None), &mut rng).unwrap();
    let verify = |s: &str, p: &KbPolicy| {
        codes(
            &sdjwt::parse(s)
                .unwrap()
                .verify(&*issuer.verifier(), p)
                .unwrap(),
        )
    };
    let none = KbPolicy::none(NOW);
    let parts: Vec<&str> = bound.split('~').collect();

    // Duplicate and unreferenced disclosures.
    assert_eq!(
        verify(&format!("{bound}{}~", parts[1]), &none),
        ["sdjwt.duplicate_disclosure"]
    );
    let stranger = Disclosure::new("name", json!("李四"), &mut rng);
    assert_eq!(
        verify(&format!("{bound}{}~", stranger.encoded), &none),
        ["sdjwt.unreferenced_disclosure"]
    );

    // Wrong issuer key.
    let other = KeyPair::generate(Alg::Es256, &mut rng);
    let p = sdjwt::parse(&bound).unwrap();
    assert_eq!(
        codes(&p.verify(&*other.verifier(), &none).unwrap()),
        ["signature.invalid"]
    );
    let ed = KeyPair::generate(Alg::EdDSA, &mut rng);
    assert_eq!(
        codes(&p.verify(&*ed.verifier(), &none).unwrap()),
        ["signature.invalid"]
    );

    // Key binding.
    let shown = sdjwt::present(&bound, &["name"]).unwrap();
    let required = KbPolicy::required(AUD, NONCE, NOW);
    assert_eq!(verify(&shown, &required), ["kb.missing"]);
    let kb = |aud: &str, nonce: &str, iat: i64| {
        sdjwt::add_key_binding(&shown, &holder, aud, nonce, iat).unwrap()
    };
    assert_eq!(verify(&kb(AUD, "wrong", NOW), &required), ["kb.nonce"]);
    assert_eq!(
        verify(&kb("https://other", NONCE, NOW), &required),
        ["kb.aud"]
    );
    assert_eq!(verify(&kb(AUD, NONCE, NOW - 3600), &required), ["kb.iat"]);
    assert_eq!(verify(&kb(AUD, NONCE, NOW + 3600), &required), ["kb.iat"]);
    // A KB-JWT moved onto another presentation: sd_hash no longer matches.
    let good = kb(AUD, NONCE, NOW);
    let kb_jwt = &good[good.rfind('~').unwrap() + 1..];
    let more = sdjwt::present(&bound, &["name", "sex"]).unwrap();
    assert_eq!(
        verify(&format!("{more}{kb_jwt}"), &required),
        ["kb.sd_hash"]
    );
    // Signed by someone else than the cnf key.
    let thief = KeyPair::generate(Alg::EdDSA, &mut rng);
    let forged = sdjwt::add_key_binding(&shown, &thief, AUD, NONCE, NOW).unwrap();
    assert_eq!(verify(&forged, &required), ["kb.signature"]);
    // Wrong typ.
    let prepared = elicense_crypto::jws::prepare(
        &elicense_crypto::jws::Header::new(Alg::EdDSA).with_typ("JWT"),
        &json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sdjwt::sha256_b64(&shown)}),
    );
    let sig = holder.sign(prepared.signing_input()).unwrap();
    assert_eq!(
        verify(&format!("{shown}{}", prepared.complete(&sig)), &required),
        ["kb.typ"]
    );
    // KB on a credential without cnf.
    let shown_unbound = sdjwt::present(&unbound, &["name"]).unwrap();
    let kb_unbound = sdjwt::add_key_binding(&shown_unbound, &holder, AUD, NONCE, NOW).unwrap();
    assert_eq!(verify(&kb_unbound, &none), ["kb.unexpected"]);
}

#[test]
fn structural_problems_in_signed_payloads() {
    let mut rng = common::rng(900);
    let issuer = KeyPair::generate(Alg::EdDSA, &mut rng);
    let d_a = Disclosure::new("a", json!(1), &mut rng);
    let d_el = Disclosure::new_array_element(json!("x"), &mut rng);
    let sign = |payload: Value, ds: &[&Disclosure]| {
        let jwt = elicense_crypto::jws::sign(
            &issuer,
            &elicense_crypto::jws::Header::new(Alg::EdDSA),
            &payload,
        )
        .unwrap();
        let mut s = format!("{jwt}~");
        for d in ds {
            s.push_str(&d.encoded);
            s.push('~');
        }
        s
    };
    let verify = |s: String| {
        sdjwt::parse(&s)
            .unwrap()
            .verify(&*issuer.verifier(), &KbPolicy::none(NOW))
    };
    let problems = |s: String| codes(&verify(s).unwrap());

    assert_eq!(
        problems(sign(json!({"_sd": [d_a.digest, d_a.digest]}), &[&d_a])),
        ["sdjwt.duplicate_digest"]
    );
    assert_eq!(
        problems(sign(json!({"a": 2, "_sd": [d_a.digest]}), &[&d_a])),
        ["sdjwt.claim_collision"]
    );
    assert_eq!(
        problems(sign(
            json!({"_sd": [d_a.digest], "_sd_alg": "sha-512"}),
            &[&d_a]
        )),
        ["sdjwt.bad_sd_alg", "sdjwt.unreferenced_disclosure"]
    );
    assert_eq!(
        problems(sign(json!({"_sd": [d_el.digest]}), &[&d_el])),
        ["sdjwt.bad_disclosure"]
    );
    assert_eq!(
        problems(sign(json!({"l": [{"...": d_a.digest}]}), &[&d_a])),
        ["sdjwt.bad_disclosure"]
    );
    let ok = verify(sign(
        json!({"l": [{"...": d_el.digest}, {"...": "decoy"}, 3]}),
        &[&d_el],
    ))
    .unwrap();
    assert_eq!(ok.claims["l"], json!(["x", 3]));
    assert_eq!(ok.disclosed, ["l[0]"]);
    assert_eq!(
        verify(sign(json!({"_sd": "x"}), &[])).unwrap_err().code(),
        "sdjwt.malformed"
    );
    assert_eq!(
        verify(sign(json!({"_sd": [1]}), &[])).unwrap_err().code(),
        "sdjwt.malformed"
    );
    assert_eq!(
        verify(sign(json!({"l": [{"...": 1}]}), &[]))
            .unwrap_err()
            .code(),
        "sdjwt.malformed"
    );

    // A chain of nested disclosures deeper than the limit is refused, not a stack overflow.
    let mut value = json!(0);
    let mut chain = Vec::new();
    for _ in 0..200 {
        let d = Disclosure::new("n", value, &mut rng);
        value = json!({"_sd": [d.digest.clone()]});
        chain.push(d);
    }
    let refs: Vec<&Disclosure> = chain.iter().collect();
    assert_eq!(
        verify(sign(value, &refs)).unwrap_err().code(),
        "sdjwt.malformed"
    );
}

#[test]
fn issuance_is_validated() {
    let mut rng = common::rng(950);
    let issuer = KeyPair::generate(Alg::EdDSA, &mut rng);
    let mut bad = issuance(None);
    bad.selective.push(("iss".into(), json!("x")));
    assert_eq!(
        sdjwt::issue(&issuer, &bad, &mut rng).unwrap_err().code(),
        "sdjwt.bad_issuance"
    );
    let mut bad = issuance(None);
    bad.selective.push(("_sd".into(), json!("x")));
    assert_eq!(bad.validate().unwrap_err().code(), "sdjwt.bad_issuance");
    assert_eq!(
        sdjwt::present(
            &sdjwt::issue(&issuer, &issuance(None), &mut rng).unwrap(),
            &["nope"]
        )
        .unwrap_err()
        .code(),
        "sdjwt.unknown_claim"
    );
}

fn fixture() -> (String, KeyPair) {
    let mut rng = common::rng(1000);
    let issuer = KeyPair::generate(Alg::Es256, &mut rng);
    let holder = KeyPair::generate(Alg::EdDSA, &mut rng);
    let cred = sdjwt::issue(&issuer, &issuance(Some(&holder)), &mut rng).unwrap();
    let shown = sdjwt::present(&cred, &["name", "address", "birth_date"]).unwrap();
    (
        sdjwt::add_key_binding(&shown, &holder, AUD, NONCE, NOW).unwrap(),
        issuer,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mangled_presentations_never_verify_clean(cut in any::<prop::sample::Index>(), flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 0..3), truncate in any::<bool>()) {
        let (good, issuer) = fixture();
        let mut bytes = good.clone().into_bytes();
        for (at, mask) in &flips {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        }
        if truncate || flips.is_empty() {
            bytes.truncate(cut.index(bytes.len()));
        }
        let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
        prop_assume!(text != good);
        if let Ok(parsed) = sdjwt::parse(&text) {
            if let Ok(v) = parsed.verify(&*issuer.verifier(), &KbPolicy::required(AUD, NONCE, NOW)) {
                prop_assert!(!v.problems.is_empty(), "mangled input verified clean: {text}");
            }
        }
    }
}
