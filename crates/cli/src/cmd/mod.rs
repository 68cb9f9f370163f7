//! Subcommands. Each returns the process exit code.

mod account;
mod archive;
mod bench;
mod bench_http;
mod bench_hub;
mod bench_import;
mod bench_lookup;
mod bench_page;
mod bench_signin;
mod bench_sync;
mod db;
mod demo;
mod demo_federation;
mod face;
mod federation;
mod id;
mod import;
mod institution;
mod issue;
mod keys;
mod lifecycle;
mod log;
mod operator;
mod seal;
mod trust;
mod verify;
mod witness;

use std::sync::Arc;

use elicense_app::{AppError, ErrorKind, Node};

use crate::cli::{ApikeyCommand, CacheCommand, Command, DataArgs, DbCommand, IdCommand};
use crate::output;

pub async fn run(cli: crate::cli::Cli) -> i32 {
    match cli.command {
        Command::Demo {
            data,
            listen,
            federation: false,
        } => demo::demo(&data, &listen).await,
        Command::Demo {
            data,
            listen,
            federation: true,
        } => demo_federation::run(&data, &listen).await,
        Command::Serve {
            data,
            listen,
            serving,
            federation,
        } => demo::serve(&data, &listen, &serving, &federation).await,
        Command::Issue(a) => issue::issue(a).await,
        Command::Face {
            data,
            identifier,
            format,
            out,
        } => face::face(&data, &identifier, &format, &out).await,
        Command::Catalogue { data, load, json } => issue::catalogue(&data, load, json).await,
        Command::Revoke(a) => lifecycle::simple(a, elicense_core::lifecycle::Action::Revoke).await,
        Command::Suspend(a) => {
            lifecycle::simple(a, elicense_core::lifecycle::Action::Suspend).await
        }
        Command::Reinstate(a) => {
            lifecycle::simple(a, elicense_core::lifecycle::Action::Reinstate).await
        }
        Command::Cancel(a) => lifecycle::simple(a, elicense_core::lifecycle::Action::Cancel).await,
        Command::Withdraw(a) => {
            lifecycle::simple(a, elicense_core::lifecycle::Action::Withdraw).await
        }
        Command::Pledge(a) => lifecycle::simple(a, elicense_core::lifecycle::Action::Pledge).await,
        Command::Release(a) => {
            lifecycle::simple(a, elicense_core::lifecycle::Action::Release).await
        }
        Command::Change { action, fields } => lifecycle::change(action, fields).await,
        Command::Extend {
            action,
            valid_until,
        } => lifecycle::extend(action, valid_until).await,
        Command::Transfer {
            action,
            holder_name,
            holder_id,
        } => lifecycle::transfer(action, holder_name, holder_id).await,
        Command::Inspect { action, result } => lifecycle::inspect(action, result).await,
        Command::Expire { data } => lifecycle::expire(&data).await,
        Command::Status { data, identifier } => verify::status(&data, &identifier).await,
        Command::Jwks { data, issuer } => keys::jwks(&data, &issuer).await,
        Command::Keygen {
            data,
            alg,
            issuer,
            out,
            retire,
            revoke,
            since,
        } => match (retire, revoke) {
            (Some(kid), _) => operator::retire_key(&data, &kid).await,
            (None, Some(kid)) => operator::revoke_key(&data, &kid, since.as_deref()).await,
            (None, None) => keys::keygen(&data, alg.into(), issuer, out).await,
        },
        Command::Institution(cmd) => institution::run(cmd).await,
        Command::Seal(cmd) => seal::run(cmd).await,
        Command::KeyCert(cmd) => seal::key_cert(cmd).await,
        Command::Account(cmd) => account::run(cmd).await,
        Command::Apikey(args) => match args.command {
            Some(ApikeyCommand::Revoke { data, key_id }) => {
                operator::revoke_api_key(&data, &key_id).await
            }
            None => keys::apikey(&args.data, args.issuer.as_deref(), &args.label).await,
        },
        Command::Operator(cmd) => operator::run(cmd).await,
        Command::Federation(cmd) => federation::run(cmd).await,
        Command::Witness(cmd) => witness::run(cmd).await,
        Command::Cache(CacheCommand::Refresh {
            node,
            cache,
            hub_keys,
        }) => verify::refresh_cache(&node, &cache, hub_keys.as_deref()).await,
        Command::Node(cmd) => trust::node(cmd).await,
        Command::Issuer(cmd) => trust::issuer(cmd).await,
        Command::Recognition(cmd) => trust::recognition(cmd).await,
        Command::Verify {
            data,
            node,
            offline: _,
            cache,
            credential,
            nonce,
            audience,
        } => {
            let opts = elicense_app::verify::VerifyOptions {
                nonce,
                audience,
                ..Default::default()
            };
            let source = match (cache, node) {
                (Some(cache), _) => verify::Source::Offline(cache),
                (None, Some(url)) => verify::Source::Node(url),
                (None, None) => verify::Source::Data(data),
            };
            verify::verify(source, credential.as_deref(), opts).await
        }
        Command::Import {
            data,
            csv,
            report,
            alg,
            json,
        } => import::import(&data, &csv, report, alg.map(Into::into), json).await,
        Command::Id {
            command: IdCommand::Check { values, json },
        } => id::check(&values, json),
        Command::Bench(a) => bench::bench(a).await,
        Command::Log {
            command:
                crate::cli::LogCommand::Verify {
                    node,
                    state,
                    concurrency,
                    no_replay,
                    data,
                    database,
                },
        } => {
            log::verify(log::VerifyArgs {
                node,
                state,
                concurrency,
                replay: !no_replay,
                data: data.map(|data| DataArgs {
                    data,
                    database,
                    key_password_file: None,
                }),
            })
            .await
        }
        Command::Archive { command } => archive::run(command).await,
        Command::Db {
            command: DbCommand::Migrate { data, json },
        } => db::migrate(&data, json).await,
        Command::Db {
            command: DbCommand::Status { data, json },
        } => db::status(&data, json).await,
    }
}

