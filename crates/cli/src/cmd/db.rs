//! `elicense db migrate|status`: the schema of the node's database (SQLite or PostgreSQL).
//!
//! Every command applies pending migrations when it opens the database; `migrate` does only
//! that (for an operator who upgrades the schema before starting the nodes), and `status`
//! reads where the schema stands without changing it.

use elicense_app::{AppError, ErrorKind};
use elicense_store::postgres::{MigrationStatus, PgOptions};
use elicense_store::PgStore;
use serde_json::{json, Value};

use super::{parse_database_url, DatabaseUrl};
use crate::cli::DataArgs;
use crate::output;

/// The database a data-args pair names: `--database`, else the data dir's SQLite file.
fn target(data: &DataArgs) -> Result<DatabaseUrl<'_>, AppError> {
    match data.database.as_deref() {
        Some(url) => parse_database_url(url),
        None => Ok(DatabaseUrl::Sqlite(data.data.join("elicense.db"))),
    }
}

pub async fn migrate(data: &DataArgs, json: bool) -> i32 {
    let result = async {
        let before = status_of(data).await?;
        match target(data)? {
            DatabaseUrl::Sqlite(path) => {
                if data.database.is_none() {
                    // The data dir's own file: the data dir is private (0700).
                    elicense_app::config::private_dir(&data.data)?;
                } else if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        AppError::new(ErrorKind::Unavailable, "config.io", e.to_string())
                    })?;
                }
                elicense_store::SqliteStore::open(&path, Default::default())?;
            }
            DatabaseUrl::Postgres(url) => {
                PgStore::connect(url, PgOptions::default()).await?;
            }
        }
        let after = status_of(data).await?;
        let applied =
            after["current"].as_u64().unwrap_or(0) - before["current"].as_u64().unwrap_or(0);
        let mut v = after;
        v["applied_now"] = json!(applied);
        Ok::<Value, AppError>(v)
    }
    .await;
    match result {
        Ok(v) => {
            if json {
                output::json(&v);
            } else {
                println!(
                    "{} {}: schema version {} ({} migration(s) applied now)",
                    v["backend"].as_str().unwrap_or(""),
                    v["location"].as_str().unwrap_or(""),
                    v["current"],
                    v["applied_now"]
                );
            }
            0
        }
        Err(e) => output::error(&e, json),
    }
}

pub async fn status(data: &DataArgs, json: bool) -> i32 {
    match status_of(data).await {
        Ok(v) => {
            if json {
                output::json(&v);
            } else {
                println!(
                    "{} {}: schema version {} of {}",
                    v["backend"].as_str().unwrap_or(""),
                    v["location"].as_str().unwrap_or(""),
                    v["current"],
                    v["latest"]
                );
                for a in v["applied"].as_array().into_iter().flatten() {
                    match a["applied_at"].as_i64() {
                        Some(at) => println!("  applied  {} (at {at})", a["version"]),
                        None => println!("  applied  {}", a["version"]),
                    }
                }
                for p in v["pending"].as_array().into_iter().flatten() {
                    println!("  pending  {p}");
                }
            }
            // Exit 1 when migrations are pending, so scripts can check.
            if v["pending"].as_array().is_some_and(|p| !p.is_empty()) {
                1
            } else {
                0
            }
        }
        Err(e) => output::error(&e, json),
    }
}

/// `{"backend","location","current","latest","applied":[{"version","applied_at"}],"pending":[..]}`.
async fn status_of(data: &DataArgs) -> Result<Value, AppError> {
    match target(data)? {
        DatabaseUrl::Sqlite(path) => {
            let latest = elicense_store::sqlite::schema::SCHEMA_VERSION;
            let current = if path.exists() {
                let conn = rusqlite::Connection::open_with_flags(
                    &path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .map_err(elicense_store::StoreError::from)?;
                conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
                    .map_err(elicense_store::StoreError::from)? as usize
            } else {
                0
            };
            let applied: Vec<Value> = (1..=current)
                .map(|v| json!({"version": v, "applied_at": null}))
                .collect();
            Ok(json!({
                "backend": "sqlite", "location": path.display().to_string(),
                "current": current, "latest": latest, "applied": applied,
                "pending": ((current + 1)..=latest).collect::<Vec<_>>(),
            }))
        }
        DatabaseUrl::Postgres(url) => {
            let store = PgStore::connect_unmigrated(url, PgOptions::default()).await?;
            let s: MigrationStatus = store.status().await?;
            let applied: Vec<Value> = s
                .applied
                .iter()
                .map(|(v, at)| json!({"version": v, "applied_at": at}))
                .collect();
            Ok(json!({
                "backend": "postgres", "location": format!("{} (schema {})", redact(url), s.schema),
                "schema": s.schema, "current": s.current, "latest": s.latest, "applied": applied,
                "pending": ((s.current + 1)..=s.latest).collect::<Vec<_>>(),
            }))
        }
    }
}

/// The URL without its password and query.
fn redact(url: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    match (base.find("://"), base.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &base[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}{}", &base[..s + 3], &base[at..])
        }
        _ => base.to_owned(),
    }
}
