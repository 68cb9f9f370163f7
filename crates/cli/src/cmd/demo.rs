//! `elicense demo` (seed a sample node, print what to try, serve) and `elicense serve`.

use std::net::SocketAddr;
use std::sync::Arc;

use elicense_app::{AppError, ErrorKind, Node, NodeConfig};

use super::{open_node, open_node_with};
use crate::cli::{DataArgs, FederationArgs, ServingArgs};
use crate::output;

async fn bind(listen: &str) -> Result<(tokio::net::TcpListener, SocketAddr), AppError> {
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| {
        AppError::new(
            ErrorKind::Unavailable,
            "serve.bind",
            format!("cannot listen on {listen}: {e}"),
        )
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| AppError::internal(e.to_string()))?;
    Ok((listener, addr))
}

/// The node's serving configuration with the command line's overrides applied.
fn serving(node: &Node, args: Option<&ServingArgs>) -> elicense_app::config::Serving {
    let mut s = node.config.serving.clone();
    if let Some(a) = args {
        if let Some(m) = &a.metrics_listen {
            s.metrics_listen = Some(m.clone());
        }
        if let Some(n) = a.max_connections {
            s.max_connections = n.max(1);
        }
        if let Some(t) = a.header_read_timeout {
            s.header_read_timeout_secs = t.max(1);
        }
    }
    s
}

async fn run_server(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    serving: elicense_app::config::Serving,
) -> i32 {
    let metrics = match &serving.metrics_listen {
        Some(addr) => match bind(addr).await {
            Ok((l, a)) => {
                eprintln!("metrics on http://{a}/metrics");
                Some(l)
            }
            Err(e) => return output::error(&e, false),
        },
        None => None,
    };
    let options = elicense_server::ServeOptions {
        limits: elicense_server::Limits {
            header_read_timeout: std::time::Duration::from_secs(serving.header_read_timeout_secs),
            max_connections: serving.max_connections,
        },
        metrics,
    };
    let stop = super::StopSignal::install();
    let shutdown = async {
        stop.requested().await;
        eprintln!("shutting down");
    };
    match elicense_server::serve_with(node, listener, options, shutdown).await {
        Ok(()) => 0,
        Err(e) => output::error(
            &AppError::new(ErrorKind::Unavailable, "serve.io", e.to_string()),
            false,
        ),
    }
}

pub async fn serve(
    data: &DataArgs,
    listen: &str,
    args: &ServingArgs,
    federation: &FederationArgs,
) -> i32 {
    let (listener, addr) = match bind(listen).await {
        Ok(b) => b,
        Err(e) => return output::error(&e, false),
    };
    let over = elicense_app::federation::FederationSettings {
        area: federation.area.clone(),
        level: federation
            .level
            .map(|l| elicense_core::NodeLevel::from(l).code().to_owned()),
        parent: federation.parent.clone(),
    };
    let hub_keys = federation.hub_keys.clone();
    let node = match open_node_with(data, |c| {
        if let Some(p) = hub_keys {
            c.trust.hub_keys = Some(p);
        }
        c.override_federation(over)
    }) {
        Ok(n) => n,
        Err(e) => return output::error(&e, false),
    };
    // A member node below the hub refuses to start without the hub's keys pinned.
    if let Err(e) = elicense_app::federation::trust::anchors(&node) {
        return output::error(&e, false);
    }
    eprintln!(
        "elicense node on http://{addr} (public base URL {})",
        node.config.base_url
    );
    if let Some(id) = node.config.federation.identity() {
        eprintln!(
            "federation: {} node for area {}{}",
            id.level(),
            id.area(),
            id.parent()
                .map(|p| format!(", parent {p}"))
                .unwrap_or_default()
        );
    }
    let serving = serving(&node, Some(args));
    run_server(node, listener, serving).await
}

pub async fn demo(data: &DataArgs, listen: &str) -> i32 {
    let (listener, addr) = match bind(listen).await {
        Ok(b) => b,
        Err(e) => return output::error(&e, false),
    };
    let url = format!("http://{addr}");
    let fresh = !data.data.join("elicense.toml").exists();
    if fresh {
        if let Err(e) = NodeConfig::save_base_url(&data.data, &url) {
            return output::error(&e, false);
        }
    }
    let node = match open_node(data) {
        Ok(n) => n,
        Err(e) => return output::error(&e, false),
    };
    if node.config.base_url != url {
        eprintln!(
            "note: this data dir's public base URL is {} (from {}); credentials name it",
            node.config.base_url,
            data.data.join("elicense.toml").display()
        );
    }
    eprintln!("seeding the demo node in {} ...", data.data.display());
    let seeded = match elicense_app::seed::seed_demo(&node).await {
        Ok(s) => s,
        Err(e) => return output::error(&e, false),
    };
    let accounts = match elicense_app::wallet::demo::seed_accounts(&node).await {
        Ok(a) => a,
        Err(e) => return output::error(&e, false),
    };
    let institutions = match elicense_app::institutions::seed_demo(&node).await {
        Ok(i) => i,
        Err(e) => return output::error(&e, false),
    };
    print_banner(&node, &url, data, &seeded, &accounts).await;
    print_institutions(&url, &institutions);
    let serving = serving(&node, None);
    run_server(node, listener, serving).await
}

