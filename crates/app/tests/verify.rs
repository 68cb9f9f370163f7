//! Verification problems (a verdict) versus input that cannot be checked (an error).

mod common;

use common::*;
use elicense_app::verify::{verify, Verdict, VerifyOptions};
use elicense_app::ErrorKind;
use elicense_crypto::sdjwt::{self, Issuance};
use elicense_crypto::{Alg, KeyPair, Signer};
use elicense_store::KeyRecord;
use serde_json::{json, Map, Value};

async fn check(env: &Env, input: &str) -> Verdict {
    verify(&env.node, input, &VerifyOptions::default())
        .await
        .expect("a verdict, not an error")
}

fn codes(v: &Verdict) -> Vec<&str> {
    v.problems.iter().map(|p| p.code.as_str()).collect()
}

/// Replaces the issuer JWT's header or payload (signature kept).
fn rewrite(credential: &str, header: Option<&Value>, payload: Option<&Value>) -> String {
    let (jwt, rest) = credential.split_once('~').unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let h = header.map(b64_encode_json).unwrap_or(parts[0].to_string());
    let p = payload.map(b64_encode_json).unwrap_or(parts[1].to_string());
    format!("{h}.{p}.{}~{rest}", parts[2])
}

#[tokio::test]
async fn tampered_payload_is_signature_invalid() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::Sm2)).await;
    let (_, mut payload) = jwt_parts(&issued.credential);
    payload["name"] = json!("冒名顶替有限公司");
    let v = check(&env, &rewrite(&issued.credential, None, Some(&payload))).await;
    assert!(!v.valid);
    assert!(codes(&v).contains(&"signature.invalid"), "{:?}", codes(&v));

    // A changed disclosure no longer matches any digest.
    let parts: Vec<&str> = issued.credential.split('~').collect();
    let d = b64_json(parts[1]);
    let forged = b64_encode_json(&json!([d[0], d[1], "冒名"]));
    let tampered = issued.credential.replace(parts[1], &forged);
    let v = check(&env, &tampered).await;
    assert!(!v.valid);
    assert!(
        codes(&v).contains(&"sdjwt.unreferenced_disclosure"),
        "{:?}",
        codes(&v)
    );
}

#[tokio::test]
async fn unknown_kid_is_unknown_key() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let (mut header, _) = jwt_parts(&issued.credential);
    header["kid"] = json!("no-such-key");
    let v = check(&env, &rewrite(&issued.credential, Some(&header), None)).await;
    assert!(!v.valid);
    assert_eq!(codes(&v), vec!["issuer.unknown_key"]);
    assert!(
        v.claims.is_empty(),
        "nothing unverified is shown as a claim"
    );

    // A credential signed by a key the node never saw.
    let stranger = KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng);
    let mut plain = Map::new();
    plain.insert("iss".into(), json!(env.node.issuer_url(BJ_SAMR)));
    plain.insert("iat".into(), json!(T0));
    let cred = sdjwt::issue(
        &stranger,
        &Issuance {
            plain,
            selective: vec![],
            holder_jwk: None,
            decoys: 0,
        },
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    let v = check(&env, &cred).await;
    assert_eq!(codes(&v), vec!["issuer.unknown_key"]);
}

#[tokio::test]
async fn altered_iss_is_refused() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::Es256)).await;
    let (_, mut payload) = jwt_parts(&issued.credential);
    payload["iss"] = json!(env.node.issuer_url("113100000000000118"));
    let v = check(&env, &rewrite(&issued.credential, None, Some(&payload))).await;
    assert!(!v.valid);
    assert!(codes(&v).contains(&"signature.invalid"), "{:?}", codes(&v));
    assert!(codes(&v).contains(&"issuer.mismatch"), "{:?}", codes(&v));

    // Properly signed by issuer A's key but naming issuer B: the key's owner decides.
    let rec = env
        .store
        .license(issued.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    let signer = env.node.keys.signer(BJ_SAMR, Alg::Es256, T0).await.unwrap();
    assert_eq!(signer.kid(), rec.kid);
    let mut plain = payload.as_object().unwrap().clone();
    plain.remove("_sd");
    plain.remove("_sd_alg");
    let cred = sdjwt::issue(
        signer.as_ref(),
        &Issuance {
            plain,
            selective: vec![],
            holder_jwk: None,
            decoys: 0,
        },
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    let v = check(&env, &cred).await;
    assert!(!v.valid);
    assert_eq!(codes(&v), vec!["issuer.mismatch"]);
    assert_eq!(v.issuer.as_deref(), Some(BJ_SAMR));
}

#[tokio::test]
async fn duplicate_disclosure_is_a_problem() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let first = issued.credential.split('~').nth(1).unwrap();
    let dup = format!("{}{first}~", issued.credential);
    let v = check(&env, &dup).await;
    assert!(!v.valid);
    assert!(
        codes(&v).contains(&"sdjwt.duplicate_disclosure"),
        "{:?}",
        codes(&v)
    );
}

