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
    /// Database URL: `postgres://USER@HOST:PORT/DB?schema=NAME` (schema default `elicense`)
    /// or `sqlite://PATH` (default: DIR/elicense.db). Configuration and secrets stay in DIR.
    #[arg(long, env = "ELICENSE_DATABASE")]
    pub database: Option<String>,
    /// File holding the password of the issuers' private keys, kept outside the data dir
    /// (e.g. a secrets mount); `ELICENSE_KEY_PASSWORD` gives the password itself. Without
    /// either, the password is `DIR/key-password` (created on first use).
    #[arg(long, env = "ELICENSE_KEY_PASSWORD_FILE")]
    pub key_password_file: Option<PathBuf>,
}

/// How `serve` serves; each overrides `elicense.toml` and `ELICENSE_*` (see `NodeConfig`).
#[derive(Debug, Clone, Args)]
pub struct ServingArgs {
    /// Serve `/metrics` only on this address (e.g. 127.0.0.1:9090); the main listener then
    /// answers 404 there. Config `metrics_listen`, env `ELICENSE_METRICS_LISTEN`.
    #[arg(long)]
    pub metrics_listen: Option<String>,
    /// Connections served at once per listener; more get 503 `server.busy` (default 4096).
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// Seconds a client has to send a request's headers before it is disconnected (default 10).
    #[arg(long)]
    pub header_read_timeout: Option<u64>,
}