/// Opens the node of `--data` / `--database`: configuration and secrets from the data dir,
/// the store from the URL (migrations applied). Synchronous for its callers; a PostgreSQL
/// connect runs on the (multi-thread) runtime via `block_in_place`.
pub fn open_node(data: &DataArgs) -> Result<Arc<Node>, AppError> {
    open_node_with(data, |_| Ok(()))
}

/// [`open_node`], the configuration changed by `configure` first (command-line overrides).
pub fn open_node_with(
    data: &DataArgs,
    configure: impl FnOnce(&mut elicense_app::NodeConfig) -> Result<(), AppError>,
) -> Result<Arc<Node>, AppError> {
    let source = elicense_app::config::KeyPasswordSource::resolve(data.key_password_file.clone())?;
    let mut config = elicense_app::NodeConfig::load_with(&data.data, &source)?;
    configure(&mut config)?;
    let store: Arc<dyn elicense_store::Store> = match data.database.as_deref() {
        None => Arc::new(elicense_store::SqliteStore::open(
            config.sqlite_path().expect("a data dir config has a path"),
            Default::default(),
        )?),
        Some(url) => open_store(url)?,
    };
    Ok(Node::new(
        store,
        Arc::new(elicense_app::SystemClock),
        config,
    ))
}

/// Which database a `--database` URL names.
pub enum DatabaseUrl<'a> {
    Sqlite(std::path::PathBuf),
    Postgres(&'a str),
}

pub fn parse_database_url(url: &str) -> Result<DatabaseUrl<'_>, AppError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(DatabaseUrl::Sqlite(path.into()))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DatabaseUrl::Postgres(url))
    } else {
        Err(AppError::new(
            ErrorKind::Invalid,
            "config.unsupported_database",
            format!(
                "database {url:?}: use postgres://USER@HOST:PORT/DB?schema=NAME or sqlite://PATH"
            ),
        ))
    }
}

/// Opens the store a `--database` URL names, applying pending migrations.
pub fn open_store(url: &str) -> Result<Arc<dyn elicense_store::Store>, AppError> {
    match parse_database_url(url)? {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(elicense_store::SqliteStore::open(
            path,
            Default::default(),
        )?)),
        DatabaseUrl::Postgres(url) => {
            let store = tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(elicense_store::PgStore::connect(
                    url,
                    elicense_store::postgres::PgOptions::default(),
                ))
            })?;
            Ok(Arc::new(store))
        }
    }
}

/// Runs `f` with the node of `data`, printing an error if anything fails.
/// A license identifier given on the command line: strict (what a node issues), else the
/// parser's stable code (`identifier.bad_check`, …) before anything is opened.
pub fn identifier(text: &str) -> Result<elicense_core::Identifier, AppError> {
    elicense_core::Identifier::parse(text.trim()).map_err(AppError::invalid)
}

pub async fn with_node<F, Fut>(data: &DataArgs, as_json: bool, f: F) -> i32
where
    F: FnOnce(Arc<Node>) -> Fut,
    Fut: std::future::Future<Output = Result<i32, AppError>>,
{
    let node = match open_node(data) {
        Ok(n) => n,
        Err(e) => return output::error(&e, as_json),
    };
    match f(node).await {
        Ok(code) => code,
        Err(e) => output::error(&e, as_json),
    }
}

/// The signals that ask the process to stop: Ctrl-C (SIGINT) and, on Unix, SIGTERM (what
/// systemd, `docker stop`, Kubernetes and a plain `kill` send). Installed when made: from then
/// on those signals no longer end the process at once, [`StopSignal::requested`] reports them.
pub struct StopSignal {
    #[cfg(unix)]
    streams: Option<[tokio::signal::unix::Signal; 2]>,
}

impl StopSignal {
    /// Installs the handlers (a warning, and Ctrl-C alone, where that fails).
    pub fn install() -> StopSignal {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let streams = signal(SignalKind::interrupt())
                .and_then(|int| Ok([int, signal(SignalKind::terminate())?]))
                .map_err(|e| {
                    tracing::warn!(error = %e, "cannot listen for SIGINT and SIGTERM; Ctrl-C only")
                })
                .ok();
            StopSignal { streams }
        }
        #[cfg(not(unix))]
        StopSignal {}
    }

    /// Resolves at the first stop signal since [`install`](Self::install).
    pub async fn requested(self) {
        #[cfg(unix)]
        if let Some([mut int, mut term]) = self.streams {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
