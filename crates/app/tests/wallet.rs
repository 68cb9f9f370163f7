//! The holder wallet end to end on a real SQLite node: accounts, what each identity may see,
//! device binding, holder-bound presentations signed like the browser signs them (P-256 raw
//! r‖s), their 60-second life, agents (代办), and the history in the log.

mod common;

use common::*;
use elicense_app::lifecycle::{apply, ActionRequest};
use elicense_app::wallet::agents;
use elicense_app::wallet::identity::{create_account, NewAccount};
use elicense_app::wallet::{licenses, present, ClientAddr, IdentityProvider, LocalAccounts};
use elicense_core::agency::GrantState;
use elicense_core::holder::{HolderCode, HolderCodeType};
use elicense_core::lifecycle::Action;
use elicense_crypto::Alg;

#[tokio::test]
async fn sign_in_checks_the_password_and_usernames_are_unique() {
    let env = env().await;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let idp = LocalAccounts::new(&env.node);
    let client = ClientAddr::unknown();
    let got = idp
        .sign_in("zhangwei", "zhangwei-password", client)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, zhang);
    assert_eq!(got.person_masked, "110105********002X");
    assert!(idp
        .sign_in("zhangwei", "wrong", client)
        .await
        .unwrap()
        .is_none());
    assert!(idp
        .sign_in("nobody", "zhangwei-password", client)
        .await
        .unwrap()
        .is_none());
    let again = create_account(
        &env.node,
        NewAccount {
            username: "zhangwei".into(),
            password: "another-password".into(),
            name: "someone".into(),
            person: HolderCode::parse(HolderCodeType::ResidentId, LI.1).unwrap(),
        },
    )
    .await;
    expect_code(again, "account.username_taken");
}

#[tokio::test]
async fn a_holder_sees_own_and_company_licenses_and_nobody_else_does() {
    let env = env().await;
    let own = issue_ok(&env, request(DRIVING, 0, Alg::Sm2)).await; // 张伟
    let company = issue_ok(&env, request(BUSINESS, 0, Alg::Sm2)).await; // 北京示例科技
    let other = issue_ok(&env, request(DRIVING, 1, Alg::Sm2)).await; // 李娜
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let li = account(&env, "lina", LI).await;

    let groups = licenses::list(&env.node, &zhang).await.unwrap();
    let seen: Vec<&str> = groups
        .iter()
        .flat_map(|g| g.licenses.iter().map(|l| l.identifier.as_str()))
        .collect();
    assert!(seen.contains(&own.identifier.as_str()));
    assert!(seen.contains(&company.identifier.as_str()));
    assert!(!seen.contains(&other.identifier.as_str()));
    assert_eq!(groups.len(), 2, "grouped by type");

    // Someone else's license does not exist for this identity (same answer as unknown).
    expect_code(
        licenses::open(&env.node, &li, &own.identifier).await,
        "wallet.not_found",
    );
    // A well-formed identifier of no stored version: the same answer. (A malformed one never
    // gets this far: the edges parse it, `identifier.*`.)
    expect_code(
        licenses::open(&env.node, &li, &own.identifier.with_version(7).unwrap()).await,
        "wallet.not_found",
    );
    let opened = licenses::open(&env.node, &zhang, &company.identifier)
        .await
        .unwrap();
    assert_eq!(
        opened.access,
        licenses::Access::Enterprise(COMPANY.0.into())
    );
}

/// The identity a session gives (what every request of the wallet asks for).
async fn now_as(env: &Env, who: &elicense_app::wallet::Identity) -> elicense_app::wallet::Identity {
    LocalAccounts::new(&env.node)
        .identity(&who.account)
        .await
        .unwrap()
        .expect("active")
}

fn change(fields: &[(&str, &str)], action: Action) -> ActionRequest {
    let mut req = ActionRequest::new(action, "clerk");
    req.reason = Some("法定代表人变更".into());
    req.fields = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    req
}

