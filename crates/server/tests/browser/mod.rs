//! Browser test harness: Debian's Chromium, headless, driven over WebDriver (chromedriver +
//! fantoccini) against a real node on 127.0.0.1, with axe-core accessibility checks, element
//! screenshots, QR decoding and in-page downloads.
//!
//! Chromium, chromedriver and axe-core are installed by `scripts/deps.sh`; tests never skip
//! when they are missing, they fail and say so.
#![allow(dead_code)]

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::ops::Deref;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use elicense_app::{Clock, ManualClock, SystemClock};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use image::RgbaImage;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::common::TestServer;

/// The browser binary (Debian's launcher script).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// axe-core as installed by `scripts/deps.sh`, relative to the workspace root.
pub const AXE_JS: &str = ".cache/browser/node_modules/axe-core/axe.min.js";

/// The window size of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewport {
    /// 390×844, a phone held upright (the default).
    Mobile,
    /// 1280×900.
    Desktop,
    /// 360×800, the narrowest phone the pages are made for.
    Narrow,
}

impl Viewport {
    pub fn size(self) -> (u32, u32) {
        match self {
            Viewport::Mobile => (390, 844),
            Viewport::Desktop => (1280, 900),
            Viewport::Narrow => (360, 800),
        }
    }
}

/// A headless Chromium session with its own chromedriver and temp dir. Its language is
/// Simplified Chinese (`Accept-Language: zh-CN,zh`), as on a phone bought in China.
///
/// Derefs to the fantoccini [`Client`]. When dropped or [closed](Browser::close) (also on
/// panic) chromedriver and every Chromium process it started are killed.
pub struct Browser {
    client: Client,
    driver: Child,
    /// Chromium's downloads land here (also its profile and temp files).
    pub downloads: PathBuf,
    tmp: tempfile::TempDir,
}

impl Deref for Browser {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Browser {
    /// A mobile-sized (390×844) session.
    pub async fn start() -> Browser {
        Browser::start_with(Viewport::Mobile).await
    }

    pub async fn start_with(viewport: Viewport) -> Browser {
        let chromedriver = require_tools();
        become_subreaper();
        let tmp = tempfile::tempdir().expect("browser temp dir");
        let downloads = tmp.path().join("downloads");
        std::fs::create_dir_all(&downloads).expect("downloads dir");
        let (driver, port) = spawn_chromedriver(&chromedriver, tmp.path());
        // From here on `guard` kills chromedriver if connecting fails.
        let mut guard = DriverGuard(Some(driver));
        let (w, h) = viewport.size();
        let caps = json!({
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": { "script": 30_000, "pageLoad": 30_000, "implicit": 0 },
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-extensions",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--hide-scrollbars",
                    "--force-device-scale-factor=1",
                    "--lang=zh-CN",
                    format!("--window-size={w},{h}"),
                    format!("--user-data-dir={}", tmp.path().join("profile").display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                    "intl.accept_languages": "zh-CN,zh",
                },
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let url = format!("http://127.0.0.1:{port}");
        let connect = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await;
        let client = match connect {
            Ok(c) => c,
            Err(e) => panic!(
                "could not start a Chromium session via chromedriver: {e}\nchromedriver log:\n{}",
                driver_log(tmp.path())
            ),
        };
        let driver = guard.0.take().expect("driver");
        let browser = Browser {
            client,
            driver,
            downloads,
            tmp,
        };
        // `--window-size` sets the outer window; make the layout viewport exact.
        browser.set_viewport(viewport).await;
        browser
    }

    /// The fantoccini client (also reachable through `Deref`).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Resizes so that `window.innerWidth × innerHeight` is the viewport's size.
    pub async fn set_viewport(&self, viewport: Viewport) {
        let (w, h) = viewport.size();
        let inner: (u32, u32) = eval(
            &self.client,
            "return [window.innerWidth, window.innerHeight]",
        )
        .await;
        if inner == (w, h) {
            return;
        }
        let (ow, oh) = self.client.get_window_size().await.expect("window size");
        let ow = (ow as i64 + w as i64 - inner.0 as i64).max(1) as u32;
        let oh = (oh as i64 + h as i64 - inner.1 as i64).max(1) as u32;
        self.client
            .set_window_size(ow, oh)
            .await
            .expect("set window size");
    }

    /// Ends the session: kills chromedriver and every Chromium process (faster than a
    /// WebDriver quit; the profile lives in the session's temp dir, removed with it).
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}

struct DriverGuard(Option<Child>);

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            kill_group(child);
        }
    }
}

