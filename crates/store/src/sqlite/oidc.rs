//! OpenID Connect sign-in on SQLite (see `crate::oidc`). Every write runs on the writer
//! thread; an account and its link are one job (one savepoint).

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::wallet::{account_from_row, ACCOUNT_COLUMNS};
use super::SqliteStore;
use crate::error::{Result, StoreError};
use crate::oidc::{OidcLinkRecord, OidcLoginRecord, OidcStore};
use crate::records::AccountRecord;

#[async_trait]
impl OidcStore for SqliteStore {
    async fn put_oidc_login(&self, l: OidcLoginRecord) -> Result<()> {
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO oidc_logins (id, binding, nonce, verifier, next, created_at, \
                 expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                l.id,
                l.binding,
                l.nonce,
                l.verifier,
                l.next,
                l.created_at,
                l.expires_at
            ])?;
            Ok(())
        })
        .await
    }

    async fn take_oidc_login(&self, id: &str) -> Result<Option<OidcLoginRecord>> {
        let id = id.to_owned();
        self.write(move |conn| {
            Ok(conn
                .prepare_cached(
                    "DELETE FROM oidc_logins WHERE id = ?1 RETURNING id, binding, nonce, \
                     verifier, next, created_at, expires_at",
                )?
                .query_row(params![id], |r| {
                    Ok(OidcLoginRecord {
                        id: r.get(0)?,
                        binding: r.get(1)?,
                        nonce: r.get(2)?,
                        verifier: r.get(3)?,
                        next: r.get(4)?,
                        created_at: r.get(5)?,
                        expires_at: r.get(6)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn purge_oidc_logins(&self, before: i64) -> Result<u64> {
        self.write(move |conn| {
            let n = conn
                .prepare_cached("DELETE FROM oidc_logins WHERE expires_at < ?1")?
                .execute(params![before])?;
            Ok(n as u64)
        })
        .await
    }

    async fn oidc_account(&self, issuer: &str, subject: &str) -> Result<Option<AccountRecord>> {
        let (issuer, subject) = (issuer.to_owned(), subject.to_owned());
        self.read(move |conn| {
            let cols = ACCOUNT_COLUMNS
                .split(", ")
                .map(|c| format!("a.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {cols} FROM oidc_links l JOIN accounts a ON a.id = l.account \
                     WHERE l.issuer = ?1 AND l.subject = ?2"
                ))?
                .query_row(params![issuer, subject], account_from_row)
                .optional()?)
        })
        .await
    }

    async fn put_oidc_account(&self, link: OidcLinkRecord, a: AccountRecord) -> Result<()> {
        self.write(move |conn| {
            super::wallet::insert_account(conn, &a)?;
            conn.prepare_cached(
                "INSERT INTO oidc_links (issuer, subject, account, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                link.issuer,
                link.subject,
                link.account,
                link.created_at
            ])?;
            Ok(())
        })
        .await
    }

    async fn update_account_profile(
        &self,
        id: &str,
        profile: String,
        holder_keys: Vec<String>,
    ) -> Result<()> {
        let id = id.to_owned();
        let keys = serde_json::to_string(&holder_keys).expect("strings always serialise");
        self.write(move |conn| {
            let n = conn
                .prepare_cached("UPDATE accounts SET profile = ?2, holder_keys = ?3 WHERE id = ?1")?
                .execute(params![id, profile, keys])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("account {id}")));
            }
            Ok(())
        })
        .await
    }
}
