//! `elicense demo --federation`: a small national network on one machine. Five nodes, each an
//! `elicense serve` process of its own on 127.0.0.1 with a data dir under DIR: the national
//! hub, Beijing (province), Beijing's city node, Dongcheng (a county under it) and Shanghai
//! (province). Each node seeds the sample issuers of its own area, with their keys, API keys
//! and sample licenses; each parent admits its children; upward sync then gathers every
//! license into the hub's directory. Writes DIR/federation.json (nodes, URLs, issuer and
//! institution API keys) and prints where to go. Ctrl-C stops every node.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use elicense_app::seed::IssuersOf;
use elicense_app::{AppError, ErrorKind, NodeConfig};
use serde::Serialize;

use super::open_node;
use crate::cli::DataArgs;
use crate::output;

/// The hub's public node keys, which every other node pins (`hub_keys`).
const HUB_KEYS: &str = "hub-keys.json";

/// (name, area, level, parent's name).
const NODES: [(&str, &str, &str, Option<&str>); 5] = [
    ("hub", "100000", "national", None),
    ("beijing", "110000", "province", Some("hub")),
    ("shanghai", "310000", "province", Some("hub")),
    ("beijing-city", "110100", "city", Some("beijing")),
    ("dongcheng", "110101", "county", Some("beijing-city")),
];

#[derive(Debug, Serialize)]
struct NodeInfo {
    name: String,
    url: String,
    area: String,
    level: String,
    parent: Option<String>,
    data: PathBuf,
    issuers: Vec<elicense_app::seed::SeededIssuer>,
    institutions: Vec<InstitutionInfo>,
    /// Wallet accounts (username, password).
    accounts: Vec<(String, String)>,
    licenses: usize,
}

#[derive(Debug, Serialize)]
struct InstitutionInfo {
    code: String,
    name: String,
    api_key: String,
}

fn failed(e: impl std::fmt::Display) -> AppError {
    AppError::new(ErrorKind::Unavailable, "demo.federation", e.to_string())
}

/// Writes the node's place in the federation into its `elicense.toml` (once).
fn configure(
    dir: &Path,
    url: &str,
    area: &str,
    level: &str,
    parent: Option<&str>,
) -> Result<(), AppError> {
    if dir.join("elicense.toml").exists() {
        return Ok(());
    }
    NodeConfig::save_base_url(dir, url)?;
    let mut text = std::fs::read_to_string(dir.join("elicense.toml")).map_err(failed)?;
    text.push_str(&format!("area = {area:?}\nlevel = {level:?}\n"));
    if let Some(p) = parent {
        text.push_str(&format!("parent = {p:?}\n"));
    }
    std::fs::write(dir.join("elicense.toml"), text).map_err(failed)
}