/// chromedriver runs in its own process group, which Chromium inherits: kill them all and
/// reap them. The test process is made a child subreaper first (see [`become_subreaper`]), so
/// Chromium processes orphaned by chromedriver's death are our children and do not linger as
/// zombies (containers often run a PID 1 that reaps nothing).
fn kill_group(child: &mut Child) {
    let Ok(pgid) = i32::try_from(child.id()) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    // SAFETY: kill(2) on the process group created for this child; its id stays reserved
    // until the child is reaped below.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        // SAFETY: waitpid(2) on members of that group only, without blocking.
        let reaped = unsafe { libc::waitpid(-pgid, std::ptr::null_mut(), libc::WNOHANG) };
        if reaped < 0 || Instant::now() > deadline {
            break; // ECHILD: every member is gone
        }
        if reaped == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Orphaned descendants (Chromium after chromedriver is killed) are re-parented to this
/// process, so [`kill_group`] can reap them.
fn become_subreaper() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: prctl(2) PR_SET_CHILD_SUBREAPER only sets a flag on this process.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
    });
}

/// Panics unless Chromium and chromedriver are installed; returns chromedriver's path.
fn require_tools() -> PathBuf {
    let chromium = Path::new(CHROMIUM);
    let driver = find_in_path("chromedriver");
    let mut missing = Vec::new();
    if !chromium.exists() {
        missing.push(format!("chromium ({CHROMIUM})"));
    }
    if driver.is_none() {
        missing.push("chromedriver (Debian package chromium-driver)".to_string());
    }
    if !missing.is_empty() {
        let missing = missing.join(", ");
        if std::env::var_os("CI").is_some() {
            panic!(
                "CI: browser tests need {missing}, which are missing; scripts/test.sh must \
                 install them by running scripts/deps.sh (browser tests never skip)"
            );
        }
        panic!("browser tests need {missing}: run scripts/deps.sh (as root)");
    }
    driver.expect("chromedriver")
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn driver_log(tmp: &Path) -> String {
    std::fs::read_to_string(tmp.join("chromedriver.log")).unwrap_or_default()
}

/// Starts chromedriver on a free port and waits until it accepts connections.
fn spawn_chromedriver(path: &Path, tmp: &Path) -> (Child, u16) {
    let mut last_error = String::new();
    for _ in 0..3 {
        let port = free_port();
        let log = File::create(tmp.join("chromedriver.log")).expect("chromedriver log");
        let mut child = Command::new(path)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .env("TMPDIR", tmp)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return (child, port);
            }
            if let Ok(Some(status)) = child.try_wait() {
                last_error = format!("chromedriver exited ({status}): {}", driver_log(tmp));
                break;
            }
            if Instant::now() > deadline {
                kill_group(&mut child);
                last_error = format!("chromedriver did not listen on {addr} within 20 s");
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("could not start chromedriver: {last_error}");
}

/// Runs `script` (a function body) and deserialises its return value.
pub async fn eval<T: serde::de::DeserializeOwned>(client: &Client, script: &str) -> T {
    let v = client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"));
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("script returned {v}: {e}"))
}

/// A node on 127.0.0.1 (temp SQLite, seeded catalogue, an API key per issuer) whose clock
/// stands still at the current time until the test moves it. Browsers keep real time for
/// cookies, so the clock starts at "now".
pub async fn start_node() -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let server = TestServer::start_with_clock(clock.clone()).await;
    (server, clock)
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn axe_source() -> String {
    let path = workspace_root().join(AXE_JS);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is missing ({}: {e}): run scripts/deps.sh",
            path.display()
        )
    })
}

/// One axe-core rule violation.
#[derive(Debug, Clone, Deserialize)]
pub struct AxeViolation {
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: Option<String>,
    pub help: String,
    #[serde(rename = "helpUrl")]
    pub help_url: String,
    /// CSS selectors of the offending nodes.
    pub targets: Vec<String>,
}

