//! Issuer keys certified by an outside CA, with the OpenSSL command line as that CA (SM2 with
//! SM3, and P-256): `elicense key-cert request` makes a certificate request OpenSSL accepts
//! and certifies, `key-cert attach` checks what comes back (for the key, naming the issuer,
//! chaining to a CA the operator lists), credentials then carry the chain in `x5c` (which
//! `openssl verify` accepts, and with which npm `jose` verifies an ES256 credential), and
//! verification judges it, down to the CA's revocation list.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

// The OpenSSL runner the crypto crate's interop tests use (as the seal crate's do).
#[path = "../../crypto/tests/common/mod.rs"]
mod crypto_common;

/// `openssl ARGS` in `dir`, which must succeed; its output.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let (good, text) = crypto_common::run(args, dir);
    assert!(good, "openssl {}: {text}", args.join(" "));
    text
}

/// A new EC key of `alg`'s curve in `dir/name`.
fn ec_key(dir: &Path, alg: &str, name: &str) {
    let curve = if alg == "sm2" { "SM2" } else { "prime256v1" };
    openssl(dir, &["ecparam", "-name", curve, "-genkey", "-out", name]);
}

/// Signature options for a CA of `alg` (SM2: SM3 with the GM/T default ID).
fn sigopts(alg: &str) -> Vec<&'static str> {
    match alg {
        "sm2" => vec![
            "-sm3",
            "-sigopt",
            "distid:1234567812345678",
            "-vfyopt",
            "distid:1234567812345678",
        ],
        _ => vec!["-sha256"],
    }
}

/// A CA made by OpenSSL in `dir` (`ca.key`, `ca.pem`), with an `openssl ca` database for CRLs.
fn outside_ca(dir: &Path, alg: &str) {
    ec_key(dir, alg, "ca.key");
    let mut args = vec![
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-subj",
        "/O=Third Party Trust/CN=Outside CA",
        "-days",
        "3650",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        "ca.pem",
    ];
    if alg == "sm2" {
        args.extend(["-sm3", "-sigopt", "distid:1234567812345678"]);
    }
    openssl(dir, &args);
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\n\
         default_md=default\ndefault_crl_days=30\n",
    )
    .unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
    std::fs::write(
        dir.join("leaf.cnf"),
        "[v]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
    )
    .unwrap();
}

/// The CA certifies the request `csr` as `out` (serial `serial`).
fn certify(dir: &Path, alg: &str, csr: &str, out: &str, serial: &str) {
    let mut args = vec![
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-set_serial",
        serial,
        "-days",
        "30",
        "-extfile",
        "leaf.cnf",
        "-extensions",
        "v",
        "-out",
        out,
    ];
    args.extend(sigopts(alg));
    openssl(dir, &args);
}

