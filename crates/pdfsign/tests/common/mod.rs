//! What the sealing tests share: certificates made by the OpenSSL CLI (a P-256 CA and a
//! leaf with digitalSignature + nonRepudiation), the leaf key loaded into our ES256 signer,
//! a seal picture, the fixtures, and the outside judges (poppler's pdfsig and pdftoppm,
//! pyHanko from the venv scripts/deps.sh makes).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use elicense_crypto::KeyPair;
use elicense_pdf::{SealPlacement, SubFilter};

pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca_pem: PathBuf,
    pub ca_der: Vec<u8>,
    pub leaf_der: Vec<u8>,
    pub key: KeyPair,
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    out
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = run(Command::new("openssl").current_dir(dir).args(args));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a leaf made by the OpenSSL CLI, once per test process.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("leaf.ext"),
            "basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,nonRepudiation\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        )
        .unwrap();
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "ca.key",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-subj",
                "/CN=elicense test seal CA/O=elicense",
                "-days",
                "3650",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-out",
                "ca.pem",
            ],
        );
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "leaf.key",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-new",
                "-key",
                "leaf.key",
                "-subj",
                "/CN=测试公章/O=elicense",
                "-utf8",
                "-out",
                "leaf.csr",
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "365",
                "-extfile",
                "leaf.ext",
                "-out",
                "leaf.pem",
            ],
        );
        openssl(
            d,
            &[
                "pkcs8", "-topk8", "-nocrypt", "-in", "leaf.key", "-outform", "DER", "-out",
                "leaf.p8",
            ],
        );
        openssl(
            d,
            &[
                "x509", "-in", "leaf.pem", "-outform", "DER", "-out", "leaf.der",
            ],
        );
        openssl(
            d,
            &["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"],
        );
        let key = KeyPair::from_pkcs8_der(&std::fs::read(d.join("leaf.p8")).unwrap()).unwrap();
        Pki {
            ca_pem: d.join("ca.pem"),
            ca_der: std::fs::read(d.join("ca.der")).unwrap(),
            leaf_der: std::fs::read(d.join("leaf.der")).unwrap(),
            key,
            dir,
        }
    })
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name),
    )
    .unwrap()
}

/// A round red seal on a transparent background (RGBA PNG), `size`×`size` pixels.
pub fn seal_png(size: u32) -> Vec<u8> {
    let mut rgba = Vec::with_capacity((size * size * 4) as usize);
    let c = size as f64 / 2.0;
    for y in 0..size {
        for x in 0..size {
            let r = ((x as f64 + 0.5 - c).powi(2) + (y as f64 + 0.5 - c).powi(2)).sqrt();
            let on = r < c * 0.95 && (r > c * 0.8 || r < c * 0.3);
            rgba.extend_from_slice(if on { &[220, 0, 0, 255] } else { &[0, 0, 0, 0] });
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, size, size);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&rgba).unwrap();
    out
}

pub fn placement(page: usize, rect: [f64; 4], field: &str) -> SealPlacement {
    SealPlacement {
        page,
        rect,
        picture: seal_png(120),
        field_name: field.into(),
        name: Some("北京市测试局".into()),
        reason: Some("电子证照加盖电子印章".into()),
        location: Some("Beijing".into()),
        signing_time: time::macros::datetime!(2025-03-01 09:30:00 +08:00),
        sub_filter: SubFilter::CadesDetached,
        contents_capacity: elicense_pdf::DEFAULT_CMS_CAPACITY,
    }
}

pub fn write_temp(bytes: &[u8], name: &str) -> PathBuf {
    let p = pki().dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `pdfsig`'s report.
pub fn pdfsig(path: &Path) -> String {
    let out = run(Command::new("pdfsig").arg(path));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn pyhanko_bin() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = root.join(".cache/pyhanko/bin/pyhanko");
    assert!(
        bin.exists(),
        "pyHanko is missing: run scripts/deps.sh ({})",
        bin.display()
    );
    bin
}

/// `pyhanko sign validate` with our CA as the only trust root; (success, output).
pub fn pyhanko_validate(path: &Path) -> (bool, String) {
    let out = run(Command::new(pyhanko_bin())
        .args([
            "sign",
            "validate",
            "--pretty-print",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
        ])
        .arg(&pki().ca_pem)
        .arg(path));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Runs a Python snippet with pyHanko's interpreter.
pub fn pyhanko_python(script: &str, args: &[&Path]) -> std::process::Output {
    let py = pyhanko_bin().with_file_name("python");
    run(Command::new(py).arg("-c").arg(script).args(args))
}

/// Renders a page with pdftoppm at 72 dpi: (width, height, RGB bytes).
pub fn render(path: &Path, page: usize) -> (usize, usize, Vec<u8>) {
    let out_base = pki()
        .dir
        .path()
        .join(format!("render-{}", std::process::id()));
    let n = (page + 1).to_string();
    let out = run(Command::new("pdftoppm")
        .args(["-r", "72", "-f", &n, "-l", &n, "-singlefile"])
        .arg(path)
        .arg(&out_base));
    assert!(
        out.status.success(),
        "pdftoppm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ppm = std::fs::read(out_base.with_extension("ppm")).unwrap();
    // P6\n<w> <h>\n255\n<data>
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while ppm[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while !ppm[pos].is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(String::from_utf8_lossy(&ppm[start..pos]).into_owned());
    }
    pos += 1;
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, ppm[pos..pos + w * h * 3].to_vec())
}

/// Red pixels (as in the seal) inside and outside a rectangle given in PDF points.
pub fn red_pixels(img: &(usize, usize, Vec<u8>), rect: [f64; 4]) -> (usize, usize) {
    let (w, h, data) = img;
    let (mut inside, mut outside) = (0, 0);
    for y in 0..*h {
        for x in 0..*w {
            let p = &data[(y * w + x) * 3..][..3];
            if p[0] > 180 && p[1] < 80 && p[2] < 80 {
                let (px, py) = (x as f64 + 0.5, *h as f64 - (y as f64 + 0.5));
                if px >= rect[0] && px <= rect[2] && py >= rect[1] && py <= rect[3] {
                    inside += 1;
                } else {
                    outside += 1;
                }
            }
        }
    }
    (inside, outside)
}
