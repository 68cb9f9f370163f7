//! OpenID Connect sign-in: pre-login records are taken once, accounts come with their link.

use elicense_store::*;

use super::account;

fn login(id: &str, expires_at: i64) -> OidcLoginRecord {
    OidcLoginRecord {
        id: id.into(),
        binding: format!("binding-{id}"),
        nonce: format!("nonce-{id}"),
        verifier: format!("verifier-{id}"),
        next: "/wallet".into(),
        created_at: expires_at - 600,
        expires_at,
    }
}

fn link(subject: &str, account: &str) -> OidcLinkRecord {
    OidcLinkRecord {
        issuer: "https://idp.example".into(),
        subject: subject.into(),
        account: account.into(),
        created_at: 10,
    }
}

pub async fn oidc_logins_are_taken_once(s: &dyn Store) {
    s.put_oidc_login(login("l1", 1_000)).await.unwrap();
    s.put_oidc_login(login("l2", 2_000)).await.unwrap();
    assert_eq!(
        s.put_oidc_login(login("l1", 5)).await.unwrap_err().code(),
        "store.duplicate"
    );
    assert_eq!(
        s.take_oidc_login("l1").await.unwrap(),
        Some(login("l1", 1_000))
    );
    assert_eq!(s.take_oidc_login("l1").await.unwrap(), None, "single use");
    assert_eq!(s.take_oidc_login("nope").await.unwrap(), None);
    // Two callbacks racing for one record: exactly one gets it.
    s.put_oidc_login(login("l3", 3_000)).await.unwrap();
    let (a, b) = futures::join!(s.take_oidc_login("l3"), s.take_oidc_login("l3"));
    assert_eq!(
        [a.unwrap(), b.unwrap()]
            .iter()
            .filter(|r| r.is_some())
            .count(),
        1
    );
    // Purging drops what expired before the time given, nothing else.
    s.put_oidc_login(login("l4", 500)).await.unwrap();
    assert_eq!(s.purge_oidc_logins(1_000).await.unwrap(), 1);
    assert_eq!(s.take_oidc_login("l4").await.unwrap(), None);
    assert!(s.take_oidc_login("l2").await.unwrap().is_some());
}

pub async fn oidc_accounts_come_with_their_link(s: &dyn Store) {
    assert!(s
        .oidc_account("https://idp.example", "sub-1")
        .await
        .unwrap()
        .is_none());
    s.put_oidc_account(link("sub-1", "acc1"), account("acc1", "oidc:1"))
        .await
        .unwrap();
    let got = s
        .oidc_account("https://idp.example", "sub-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, account("acc1", "oidc:1"));
    // The subject of another issuer is another person.
    assert!(s
        .oidc_account("https://other.example", "sub-1")
        .await
        .unwrap()
        .is_none());
    // A second account for a linked subject is refused, and nothing of it is stored.
    let err = s
        .put_oidc_account(link("sub-1", "acc2"), account("acc2", "oidc:2"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.duplicate");
    assert!(s.account("acc2").await.unwrap().is_none());
    // A taken username stores no link either.
    let err = s
        .put_oidc_account(link("sub-3", "acc3"), account("acc3", "oidc:1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "account.username_taken");
    assert!(s
        .oidc_account("https://idp.example", "sub-3")
        .await
        .unwrap()
        .is_none());
    // Later sign-ins replace the profile and holder keys.
    s.update_account_profile("acc1", "{\"name\":\"李四\"}".into(), vec!["hk-new".into()])
        .await
        .unwrap();
    let got = s.account("acc1").await.unwrap().unwrap();
    assert_eq!(got.profile, "{\"name\":\"李四\"}");
    assert_eq!(got.holder_keys, vec!["hk-new".to_string()]);
    assert_eq!(got.password_hash, account("acc1", "x").password_hash);
    assert_eq!(
        s.update_account_profile("nobody", "{}".into(), vec![])
            .await
            .unwrap_err()
            .code(),
        "store.not_found"
    );
}