/// Where `serve` stands in the federation; each overrides `area`, `level`, `parent` of
/// `elicense.toml` and `ELICENSE_AREA`, `ELICENSE_LEVEL`, `ELICENSE_PARENT`. None of them
/// anywhere: a standalone node.
#[derive(Debug, Clone, Args)]
pub struct FederationArgs {
    /// GB/T 2260 six-digit division code of the node (`100000` for the national hub); its
    /// structure must match the level (`PP0000` province, `PPCC00` city, other county).
    #[arg(long)]
    pub area: Option<String>,
    /// The node's level.
    #[arg(long)]
    pub level: Option<LevelArg>,
    /// Base URL of the parent node (every level but national has one).
    #[arg(long)]
    pub parent: Option<String>,
    /// JWKS file with the hub's node key(s), which sign the trust list (overrides
    /// `hub_keys` and `ELICENSE_HUB_KEYS`; every member node but the hub needs it).
    #[arg(long, value_name = "FILE")]
    pub hub_keys: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LevelArg {
    County,
    City,
    Province,
    National,
}

impl From<LevelArg> for elicense_core::NodeLevel {
    fn from(l: LevelArg) -> Self {
        match l {
            LevelArg::County => Self::County,
            LevelArg::City => Self::City,
            LevelArg::Province => Self::Province,
            LevelArg::National => Self::National,
        }
    }
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
        /// Start a federation instead: a national hub, two provinces, a city and a county, each
        /// an `elicense serve` process on the next ports, with data dirs under DIR, admitted by
        /// their parents; writes DIR/federation.json.
        #[arg(long)]
        federation: bool,
    },
    /// Run a node.
    Serve {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        #[command(flatten)]
        serving: ServingArgs,
        #[command(flatten)]
        federation: FederationArgs,
    },
    /// Render a license's face (照面) as PDF, PNG or SVG.
    Face {
        #[command(flatten)]
        data: DataArgs,
        /// GB/T 36904 identifier of the license version.
        identifier: String,
        #[arg(long, value_parser = ["pdf", "png", "svg"], default_value = "pdf")]
        format: String,
        /// Output file (`-` for standard output).
        #[arg(long)]
        out: std::path::PathBuf,
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
    /// Generate a key: for an issuer (stored encrypted in the node), or into a file; or
    /// retire or revoke an issuer key of the node (a logged operator event).
    Keygen {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, value_enum, default_value = "sm2")]
        alg: AlgArg,
        /// Issuer (USCC) whose new signing key this is.
        #[arg(long, conflicts_with_all = ["out", "retire", "revoke"])]
        issuer: Option<String>,
        /// Write an encrypted PKCS#8 PEM here instead (password from ELICENSE_KEYFILE_PASSWORD).
        #[arg(long, conflicts_with_all = ["retire", "revoke"])]
        out: Option<PathBuf>,
        /// Retire the issuer key with this kid: it signs nothing from now on; what it signed
        /// stays valid.
        /// (A kid is a base64url thumbprint and may begin with `-`.)
        #[arg(
            long,
            value_name = "KID",
            conflicts_with = "revoke",
            allow_hyphen_values = true
        )]
        retire: Option<String>,
        /// Revoke the issuer key with this kid as compromised since --since: credentials it
        /// signed with iat at or after that time are invalid, earlier ones stay valid.
        #[arg(
            long,
            value_name = "KID",
            requires = "since",
            allow_hyphen_values = true
        )]
        revoke: Option<String>,
        /// With --revoke: YYYY-MM-DD (from 00:00 China Standard Time) or unix seconds.
        #[arg(long, value_name = "DATE", requires = "revoke")]
        since: Option<String>,
    },
    /// Relying institutions (用证单位): register one with its matters, list them, make keys.
    #[command(subcommand)]
    Institution(InstitutionCommand),
    /// Electronic seals (GB/T 38540): file a seal, seal a PDF, print a seal's certificate
    /// chain, verify a sealed PDF, list an owner's seals, suspend, reinstate or revoke one.
    #[command(subcommand)]
    Seal(SealCommand),
    /// Issuer keys certified by an outside CA: print a key's certificate request (PKCS#10,
    /// signed by the key), attach the certificate chain the CA returns (checked against
    /// `seal_trust_anchors`); credentials the key signs then carry it in `x5c`.
    #[command(subcommand, name = "key-cert")]
    KeyCert(KeyCertCommand),
    /// Wallet accounts: make one after checking the person's ID, reset its password, disable
    /// it (ends its sessions at once, also on a running node) or enable it again.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Make an API key for an issuer (shown once), or revoke any API key
    /// (`apikey revoke --data DIR KEY_ID`).
    Apikey(ApikeyArgs),
    /// The region operator: its API keys and the log of what it did.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// The federation: admit a child node, list the nodes this node knows, locate a license.
    #[command(subcommand)]
    Federation(FederationCommand),
    /// The node as its children's witness (C2SP tlog-witness): admit a child's log, list the
    /// forks it refused.
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// A verifier's offline cache: the trust list and every trust-listed node's status lists.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// This node's public keys: `node keys --out FILE` writes the node key JWKS (the hub's
    /// is what the other nodes pin as `hub_keys`).
    #[command(subcommand)]
    Node(NodeCommand),
    /// Issuing authorities: `issuer succeed` names an ended authority's successor.
    #[command(subcommand)]
    Issuer(IssuerCommand),
    /// Mutual-recognition lists (kept on the national hub): add, remove, list.
    #[command(subcommand)]
    Recognition(RecognitionCommand),
    /// Verify a credential or presentation read from stdin (or the file CREDENTIAL); exit 0
    /// valid, 1 not valid, 2 error.
    Verify {
        #[command(flatten)]
        data: DataArgs,
        /// Ask this node instead of a local data dir.
        #[arg(long, conflicts_with = "offline")]
        node: Option<String>,
        /// Verify with the cache of `elicense cache refresh` only, without network; the
        /// verdict says how old the cached trust list and status list are.
        #[arg(long, requires = "cache")]
        offline: bool,
        /// The cache directory (with --offline).
        #[arg(long, requires = "offline")]
        cache: Option<PathBuf>,
        /// A file holding the credential or presentation (default: stdin).
        credential: Option<PathBuf>,
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
    /// The node's tamper-evident event log.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Archives (BagIt, RFC 8493) of licenses, their events and log proofs.
    Archive {
        #[command(subcommand)]
        command: ArchiveCommand,
    },
    /// The database: apply migrations, show where the schema stands.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Fetch the trust list from a node (verified against the hub keys; never older than
    /// the one the cache holds), then every status list of every trust-listed node. Exit 0
    /// when every node answered, 1 when some did not (their older copies stay), 2 on error.
    Refresh {
        /// Base URL of a node that serves `/.well-known/elicense-trust-list`.
        #[arg(long)]
        node: String,
        /// The cache directory (created if missing).
        #[arg(long)]
        cache: PathBuf,
        /// The hub's keys (a JWKS file); kept in the cache, needed on the first refresh.
        #[arg(long)]
        hub_keys: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Audit a node's log: checkpoint signatures, consistency with the last checkpoint seen,
    /// the tree rebuilt from every entry, every entry against the node's database (with
    /// --data or --database: events, and the openings of uses' commitments), and the node's
    /// license states against the replay of the log. Exit 1 when a check fails.
    Verify {
        /// Base URL of the node, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        node: String,
        /// Where to keep the last verified checkpoint (and the node's keys) between runs.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Check the log only (signatures, consistency, entries), not the license states.
        #[arg(long)]
        no_replay: bool,
        /// The node's data directory: check every entry against its database.
        #[arg(long)]
        data: Option<PathBuf>,
        /// The node's database URL (with --data; default: the SQLite file in DIR).
        #[arg(long, requires = "data")]
        database: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Write a BagIt bag of the licenses of one issuer, one holder or one license: credentials,
    /// events, log entries with inclusion proofs, the checkpoint and the log's keys.
    Export {
        #[command(flatten)]
        data: DataArgs,
        /// USCC of an issuing authority.
        #[arg(long, group = "scope")]
        issuer: Option<String>,
        /// Holder code (resident ID or USCC).
        #[arg(long, group = "scope")]
        holder: Option<String>,
        /// One license identifier (all its versions).
        #[arg(long, group = "scope")]
        license: Option<String>,
        /// Output directory (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a bag offline: manifests, checkpoint signatures, inclusion proofs, credentials.
    Verify {
        /// The bag directory.
        bag: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations (every command also does this when it opens the database).
    Migrate {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        json: bool,
    },
    /// Print applied and pending migrations, without changing anything.
    Status {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        json: bool,
    },
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
    /// The reason in the issuer's words (kept for the holder and the issuer, never public).
    #[arg(long)]
    pub reason: Option<String>,
    /// The reason's public category: on_request, data_error, issued_in_error,
    /// improperly_obtained, violation, court_order, holder_ended, expiry, transfer, other
    /// (default: other when --reason is given).
    #[arg(long, value_parser = elicense_core::ReasonCategory::parse)]
    pub reason_category: Option<elicense_core::ReasonCategory>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
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
    /// issue: concurrent issuing tasks (default 32 per core); sign-in: attacking tasks
    /// (default 32); lookup: concurrent lookups (default 1).
    #[arg(long)]
    pub tasks: Option<usize>,
    /// sign-in: password guesses per second that the attacking tasks send together.
    #[arg(long, default_value_t = 500.0)]
    pub attack_rate: f64,
    /// verify: over HTTP (keep-alive) with this many concurrent clients, instead of offline;
    /// http-issue, http-verify: connections to the node (default 32).
    #[arg(long)]
    pub http_clients: Option<usize>,
    /// status-list: entries and fraction revoked; verify-page, lookup: licenses in the store.
    #[arg(long, default_value_t = 1_000_000)]
    pub entries: usize,
    #[arg(long, default_value_t = 0.01)]
    pub revoked_fraction: f64,
    /// import: database URL (`postgres://…?schema=NAME` or `sqlite://PATH`); default: a SQLite
    /// file in a temporary directory. Give a schema or file of its own: the benchmark adds its
    /// own issuer, type and rows (`--keep` leaves them, for size measurements).
    #[arg(long)]
    pub database: Option<String>,
    /// import: rows issued concurrently (default: the import's own default).
    #[arg(long)]
    pub workers: Option<usize>,
    /// import: keep the imported rows after the run (default: drop the PostgreSQL schema
    /// or delete the SQLite file when the benchmark created it).
    #[arg(long)]
    pub keep: bool,
    /// lookup (PostgreSQL): before the timed lookups, read the lookup path's indexes (the
    /// primary keys of `license_ids` and `licenses`) into the operating system's cache, as a
    /// node serving traffic keeps them, instead of starting with them on disk.
    #[arg(long)]
    pub prewarm: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BenchWhat {
    /// Issuing on all cores, without and with the log proof, against the raw signing rate
    /// and the store alone writing the same licenses.
    Issue,
    /// Bulk import of `--count` generated licenses through the CSV import path.
    Import,
    Verify,
    StatusList,
    /// The public verification page with `--entries` licenses in the store (`--count` requests).
    VerifyPage,
    /// Point lookup by identifier with `--entries` licenses in the store (`--count` lookups from
    /// `--tasks` concurrent clients, default 1); the store is topped up, not refilled.
    Lookup,
    /// Legitimate sign-ins (`--count`, in turn) while `--tasks` attackers guess passwords that
    /// throttling refuses; server time against one Argon2id check.
    SignIn,
    /// Upward sync of `--entries` licenses from a child node to its parent over HTTP on
    /// 127.0.0.1 (signed batches, the parent's directory written), against the parent store's
    /// own rate of applying the same entries.
    Sync,
    /// The hub's directory lookup by license version with `--entries` rows in `hub_licenses`
    /// on `--database` (a Citus coordinator or PostgreSQL), `--count` lookups from `--tasks`
    /// clients (default 8), against a one-row read through the same pool.
    HubLookup,
    /// `POST /api/v1/licenses` (with the log proof each answer carries) to an `elicense serve`
    /// process on 127.0.0.1, from `--http-clients` keep-alive connections (default 32), then
    /// the same requests to a path the node does not serve (the cost of HTTP alone).
    HttpIssue,
    /// `POST /api/v1/verifications` to an `elicense serve` process on 127.0.0.1, from
    /// `--http-clients` keep-alive connections (default 32), then the same requests to a path
    /// the node does not serve (the cost of HTTP alone).
    HttpVerify,
    /// The raw signature and verification rates of every algorithm, on one core and on all
    /// cores, with the implementation behind each.
    Algs,
}

fn parse_field(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("expected name=value, got {s:?}"))
}

/// `elicense apikey --issuer USCC [--label L]` makes an issuer key; `elicense apikey revoke
/// KEY_ID` revokes one.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ApikeyArgs {
    #[command(subcommand)]
    pub command: Option<ApikeyCommand>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Issuer (USCC) the new key acts for.
    #[arg(long)]
    pub issuer: Option<String>,
    #[arg(long, default_value = "cli")]
    pub label: String,
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Revoke an API key (an issuer's `elk_`, an institution's `eli_` or an operator's `elo_`)
    /// by its id: refused from the next request on, also by a running node. Logged.
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        /// The key's id (12 hex digits), optionally with its prefix (`elk_<id>`).
        key_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Make an operator API key (`elo_…`, shown once) for the `/api/v1/operator/...` routes.
    Key {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// Print the operator events (revocations, disablings, ...) as JSON, oldest first.
    Events {
        #[command(flatten)]
        data: DataArgs,
        /// Only events with a number above this.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Write the node's public node key(s) as a JWKS (`kid` set), mode 0644, or print it.
    Keys {
        #[command(flatten)]
        data: DataArgs,
        /// The file to write; stdout when absent.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum IssuerCommand {
    /// Record that an authority ended and which one succeeds it (merger, renaming,
    /// dissolution): from then on the successor acts on its licenses. Logged.
    Succeed {
        #[command(flatten)]
        data: DataArgs,
        /// USCC of the authority that ended.
        #[arg(long)]
        code: String,
        /// USCC of its successor (an issuer of this node).
        #[arg(long)]
        successor: String,
        /// When it ended: YYYY-MM-DD (00:00 China Standard Time) or unix seconds; default now.
        #[arg(long)]
        at: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecognitionCommand {
    /// Add or replace a list (national hub only); prints it as JSON.
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// Stable id (`yrd`).
        #[arg(long)]
        id: String,
        /// Name (长三角).
        #[arg(long)]
        name: String,
        /// Member areas, comma-separated (`310000,320000`).
        #[arg(long, value_delimiter = ',')]
        areas: Vec<String>,
        /// License type codes, comma-separated.
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
    },
    /// Remove a list (national hub only).
    Remove {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        id: String,
    },
    /// Print the lists this node knows as JSON (the hub: stored; others: from the trust list
    /// held), those applying to `--area` when given.
    List {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        area: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FederationCommand {
    /// Admit a child node: reads its node document at URL and checks that it names this node
    /// as its parent, stands at a lower level and lies within this node's area.
    Admit {
        #[command(flatten)]
        data: DataArgs,
        /// The child's base URL.
        #[arg(long)]
        url: String,
    },
    /// Print the nodes this node knows (direct children and the nodes they report) as JSON.
    Nodes {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Print where a license version lives (this node, its subtree, or the hub) as JSON.
    Locate {
        #[command(flatten)]
        data: DataArgs,
        /// GB/T 36901 identifier.
        identifier: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Admit a child's log: this node then co-signs its checkpoints (`POST
    /// /witness/add-checkpoint`). Again for a known origin: replaces its keys and URL.
    Admit {
        #[command(flatten)]
        data: DataArgs,
        /// The log's checkpoint origin line (the child's base URL without scheme, plus `/log`).
        #[arg(long)]
        origin: String,
        /// A note verifier key of the log (`<name>+<hex id>+<base64>`, as the child publishes
        /// at /.well-known/elicense-log); repeat for each key.
        #[arg(long, required = true)]
        vkey: Vec<String>,
        /// The child node's base URL.
        #[arg(long)]
        url: String,
    },
    /// Print the fork reports (children's checkpoints refused as inconsistent with one this
    /// node co-signed) as JSON, oldest first.
    Forks {
        #[command(flatten)]
        data: DataArgs,
        /// Only reports with a number above this.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Make a wallet account for a person whose resident ID card you checked at the counter
    /// (a node without an identity provider). Prints the account as JSON and its first
    /// password on stderr, shown once, unless `--password-stdin`. Logged as `account_create`.
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// The account's username (1 to 64 characters).
        #[arg(long)]
        username: String,
        /// The person's name as on the ID card.
        #[arg(long)]
        name: String,
        /// The person's resident ID number (GB 11643), as checked on the card.
        #[arg(long)]
        resident_id: String,
        /// Read the password from the first line of stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Replace an account's password after checking the person's ID: every session of the
    /// account ends. Prints the new password on stderr (shown once) unless
    /// `--password-stdin`. Logged as `account_password_reset`.
    ResetPassword {
        #[command(flatten)]
        data: DataArgs,
        /// The account's username.
        username: String,
        /// Read the password from the first line of stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account: it cannot sign in, and every session of it ends at once. Logged.
    Disable {
        #[command(flatten)]
        data: DataArgs,
        /// The account's username.
        username: String,
    },
    /// Enable a disabled account (its ended sessions stay ended). Logged.
    Enable {
        #[command(flatten)]
        data: DataArgs,
        /// The account's username.
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum InstitutionCommand {
    /// Register an institution (or replace its name, area and matters); prints its first API
    /// key as JSON (shown once).
    Add {
        #[command(flatten)]
        data: DataArgs,
        /// USCC of the institution.
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// 6-digit area code.
        #[arg(long)]
        area: String,
        /// A matter code of its business scope (repeat for more).
        #[arg(long, required = true)]
        matter: Vec<String>,
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// Disable an institution: its API keys are refused at once, no new key is made for it,
    /// registering it again does not enable it. Logged.
    Disable {
        #[command(flatten)]
        data: DataArgs,
        /// USCC of the institution.
        #[arg(long)]
        code: String,
    },
    /// Enable a disabled institution again. Logged.
    Enable {
        #[command(flatten)]
        data: DataArgs,
        /// USCC of the institution.
        #[arg(long)]
        code: String,
    },
    /// Print every institution as JSON.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Make another API key for an institution (shown once).
    Key {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        code: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kid (base64url) may begin with `-`: it is still the option's value, not a flag.
    #[test]
    fn a_kid_beginning_with_a_hyphen_is_a_value() {
        for (flag, extra) in [
            ("--retire", &[][..]),
            ("--revoke", &["--since", "2026-01-01"][..]),
        ] {
            let mut args = vec!["elicense", "keygen", flag, "-5Xq_kid"];
            args.extend_from_slice(extra);
            let cli = Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{flag}: {e}"));
            let Command::Keygen { retire, revoke, .. } = cli.command else {
                panic!("not keygen");
            };
            assert_eq!(retire.or(revoke).as_deref(), Some("-5Xq_kid"));
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum KeyCertCommand {
    /// Print the PEM certificate request for issuer key KID (subject: the issuer's name and
    /// USCC), for the outside CA.
    Request {
        #[command(flatten)]
        data: DataArgs,
        /// The issuer key's kid (it may begin with `-`).
        #[arg(long, allow_hyphen_values = true)]
        kid: String,
    },
    /// Attach the certificate chain (PEM: the key's certificate first, then any intermediate
    /// CA) the outside CA issued for issuer key KID; prints the certificate's subject, CA,
    /// serial and end of validity.
    Attach {
        #[command(flatten)]
        data: DataArgs,
        /// The issuer key's kid (it may begin with `-`).
        #[arg(long, allow_hyphen_values = true)]
        kid: String,
        /// The PEM file of the chain.
        #[arg(long)]
        chain: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum SealCommand {
    /// File a seal for an owner (as the operator): key, certificate from the node's seal CA,
    /// picture, `SESeal`. Prints `{"seal_id","certificate",…}`.
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// The owner's USCC.
        #[arg(long)]
        owner: String,
        /// The owner's name (default: the registered authority's or institution's).
        #[arg(long)]
        owner_name: Option<String>,
        #[arg(long, value_parser = ["official", "contract", "finance", "invoice", "legal_rep"])]
        kind: String,
        /// The seal's name, as its picture reads.
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["sm2", "es256"], default_value = "sm2")]
        alg: String,
        /// Days of validity (default five years).
        #[arg(long)]
        valid_days: Option<u32>,
        /// An account (username) besides the owner's representatives that may use it.
        #[arg(long)]
        user: Vec<String>,
        /// The seal picture, a PNG file (64 to 2048 pixels a side); without it one is drawn
        /// in the standard style.
        #[arg(long)]
        picture: Option<PathBuf>,
        /// Print JSON (the default output is JSON too; kept for scripts that pass it).
        #[arg(long)]
        json: bool,
    },
    /// Seal a PDF with one or more seals, in order (a joint seal): each an incremental update
    /// with its picture and signature; earlier signatures stay valid.
    Sign {
        #[command(flatten)]
        data: DataArgs,
        /// A seal's id (repeat for a joint seal).
        #[arg(long = "seal", required = true)]
        seals: Vec<String>,
        /// The page of each seal, 1-based (one for all, or one per --seal; default 1).
        #[arg(long)]
        page: Vec<u32>,
        #[arg(long = "in")]
        input: PathBuf,
        #[arg(long = "out")]
        output: PathBuf,
        /// What is sealed (kept with each use).
        #[arg(long, default_value = "")]
        purpose: String,
    },
    /// Print a seal's certificate chain (PEM): its certificate, then its CA's.
    Cert {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        seal: String,
    },
    /// Verify a sealed PDF; prints a JSON verdict; exit 0 valid, 1 not valid, 2 error.
    Verify {
        #[command(flatten)]
        data: DataArgs,
        /// Ask this node instead of a local data dir.
        #[arg(long)]
        node: Option<String>,
        /// The PDF.
        file: PathBuf,
    },
    /// The seals filed for an owner (the public register).
    List {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        owner: String,
    },
    /// Suspend a seal (as the operator): it signs nothing until reinstated.
    Suspend {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        seal: String,
    },
    /// Reinstate a suspended seal (as the operator).
    Reinstate {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        seal: String,
    },
    /// Revoke a seal for good (as the operator).
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        seal: String,
    },
}