/// Runs axe-core on the current page and returns every violation (any impact).
pub async fn axe_violations(client: &Client) -> Vec<AxeViolation> {
    let loaded: bool = eval(client, "return typeof window.axe === 'object'").await;
    if !loaded {
        let script = format!("{}\n;return typeof window.axe === 'object';", axe_source());
        let ok = client
            .execute(&script, vec![])
            .await
            .expect("inject axe-core");
        assert_eq!(ok, Value::Bool(true), "axe-core did not load into the page");
    }
    let script = r#"
        const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] }).then(
            r => done({ violations: r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                targets: v.nodes.map(n => n.target.join(' ')),
            })) }),
            e => done({ error: String(e && e.stack || e) }));
    "#;
    let out = client
        .execute_async(script, vec![])
        .await
        .expect("run axe-core");
    if let Some(err) = out.get("error") {
        panic!("axe.run failed: {err}");
    }
    serde_json::from_value(out["violations"].clone()).expect("axe violations")
}

/// Fails (panics) listing every `serious` or `critical` axe-core violation of the current page.
pub async fn axe_check(client: &Client, page_name: &str) {
    let bad: Vec<AxeViolation> = axe_violations(client)
        .await
        .into_iter()
        .filter(|v| matches!(v.impact.as_deref(), Some("serious" | "critical")))
        .collect();
    if bad.is_empty() {
        return;
    }
    let url = client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    let mut msg = format!(
        "accessibility: {} serious/critical axe-core violation(s) on {page_name} ({url}):\n",
        bad.len()
    );
    for v in &bad {
        msg.push_str(&format!(
            "- [{}] {}: {} ({})\n    nodes: {}\n",
            v.impact.as_deref().unwrap_or("?"),
            v.id,
            v.help,
            v.help_url,
            v.targets.join(" | ")
        ));
    }
    panic!("{msg}");
}

/// A PNG screenshot of the first element matching `css`, decoded. The element is scrolled to
/// the middle of the viewport first: chromedriver crops element screenshots to the viewport.
pub async fn screenshot_element(client: &Client, css: &str) -> RgbaImage {
    let el = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css:?}: {e}"));
    client
        .execute(
            "arguments[0].scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' })",
            vec![serde_json::to_value(&el).expect("element reference")],
        )
        .await
        .unwrap_or_else(|e| panic!("scroll {css:?} into view: {e}"));
    let png = el
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("screenshot of {css:?}: {e}"));
    image::load_from_memory_with_format(&png, image::ImageFormat::Png)
        .expect("screenshot is a PNG")
        .to_rgba8()
}

/// The texts of every QR code found in `img`: tries the image as it is, then with a white
/// quiet zone added, scaled 2× and binarised.
pub fn decode_qr(img: &RgbaImage) -> Vec<String> {
    let gray = image::DynamicImage::ImageRgba8(img.clone()).to_luma8();
    let found = decode_gray(&gray);
    if !found.is_empty() {
        return found;
    }
    let (lo, hi) = gray
        .pixels()
        .fold((255u8, 0u8), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])));
    let threshold = ((lo as u16 + hi as u16) / 2) as u8;
    let pad = 16;
    let (w, h) = gray.dimensions();
    let mut big =
        image::GrayImage::from_pixel((w + 2 * pad) * 2, (h + 2 * pad) * 2, image::Luma([255]));
    for (x, y, p) in gray.enumerate_pixels() {
        let v = if p[0] > threshold { 255 } else { 0 };
        for (dx, dy) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            big.put_pixel((x + pad) * 2 + dx, (y + pad) * 2 + dy, image::Luma([v]));
        }
    }
    decode_gray(&big)
}

