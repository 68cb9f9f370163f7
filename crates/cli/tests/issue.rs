//! `elicense issue`: output shape, algorithms, holder binding, and bad data that stores nothing.

mod common;

use common::*;
use serde_json::Value;

fn keys_of(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

/// Asserts the documented `issue --json` shape and returns (identifier, credential).
#[track_caller]
fn assert_issued_shape(out: &Out) -> (String, String) {
    out.ok();
    let v = out.json();
    assert_eq!(keys_of(&v), ["credential", "identifier", "status"], "{v}");
    assert_eq!(keys_of(&v["status"]), ["idx", "uri"], "{v}");
    assert!(
        v["status"]["uri"]
            .as_str()
            .is_some_and(|u| u.contains("/status-lists/")),
        "{v}"
    );
    assert!(v["status"]["idx"].is_u64(), "{v}");
    let id = v["identifier"].as_str().unwrap().to_string();
    // The identifier is a valid GB/T 36904 identifier of this type and issuer.
    assert!(
        id.starts_with(&format!(
            "1.2.156.3005.2.{DRIVING_LICENSE}.{BEIJING_TRAFFIC_POLICE}."
        )),
        "{id}"
    );
    run(&["id", "check", &id]).ok();
    let cred = v["credential"].as_str().unwrap().to_string();
    assert!(cred.contains('~'), "an SD-JWT: {cred}");
    (id, cred)
}

fn license_rows(d: &DataDir) -> i64 {
    d.count("SELECT COUNT(*) FROM licenses")
}

#[test]
fn issue_json_with_each_algorithm() {
    let d = DataDir::empty().setup(&[
        (BEIJING_TRAFFIC_POLICE, "sm2"),
        (BEIJING_TRAFFIC_POLICE, "ed25519"),
        (BEIJING_TRAFFIC_POLICE, "es256"),
    ]);
    let mut ids = Vec::new();
    for (alg_arg, jws) in [
        (None, "SM2"),
        (Some("sm2"), "SM2"),
        (Some("ed25519"), "EdDSA"),
        (Some("es256"), "ES256"),
    ] {
        let mut extra = vec!["--json"];
        if let Some(a) = alg_arg {
            extra.extend(["--alg", a]);
        }
        let (id, cred) =
            assert_issued_shape(&d.issue_driving("张伟", "11010519491231002X", &extra));
        let verdict = d.run_stdin(&["verify"], &cred);
        verdict.ok();
        let v = verdict.json();
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(v["alg"], jws, "--alg {alg_arg:?} signs with {jws}: {v}");
        assert_eq!(v["identifier"], id.as_str());
        assert_eq!(v["claims"]["jti"], id.as_str());
        assert!(
            v["claims"].get("cnf").is_none(),
            "not bound without --holder-jwk: {v}"
        );
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "every issue gets its own identifier");
    assert_eq!(license_rows(&d), 4);
    d.assert_license_event_integrity();

    // Without --json: the identifier, the status reference and the credential, one a line.
    let out = d.issue_driving("李娜", "110105200002290021", &["--alg", "ed25519"]);
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("issued 1.2.156.3005.2."),
        "{}",
        out.stdout
    );
    assert!(lines.iter().any(|l| l.contains('~')), "{}", out.stdout);
}

