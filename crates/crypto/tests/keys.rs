//! One suite, run for every algorithm: signing, verification, JWKs, key files, Debug.

mod common;

use elicense_crypto::{Alg, Jwk, KeyPair, Signer, SM2_DEFAULT_SIGNER_ID};

#[test]
fn sign_verify_round_trip_and_tampering() {
    for (i, alg) in Alg::ALL.into_iter().enumerate() {
        let key = KeyPair::generate(alg, &mut common::rng(i as u64));
        assert_eq!(key.alg(), alg);
        let msg = b"elicense \xe7\x94\xb5\xe5\xad\x90\xe8\xaf\x81\xe7\x85\xa7";
        let sig = key.sign(msg).unwrap();
        assert_eq!(sig.len(), 64, "{alg:?}");
        let v = key.verifier();
        assert_eq!(v.alg(), alg);
        v.verify(msg, &sig).unwrap();

        let mut bad_msg = msg.to_vec();
        bad_msg[0] ^= 1;
        assert_eq!(
            v.verify(&bad_msg, &sig).unwrap_err().code(),
            "signature.invalid"
        );
        for pos in [0, 31, 32, 63] {
            let mut bad = sig.clone();
            bad[pos] ^= 0x40;
            assert_eq!(
                v.verify(msg, &bad).unwrap_err().code(),
                "signature.invalid",
                "{alg:?} byte {pos}"
            );
        }
        assert!(v.verify(msg, &sig[..63]).is_err());
        assert!(v.verify(msg, &[sig.clone(), vec![0]].concat()).is_err());

        // Another key of the same algorithm does not verify it.
        let other = KeyPair::generate(alg, &mut common::rng(100 + i as u64));
        assert!(other.verifier().verify(msg, &sig).is_err());
    }
}

#[test]
fn jwk_round_trip_and_kid_is_thumbprint() {
    for (i, alg) in Alg::ALL.into_iter().enumerate() {
        let key = KeyPair::generate(alg, &mut common::rng(10 + i as u64));
        let jwk = key.public_jwk();
        assert_eq!(jwk.kid.as_deref(), Some(key.kid()));
        assert_eq!(jwk.thumbprint(), key.kid());
        assert_eq!(jwk.alg.as_deref(), Some(alg.jws_name()));
        assert_eq!(jwk.alg().unwrap(), alg);
        match alg {
            Alg::Sm2 => assert_eq!((jwk.kty.as_str(), jwk.crv.as_str()), ("EC", "SM2")),
            Alg::Es256 => assert_eq!((jwk.kty.as_str(), jwk.crv.as_str()), ("EC", "P-256")),
            Alg::EdDSA => assert_eq!((jwk.kty.as_str(), jwk.crv.as_str()), ("OKP", "Ed25519")),
        }
        let text = serde_json::to_string(&jwk).unwrap();
        let back: Jwk = serde_json::from_str(&text).unwrap();
        assert_eq!(back, jwk);
        let sig = key.sign(b"m").unwrap();
        back.verifier(None).unwrap().verify(b"m", &sig).unwrap();

        // The thumbprint ignores kid/alg/use.
        let bare = Jwk {
            kid: None,
            alg: None,
            use_: None,
            ..jwk.clone()
        };
        assert_eq!(bare.thumbprint(), key.kid());

        // A JWK whose alg contradicts its curve is refused.
        let wrong = Jwk {
            alg: Some("HS256".into()),
            ..jwk.clone()
        };
        assert_eq!(wrong.verifier(None).err().unwrap().code(), "key.malformed");
    }
}

#[test]
fn bad_jwks_are_refused() {
    let key = KeyPair::generate(Alg::Es256, &mut common::rng(20)).public_jwk();
    let short = Jwk {
        x: "AAAA".into(),
        ..key.clone()
    };
    assert_eq!(short.verifier(None).err().unwrap().code(), "key.malformed");
    let off_curve = Jwk {
        y: key.x.clone().into(),
        ..key.clone()
    };
    assert_eq!(
        off_curve.verifier(None).err().unwrap().code(),
        "key.malformed"
    );
    let unknown = Jwk {
        crv: "P-384".into(),
        ..key.clone()
    };
    assert_eq!(
        unknown.verifier(None).err().unwrap().code(),
        "key.unsupported"
    );
    // Private members are dropped on deserialization.
    let with_d = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#;
    let jwk: Jwk = serde_json::from_str(with_d).unwrap();
    assert!(!serde_json::to_string(&jwk).unwrap().contains("nWGx"));
}

#[test]
fn sm2_signer_id_matters() {
    let key = KeyPair::generate(Alg::Sm2, &mut common::rng(30));
    assert_eq!(key.sm2_signer_id(), SM2_DEFAULT_SIGNER_ID);
    let kid = key.kid().to_owned();
    let key = key.with_sm2_signer_id("ALICE123@YAHOO.COM");
    assert_eq!(key.kid(), kid);
    let sig = key.sign(b"msg").unwrap();
    key.verifier().verify(b"msg", &sig).unwrap();
    let jwk = key.public_jwk();
    jwk.verifier(Some("ALICE123@YAHOO.COM"))
        .unwrap()
        .verify(b"msg", &sig)
        .unwrap();
    assert!(jwk.verifier(None).unwrap().verify(b"msg", &sig).is_err());
}

#[test]
fn encrypted_pem_round_trip_wrong_password_and_debug() {
    for (i, alg) in Alg::ALL.into_iter().enumerate() {
        let mut rng = common::rng(40 + i as u64);
        let key = KeyPair::generate(alg, &mut rng);
        let pem = key.to_encrypted_pem(b"correct horse", &mut rng).unwrap();
        assert!(
            pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
            "{pem}"
        );
        let back = KeyPair::from_encrypted_pem(&pem, b"correct horse").unwrap();
        assert_eq!(back.alg(), alg);
        assert_eq!(back.kid(), key.kid());
        let sig = back.sign(b"x").unwrap();
        key.verifier().verify(b"x", &sig).unwrap();

        let err = KeyPair::from_encrypted_pem(&pem, b"wrong horse").unwrap_err();
        assert_eq!(err.code(), "key.bad_password", "{alg:?} {err}");
        assert_eq!(
            KeyPair::from_encrypted_pem(
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                b"p"
            )
            .unwrap_err()
            .code(),
            "key.malformed"
        );

        let debug = format!("{key:?} {back:?}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(debug.contains(key.kid()));
        // No long run of hex or base64 other than the kid: the secret never shows.
        let without_kid = debug.replace(key.kid(), "");
        assert!(
            !without_kid
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| w.len() >= 16),
            "{debug}"
        );
    }
}

#[test]
fn alg_mismatch_between_header_and_verifier() {
    let ed = KeyPair::generate(Alg::EdDSA, &mut common::rng(50));
    let es = KeyPair::generate(Alg::Es256, &mut common::rng(51));
    let header = elicense_crypto::jws::Header::new(Alg::EdDSA);
    let jwt = elicense_crypto::jws::sign(&ed, &header, &serde_json::json!({"a":1})).unwrap();
    let parsed = elicense_crypto::jws::parse(&jwt).unwrap();
    parsed.verify_with(&*ed.verifier()).unwrap();
    assert_eq!(
        parsed.verify_with(&*es.verifier()).unwrap_err().code(),
        "signature.alg_mismatch"
    );
    assert_eq!(
        elicense_crypto::jws::sign(&es, &header, &serde_json::json!({}))
            .unwrap_err()
            .code(),
        "signature.alg_mismatch"
    );
}
