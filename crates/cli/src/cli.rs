//! The command line, as DESIGN.md's "Interfaces that outside tools rely on" fixes it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "elicense",
    version,
    about = "Electronic licenses (电子证照): issue, hold, share, verify, trust"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where a node's data lives.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Data directory (SQLite database, configuration, secrets).
    #[arg(long, default_value = "./elicense-data", env = "ELICENSE_DATA")]
    pub data: PathBuf,
    /// Database URL: `sqlite://PATH` (default: DIR/elicense.db). PostgreSQL is not supported yet.
    #[arg(long, env = "ELICENSE_DATABASE")]
    pub database: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AlgArg {
    Sm2,
    Ed25519,
    Es256,
}

impl From<AlgArg> for elicense_crypto::Alg {
    fn from(a: AlgArg) -> Self {
        match a {
            AlgArg::Sm2 => elicense_crypto::Alg::Sm2,
            AlgArg::Ed25519 => elicense_crypto::Alg::EdDSA,
            AlgArg::Es256 => elicense_crypto::Alg::Es256,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a ready demo node: sample catalogue, issuers, keys, holders and licenses.
    Demo {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Run a node.
    Serve {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Issue a license; prints {"identifier","credential","status":{"uri","idx"}}.
    Issue(IssueArgs),
    /// Print the catalogue, or load a catalogue file (TOML or JSON) into it.
    Catalogue {
        #[command(flatten)]
        data: DataArgs,
        /// Load this catalogue file first (issuers and types; changed types get a new version).
        #[arg(long)]
        load: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke (撤销) a license.
    Revoke(ActionArgs),
    /// Suspend (暂扣) a license.
    Suspend(ActionArgs),
    /// Reinstate a suspended license.
    Reinstate(ActionArgs),
    /// Cancel (注销) a license.
    Cancel(ActionArgs),
    /// Withdraw (吊销) a license.
    Withdraw(ActionArgs),
    /// Change (变更) a license's data: a new version replaces it.
    Change {
        #[command(flatten)]
        action: ActionArgs,
        /// A data item to change, as name=value (repeatable).
        #[arg(long = "field", value_parser = parse_field)]
        fields: Vec<(String, String)>,
    },
    /// Extend (延续) a license's validity: a new version replaces it.
    Extend {
        #[command(flatten)]
        action: ActionArgs,
        /// New end of validity (YYYY-MM-DD); default per the catalogue rule.
        #[arg(long)]
        valid_until: Option<String>,
    },
    /// Transfer (转让) a license to a new holder: a new version replaces it.
    Transfer {
        #[command(flatten)]
        action: ActionArgs,
        #[arg(long)]
        holder_name: String,
        #[arg(long)]
        holder_id: String,
    },
    /// Record an annual inspection (年检/年审).
    Inspect {
        #[command(flatten)]
        action: ActionArgs,
        /// The result, e.g. 合格.
        #[arg(long)]
        result: String,
    },
    /// Record a pledge (质押).
    Pledge(ActionArgs),
    /// Release a pledge.
    Release(ActionArgs),
    /// Move licenses whose validity ended to `expired` (a node does this every second).
    Expire {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Public status of a license by identifier.
    Status {
        #[command(flatten)]
        data: DataArgs,
        identifier: String,
    },
    /// Print an issuer's public JWKS.
    Jwks {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        issuer: String,
    },
    /// Generate a key: for an issuer (stored encrypted in the node), or into a file.
    Keygen {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, value_enum, default_value = "sm2")]
        alg: AlgArg,
        /// Issuer (USCC) whose new signing key this is.
        #[arg(long, conflicts_with = "out")]
        issuer: Option<String>,
        /// Write an encrypted PKCS#8 PEM here instead (password from ELICENSE_KEYFILE_PASSWORD).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make an API key for an issuer (shown once).
    Apikey {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        issuer: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// Verify a credential or presentation read from stdin; exit 0 valid, 1 not valid, 2 error.
    Verify {
        #[command(flatten)]
        data: DataArgs,
        /// Ask this node instead of a local data dir.
        #[arg(long)]
        node: Option<String>,
        /// Expected KB-JWT nonce (requires holder binding).
        #[arg(long)]
        nonce: Option<String>,
        /// Expected KB-JWT audience (requires holder binding).
        #[arg(long)]
        audience: Option<String>,
    },
    /// Issue licenses in bulk from CSV, with a progress bar; resumable.
    Import {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        csv: PathBuf,
        /// Error report (default: CSV.errors.csv).
        #[arg(long)]
        report: Option<PathBuf>,
        #[arg(long, value_enum)]
        alg: Option<AlgArg>,
        #[arg(long)]
        json: bool,
    },
    /// Identifiers and codes.
    Id {
        #[command(subcommand)]
        command: IdCommand,
    },
    /// Measure headline figures against the raw signature limit measured in the same run.
    Bench(BenchArgs),
}

#[derive(Debug, Subcommand)]
pub enum IdCommand {
    /// Check GB/T 36904 identifiers, GB 11643 resident IDs and GB 32100 USCCs (kind
    /// auto-detected); exit 0 only when all are valid.
    Check {
        #[arg(required = true)]
        values: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// License type code (21 chars).
    #[arg(long = "type")]
    pub type_code: String,
    /// Issuing authority (USCC).
    #[arg(long)]
    pub issuer: String,
    #[arg(long)]
    pub holder_name: String,
    /// Holder's resident ID or USCC, per the type.
    #[arg(long)]
    pub holder_id: String,
    /// A data item as name=value (repeatable).
    #[arg(long = "field", value_parser = parse_field)]
    pub fields: Vec<(String, String)>,
    #[arg(long, value_enum)]
    pub alg: Option<AlgArg>,
    /// Bind the credential to this holder public JWK (JSON file).
    #[arg(long)]
    pub holder_jwk: Option<PathBuf>,
    /// End of validity (YYYY-MM-DD) for types whose validity the issuer gives.
    #[arg(long)]
    pub valid_until: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ActionArgs {
    #[command(flatten)]
    pub data: DataArgs,
    pub identifier: String,
    #[arg(long)]
    pub reason: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[arg(value_enum)]
    pub what: BenchWhat,
    #[arg(long, value_enum, default_value = "sm2")]
    pub alg: AlgArg,
    /// Claims workload (JSON with "plain" and "sd"); default: the 12-claim driving licence.
    #[arg(long)]
    pub claims: Option<PathBuf>,
    /// Number of credentials to issue or verify end to end.
    #[arg(long, default_value_t = 4000)]
    pub count: usize,
    /// Seconds to measure the raw signature rate.
    #[arg(long, default_value_t = 2.0)]
    pub raw_secs: f64,
    /// verify: over HTTP (keep-alive) with this many concurrent clients, instead of offline.
    #[arg(long)]
    pub http_clients: Option<usize>,
    /// status-list: entries and fraction revoked.
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: usize,
    #[arg(long, default_value_t = 0.01)]
    pub revoked_fraction: f64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BenchWhat {
    Issue,
    Verify,
    StatusList,
}

fn parse_field(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("expected name=value, got {s:?}"))
}
