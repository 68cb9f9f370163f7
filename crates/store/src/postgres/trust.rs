//! The hub's trust-list tables on PostgreSQL (see `crate::trust`).

use async_trait::async_trait;

use super::rows::get;
use super::PgStore;
use crate::error::Result;
use crate::trust::{join, split, RecognitionRecord, TrustStore};

#[async_trait]
impl TrustStore for PgStore {
    async fn put_recognition(&self, l: RecognitionRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO recognition_lists (id, name, areas, types, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET \
                 name = excluded.name, areas = excluded.areas, types = excluded.types, \
                 updated_at = excluded.updated_at",
            )
            .await?;
        client
            .execute(
                &st,
                &[
                    &l.id,
                    &l.name,
                    &join(&l.areas),
                    &join(&l.types),
                    &l.updated_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn delete_recognition(&self, id: &str) -> Result<bool> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("DELETE FROM recognition_lists WHERE id = $1")
            .await?;
        Ok(client.execute(&st, &[&id]).await? > 0)
    }

    async fn recognition_lists(&self) -> Result<Vec<RecognitionRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "SELECT id, name, areas, types, updated_at FROM recognition_lists ORDER BY id",
            )
            .await?;
        let mut out = Vec::new();
        for r in client.query(&st, &[]).await? {
            let areas: String = get(&r, 2)?;
            let types: String = get(&r, 3)?;
            out.push(RecognitionRecord {
                id: get(&r, 0)?,
                name: get(&r, 1)?,
                areas: split(&areas)?,
                types: split(&types)?,
                updated_at: get(&r, 4)?,
            });
        }
        Ok(out)
    }

    async fn next_trust_seq(&self) -> Result<u64> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO trust_publication (id, seq) VALUES (1, 1) \
                 ON CONFLICT (id) DO UPDATE SET seq = trust_publication.seq + 1 RETURNING seq",
            )
            .await?;
        let seq: i64 = get(&client.query_one(&st, &[]).await?, 0)?;
        Ok(seq as u64)
    }
}
