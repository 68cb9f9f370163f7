//! OpenID Connect sign-in on PostgreSQL (tables of the `OIDC` migration). An account and its
//! link are one transaction; a pre-login record is taken by one `DELETE … RETURNING`.

use async_trait::async_trait;

use super::rows::{self, get, ACCOUNT_COLUMNS};
use super::PgStore;
use crate::error::{Result, StoreError};
use crate::oidc::{OidcLinkRecord, OidcLoginRecord, OidcStore};
use crate::records::AccountRecord;

#[async_trait]
impl OidcStore for PgStore {
    async fn put_oidc_login(&self, l: OidcLoginRecord) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "INSERT INTO oidc_logins (id, binding, nonce, verifier, next, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .await?;
        client
            .execute(
                &st,
                &[
                    &l.id,
                    &l.binding,
                    &l.nonce,
                    &l.verifier,
                    &l.next,
                    &l.created_at,
                    &l.expires_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn take_oidc_login(&self, id: &str) -> Result<Option<OidcLoginRecord>> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(
                "DELETE FROM oidc_logins WHERE id = $1 RETURNING id, binding, nonce, verifier, \
                 next, created_at, expires_at",
            )
            .await?;
        let Some(r) = client.query_opt(&st, &[&id]).await? else {
            return Ok(None);
        };
        Ok(Some(OidcLoginRecord {
            id: get(&r, 0)?,
            binding: get(&r, 1)?,
            nonce: get(&r, 2)?,
            verifier: get(&r, 3)?,
            next: get(&r, 4)?,
            created_at: get(&r, 5)?,
            expires_at: get(&r, 6)?,
        }))
    }

    async fn purge_oidc_logins(&self, before: i64) -> Result<u64> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("DELETE FROM oidc_logins WHERE expires_at < $1")
            .await?;
        Ok(client.execute(&st, &[&before]).await?)
    }

    async fn oidc_account(&self, issuer: &str, subject: &str) -> Result<Option<AccountRecord>> {
        let cols = ACCOUNT_COLUMNS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "SELECT {cols} FROM oidc_links l JOIN accounts a ON a.id = l.account \
                 WHERE l.issuer = $1 AND l.subject = $2"
            ))
            .await?;
        client
            .query_opt(&st, &[&issuer, &subject])
            .await?
            .map(|r| rows::account(&r))
            .transpose()
    }

    async fn put_oidc_account(&self, link: OidcLinkRecord, a: AccountRecord) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        super::wallet::insert_account(&tx, &a).await?;
        let st = tx
            .prepare_cached(
                "INSERT INTO oidc_links (issuer, subject, account, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .await?;
        tx.execute(
            &st,
            &[&link.issuer, &link.subject, &link.account, &link.created_at],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_account_profile(
        &self,
        id: &str,
        profile: String,
        holder_keys: Vec<String>,
    ) -> Result<()> {
        let client = self.client().await?;
        let st = client
            .prepare_cached("UPDATE accounts SET profile = $2, holder_keys = $3 WHERE id = $1")
            .await?;
        if client.execute(&st, &[&id, &profile, &holder_keys]).await? == 0 {
            return Err(StoreError::NotFound(format!("account {id}")));
        }
        Ok(())
    }
}
