//! Stored values that do not parse, written behind the node's back into its real SQLite file
//! (as a tool or a disk fault would): every use case that reads them answers `store.corrupt`,
//! never a panic, a skipped record or a silent default.

mod common;

use common::*;
use elicense_app::institutions::{self, Ask, NewInstitution};
use elicense_app::lifecycle::{apply, ActionRequest};
use elicense_app::verify::{public_status, status_view};
use elicense_app::wallet::agents;
use elicense_app::wallet::licenses;
use elicense_app::ErrorKind;
use elicense_core::lifecycle::Action;
use elicense_crypto::Alg;

/// Runs `sql` on the node's database file through a connection of its own.
fn tamper(env: &Env, sql: &str) {
    let db = rusqlite::Connection::open(env.dir.path().join("elicense.db")).expect("open db");
    db.execute_batch(sql).expect("tamper");
}

fn corrupt<T: std::fmt::Debug>(r: Result<T, elicense_app::AppError>) {
    let e = expect_code(r, "store.corrupt");
    assert_eq!(e.kind, ErrorKind::Internal, "{e}");
}

#[tokio::test]
async fn a_license_with_an_unknown_status_bad_metadata_or_algorithm_is_corrupt() {
    let env = env().await;
    for (n, set) in [
        "status = 'sleeping'",
        "meta = '{\"identifier\": '",
        "alg = 'rot13'",
        // Valid JSON, but of no license: a required field is missing.
        "meta = '{}'",
    ]
    .into_iter()
    .enumerate()
    {
        let issued = issue_ok(&env, request(DRIVING, n, Alg::EdDSA)).await;
        let id = &issued.identifier;
        public_status(&env.node, id).await.expect("readable before");
        tamper(
            &env,
            &format!("UPDATE licenses SET {set} WHERE identifier = '{id}'"),
        );
        corrupt(public_status(&env.node, id).await);
        corrupt(status_view(&env.node, id).await);
        corrupt(apply(&env.node, id, ActionRequest::new(Action::Suspend, "t")).await);
    }
}

#[tokio::test]
async fn metadata_of_another_version_is_corrupt() {
    let env = env().await;
    let a = issue_ok(&env, request(DRIVING, 0, Alg::EdDSA)).await;
    let b = issue_ok(&env, request(DRIVING, 1, Alg::EdDSA)).await;
    tamper(
        &env,
        &format!(
            "UPDATE licenses SET meta = (SELECT meta FROM licenses WHERE identifier = '{}') \
             WHERE identifier = '{}'",
            b.identifier, a.identifier
        ),
    );
    corrupt(public_status(&env.node, &a.identifier).await);
    public_status(&env.node, &b.identifier)
        .await
        .expect("the other license is untouched");
}

#[tokio::test]
async fn an_event_with_an_unknown_kind_category_or_bad_detail_is_corrupt() {
    let env = env().await;
    for (n, set) in [
        "kind = 'teleport'",
        "detail = 'not json'",
        "reason_category = 'whim'",
    ]
    .into_iter()
    .enumerate()
    {
        let issued = issue_ok(&env, request(DRIVING, n, Alg::EdDSA)).await;
        let id = &issued.identifier;
        tamper(
            &env,
            &format!("UPDATE events SET {set} WHERE identifier = '{id}'"),
        );
        corrupt(public_status(&env.node, id).await);
    }
}

const HOTEL: &str = "91310101MA1FPX0Q1Y";