fn print_institutions(url: &str, institutions: &[elicense_app::institutions::DemoInstitution]) {
    println!();
    println!("Relying institutions and their API keys (`elicense institution` adds more):");
    for i in institutions {
        println!(
            "  {}  {}  matters: {}  staff: {}\n      {}",
            i.code,
            i.name,
            i.matters.join(", "),
            i.staff,
            i.api_key
        );
    }
    if let Some(bank) = institutions.first() {
        println!(
            "  curl -s -X POST {url}/api/v1/shares -H 'Authorization: Bearer {}' \\\n      -H 'Content-Type: application/json' -d '{{\"matter\":\"bank_account_opening\",\"holder_id\":\"91330000755918469E\",\"purpose\":\"开立基本存款账户\",\"staff\":\"teller1\"}}'",
            bank.api_key
        );
        println!("  (zhangwei answers it at {url}/wallet/requests; then the bank's form, filled:)");
        println!(
            "  curl -s {url}/api/v1/shares/ID/form -H 'Authorization: Bearer {}'",
            bank.api_key
        );
    }
    if let Some(hotel) = institutions.get(1) {
        println!(
            "  curl -s -X POST {url}/api/v1/shares -H 'Authorization: Bearer {}' \\\n      -H 'Content-Type: application/json' -d '{{\"matter\":\"hotel_check_in\",\"holder_id\":\"11010519491231002X\",\"holder_name\":\"张伟\",\"purpose\":\"入住登记\",\"staff\":\"frontdesk2\"}}'",
            hotel.api_key
        );
        println!(
            "  (a legal basis: granted at once, only with the holder's name as on the ID card)"
        );
    }
}

async fn print_banner(
    node: &Arc<Node>,
    url: &str,
    data: &DataArgs,
    seeded: &elicense_app::seed::Seeded,
    accounts: &[elicense_app::wallet::demo::DemoAccount],
) {
    let dir = data.data.display();
    let count = node.store.count().await.unwrap_or(0);
    println!("elicense demo node — {url}");
    println!("  data dir:          {dir} ({count} license versions)");
    println!("  health:            {url}/healthz");
    println!("  catalogue:         {url}/api/v1/catalogue");
    println!("  issuer keys:       {url}/.well-known/jwt-vc-issuer");
    println!("  API (OpenAPI):     {url}/api/openapi.json");
    match &node.config.serving.metrics_listen {
        Some(addr) => println!("  metrics:           http://{addr}/metrics"),
        None => println!("  metrics:           {url}/metrics"),
    }
    println!();
    println!("Issuing authorities and their API keys (shown once; `elicense apikey` makes more):");
    for i in &seeded.issuers {
        println!("  {}  {}\n      {}", i.code, i.name, i.api_key);
    }
    if !seeded.licenses.is_empty() {
        println!();
        println!("Sample licenses:");
        for l in &seeded.licenses {
            println!(
                "  {}  {} {} [{}]",
                l.identifier, l.type_name, l.holder, l.status
            );
        }
    }
    let example = seeded.licenses.iter().find(|l| l.status == "valid");
    let issuer = seeded.issuers.first();
    println!();
    println!("Try:");
    if let Some(l) = example {
        println!(
            "  curl -s {url}/api/v1/licenses/{}/verification",
            l.identifier
        );
    }
    println!("  elicense catalogue --data {dir}");
    println!(
        "  elicense issue --data {dir} --type 11100000000000002Q002 --issuer 11110000000000012X \\\n      --holder-name 张伟 --holder-id 11010519491231002X --field sex=女 --field nationality=中国 \\\n      --field birth_date=1949-12-31 --field address=北京市东城区示例路1号 --field first_issue_date=2010-06-15 \\\n      --field vehicle_class=C1 --field file_number=110100123456 --json > issued.json"
    );
    println!("  jq -r .credential issued.json | elicense verify --node {url}");
    if let Some(i) = issuer {
        println!(
            "  curl -s -X POST {url}/api/v1/licenses/<identifier>/actions -H 'Authorization: Bearer {}' \\\n      -H 'Content-Type: application/json' -d '{{\"action\":\"suspend\",\"reason\":\"年检未通过\"}}'",
            i.api_key
        );
    }
    println!("  elicense id check 1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F 11010519491231002X");
    println!();
    println!();
    println!("Holder wallet:       {url}/wallet");
    println!("Public verification: {url}/verify  (or open {url}/verify/<identifier>)");
    println!("Demo holder accounts (username / password):");
    for a in accounts {
        println!(
            "  {} / {}  {}{}",
            a.username,
            a.password,
            a.name,
            a.represents
                .as_deref()
                .map(|e| format!(", legal representative of {e}"))
                .unwrap_or_default()
        );
    }
    println!("  elicense face --data {dir} <identifier> --format pdf --out face.pdf");
    println!();
    println!("Press Ctrl-C to stop.");
}
