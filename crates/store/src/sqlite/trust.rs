//! The hub's trust-list tables on SQLite (see `crate::trust`).

use async_trait::async_trait;
use rusqlite::params;

use super::SqliteStore;
use crate::error::Result;
use crate::trust::{join, split, RecognitionRecord, TrustStore};

#[async_trait]
impl TrustStore for SqliteStore {
    async fn put_recognition(&self, l: RecognitionRecord) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO recognition_lists (id, name, areas, types, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET \
                 name = excluded.name, areas = excluded.areas, types = excluded.types, \
                 updated_at = excluded.updated_at",
            )?
            .execute(params![
                l.id,
                l.name,
                join(&l.areas),
                join(&l.types),
                l.updated_at
            ])?;
            Ok(())
        })
        .await
    }

    async fn delete_recognition(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.write(move |conn| {
            Ok(conn
                .prepare_cached("DELETE FROM recognition_lists WHERE id = ?1")?
                .execute(params![id])?
                > 0)
        })
        .await
    }

    async fn recognition_lists(&self) -> Result<Vec<RecognitionRecord>> {
        self.read(|conn| {
            let mut st = conn.prepare_cached(
                "SELECT id, name, areas, types, updated_at FROM recognition_lists ORDER BY id",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, name, areas, types, updated_at) = row?;
                out.push(RecognitionRecord {
                    id,
                    name,
                    areas: split(&areas)?,
                    types: split(&types)?,
                    updated_at,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn next_trust_seq(&self) -> Result<u64> {
        self.write(|conn| {
            let seq: i64 = conn
                .prepare_cached(
                    "INSERT INTO trust_publication (id, seq) VALUES (1, 1) \
                     ON CONFLICT (id) DO UPDATE SET seq = seq + 1 RETURNING seq",
                )?
                .query_row([], |r| r.get(0))?;
            Ok(seq as u64)
        })
        .await
    }
}