#[test]
fn holder_jwk_binds_the_credential() {
    let d = DataDir::empty().setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let key_file = d.path("holder.pem");
    let out = run(&[
        "keygen",
        "--alg",
        "es256",
        "--out",
        key_file.to_str().unwrap(),
    ]);
    out.ok();
    let jwk = out.json();
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str()),
        (Some("EC"), Some("P-256")),
        "{jwk}"
    );
    assert!(
        jwk.get("d").is_none(),
        "keygen prints only the public key: {jwk}"
    );
    let pem = std::fs::read_to_string(&key_file).expect("key file written");
    assert!(
        pem.contains("ENCRYPTED PRIVATE KEY"),
        "the key file is encrypted PKCS#8"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file is private");
    }
    // Never overwrites a key file.
    run(&[
        "keygen",
        "--alg",
        "es256",
        "--out",
        key_file.to_str().unwrap(),
    ])
    .expect_code(2);
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), pem);

    let jwk_file = d.path("holder.jwk");
    std::fs::write(&jwk_file, &out.stdout).unwrap();
    let (_, cred) = assert_issued_shape(&d.issue_driving(
        "张伟",
        "11010519491231002X",
        &[
            "--alg",
            "ed25519",
            "--json",
            "--holder-jwk",
            jwk_file.to_str().unwrap(),
        ],
    ));
    let verdict = d.run_stdin(&["verify"], &cred);
    verdict.ok();
    let v = verdict.json();
    let cnf = &v["claims"]["cnf"]["jwk"];
    assert_eq!(cnf["kty"], "EC", "bound to the holder key: {v}");
    assert_eq!(cnf["x"], jwk["x"]);
    assert_eq!(cnf["y"], jwk["y"]);

    // A verifier that asks for a fresh key-binding proof does not accept the bare credential.
    let v = d.run_stdin(
        &[
            "verify",
            "--nonce",
            "n-123",
            "--audience",
            "https://verifier.example",
        ],
        &cred,
    );
    v.expect_code(1);
    assert_eq!(v.json()["valid"], false);
}

#[test]
fn keygen_out_needs_a_password() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("k.pem");
    let mut cmd = command(&["keygen", "--alg", "es256", "--out", file.to_str().unwrap()]);
    cmd.env_remove("ELICENSE_KEYFILE_PASSWORD");
    let out = run_command(cmd, None);
    out.expect_code(2);
    assert!(
        out.stderr.contains("error[key.password_required]"),
        "{out:?}"
    );
    assert!(!file.exists(), "no key file in clear");
}

