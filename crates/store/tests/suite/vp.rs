//! OpenID4VP presentation requests: answered once, with the sharing request they grant and
//! its events in the same transaction; webhooks counted until delivered; lapsed requests
//! purged.

use elicense_store::*;

use super::{event, institution, new_license, share};

fn request(id: &str, created_at: i64) -> VpRequestRecord {
    VpRequestRecord {
        id: id.into(),
        institution: "VPB".into(),
        staff: "柜员 李明（clerk）".into(),
        matter: "M1".into(),
        purpose: "开户".into(),
        keep_days: 30,
        response_mode: "direct_post.jwt".into(),
        nonce: format!("nonce-{id}"),
        state: format!("state-{id}"),
        webhook: Some("https://bank.example/hook".into()),
        created_at,
        expires_at: created_at + 300,
        fetched_at: None,
        answered_at: None,
        outcome: None,
        shares: Vec::new(),
        webhook_attempts: 0,
        webhook_done_at: None,
        holder_key: None,
    }
}

pub async fn vp_requests_are_answered_once(s: &dyn Store) {
    s.put_institution(institution("VPB", &["M1"]))
        .await
        .unwrap();
    s.insert(new_license("V1", (9, 1))).await.unwrap();
    s.put_vp_request(request("r1", 100)).await.unwrap();
    s.put_vp_request(request("r2", 200)).await.unwrap();
    let mut r3 = request("r3", 300);
    r3.webhook = None;
    s.put_vp_request(r3).await.unwrap();
    let dup = s.put_vp_request(request("r1", 400)).await.unwrap_err();
    assert_eq!(dup.code(), "store.duplicate");
    assert_eq!(s.vp_request("r1").await.unwrap(), Some(request("r1", 100)));
    assert_eq!(s.vp_request("none").await.unwrap(), None);
    let ids: Vec<String> = s
        .vp_requests_of("VPB", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["r3", "r2", "r1"]);
    assert_eq!(s.vp_requests_of("VPB", 1).await.unwrap().len(), 1);
    assert!(s.vp_requests_of("other", 10).await.unwrap().is_empty());

    // The first fetch is noted, later ones are not.
    assert!(s.mark_vp_fetched("r1", 110).await.unwrap());
    assert!(!s.mark_vp_fetched("r1", 120).await.unwrap());
    assert!(!s.mark_vp_fetched("none", 120).await.unwrap());
    assert_eq!(
        s.vp_request("r1").await.unwrap().unwrap().fetched_at,
        Some(110)
    );

    // Granted: the sharing requests (two: a joint matter's licenses) and their events come
    // with the answer.
    let size0 = s.log_frontier().await.unwrap().size();
    let granted = share("sv1", "VPB", "V1", "h1", 100);
    let granted_too = share("sv1b", "VPB", "V1", "h1", 100);
    let stored = s
        .answer_vp_request(
            "r1",
            150,
            "granted",
            vec![granted.clone(), granted_too.clone()],
            vec![event("V1", "share_query"), event("V1", "consent")],
        )
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored[1].seq > stored[0].seq);
    assert_eq!(s.share("sv1").await.unwrap(), Some(granted));
    assert_eq!(s.share("sv1b").await.unwrap(), Some(granted_too));
    assert_eq!(s.log_frontier().await.unwrap().size(), size0 + 2);
    let r1 = s.vp_request("r1").await.unwrap().unwrap();
    assert_eq!(
        (r1.answered_at, r1.outcome.as_deref(), r1.shares),
        (
            Some(150),
            Some("granted"),
            vec!["sv1".to_string(), "sv1b".into()]
        )
    );
    // A second answer: a conflict, and nothing written (not the share, not its events).
    let again = s
        .answer_vp_request(
            "r1",
            160,
            "granted",
            vec![share("sv2", "VPB", "V1", "h1", 100)],
            vec![event("V1", "consent")],
        )
        .await
        .unwrap_err();
    assert_eq!(again.code(), "store.conflict");
    assert_eq!(s.share("sv2").await.unwrap(), None);
    assert_eq!(s.log_frontier().await.unwrap().size(), size0 + 2);
    let unknown = s
        .answer_vp_request("none", 160, "refused", Vec::new(), Vec::new())
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), "store.not_found");
    // A refusal carries neither.
    s.answer_vp_request("r2", 210, "refused", Vec::new(), Vec::new())
        .await
        .unwrap();
    assert_eq!(
        s.vp_request("r2")
            .await
            .unwrap()
            .unwrap()
            .outcome
            .as_deref(),
        Some("refused")
    );

    // Webhooks: answered requests with a hook, until delivered or out of attempts.
    let pending: Vec<String> = s
        .vp_webhooks_pending(3, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(pending, ["r1", "r2"]);
    s.record_vp_webhook("r1", None).await.unwrap();
    s.record_vp_webhook("r1", None).await.unwrap();
    s.record_vp_webhook("r2", Some(220)).await.unwrap();
    let r1 = s.vp_request("r1").await.unwrap().unwrap();
    assert_eq!((r1.webhook_attempts, r1.webhook_done_at), (2, None));
    let r2 = s.vp_request("r2").await.unwrap().unwrap();
    assert_eq!((r2.webhook_attempts, r2.webhook_done_at), (1, Some(220)));
    let ids = |v: Vec<VpRequestRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(s.vp_webhooks_pending(3, 10).await.unwrap()), ["r1"]);
    assert!(s.vp_webhooks_pending(2, 10).await.unwrap().is_empty());

    // Addressed requests (一码通): the holder's unanswered ones that have not lapsed.
    let mut a1 = request("a1", 500);
    a1.holder_key = Some("hk1".into());
    let mut a2 = request("a2", 510);
    a2.holder_key = Some("hk2".into());
    let mut a3 = request("a3", 520);
    a3.holder_key = Some("hk1".into());
    for r in [a1, a2, a3] {
        s.put_vp_request(r).await.unwrap();
    }
    s.answer_vp_request("a3", 530, "refused", Vec::new(), Vec::new())
        .await
        .unwrap();
    let keys = |v: &[&str]| v.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    assert_eq!(
        ids(s
            .vp_requests_for_holders(&keys(&["hk1", "hk2"]), 700)
            .await
            .unwrap()),
        ["a2", "a1"]
    );
    assert_eq!(
        ids(s
            .vp_requests_for_holders(&keys(&["hk1"]), 700)
            .await
            .unwrap()),
        ["a1"]
    );
    assert!(s
        .vp_requests_for_holders(&keys(&["hk1"]), 800)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .vp_requests_for_holders(&[], 700)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.vp_request("a1")
            .await
            .unwrap()
            .unwrap()
            .holder_key
            .as_deref(),
        Some("hk1")
    );

    // Purge: only unanswered requests that lapsed before the time given.
    assert_eq!(s.purge_vp_requests(600).await.unwrap(), 0);
    assert_eq!(s.purge_vp_requests(601).await.unwrap(), 1);
    s.purge_vp_requests(2_000).await.unwrap();
    assert!(s.vp_request("a1").await.unwrap().is_none());
    assert!(s.vp_request("a3").await.unwrap().is_some());
    assert_eq!(s.vp_request("r3").await.unwrap(), None);
    assert!(s.vp_request("r1").await.unwrap().is_some());
}