/// Waits until `url`/healthz answers, or the process exits.
pub(super) async fn ready(url: &str, child: &mut tokio::process::Child) -> Result<(), AppError> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = reqwest::Client::new();
    loop {
        if let Ok(r) = client.get(format!("{url}/healthz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(failed(format!("the node at {url} exited ({status})")));
        }
        if Instant::now() > deadline {
            return Err(failed(format!(
                "the node at {url} did not answer within 60 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn run(data: &DataArgs, listen: &str) -> i32 {
    // Ctrl-C or SIGTERM stops the nodes with the demo, none is left running: a signal during
    // the start is acted on once they are up, and a start that fails drops (kills) them.
    let stop = super::StopSignal::install();
    match start(data, listen).await {
        Ok(mut children) => {
            stop.requested().await;
            eprintln!("stopping the federation");
            for c in &mut children {
                let _ = c.kill().await;
            }
            0
        }
        Err(e) => output::error(&e, false),
    }
}

async fn start(data: &DataArgs, listen: &str) -> Result<Vec<tokio::process::Child>, AppError> {
    let (host, port) = listen
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::Invalid,
                "config.invalid",
                format!("--listen {listen:?}: use HOST:PORT"),
            )
        })?;
    elicense_app::config::private_dir(&data.data)?;
    let url_of = |i: usize| format!("http://{host}:{}", port + i as u16);
    let mut infos = Vec::new();
    for (i, (name, area, level, parent)) in NODES.iter().enumerate() {
        let dir = data.data.join(name);
        elicense_app::config::private_dir(&dir)?;
        let parent_url =
            parent.map(|p| url_of(NODES.iter().position(|n| n.0 == p).expect("known")));
        configure(&dir, &url_of(i), area, level, parent_url.as_deref())?;
        // Every node but the hub pins the hub's node key (the hub was set up first).
        if i > 0 && !dir.join(HUB_KEYS).exists() {
            std::fs::copy(data.data.join(HUB_KEYS), dir.join(HUB_KEYS)).map_err(failed)?;
            let mut text = std::fs::read_to_string(dir.join("elicense.toml")).map_err(failed)?;
            text.push_str(&format!("hub_keys = {HUB_KEYS:?}\n"));
            std::fs::write(dir.join("elicense.toml"), text).map_err(failed)?;
        }
        let args = DataArgs {
            data: dir.clone(),
            database: None,
            key_password_file: data.key_password_file.clone(),
        };
        let node = open_node(&args)?;
        eprintln!("seeding {name} ({level} {area}) in {} ...", dir.display());
        let seeded = elicense_app::seed::seed_demo_of(&node, IssuersOf::Area(area)).await?;
        if i == 0 {
            let jwks = elicense_app::federation::trust::public_node_keys(&node)?;
            let text = serde_json::to_string_pretty(&jwks).map_err(failed)?;
            std::fs::write(data.data.join(HUB_KEYS), text).map_err(failed)?;
        }
        let mut institutions = Vec::new();
        let mut accounts = Vec::new();
        if *name == "beijing" {
            for a in elicense_app::wallet::demo::seed_accounts(&node).await? {
                accounts.push((a.username, a.password));
            }
            for inst in elicense_app::institutions::seed_demo(&node).await? {
                institutions.push(InstitutionInfo {
                    code: inst.code,
                    name: inst.name,
                    api_key: inst.api_key,
                });
            }
        }
        infos.push(NodeInfo {
            name: name.to_string(),
            url: url_of(i),
            area: area.to_string(),
            level: level.to_string(),
            parent: parent_url,
            data: dir,
            issuers: seeded.issuers,
            institutions,
            accounts,
            licenses: node.store.count().await? as usize,
        });
    }
    let exe = std::env::current_exe().map_err(failed)?;
    let mut children = Vec::new();
    for (i, info) in infos.iter().enumerate() {
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.arg("serve")
            .arg("--data")
            .arg(&info.data)
            .arg("--listen")
            .arg(format!("{host}:{}", port + i as u16))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(info.data.join("serve.log")).map_err(failed)?)
            .kill_on_drop(true);
        if let Some(f) = &data.key_password_file {
            cmd.arg("--key-password-file").arg(f);
        }
        let mut child = cmd.spawn().map_err(failed)?;
        ready(&info.url, &mut child).await?;
        children.push(child);
    }
    // Each parent admits its children (it reads their node documents).
    for info in &infos {
        if let Some(p) = &info.parent {
            let parent = infos.iter().find(|n| &n.url == p).expect("known parent");
            let node = open_node(&DataArgs {
                data: parent.data.clone(),
                database: None,
                key_password_file: data.key_password_file.clone(),
            })?;
            elicense_app::federation::peer::admit(&node, &info.url).await?;
        }
    }
    let file = data.data.join("federation.json");
    std::fs::write(
        &file,
        serde_json::to_string_pretty(&serde_json::json!({ "nodes": infos })).map_err(failed)?,
    )
    .map_err(failed)?;
    print(&infos, &file);
    Ok(children)
}

fn print(infos: &[NodeInfo], file: &Path) {
    println!(
        "elicense federation demo — {} nodes, each its own process",
        infos.len()
    );
    for n in infos {
        println!(
            "  {:<13} {:<9} {}  {}  ({} licenses{})",
            n.name,
            n.level,
            n.area,
            n.url,
            n.licenses,
            n.parent
                .as_deref()
                .map(|p| format!(", parent {p}"))
                .unwrap_or_default()
        );
    }
    println!();
    println!(
        "Nodes, URLs, issuer and institution API keys: {}",
        file.display()
    );
    let hub = &infos[0];
    println!("Try:");
    println!("  curl -s {}/.well-known/elicense-node", hub.url);
    println!("  elicense federation nodes --data {}", hub.data.display());
    println!(
        "  curl -s {}/federation/v1/directory/<identifier>   (any license of any node, within seconds)",
        infos[2].url
    );
    if let Some(b) = infos.iter().find(|n| n.name == "beijing") {
        for (user, password) in &b.accounts {
            println!("  wallet {}/wallet  ({user} / {password})", b.url);
        }
    }
    println!();
    println!("Press Ctrl-C to stop every node.");
}
