//! The world of the sealed-document tests: one P-256 seal CA (so pyHanko can use it as its
//! trust root), an SM2 seal maker, two owners — 甲 with an SM2 seal, 乙 with an ES256
//! seal — pictures drawn by elicense-face, and the outside judges' command lines.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use elicense_crypto::{Alg, KeyPair};
use elicense_seal::ca::{pem, SealCa, Subject, Validity};
use elicense_seal::document::{SealJob, SealStatus, Trust};
use elicense_seal::ses::{CertList, Picture, Seal, SealInfo, SealKind};
use time::{Duration, OffsetDateTime};

pub struct Owner {
    pub key: KeyPair,
    pub cert: Vec<u8>,
    pub seal: Seal,
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub now: OffsetDateTime,
    pub ca: SealCa<KeyPair>,
    pub maker: KeyPair,
    pub maker_cert: Vec<u8>,
    pub sm2: Owner,
    pub es: Owner,
}

fn key(alg: Alg) -> KeyPair {
    KeyPair::generate(alg, &mut rand::rngs::OsRng)
}

fn subject(cn: &str, o: &str, uscc: &str) -> Subject {
    Subject {
        common_name: cn.into(),
        organization: Some(o.into()),
        uscc: Some(uscc.into()),
    }
}

/// Seal data for `signer`, valid `from..to`.
pub fn seal_info(
    id: &str,
    name: &str,
    signer: &[u8],
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> SealInfo {
    SealInfo {
        vendor_id: "elicense".into(),
        seal_id: id.into(),
        kind: SealKind::Official,
        name: name.into(),
        signers: CertList::Certs(vec![signer.to_vec()]),
        created: from,
        valid_from: from,
        valid_to: to,
        picture: Picture {
            format: "PNG".into(),
            data: elicense_face::seal_png(name, id, 240).unwrap(),
            width_mm: 42,
            height_mm: 42,
        },
        extensions: None,
    }
}

impl World {
    /// Certificates and seals valid from 30 days ago for a year or two (pyHanko checks
    /// against the real clock).
    pub fn new() -> World {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let start = now - Duration::days(30);
        let validity = |years: i64| Validity {
            not_before: start,
            not_after: start + Duration::days(365 * years),
        };
        let ca_key = key(Alg::Es256);
        let ca_public = ca_key.public_jwk();
        let ca = SealCa::new(
            ca_key,
            &ca_public,
            &Subject {
                common_name: "elicense test seal CA".into(),
                organization: Some("某市数据局".into()),
                uscc: None,
            },
            validity(10),
        )
        .unwrap();
        let maker = key(Alg::Sm2);
        let maker_cert = ca
            .issue(
                &subject("某市电子印章制作系统", "某市数据局", "11350100MB0000000X"),
                &maker.public_jwk(),
                validity(5),
                &[1],
            )
            .unwrap();
        let owner = |alg: Alg, serial: u8, name: &str, org: &str, uscc: &str, id: &str| {
            let k = key(alg);
            let cert = ca
                .issue(
                    &subject(name, org, uscc),
                    &k.public_jwk(),
                    validity(2),
                    &[serial],
                )
                .unwrap();
            let info = seal_info(id, name, &cert, start, start + Duration::days(365));
            let seal = Seal::make(&info, &maker, &maker_cert).unwrap();
            Owner { key: k, cert, seal }
        };
        let sm2 = owner(
            Alg::Sm2,
            2,
            "甲市场监督管理局",
            "甲市场监督管理局",
            "11350100MB1111111A",
            "3501000000001",
        );
        let es = owner(
            Alg::Es256,
            3,
            "乙科技有限公司",
            "乙科技有限公司",
            "91350100M000100Y43",
            "3501000000002",
        );
        World {
            dir: tempfile::tempdir().unwrap(),
            now,
            ca,
            maker,
            maker_cert,
            sm2,
            es,
        }
    }

    pub fn job<'a>(&'a self, o: &'a Owner, page: usize, x: f64) -> SealJob<'a> {
        SealJob {
            seal: &o.seal,
            signer: &o.key,
            certificate: &o.cert,
            chain: &[],
            page,
            rect: [x, 100.0, x + 120.0, 220.0],
        }
    }

    pub fn trust(&self) -> Trust {
        Trust {
            anchors: vec![self.ca.certificate().to_vec()],
            crls: Vec::new(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn ca_pem(&self) -> PathBuf {
        self.write(
            "ca.pem",
            pem("CERTIFICATE", self.ca.certificate()).as_bytes(),
        )
    }
}

pub fn active(_: &str) -> Option<SealStatus> {
    Some(SealStatus::Active)
}

pub fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pdfsign/testdata")
        .join(name);
    std::fs::read(p).unwrap()
}

pub fn output(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn pyhanko_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/pyhanko/bin");
    assert!(
        bin.join("pyhanko").exists(),
        "pyHanko is missing: run scripts/deps.sh ({})",
        bin.display()
    );
    bin
}

pub fn pyhanko() -> Command {
    Command::new(pyhanko_dir().join("pyhanko"))
}

pub fn python() -> Command {
    Command::new(pyhanko_dir().join("python"))
}

/// pyHanko's incremental update script from the pdfsign tests (`page` or `content`).
pub fn pyhanko_update(mode: &str, src: &Path, dst: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pdfsign/tests/scripts/update.py");
    let (ok, out) = output(python().arg(script).arg(mode).arg(src).arg(dst));
    assert!(ok, "update.py: {out}");
}

pub fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    output(Command::new("openssl").current_dir(dir).args(args))
}