#[tokio::test]
async fn the_legal_representative_is_whom_the_business_license_names_now() {
    let env = env().await;
    // 北京示例科技's business license names 张伟; its food license is another of its licenses.
    let business = issue_ok(&env, request(BUSINESS, 0, Alg::Sm2))
        .await
        .identifier;
    let food = issue_ok(&env, request(FOOD, 0, Alg::Sm2)).await.identifier;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let li = account(&env, "lina", LI).await;
    assert_eq!(zhang.enterprises.len(), 1, "{:?}", zhang.enterprises);
    assert_eq!(zhang.enterprises[0].0.uscc, COMPANY.1);
    assert_eq!(zhang.enterprises[0].0.name, COMPANY.0);
    assert!(li.enterprises.is_empty());
    let opened = licenses::open(&env.node, &zhang, &food).await.unwrap();
    assert_eq!(
        opened.access,
        licenses::Access::Enterprise(COMPANY.0.into())
    );
    // The representative authorises an agent (代办) for the enterprise's matter.
    let grant = agents::Grant {
        agent_name: LI.0.into(),
        agent_id: LI.1.into(),
        matter: "food_delivery_platform".into(),
        valid_from: T0 - 10,
        valid_until: T0 + 86_400,
    };
    agents::authorize(&env.node, &zhang, &food, grant.clone())
        .await
        .unwrap();
    assert!(licenses::open(&env.node, &li, &food).await.is_ok());
    expect_code(
        agents::authorize(&env.node, &li, &food, grant.clone()).await,
        "wallet.agent_cannot_delegate",
    );

    // A change of representative on the license moves the right at once: the next request
    // of 张伟's session no longer reaches the enterprise, 李娜's does.
    let changed = apply(
        &env.node,
        &business,
        change(
            &[
                ("legal_representative_id", LI.1),
                ("legal_representative", LI.0),
            ],
            Action::Change,
        ),
    )
    .await
    .unwrap()
    .successor
    .unwrap()
    .identifier;
    let zhang = now_as(&env, &zhang).await;
    let li = now_as(&env, &li).await;
    assert!(zhang.enterprises.is_empty(), "{:?}", zhang.enterprises);
    assert_eq!(li.enterprises.len(), 1);
    for id in [&food, &changed] {
        expect_code(
            licenses::open(&env.node, &zhang, id).await,
            "wallet.not_found",
        );
        let o = licenses::open(&env.node, &li, id).await.unwrap();
        assert_eq!(o.access, licenses::Access::Enterprise(COMPANY.0.into()));
    }
    let seen: Vec<String> = licenses::list(&env.node, &zhang)
        .await
        .unwrap()
        .iter()
        .flat_map(|g| g.licenses.iter().map(|l| l.identifier.clone()))
        .collect();
    assert!(!seen.contains(&food.to_string()), "{seen:?}");

    // Suspended, the license still names its representative; cancelled (注销), nobody.
    apply(&env.node, &changed, change(&[], Action::Suspend))
        .await
        .unwrap();
    assert_eq!(now_as(&env, &li).await.enterprises.len(), 1);
    apply(&env.node, &changed, change(&[], Action::Reinstate))
        .await
        .unwrap();
    apply(&env.node, &changed, change(&[], Action::Cancel))
        .await
        .unwrap();
    let li = now_as(&env, &li).await;
    assert!(li.enterprises.is_empty());
    // What the enterprise granted through 张伟 is the enterprise's: 李娜 is its agent still
    // (the representative of the day may withdraw it), no longer its representative.
    let o = licenses::open(&env.node, &li, &food).await.unwrap();
    assert!(
        matches!(o.access, licenses::Access::Agent(_)),
        "{:?}",
        o.access
    );
    let wang = account(&env, "wangfang", ("王芳", "310104198012315019")).await;
    expect_code(
        licenses::open(&env.node, &wang, &food).await,
        "wallet.not_found",
    );
    // Signing in gives the same answer as a session does.
    let signed_in = LocalAccounts::new(&env.node)
        .sign_in("lina", "lina-password", ClientAddr::unknown())
        .await
        .unwrap()
        .unwrap();
    assert!(signed_in.enterprises.is_empty());
}

#[tokio::test]
async fn a_presentation_discloses_only_the_chosen_fields_and_expires_after_60_seconds() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let device = Device::new();
    let shown = show(
        &env,
        &zhang,
        &lic.identifier,
        &device,
        &["holder_name", "birth_date"],
        Some("hotel_check_in"),
    )
    .await
    .unwrap();
    assert!(shown.url.starts_with(&format!("{BASE_URL}/verify/p/")));
    assert_eq!(shown.expires_at, T0 + 60);

    let opening = present::open(&env.node, &shown.id).await.unwrap();
    assert!(opening.verdict.valid, "{:?}", opening.verdict.problems);
    assert!(opening.verdict.key_binding);
    assert_eq!(opening.verdict.claims["holder_name"], "张伟");
    assert!(opening.verdict.claims.contains_key("birth_date"));
    assert!(
        !opening.verdict.claims.contains_key("holder_id"),
        "not chosen, not shown"
    );
    assert!(!opening.verdict.claims.contains_key("address"));
    assert_eq!(opening.matter.as_deref(), Some("hotel_check_in"));

    env.clock.advance(61);
    let late = present::open(&env.node, &shown.id).await.unwrap();
    assert!(!late.verdict.valid);
    assert_eq!(late.verdict.problems[0].code, "presentation.expired");
    assert!(
        late.verdict.claims.is_empty(),
        "an expired presentation shows no personal data"
    );
    expect_code(
        present::open(&env.node, "no-such-id").await,
        "presentation.not_found",
    );
}