#[tokio::test]
async fn malformed_input_is_an_error_with_a_stable_code() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let cred = issued.credential.as_str();
    let jwt_len = cred.find('~').unwrap();
    let (header, payload) = jwt_parts(cred);
    let mut none = header.clone();
    none["alg"] = json!("none");
    let mut hs = header.clone();
    hs["alg"] = json!("HS256");
    let unsigned = format!("{}.{}.~", b64_encode_json(&none), b64_encode_json(&payload));
    let inputs: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "sdjwt.malformed"),
        ("garbage", "garbage!!".into(), "sdjwt.malformed"),
        ("garbage with tilde", "a.b.c~".into(), "jws.malformed"),
        (
            "truncated signature",
            format!("{}~", &cred[..jwt_len - 10]),
            "jws.signature_length",
        ),
        (
            "last ~ cut",
            cred[..cred.len() - 1].to_string(),
            "sdjwt.malformed",
        ),
        ("empty disclosure", format!("{cred}~"), "sdjwt.malformed"),
        (
            "alg none",
            rewrite(cred, Some(&none), None),
            "jws.unsupported_alg",
        ),
        ("alg none unsigned", unsigned, "jws.unsupported_alg"),
        (
            "alg HS256",
            rewrite(cred, Some(&hs), None),
            "jws.unsupported_alg",
        ),
        ("too large", "a".repeat(300 * 1024), "sdjwt.too_large"),
    ];
    for (what, input, code) in inputs {
        let e = verify(&env.node, &input, &VerifyOptions::default())
            .await
            .expect_err(what);
        assert_eq!(e.code, code, "{what}: {e}");
        assert_eq!(e.kind, ErrorKind::Invalid, "{what}");
    }
    // A truncated disclosure is an error too, whatever the cut.
    let second = cred.split('~').nth(2).unwrap();
    let start = cred.find(second).unwrap();
    let cut = format!("{}~", &cred[..start + second.len() / 2]);
    let e = verify(&env.node, &cut, &VerifyOptions::default())
        .await
        .expect_err("truncated disclosure");
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert!(
        e.code.starts_with("sdjwt.") || e.code.starts_with("b64."),
        "{e}"
    );
}

/// A key revoked before the credential's `iat` (a stolen key used after revocation).
#[tokio::test]
async fn key_revoked_before_issuance_is_not_valid() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let (_, payload) = jwt_parts(&issued.credential);

    let pair = KeyPair::generate(Alg::EdDSA, &mut rand::rngs::OsRng);
    env.store
        .put_key(KeyRecord {
            kid: pair.kid().to_string(),
            issuer: BJ_SAMR.to_string(),
            alg: "ed25519".into(),
            public_jwk: serde_json::to_string(&pair.public_jwk()).unwrap(),
            encrypted_pem: pair
                .to_encrypted_pem(
                    env.node.config.key_password.as_bytes(),
                    &mut rand::rngs::OsRng,
                )
                .unwrap(),
            sm2_signer_id: None,
            not_before: T0 - 86_400,
            not_after: None,
            revoked_at: Some(T0 - 3600),
        })
        .await
        .unwrap();
    let mut plain = payload.as_object().unwrap().clone();
    plain.remove("_sd");
    plain.remove("_sd_alg");
    let cred = sdjwt::issue(
        &pair,
        &Issuance {
            plain,
            selective: vec![],
            holder_jwk: None,
            decoys: 0,
        },
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    let v = check(&env, &cred).await;
    assert!(!v.valid);
    assert_eq!(codes(&v), vec!["issuer.key_revoked"]);

    // The node never signs with it, and does not publish it.
    let signer = env.node.keys.signer(BJ_SAMR, Alg::EdDSA, T0).await.unwrap();
    assert_ne!(signer.kid(), pair.kid());
    let jwks = env.node.keys.jwks(BJ_SAMR).await.unwrap();
    assert!(jwks.find(pair.kid()).is_none());
}

