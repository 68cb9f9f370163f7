//! OpenID4VCI offers: wrong transaction codes count until the offer is burnt, one token per
//! offer, one redemption (with its use event), nonces taken once, purge by expiry.

use elicense_store::*;

use super::{event, new_license};

fn offer(id: &str, identifier: &str, expires_at: i64) -> VciOfferRecord {
    VciOfferRecord {
        id: id.into(),
        identifier: identifier.into(),
        actor: "holder".into(),
        tx_code: format!("tx-{id}"),
        failures: 0,
        created_at: expires_at - 600,
        expires_at,
        token: None,
        token_expires_at: None,
        redeemed_at: None,
    }
}

pub async fn vci_offers_burn_grant_and_redeem_once(s: &dyn Store) {
    s.insert(new_license("V1", (1, 0))).await.unwrap();
    s.put_vci_offer(offer("o1", "V1", 1_000)).await.unwrap();
    assert_eq!(
        s.put_vci_offer(offer("o1", "V1", 5))
            .await
            .unwrap_err()
            .code(),
        "store.duplicate"
    );
    assert_eq!(
        s.vci_offer("o1").await.unwrap(),
        Some(offer("o1", "V1", 1_000))
    );
    assert_eq!(s.vci_offer("nope").await.unwrap(), None);

    // Wrong codes count up to the limit, then no more; the burnt offer gets no token.
    for n in 1..=3 {
        assert_eq!(s.fail_vci_tx_code("o1", 3).await.unwrap(), Some(n));
    }
    assert_eq!(s.fail_vci_tx_code("o1", 3).await.unwrap(), None);
    assert_eq!(s.fail_vci_tx_code("nope", 3).await.unwrap(), None);
    assert_eq!(
        s.grant_vci_token("o1", "t1", 900, 3)
            .await
            .unwrap_err()
            .code(),
        "store.conflict"
    );
    assert_eq!(
        s.grant_vci_token("nope", "t1", 900, 3)
            .await
            .unwrap_err()
            .code(),
        "store.not_found"
    );

    // Two token requests at once: exactly one gets it; then wrong codes no longer count.
    s.put_vci_offer(offer("o2", "V1", 1_000)).await.unwrap();
    assert_eq!(s.fail_vci_tx_code("o2", 5).await.unwrap(), Some(1));
    let (a, b) = futures::join!(
        s.grant_vci_token("o2", "t2", 900, 5),
        s.grant_vci_token("o2", "t2b", 900, 5)
    );
    assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1);
    let granted = if a.is_ok() { "t2" } else { "t2b" };
    assert_eq!(s.fail_vci_tx_code("o2", 5).await.unwrap(), None);
    let got = s.vci_offer_by_token(granted).await.unwrap().unwrap();
    assert_eq!(
        (
            got.id.as_str(),
            got.token.as_deref(),
            got.token_expires_at,
            got.failures
        ),
        ("o2", Some(granted), Some(900), 1)
    );
    assert_eq!(s.vci_offer_by_token("t-none").await.unwrap(), None);

    // An offer without a token cannot be redeemed; one with a token once, with its event.
    s.put_vci_offer(offer("o3", "V1", 1_000)).await.unwrap();
    assert_eq!(
        s.redeem_vci_offer("o3", 100, event("V1", "export"))
            .await
            .unwrap_err()
            .code(),
        "store.conflict"
    );
    let events = s.events("L-V1").await.unwrap().len();
    let (a, b) = futures::join!(
        s.redeem_vci_offer("o2", 100, event("V1", "export")),
        s.redeem_vci_offer("o2", 100, event("V1", "export"))
    );
    let (ok, err): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(|r| r.is_ok());
    assert_eq!((ok.len(), err.len()), (1, 1));
    assert_eq!(
        err[0].as_ref().unwrap_err().code(),
        "store.conflict",
        "redeemed once"
    );
    assert_eq!(s.events("L-V1").await.unwrap().len(), events + 1);
    assert_eq!(
        s.vci_offer("o2").await.unwrap().unwrap().redeemed_at,
        Some(100)
    );
    assert_eq!(
        s.redeem_vci_offer("nope", 100, event("V1", "export"))
            .await
            .unwrap_err()
            .code(),
        "store.not_found"
    );
    // A redemption whose event cannot be written (no such license) leaves the offer open.
    s.put_vci_offer(offer("o4", "V1", 1_000)).await.unwrap();
    s.grant_vci_token("o4", "t4", 900, 5).await.unwrap();
    assert!(s
        .redeem_vci_offer("o4", 100, event("nope", "export"))
        .await
        .is_err());
    assert_eq!(s.vci_offer("o4").await.unwrap().unwrap().redeemed_at, None);
}

pub async fn vci_nonces_are_used_once_and_purged(s: &dyn Store) {
    assert!(s.use_vci_nonce("n1", 500).await.unwrap());
    assert!(s.use_vci_nonce("n2", 1_500).await.unwrap());
    assert!(!s.use_vci_nonce("n1", 500).await.unwrap(), "single use");
    let (a, b) = futures::join!(s.use_vci_nonce("n3", 500), s.use_vci_nonce("n3", 500));
    assert_eq!(
        [a.unwrap(), b.unwrap()]
            .iter()
            .filter(|first| **first)
            .count(),
        1,
        "two uses at once: one wins"
    );
    // Purging drops expired nonces and offers whose code and token both expired.
    s.put_vci_offer(offer("p1", "X", 500)).await.unwrap();
    s.put_vci_offer(offer("p2", "X", 500)).await.unwrap();
    s.grant_vci_token("p2", "tp2", 2_000, 5).await.unwrap();
    s.put_vci_offer(offer("p3", "X", 2_000)).await.unwrap();
    assert_eq!(
        s.purge_vci(1_000).await.unwrap(),
        3,
        "nonces n1 and n3, offer p1"
    );
    assert_eq!(s.vci_offer("p1").await.unwrap(), None);
    assert!(s.vci_offer("p2").await.unwrap().is_some(), "token alive");
    assert!(s.vci_offer("p3").await.unwrap().is_some());
    assert!(
        !s.use_vci_nonce("n2", 1_500).await.unwrap(),
        "n2 is kept until it expires"
    );
}