#[tokio::test]
async fn a_revoked_license_presents_as_revoked_and_a_forged_signature_is_refused() {
    let env = env().await;
    let lic = issue_ok(&env, request(DRIVING, 0, Alg::Es256)).await;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let device = Device::new();
    let jkt = present::bind(&env.node, &zhang, &lic.identifier, &device.jwk())
        .await
        .unwrap();
    let prep = present::prepare(
        &env.node,
        &zhang,
        &lic.identifier,
        &jkt,
        &["holder_name".into()],
        None,
    )
    .await
    .unwrap();
    // Signed by another key: the node refuses to keep it.
    let forged = Device::new().sign(&prep.signing_input);
    expect_code(
        present::complete(&env.node, &zhang, &lic.identifier, &prep.id, &forged).await,
        "wallet.presentation_invalid",
    );
    expect_code(
        present::complete(&env.node, &zhang, &lic.identifier, &prep.id, "!!").await,
        "wallet.bad_signature",
    );
    // A private key is never taken.
    let mut with_d: serde_json::Value = serde_json::from_str(&device.jwk()).unwrap();
    with_d["d"] = "AAAA".into();
    expect_code(
        present::bind(&env.node, &zhang, &lic.identifier, &with_d.to_string()).await,
        "wallet.bad_jwk",
    );
    // Fields outside the credential are refused.
    expect_code(
        present::prepare(
            &env.node,
            &zhang,
            &lic.identifier,
            &jkt,
            &["file_number".into()],
            None,
        )
        .await,
        "wallet.field_not_disclosable",
    );

    let shown = show(
        &env,
        &zhang,
        &lic.identifier,
        &device,
        &["holder_name"],
        None,
    )
    .await
    .unwrap();
    let mut req = ActionRequest::new(Action::Revoke, "test");
    req.reason = Some("以欺骗手段取得".into());
    apply(&env.node, &lic.identifier, req).await.unwrap();
    env.node.status.invalidate();
    let opening = present::open(&env.node, &shown.id).await.unwrap();
    assert!(!opening.verdict.valid);
    let status = opening.verdict.status.expect("status");
    assert_eq!(status.code, "revoked");
    // The verifier sees the reason's category, not the issuer's words.
    assert_eq!(status.reason, None);
    assert_eq!(
        status.reason_category,
        Some(elicense_core::ReasonCategory::Other)
    );
}

#[tokio::test]
async fn an_agent_sees_and_shows_only_what_the_matter_needs_until_withdrawn() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let li = account(&env, "lina", LI).await;
    let grant = age_check_grant_to_li();
    let view = agents::authorize(&env.node, &zhang, &lic.identifier, grant.clone())
        .await
        .unwrap();
    assert_eq!(view.state, GrantState::Active);

    let opened = licenses::open(&env.node, &li, &lic.identifier)
        .await
        .unwrap();
    assert!(matches!(opened.access, licenses::Access::Agent(_)));
    let device = Device::new();
    expect_code(
        show(
            &env,
            &li,
            &lic.identifier,
            &device,
            &["holder_id"],
            Some("age_check"),
        )
        .await,
        "wallet.agent_scope",
    );
    let shown = show(
        &env,
        &li,
        &lic.identifier,
        &device,
        &["birth_date"],
        Some("age_check"),
    )
    .await
    .unwrap();
    assert!(
        present::open(&env.node, &shown.id)
            .await
            .unwrap()
            .verdict
            .valid
    );
    // An agent cannot delegate further; bad requests have codes.
    expect_code(
        agents::authorize(&env.node, &li, &lic.identifier, grant.clone()).await,
        "wallet.agent_cannot_delegate",
    );
    let mut bad = grant.clone();
    bad.matter = "no_such_matter".into();
    expect_code(
        agents::authorize(&env.node, &zhang, &lic.identifier, bad).await,
        "wallet.unknown_matter",
    );
    let mut bad = grant.clone();
    bad.agent_id = "110105200002290022".into();
    assert!(agents::authorize(&env.node, &zhang, &lic.identifier, bad)
        .await
        .is_err());

    agents::withdraw(&env.node, &zhang, &lic.identifier, &view.id)
        .await
        .unwrap();
    expect_code(
        licenses::open(&env.node, &li, &lic.identifier).await,
        "wallet.not_found",
    );
    let again = agents::withdraw(&env.node, &zhang, &lic.identifier, &view.id).await;
    assert!(again.is_err(), "withdrawn twice");

    // The history names every use and authorization, and each event is in the signed log.
    let own = licenses::open(&env.node, &zhang, &lic.identifier)
        .await
        .unwrap();
    let history = licenses::history(&env.node, &own, 0).await.unwrap().entries;
    let kinds: Vec<&str> = history.iter().map(|h| h.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "authorize_withdraw",
            "verify",
            "present",
            "authorize",
            "issue",
        ],
        "newest first"
    );
    assert!(history.iter().all(|h| h.log_index.is_some()), "{history:?}");
    assert_eq!(history[2].matter.as_deref(), Some("age_check"));
}
