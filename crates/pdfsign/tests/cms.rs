//! The PAdES CMS on its own: the OpenSSL CLI verifies what we build (including the ESS
//! signing-certificate-v2 attribute), and our check names what is wrong with bad ones.

mod common;

use std::process::Command;

use common::*;
use elicense_crypto::Signer;
use elicense_pdf::cms;
use sha2::Digest;

fn build(data: &[u8], sign: &cms::SignFn<'_, elicense_crypto::CryptoError>) -> Vec<u8> {
    let p = pki();
    let digest: [u8; 32] = sha2::Sha256::digest(data).into();
    cms::build(&digest, &p.leaf_der, std::slice::from_ref(&p.ca_der), sign).unwrap()
}

#[test]
fn openssl_verifies_our_cms_with_its_ess_attribute() {
    let p = pki();
    let data = b"the signed byte ranges of a PDF".repeat(50);
    let der = build(&data, &|m: &[u8]| p.key.sign(m));
    let sig = write_temp(&der, "cms.der");
    let content = write_temp(&data, "cms-content.bin");
    let out = Command::new("openssl")
        .args([
            "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in",
        ])
        .arg(&sig)
        .arg("-content")
        .arg(&content)
        .arg("-CAfile")
        .arg(&p.ca_pem)
        .args(["-out", "/dev/null"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.contains("Verification successful"),
        "{err}"
    );
    // OpenSSL prints the signed attributes it found.
    let out = Command::new("openssl")
        .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
        .arg(&sig)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for attr in [
        "contentType",
        "messageDigest",
        "id-smime-aa-signingCertificateV2",
    ] {
        assert!(text.contains(attr), "{attr} missing:\n{text}");
    }
    assert!(
        !text.contains("signingTime"),
        "PAdES keeps the time in /M:\n{text}"
    );

    let v = cms::check(&der, &sha2::Sha256::digest(&data).into());
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(v.signer_certificate.as_deref(), Some(&p.leaf_der[..]));
}

#[test]
fn wrong_signatures_digests_and_contents_are_named() {
    let p = pki();
    let data = b"signed bytes";
    let digest: [u8; 32] = sha2::Sha256::digest(data).into();
    // A signature over other bytes.
    let der = build(data, &|_m: &[u8]| p.key.sign(b"something else"));
    let codes = |v: cms::CmsVerdict| v.problems.iter().map(|x| x.code()).collect::<Vec<_>>();
    assert_eq!(codes(cms::check(&der, &digest)), ["cms.signature_invalid"]);
    // The right signature, other bytes.
    let der = build(data, &|m: &[u8]| p.key.sign(m));
    assert_eq!(codes(cms::check(&der, &[0; 32])), ["cms.digest_mismatch"]);
    // Not a CMS at all, and a cut one.
    assert_eq!(
        codes(cms::check(b"\x30\x03\x02\x01\x01", &digest)),
        ["cms.malformed"]
    );
    assert_eq!(
        codes(cms::check(&der[..der.len() / 2], &digest)),
        ["cms.malformed"]
    );
    // A signer that fails is an error, not a CMS.
    let err = cms::build(&digest, &p.leaf_der, &[], &|_m: &[u8]| {
        Err::<Vec<u8>, _>("HSM offline")
    })
    .unwrap_err();
    assert_eq!(err.code(), "cms.signing_failed");
    let err = cms::build(&digest, b"not a certificate", &[], &|m: &[u8]| {
        p.key.sign(m)
    })
    .unwrap_err();
    assert_eq!(err.code(), "cms.bad_certificate");
}