#[test]
fn bad_data_exits_2_and_stores_nothing() {
    let d = DataDir::empty().setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let (first, _) = assert_issued_shape(&d.issue_driving(
        "张伟",
        "11010519491231002X",
        &["--alg", "ed25519", "--json"],
    ));
    assert_eq!(license_rows(&d), 1);
    let events = d.count("SELECT COUNT(*) FROM events");

    let all_but = |skip: &str| -> Vec<String> {
        driving_fields("11010519491231002X")
            .iter()
            .filter(|(k, _)| *k != skip)
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    };
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        // (holder ID, fields, expected code)
        ("110105194912310021", all_but(""), "resident_id.bad_check"),
        (
            "11010519491231002X",
            [all_but(""), vec!["colour=red".into()]].concat(),
            "catalogue.field_unknown",
        ),
        (
            "11010519491231002X",
            all_but("file_number"),
            "catalogue.field_required",
        ),
        (
            "11010519491231002X",
            [all_but("vehicle_class"), vec!["vehicle_class=Z9".into()]].concat(),
            "",
        ),
        (
            "11010519491231002X",
            [all_but("birth_date"), vec!["birth_date=1949-02-30".into()]].concat(),
            "",
        ),
        // 11010519491231002X is a woman born 1949-12-31: the items it determines must agree.
        (
            "11010519491231002X",
            [all_but("sex"), vec!["sex=男".into()]].concat(),
            "license.holder_mismatch",
        ),
        (
            "11010519491231002X",
            [all_but("birth_date"), vec!["birth_date=1949-12-30".into()]].concat(),
            "license.holder_mismatch",
        ),
    ];
    for (holder_id, fields, code) in &cases {
        let mut args = vec![
            "issue",
            "--type",
            DRIVING_LICENSE,
            "--issuer",
            BEIJING_TRAFFIC_POLICE,
            "--holder-name",
            "张伟",
            "--holder-id",
            holder_id,
            "--alg",
            "ed25519",
        ];
        for f in fields {
            args.extend(["--field", f.as_str()]);
        }
        let out = d.run(&args);
        out.expect_code(2);
        assert!(out.stdout.is_empty(), "nothing on stdout: {out:?}");
        let first_line = out.stderr.lines().next().unwrap_or("");
        assert!(
            first_line.starts_with("error[") && first_line.contains("]: "),
            "error[code]: message on stderr: {out:?}"
        );
        if !code.is_empty() {
            assert!(
                first_line.starts_with(&format!("error[{code}]")),
                "expected {code}: {out:?}"
            );
        }
        // With --json the same error as JSON on stderr.
        args.push("--json");
        let out = d.run(&args);
        out.expect_code(2);
        let e = out.stderr_json();
        assert!(
            e["error"]["code"]
                .as_str()
                .is_some_and(|c| code.is_empty() || c == *code),
            "{e}"
        );
        assert!(e["error"]["message"].is_string(), "{e}");
    }

    // Unknown type, unknown issuer, issuer not allowed for the type.
    for (ty, issuer, code) in [
        (
            "11100000000000002Q009",
            BEIJING_TRAFFIC_POLICE,
            "catalogue.unknown_type",
        ),
        (
            DRIVING_LICENSE,
            BEIJING_SAMR,
            "catalogue.issuer_not_allowed",
        ),
        (DRIVING_LICENSE, "91330000755918469E", "issuer.unknown"),
    ] {
        let out = d.run(&[
            "issue",
            "--type",
            ty,
            "--issuer",
            issuer,
            "--holder-name",
            "张伟",
            "--holder-id",
            "11010519491231002X",
            "--field",
            "sex=男",
        ]);
        out.expect_code(2);
        assert!(
            out.stderr.starts_with(&format!("error[{code}]")),
            "expected {code}: {out:?}"
        );
    }

    assert_eq!(license_rows(&d), 1, "no failed issue stored a license");
    assert_eq!(
        d.count("SELECT COUNT(*) FROM events"),
        events,
        "no failed issue stored an event"
    );
    d.assert_license_event_integrity();

    // The node still works and the next license is a different one.
    let (second, _) = assert_issued_shape(&d.issue_driving(
        "李娜",
        "110105200002290021",
        &["--alg", "ed25519", "--json"],
    ));
    assert_ne!(first, second);
    assert_eq!(license_rows(&d), 2);
}

#[test]
fn without_a_password_env_the_data_dir_keeps_its_own() {
    let d = DataDir::empty();
    let no_env = |args: &[&str]| {
        let mut cmd = command(&d.args(args));
        cmd.env_remove("ELICENSE_KEY_PASSWORD");
        run_command(cmd, None)
    };
    no_env(&["catalogue", "--load", sample_catalogue().to_str().unwrap()]).ok();
    no_env(&[
        "keygen",
        "--issuer",
        BEIJING_TRAFFIC_POLICE,
        "--alg",
        "ed25519",
    ])
    .ok();
    let pw = d.dir.join("key-password");
    assert!(
        std::fs::read_to_string(&pw).is_ok_and(|p| !p.trim().is_empty()),
        "a key-password file is created"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&pw).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let fields: Vec<String> = driving_fields("11010519491231002X")
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut args = vec![
        "issue",
        "--type",
        DRIVING_LICENSE,
        "--issuer",
        BEIJING_TRAFFIC_POLICE,
        "--holder-name",
        "张伟",
        "--holder-id",
        "11010519491231002X",
        "--alg",
        "ed25519",
        "--json",
    ];
    for f in &fields {
        args.extend(["--field", f.as_str()]);
    }
    let out = no_env(&args);
    out.ok();
    let cred = out.json()["credential"].as_str().unwrap().to_string();
    let mut cmd = command(&d.args(&["verify"]));
    cmd.env_remove("ELICENSE_KEY_PASSWORD");
    let out = run_command(cmd, Some(&cred));
    out.ok();
}