#[tokio::test]
async fn a_request_with_an_unknown_state_basis_or_identifier_is_corrupt() {
    let env = env().await;
    let inst = institutions::register(
        &env.node,
        NewInstitution {
            code: HOTEL.into(),
            name: "上海样本大酒店".into(),
            area: "110105".into(),
            matters: vec!["hotel_check_in".into()],
        },
    )
    .await
    .expect("register");
    clerk(&env, &inst).await;
    for (n, set) in [
        "state = 'limbo'",
        "basis = 'whim'",
        "identifier = '1.2.156.3005.2.x'",
    ]
    .into_iter()
    .enumerate()
    {
        issue_ok(&env, request(RESIDENT_ID, n, Alg::EdDSA)).await;
        let t = sample_type(RESIDENT_ID);
        let (name, code) = holder(&t, n);
        let asked = institutions::ask(
            &env.node,
            &inst,
            Ask {
                matter: "hotel_check_in".into(),
                holder_id: code.into(),
                holder_name: Some(name.into()),
                purpose: "入住登记".into(),
                staff: CLERK.into(),
                keep_days: None,
                license_type: None,
            },
        )
        .await
        .expect("ask");
        assert_eq!(asked.identifier, None, "the institution's view");
        institutions::get(&env.node, &inst, &asked.id)
            .await
            .expect("readable before");
        tamper(
            &env,
            &format!("UPDATE shares SET {set} WHERE id = '{}'", asked.id),
        );
        corrupt(institutions::get(&env.node, &inst, &asked.id).await);
    }
}

#[tokio::test]
async fn an_authorization_on_a_bad_identifier_is_corrupt() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await;
    let zhang = account(&env, "zhangwei", ZHANG).await;
    let li = account(&env, "lina", LI).await;
    let grant = age_check_grant_to_li();
    let view = agents::authorize(&env.node, &zhang, &lic.identifier, grant)
        .await
        .unwrap();
    licenses::open(&env.node, &li, &lic.identifier)
        .await
        .expect("the agent sees it");
    tamper(
        &env,
        &format!(
            "UPDATE authorizations SET identifier = 'not an identifier' WHERE id = '{}'",
            view.id
        ),
    );
    // The agent's access and the holder's list of authorizations both read it.
    corrupt(licenses::open(&env.node, &li, &lic.identifier).await);
    let opened = licenses::open(&env.node, &zhang, &lic.identifier)
        .await
        .expect("the holder's own access needs no authorization");
    corrupt(agents::list(&env.node, &opened).await);
}

#[tokio::test]
async fn sealed_holder_codes_open_only_for_their_account() {
    use elicense_app::wallet::identity::holder_codes;
    use elicense_core::holder::{HolderCode, HolderCodeType};
    let env = env().await;
    let mut ids = Vec::new();
    for (user, who) in [("a", ZHANG), ("b", LI)] {
        let (code, person) = (
            who.1,
            HolderCode::parse(HolderCodeType::ResidentId, who.1).unwrap(),
        );
        let made = account(&env, user, who).await;
        // Kept sealed, opened for the account they belong to.
        let db = rusqlite::Connection::open(env.dir.path().join("elicense.db")).unwrap();
        let profile: String = db
            .query_row(
                "SELECT profile FROM accounts WHERE id = ?1",
                [&made.account],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!profile.contains(code), "{profile}");
        assert_eq!(
            holder_codes(&env.node, &made.account).await.unwrap(),
            Some(vec![person])
        );
        ids.push(made.account);
    }
    // B's sealed codes copied into A's profile do not open as A's (bound to the account id);
    // a flipped byte does not open either.
    tamper(
        &env,
        &format!(
            "UPDATE accounts SET profile = (SELECT profile FROM accounts WHERE id = '{}') \
             WHERE id = '{}'",
            ids[1], ids[0]
        ),
    );
    corrupt(holder_codes(&env.node, &ids[0]).await);
    tamper(
        &env,
        &format!(
            "UPDATE accounts SET profile = json_set(profile, '$.sealed_codes', \
             CASE WHEN substr(json_extract(profile, '$.sealed_codes'), 1, 1) = 'A' \
             THEN 'B' ELSE 'A' END || substr(json_extract(profile, '$.sealed_codes'), 2)) \
             WHERE id = '{}'",
            ids[1]
        ),
    );
    corrupt(holder_codes(&env.node, &ids[1]).await);
    // An account made before codes were kept has none to open.
    tamper(
        &env,
        &format!(
            "UPDATE accounts SET profile = json_remove(profile, '$.sealed_codes') WHERE id = '{}'",
            ids[0]
        ),
    );
    assert_eq!(holder_codes(&env.node, &ids[0]).await.unwrap(), None);
}
