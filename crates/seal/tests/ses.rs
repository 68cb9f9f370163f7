//! Seals and signing records: round trips (property-tested), strict reading, the verdict and
//! its codes for each kind of tampering, and a committed fixture re-encoded byte for byte.

mod common;

use common::*;
use der::asn1::{BitString, OctetString};
use der::{Decode, Encode};
use elicense_crypto::{Alg, KeyPair, Signer};
use elicense_seal::ses::asn1::{SeSeal, SesSignature};
use elicense_seal::ses::{
    sign_data, verify_signature, CertDigest, CertList, Problem, Seal, SealKind, SealSignature,
};
use elicense_seal::{data_hash, SigAlg};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

struct Fixture {
    maker: KeyPair,
    maker_cert: Vec<u8>,
    signer: KeyPair,
    signer_cert: Vec<u8>,
    seal: Seal,
}

fn fixture(alg: Alg) -> Fixture {
    let ca = ca(alg);
    let (maker, maker_cert) = leaf(&ca, alg, 1);
    let (signer, signer_cert) = leaf(&ca, alg, 2);
    let seal = Seal::make(&info(vec![signer_cert.clone()]), &maker, &maker_cert).unwrap();
    Fixture {
        maker,
        maker_cert,
        signer,
        signer_cert,
        seal,
    }
}

fn hash(alg: Alg, doc: &[u8]) -> Vec<u8> {
    data_hash(SigAlg::for_key(alg).unwrap(), doc)
}

#[test]
fn a_seal_signs_and_verifies_and_round_trips() {
    for alg in [Alg::Sm2, Alg::Es256] {
        let f = fixture(alg);
        let der = f.seal.to_der();
        let back = Seal::from_der(&der).unwrap();
        assert_eq!(back, f.seal);
        assert_eq!(back.to_der(), der);
        assert!(back.maker_signature_verifies());
        assert_eq!(back.info().kind, SealKind::Contract);

        let h = hash(alg, b"the document");
        let s = sign_data(&f.seal, &f.signer, &f.signer_cert, SIGNED, &h, "doc.pdf").unwrap();
        let der = s.to_der();
        assert_eq!(SealSignature::from_der(&der).unwrap(), s);
        let v = verify_signature(&der, &h, NOW).unwrap();
        assert!(v.is_valid(), "{alg}: {:?}", v.problems);
        assert_eq!(v.signature.signing_time(), SIGNED);
        assert_eq!(v.signature.property_info(), "doc.pdf");
        assert_eq!(v.signature.data_hash().len(), 32);
        assert_eq!(v.signature.alg(), SigAlg::for_key(alg).unwrap());
    }
}

#[test]
fn signing_refuses_a_signer_the_seal_does_not_list_and_a_mismatched_key() {
    let f = fixture(Alg::Sm2);
    let h = hash(Alg::Sm2, b"x");
    let err = sign_data(&f.seal, &f.maker, &f.maker_cert, SIGNED, &h, "x").unwrap_err();
    assert_eq!(err.code(), "seal.signer_not_in_seal");
    let es = key(Alg::Es256);
    let err = sign_data(&f.seal, &es, &f.signer_cert, SIGNED, &h, "x").unwrap_err();
    assert_eq!(err.code(), "seal.unsupported_alg");
    let ed = key(Alg::EdDSA);
    let err = Seal::make(&info(vec![f.signer_cert.clone()]), &ed, &f.maker_cert).unwrap_err();
    assert_eq!(err.code(), "seal.unsupported_alg");
    let mut bad = info(vec![]);
    let err = Seal::make(&bad, &f.maker, &f.maker_cert).unwrap_err();
    assert_eq!(err.code(), "seal.bad_value");
    bad = info(vec![f.signer_cert.clone()]);
    bad.valid_to = bad.valid_from - Duration::seconds(1);
    let err = Seal::make(&bad, &f.maker, &f.maker_cert).unwrap_err();
    assert_eq!(err.code(), "seal.bad_value");
    bad = info(vec![f.signer_cert.clone()]);
    bad.seal_id = "印章".into();
    let err = Seal::make(&bad, &f.maker, &f.maker_cert).unwrap_err();
    assert_eq!(err.code(), "seal.bad_value");
}