#[tokio::test]
async fn a_key_not_yet_valid_at_iat_is_not_valid() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let (_, payload) = jwt_parts(&issued.credential);
    let signer = env.node.keys.signer(BJ_SAMR, Alg::EdDSA, T0).await.unwrap();
    let mut plain = payload.as_object().unwrap().clone();
    plain.remove("_sd");
    plain.remove("_sd_alg");
    plain.insert("iat".into(), json!(T0 - 86_400)); // before the key was made (T0)
    let cred = sdjwt::issue(
        signer.as_ref(),
        &Issuance {
            plain,
            selective: vec![],
            holder_jwk: None,
            decoys: 0,
        },
        &mut rand::rngs::OsRng,
    )
    .unwrap();
    let v = check(&env, &cred).await;
    assert_eq!(codes(&v), vec!["issuer.key_not_valid"]);
}

#[tokio::test]
async fn foreign_and_missing_status_are_problems() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let (_, payload) = jwt_parts(&issued.credential);
    let signer = env.node.keys.signer(BJ_SAMR, Alg::EdDSA, T0).await.unwrap();
    let sign = |plain: Map<String, Value>| {
        sdjwt::issue(
            signer.as_ref(),
            &Issuance {
                plain,
                selective: vec![],
                holder_jwk: None,
                decoys: 0,
            },
            &mut rand::rngs::OsRng,
        )
        .unwrap()
    };
    let mut plain = payload.as_object().unwrap().clone();
    plain.remove("_sd");
    plain.remove("_sd_alg");

    let mut foreign = plain.clone();
    foreign["status"] =
        json!({"status_list": {"uri": "https://else.example/status-lists/1", "idx": 0}});
    assert_eq!(
        codes(&check(&env, &sign(foreign)).await),
        vec!["status.foreign_list"]
    );

    let mut missing = plain.clone();
    missing.remove("status");
    assert_eq!(
        codes(&check(&env, &sign(missing)).await),
        vec!["status.missing"]
    );

    let mut beyond = plain.clone();
    beyond["status"]["status_list"]["idx"] = json!(u32::MAX);
    assert_eq!(
        codes(&check(&env, &sign(beyond)).await),
        vec!["status.unknown_entry"]
    );

    let mut too_big = plain.clone();
    too_big["status"]["status_list"]["idx"] = json!(1u64 << 32);
    let v = check(&env, &sign(too_big)).await;
    assert!(!v.valid, "an idx beyond u32 must not wrap to slot 0");
}

#[tokio::test]
async fn not_yet_valid_is_a_problem() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    env.clock.set(T0 - 86_400 * 2);
    let v = verify(&env.node, &issued.credential, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(!v.valid);
    assert!(
        codes(&v).contains(&"license.not_yet_valid"),
        "{:?}",
        codes(&v)
    );
}

/// Another JWT signed by an issuer key (its status-list token) is not a credential.
#[tokio::test]
async fn a_status_list_token_is_not_a_credential() {
    let env = env().await;
    let issued = issue_ok(&env, request(BUSINESS, 0, Alg::EdDSA)).await;
    let list = env.node.status.list_id(&issued.status.uri).unwrap();
    let token = env.node.status.token(list, T0).await.unwrap().unwrap();
    let v = check(&env, &format!("{}~", token.jwt)).await;
    assert!(!v.valid);
    assert!(codes(&v).contains(&"credential.typ"), "{:?}", codes(&v));
}