fn decode_gray(gray: &image::GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare(gray.clone());
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

/// Fetches `url` from within the page (`credentials: 'same-origin'`, so with the browser's
/// own session cookie): status, `content-type` and body bytes.
pub async fn fetch_bytes(client: &Client, url: &str) -> (u16, String, Vec<u8>) {
    let script = r#"
        const [url, done] = arguments;
        fetch(url, { credentials: 'same-origin' }).then(async r => {
            const buf = new Uint8Array(await r.arrayBuffer());
            let s = '';
            for (let i = 0; i < buf.length; i += 0x8000) {
                s += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
            }
            done({ status: r.status, type: r.headers.get('content-type') || '', b64: btoa(s) });
        }).catch(e => done({ error: String(e) }));
    "#;
    let out = client
        .execute_async(script, vec![json!(url)])
        .await
        .unwrap_or_else(|e| panic!("fetch {url}: {e}"));
    if let Some(err) = out.get("error") {
        panic!("fetch {url} failed in the page: {err}");
    }
    let status = out["status"].as_u64().expect("status") as u16;
    let content_type = out["type"].as_str().unwrap_or_default().to_string();
    let body = base64::engine::general_purpose::STANDARD
        .decode(out["b64"].as_str().expect("body"))
        .expect("base64 body");
    (status, content_type, body)
}

/// Renders `text` in a fresh `<span>` appended to the page (inline `style`, e.g.
/// `"font: 48px 'Some Web Font'"`), waits for web fonts, screenshots it and removes it.
pub async fn render_text(client: &Client, text: &str, style: &str) -> RgbaImage {
    let script = r#"
        const [text, style, done] = arguments;
        const s = document.createElement('span');
        s.id = '__harness_text';
        // Through the CSSOM: a `style` attribute is inline style, which the pages' CSP blocks.
        s.style.cssText = 'display:inline-block;padding:4px;background:#fff;color:#000;' + style;
        s.textContent = text;
        document.body.appendChild(s);
        document.fonts.load(getComputedStyle(s).font, text)
            .catch(() => null).then(() => document.fonts.ready).then(() => done(true));
    "#;
    client
        .execute_async(script, vec![json!(text), json!(style)])
        .await
        .expect("insert text");
    let img = screenshot_element(client, "#__harness_text").await;
    client
        .execute("document.getElementById('__harness_text').remove()", vec![])
        .await
        .expect("remove text");
    img
}

/// Whether two screenshots of two different characters show real glyphs: both have ink and
/// the inked shapes differ (missing-glyph boxes, "tofu", look the same for every character).
/// Shapes are compared aligned on their ink and with 1 px of slack, so sub-pixel placement of
/// the same glyph does not count as a difference.
pub fn glyphs_render(a: &RgbaImage, b: &RgbaImage) -> bool {
    let (Some(ia), Some(ib)) = (Ink::of(a), Ink::of(b)) else {
        return false;
    };
    if ia.count < 8 || ib.count < 8 {
        return false;
    }
    if ia.w.abs_diff(ib.w) > 2 || ia.h.abs_diff(ib.h) > 2 {
        return true;
    }
    let misses = ia.misses_in(&ib) + ib.misses_in(&ia);
    misses * 10 > ia.count + ib.count
}

/// The pixels that differ clearly from the background (the top-left pixel), cropped to their
/// bounding box.
struct Ink {
    w: u32,
    h: u32,
    mask: Vec<bool>,
    count: usize,
}

impl Ink {
    fn of(img: &RgbaImage) -> Option<Ink> {
        let bg = *img.pixels().next()?;
        let inked = |x: u32, y: u32| {
            let p = img.get_pixel(x, y);
            (0..3).any(|c| p[c].abs_diff(bg[c]) > 80)
        };
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..img.height() {
            for x in 0..img.width() {
                if inked(x, y) {
                    (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                }
            }
        }
        if x0 == u32::MAX {
            return None;
        }
        let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
        let mask: Vec<bool> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| inked(x0 + x, y0 + y))
            .collect();
        let count = mask.iter().filter(|&&m| m).count();
        Some(Ink { w, h, mask, count })
    }

    fn at(&self, x: i64, y: i64) -> bool {
        x >= 0
            && y >= 0
            && (x as u32) < self.w
            && (y as u32) < self.h
            && self.mask[(y as u32 * self.w + x as u32) as usize]
    }

    /// Inked pixels of `self` with no inked pixel of `other` within 1 px.
    fn misses_in(&self, other: &Ink) -> usize {
        let mut misses = 0;
        for y in 0..self.h as i64 {
            for x in 0..self.w as i64 {
                if self.at(x, y) && !(-1..=1).any(|dy| (-1..=1).any(|dx| other.at(x + dx, y + dy)))
                {
                    misses += 1;
                }
            }
        }
        misses
    }
}