/// Re-signs a modified TBS_Sign with `signer`, as a forger holding a signer key would.
fn resign(mut asn1: SesSignature, signer: &KeyPair, cert: &[u8]) -> Vec<u8> {
    asn1.cert = OctetString::new(cert.to_vec()).unwrap();
    let rs = signer.sign(&asn1.to_sign.to_der().unwrap()).unwrap();
    asn1.signature = BitString::from_bytes(&rs_to_der(&rs)).unwrap();
    asn1.to_der().unwrap()
}

fn rs_to_der(rs: &[u8]) -> Vec<u8> {
    let int = |b: &[u8]| {
        let mut v: Vec<u8> = b.iter().copied().skip_while(|&x| x == 0).collect();
        if v.first().is_none_or(|&x| x & 0x80 != 0) {
            v.insert(0, 0);
        }
        [vec![0x02, v.len() as u8], v].concat()
    };
    let body = [int(&rs[..32]), int(&rs[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

fn problems(der: &[u8], h: &[u8]) -> Vec<&'static str> {
    verify_signature(der, h, NOW)
        .unwrap()
        .problems
        .iter()
        .map(|p| p.code())
        .collect()
}

#[test]
fn tampering_gives_each_its_code() {
    for alg in [Alg::Sm2, Alg::Es256] {
        let f = fixture(alg);
        let h = hash(alg, b"the document");
        let good = sign_data(&f.seal, &f.signer, &f.signer_cert, SIGNED, &h, "doc").unwrap();
        let asn1 = good.asn1().clone();

        // A changed byte in the picture: the maker's signature breaks, and so does the
        // signer's (the seal is inside TBS_Sign).
        let mut t = asn1.clone();
        let mut pic = t.to_sign.eseal.e_seal_info.picture.data.as_bytes().to_vec();
        pic[3] ^= 0x20;
        t.to_sign.eseal.e_seal_info.picture.data = OctetString::new(pic).unwrap();
        let der = t.to_der().unwrap();
        assert_eq!(
            problems(&der, &h),
            ["seal.signature_invalid", "seal.maker_signature_invalid"],
            "{alg}"
        );
        // ... and re-signed by the signer, only the maker's signature is wrong.
        let der = resign(t, &f.signer, &f.signer_cert);
        assert_eq!(
            problems(&der, &h),
            ["seal.maker_signature_invalid"],
            "{alg}"
        );

        // A changed byte in the data hash.
        let mut t = asn1.clone();
        let mut dh = t.to_sign.data_hash.raw_bytes().to_vec();
        dh[0] ^= 1;
        t.to_sign.data_hash = BitString::from_bytes(&dh).unwrap();
        let der = t.to_der().unwrap();
        assert_eq!(
            problems(&der, &h),
            ["seal.signature_invalid", "seal.data_hash_mismatch"],
            "{alg}"
        );
        // The document changed instead.
        assert_eq!(
            problems(&good.to_der(), &hash(alg, b"another document")),
            ["seal.data_hash_mismatch"]
        );

        // A signer whose certificate the seal does not list (the maker, signing itself).
        let der = resign(asn1.clone(), &f.maker, &f.maker_cert);
        assert_eq!(problems(&der, &h), ["seal.signer_not_in_seal"], "{alg}");

        // A seal used after its validity (one year from T0), certificates still valid.
        let late = T0 + Duration::days(400);
        let s = sign_data(&f.seal, &f.signer, &f.signer_cert, late, &h, "doc").unwrap();
        let v = verify_signature(&s.to_der(), &h, late + Duration::days(1)).unwrap();
        assert_eq!(v.problems, [Problem::SealNotValid], "{alg}");
        // After the signer's certificate too (two years), and in the verifier's future.
        let later = T0 + Duration::days(800);
        let s = sign_data(&f.seal, &f.signer, &f.signer_cert, later, &h, "doc").unwrap();
        assert_eq!(
            problems(&s.to_der(), &h),
            [
                "seal.maker_cert_not_valid",
                "seal.outside_validity",
                "seal.signer_cert_not_valid",
                "seal.signed_in_future"
            ],
            "{alg}"
        );

        // Truncated DER, trailing bytes.
        let der = good.to_der();
        for cut in [1, 10, der.len() / 2, der.len() - 1] {
            let err = verify_signature(&der[..cut], &h, NOW).unwrap_err();
            assert_eq!(err.code(), "seal.bad_der", "{alg} cut at {cut}");
        }
        let err = verify_signature(&[der.clone(), vec![0]].concat(), &h, NOW).unwrap_err();
        assert_eq!(err.code(), "seal.trailing_bytes");
        let err = Seal::from_der(&[f.seal.to_der(), vec![0, 0]].concat()).unwrap_err();
        assert_eq!(err.code(), "seal.trailing_bytes");
    }
}

#[test]
fn strict_reading_names_versions_and_gmt0031() {
    let f = fixture(Alg::Sm2);
    let h = hash(Alg::Sm2, b"d");
    let good = sign_data(&f.seal, &f.signer, &f.signer_cert, SIGNED, &h, "d").unwrap();

    let mut seal = f.seal.asn1().clone();
    seal.e_seal_info.header.version = 2;
    let err = Seal::from_der(&seal.to_der().unwrap()).unwrap_err();
    assert_eq!(err.code(), "seal.wrong_version");
    let mut t = good.asn1().clone();
    t.to_sign.version = 3;
    let err = SealSignature::from_der(&t.to_der().unwrap()).unwrap_err();
    assert_eq!(err.code(), "seal.wrong_version");

    // GM/T 0031 shapes: SESeal { sealInfo, signInfo }, SES_Signature { toSign, signature }.
    #[derive(der::Sequence)]
    struct Two {
        a: der::asn1::Any,
        b: der::asn1::Any,
    }
    let any = |d: Vec<u8>| der::asn1::Any::from_der(&d).unwrap();
    let v1 = Two {
        a: any(f.seal.asn1().e_seal_info.to_der().unwrap()),
        b: any(f.seal.asn1().signed_value.to_der().unwrap()),
    };
    let err = Seal::from_der(&v1.to_der().unwrap()).unwrap_err();
    assert_eq!(err.code(), "seal.gmt0031_v1");
    let err = verify_signature(&v1.to_der().unwrap(), &h, NOW).unwrap_err();
    assert_eq!(err.code(), "seal.gmt0031_v1");

    let mut bad = f.seal.asn1().clone();
    bad.e_seal_info.header.id = der::asn1::Ia5String::new("EX").unwrap();
    let err = Seal::from_der(&bad.to_der().unwrap()).unwrap_err();
    assert_eq!(err.code(), "seal.bad_header");

    // BER, not DER: a long-form length where the short form fits.
    let der = f.seal.to_der();
    let body = &der[4..]; // 30 82 hi lo
    let mut ber = vec![0x30, 0x83, 0x00];
    ber.extend_from_slice(&der[2..4]);
    ber.extend_from_slice(body);
    assert_eq!(Seal::from_der(&ber).unwrap_err().code(), "seal.bad_der");
    assert_eq!(Seal::from_der(b"").unwrap_err().code(), "seal.bad_der");
    assert_eq!(
        Seal::from_der(&[0x04, 0x00]).unwrap_err().code(),
        "seal.bad_der"
    );
}

#[test]
fn a_digest_list_seal_lets_the_listed_signer_sign() {
    let f = fixture(Alg::Sm2);
    let mut i = info(vec![]);
    i.signers = CertList::Digests(vec![CertDigest {
        alg: "SM3".into(),
        value: data_hash(SigAlg::Sm2WithSm3, &f.signer_cert),
    }]);
    let seal = Seal::make(&i, &f.maker, &f.maker_cert).unwrap();
    assert_eq!(Seal::from_der(&seal.to_der()).unwrap(), seal);
    let h = hash(Alg::Sm2, b"d");
    let s = sign_data(&seal, &f.signer, &f.signer_cert, SIGNED, &h, "d").unwrap();
    assert!(verify_signature(&s.to_der(), &h, NOW).unwrap().is_valid());
    let err = sign_data(&seal, &f.maker, &f.maker_cert, SIGNED, &h, "d").unwrap_err();
    assert_eq!(err.code(), "seal.signer_not_in_seal");
}

/// The committed fixture: an SM2 seal and a signing record made by this crate. They must
/// read and re-encode byte for byte, and the record must verify for its document.
#[test]
fn the_committed_fixture_reads_and_re_encodes_byte_for_byte() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let read = |n: &str| hex::decode(std::fs::read_to_string(dir.join(n)).unwrap().trim()).unwrap();
    let (seal_der, sig_der) = (read("seal_sm2.hex"), read("signature_sm2.hex"));
    let seal = Seal::from_der(&seal_der).unwrap();
    assert_eq!(seal.to_der(), seal_der);
    assert!(seal.maker_signature_verifies());
    let sig = SealSignature::from_der(&sig_der).unwrap();
    assert_eq!(sig.to_der(), sig_der);
    assert_eq!(sig.seal(), &seal);
    let h = data_hash(SigAlg::Sm2WithSm3, b"fixture document");
    let v = verify_signature(&sig_der, &h, NOW).unwrap();
    assert!(v.is_valid(), "{:?}", v.problems);
    // The ASN.1 types alone (no checks) also round-trip it.
    assert_eq!(
        SeSeal::from_der(&seal_der).unwrap().to_der().unwrap(),
        seal_der
    );
}

/// Writes the fixture (run with `--ignored` to regenerate; every time in it and in the check above is fixed).
#[test]
#[ignore]
fn write_fixture() {
    let f = fixture(Alg::Sm2);
    let h = data_hash(SigAlg::Sm2WithSm3, b"fixture document");
    let s = sign_data(
        &f.seal,
        &f.signer,
        &f.signer_cert,
        SIGNED,
        &h,
        "fixture.txt",
    )
    .unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    std::fs::write(
        dir.join("seal_sm2.hex"),
        hex::encode(f.seal.to_der()) + "\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("signature_sm2.hex"),
        hex::encode(s.to_der()) + "\n",
    )
    .unwrap();
}

fn arb_time() -> impl Strategy<Value = OffsetDateTime> {
    (0i64..4_000_000_000).prop_map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn seals_round_trip_byte_for_byte(
        vendor in "[ -~]{0,20}",
        id in "[ -~]{1,40}",
        kind in prop_oneof![(1i64..=5).prop_map(SealKind::from_code), any::<i64>().prop_map(SealKind::from_code)],
        name in "\\PC{0,30}",
        certs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..4),
        created in arb_time(),
        from in arb_time(),
        span in 0i64..1_000_000_000,
        format in "[A-Z]{0,5}",
        data in prop::collection::vec(any::<u8>(), 0..2000),
        w in any::<u32>(),
        hgt in any::<u32>(),
    ) {
        let (maker, maker_cert) = maker();
        let mut i = info(certs);
        i.vendor_id = vendor;
        i.seal_id = id;
        i.kind = kind;
        i.name = name;
        i.created = created;
        i.valid_from = from;
        i.valid_to = from + Duration::seconds(span);
        i.picture.format = format;
        i.picture.data = data;
        i.picture.width_mm = w;
        i.picture.height_mm = hgt;
        let seal = Seal::make(&i, maker, maker_cert).unwrap();
        prop_assert_eq!(seal.info(), &i);
        let der = seal.to_der();
        let back = Seal::from_der(&der).unwrap();
        prop_assert_eq!(&back, &seal);
        prop_assert_eq!(back.to_der(), der);
        prop_assert!(back.maker_signature_verifies());
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Seal::from_der(&bytes);
        let _ = verify_signature(&bytes, &[], NOW);
    }
}

fn maker() -> (&'static KeyPair, &'static [u8]) {
    static M: std::sync::OnceLock<(KeyPair, Vec<u8>)> = std::sync::OnceLock::new();
    let (k, c) = M.get_or_init(|| {
        let ca = ca(Alg::Es256);
        leaf(&ca, Alg::Es256, 9)
    });
    (k, c)
}