/// `node crates/server/tests/oid4vc/x5c_verify.mjs` (npm `jose`, installed by
/// scripts/deps.sh) on `credential`: its JSON answer and exit code.
fn jose_x5c(credential: &str) -> (Value, i32) {
    use std::io::Write;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut child = std::process::Command::new("node")
        .arg(root.join("crates/server/tests/oid4vc/x5c_verify.mjs"))
        .env("ELICENSE_OID4VC_DIR", root.join(".cache/oid4vc"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node (installed by scripts/deps.sh)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(credential.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(text.trim()).unwrap_or_else(|_| {
        panic!(
            "x5c_verify.mjs: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

fn header_of(credential: &str) -> Value {
    let jwt = credential.split('~').next().unwrap();
    let h = jwt.split('.').next().unwrap();
    serde_json::from_slice(&elicense_crypto::b64::decode(h).unwrap()).unwrap()
}

fn codes(verdict: &Value) -> Vec<String> {
    verdict["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn an_issuer_key_certified_by_an_outside_ca_signs_credentials_with_its_chain() {
    for alg in ["sm2", "es256"] {
        let d = DataDir::empty().setup(&[]);
        let key = d.run(&["keygen", "--issuer", BEIJING_TRAFFIC_POLICE, "--alg", alg]);
        key.ok();
        let kid = key.json()["kid"].as_str().unwrap().to_owned();
        let ca_dir = d.tmp.path().join("ca");
        std::fs::create_dir_all(&ca_dir).unwrap();
        let ca_dir = ca_dir.as_path();
        outside_ca(ca_dir, alg);

        // The request: signed by the key, naming the issuer; OpenSSL checks and certifies it.
        let csr = run(&["key-cert", "request", "--data", d.data(), "--kid", &kid]);
        csr.ok();
        std::fs::write(ca_dir.join("key.csr"), &csr.stdout).unwrap();
        let mut args = vec!["req", "-in", "key.csr", "-verify", "-noout", "-text"];
        if alg == "sm2" {
            args.extend(["-vfyopt", "distid:1234567812345678"]);
        }
        let text = openssl(ca_dir, &args);
        assert!(text.contains("verify OK"), "{alg}: {text}");
        assert!(text.contains(BEIJING_TRAFFIC_POLICE), "{alg}: {text}");
        certify(ca_dir, alg, "key.csr", "key.pem", "0x4d");
        let chain = ca_dir.join("key.pem");
        let chain = chain.to_str().unwrap();
        let attach = |chain: &str| {
            run(&[
                "key-cert",
                "attach",
                "--data",
                d.data(),
                "--kid",
                &kid,
                "--chain",
                chain,
            ])
        };

        // Until the operator lists the CA, its certificate is refused and nothing is kept.
        let refused = attach(chain);
        refused.expect_code(2);
        assert!(
            refused.stderr.contains("key_cert.untrusted"),
            "{alg}: {}",
            refused.stderr
        );
        let toml = d.dir.join("elicense.toml");
        let mut conf = std::fs::read_to_string(&toml).unwrap_or_default();
        conf.push_str(&format!(
            "seal_trust_anchors = [\"{}\"]\n",
            ca_dir.join("ca.pem").display()
        ));
        std::fs::write(&toml, &conf).unwrap();
        let plain = d.issue_driving("王五", &resident_id(1), &["--alg", alg, "--json"]);
        plain.ok();
        assert!(header_of(plain.json()["credential"].as_str().unwrap())
            .get("x5c")
            .is_none());

        // A certificate for another key (an OpenSSL key of its own), or one not naming the
        // issuer: refused.
        ec_key(ca_dir, alg, "other.key");
        let mut args = vec![
            "req",
            "-new",
            "-key",
            "other.key",
            "-subj",
            "/CN=11110000000000012X",
            "-out",
            "other.csr",
        ];
        if alg == "sm2" {
            args.extend(["-sm3", "-sigopt", "distid:1234567812345678"]);
        }
        openssl(ca_dir, &args);
        certify(ca_dir, alg, "other.csr", "other.pem", "0x4e");
        let wrong = attach(ca_dir.join("other.pem").to_str().unwrap());
        wrong.expect_code(2);
        assert!(
            wrong.stderr.contains("key_cert.wrong_key"),
            "{alg}: {}",
            wrong.stderr
        );
        std::fs::write(ca_dir.join("junk.pem"), "no certificate here").unwrap();
        let junk = attach(ca_dir.join("junk.pem").to_str().unwrap());
        junk.expect_code(2);
        assert!(
            junk.stderr.contains("key_cert.bad_chain"),
            "{alg}: {}",
            junk.stderr
        );

        // Attached: the view names the CA; credentials signed from now on carry the chain.
        let attached = attach(chain);
        attached.ok();
        let view = attached.json();
        assert!(
            view["subject"]
                .as_str()
                .unwrap()
                .contains(BEIJING_TRAFFIC_POLICE),
            "{view}"
        );
        assert!(
            view["ca"].as_str().unwrap().contains("Outside CA"),
            "{view}"
        );
        assert_eq!(view["serial"], "4d");
        let issued = d.issue_driving("张三", &resident_id(2), &["--alg", alg, "--json"]);
        issued.ok();
        let credential = issued.json()["credential"].as_str().unwrap().to_owned();
        let header = header_of(&credential);
        let x5c = header["x5c"].as_array().expect("x5c").clone();
        assert_eq!(x5c.len(), 1, "{header}");
        // What the credential carries is the CA's certificate, as `openssl verify` sees it.
        let der = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            x5c[0].as_str().unwrap(),
        )
        .unwrap();
        std::fs::write(ca_dir.join("x5c.der"), der).unwrap();
        openssl(
            ca_dir,
            &[
                "x509", "-inform", "DER", "-in", "x5c.der", "-out", "x5c.pem",
            ],
        );
        let mut args = vec!["verify", "-CAfile", "ca.pem"];
        if alg == "sm2" {
            args.extend(["-vfyopt", "distid:1234567812345678"]);
        }
        args.push("x5c.pem");
        assert!(openssl(ca_dir, &args).contains("x5c.pem: OK"));

        // An outside JOSE library (npm `jose`, which knows ES256 and not SM2) verifies the
        // credential with the key of the certificate in x5c, and refuses it once changed.
        if alg == "es256" {
            let (v, code) = jose_x5c(&credential);
            assert_eq!(code, 0, "{v}");
            assert_eq!(v["typ"], "dc+sd-jwt", "{v}");
            let mut parts: Vec<String> = credential.split('.').map(str::to_owned).collect();
            // One payload character changed: the signature no longer covers it.
            let c = if parts[1].as_bytes()[5] == b'A' {
                "B"
            } else {
                "A"
            };
            parts[1].replace_range(5..6, c);
            let (v, code) = jose_x5c(&parts.join("."));
            assert_eq!((code, &v["valid"]), (1, &Value::Bool(false)), "{v}");
        }

        // Verified: valid, with the certificate; the earlier credential without x5c too.
        let verdict = d.run_stdin(&["verify"], &credential);
        verdict.ok();
        let v = verdict.json();
        assert_eq!(v["valid"], true, "{alg}: {v}");
        assert_eq!(v["issuer_certificate"]["serial"], "4d", "{v}");
        let v = d
            .run_stdin(&["verify"], plain.json()["credential"].as_str().unwrap())
            .json();
        assert_eq!(v["valid"], true, "{v}");
        assert!(v.get("issuer_certificate").is_none(), "{v}");

        // The CA revokes the certificate: once its CRL is listed, the credential is refused.
        let base = ["-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem"];
        let mut args = vec!["ca"];
        args.extend(base);
        args.extend(["-revoke", "key.pem"]);
        openssl(ca_dir, &args);
        let mut args = vec!["ca"];
        args.extend(base);
        args.extend(["-gencrl", "-out", "crl.pem"]);
        if alg == "sm2" {
            args.extend(["-sigopt", "distid:1234567812345678"]);
        }
        openssl(ca_dir, &args);
        conf.push_str(&format!(
            "seal_crls = [\"{}\"]\n",
            ca_dir.join("crl.pem").display()
        ));
        std::fs::write(&toml, &conf).unwrap();
        let refused = d.run_stdin(&["verify"], &credential);
        refused.expect_code(1);
        let v = refused.json();
        assert_eq!(v["valid"], false, "{v}");
        assert_eq!(codes(&v), ["issuer.certificate_revoked"], "{alg}: {v}");
    }
}
