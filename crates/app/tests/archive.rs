//! The BagIt archive as a library (`elicense_app::archive`): a bag of a license with uses
//! carries each use's log entry as a commitment with its opening, checks offline, and a
//! changed opening is reported.

mod common;

use common::*;
use elicense_app::archive::{self, Scope};
use elicense_app::institutions::{self, Ask, NewInstitution};
use elicense_app::lifecycle::{apply, ActionRequest};
use elicense_core::lifecycle::Action;
use elicense_crypto::Alg;
use serde_json::Value;

const HOTEL: &str = "91310101MA1FPX0Q1Y";
const PURPOSE: &str = "入住登记 房号 1207";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bag_with_uses_carries_their_openings_and_checks_offline() {
    let env = env().await;
    let lic = issue_ok(&env, request(RESIDENT_ID, 0, Alg::Sm2)).await; // 张伟
    let hotel = institutions::register(
        &env.node,
        NewInstitution {
            code: HOTEL.into(),
            name: "上海样本大酒店".into(),
            area: "310101".into(),
            matters: vec!["hotel_check_in".into()],
        },
    )
    .await
    .unwrap();
    clerk(&env, &hotel).await;
    institutions::ask(
        &env.node,
        &hotel,
        Ask {
            matter: "hotel_check_in".into(),
            holder_id: ZHANG.1.into(),
            holder_name: Some(ZHANG.0.into()),
            purpose: PURPOSE.into(),
            staff: CLERK.into(),
            keep_days: Some(7),
            license_type: None,
        },
    )
    .await
    .unwrap();
    let mut req = ActionRequest::new(Action::Suspend, "clerk");
    req.reason = Some("证件挂失".into());
    apply(&env.node, &lic.identifier, req).await.unwrap();

    let bag = env.dir.path().join("bag");
    let summary = archive::export(&env.node, Scope::License(lic.identifier.clone()), &bag)
        .await
        .unwrap();
    // Issue, the hotel's query and annotated copy (legal basis), the suspension.
    assert_eq!((summary.licenses, summary.events), (1, 4));
    let report = archive::verify(&bag);
    assert!(report.ok, "{:?}", report.problems);
    assert_eq!(report.proofs, 4);

    // The uses' entries are commitments; their openings (in the bag) name the purpose.
    let dir = bag.join(format!("data/licenses/{}/log", lic.identifier));
    let mut uses = Vec::new();
    for f in std::fs::read_dir(&dir).unwrap() {
        let path = f.unwrap().path();
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let entry = v["entry"].as_str().unwrap();
        assert!(
            !entry.contains(PURPOSE) && !entry.contains(HOTEL),
            "{entry}"
        );
        if entry.contains("commitment") {
            assert!(v["opening"]["event"].as_str().unwrap().contains(HOTEL));
            uses.push((path, v));
        } else {
            assert!(v.get("opening").is_none());
        }
    }
    assert_eq!(uses.len(), 2);

    // A changed opening no longer matches its entry's commitment.
    let (path, mut v) = uses.remove(0);
    v["opening"]["salt"] = Value::String("00".repeat(32));
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let report = archive::verify(&bag);
    assert!(!report.ok);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("opening does not match")),
        "{:?}",
        report.problems
    );
}
