//! What the PostgreSQL and Citus tests share: schema names no other test uses, a guard that
//! drops its schema, plain connections.

use std::sync::atomic::{AtomicU32, Ordering};

use tokio_postgres::{Client, NoTls};

/// A schema name no other test (or test run) uses, starting with `prefix`.
pub fn fresh_schema(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}_{:x}_{:x}_{}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Drops its schema (CASCADE) on the server at `url` when the test ends, even when it
/// panicked; on Citus, `DROP SCHEMA .. CASCADE` drops the distributed tables' shards on the
/// workers too.
pub struct SchemaGuard {
    pub schema: String,
    url: String,
}

impl SchemaGuard {
    /// A guard of `schema` on the server at `url`.
    pub fn new(url: String, schema: String) -> SchemaGuard {
        SchemaGuard { schema, url }
    }
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let (schema, url) = (self.schema.clone(), self.url.clone());
        // Drop runs inside the test's runtime: use a runtime of our own on another thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(c) = raw(&url, None).await {
                    let _ = c
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await;
                }
            })
        })
        .join();
    }
}

/// A plain connection to `url`, its `search_path` set to `schema` if given.
pub async fn raw(url: &str, schema: Option<&str>) -> Result<Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(conn);
    if let Some(s) = schema {
        client
            .batch_execute(&format!("SET search_path TO {s}"))
            .await?;
    }
    Ok(client)
}
