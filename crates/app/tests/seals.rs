//! Electronic seals on a real SQLite node: filing (who may), the public register, status
//! changes and the CA's revocation list, sealing PDFs (who may, a joint seal of two owners,
//! every use recorded) and verifying them (a revoked seal, a changed byte), and the
//! enterprise's seals that come and go with its business license.

mod common;

use common::*;
use elicense_app::lifecycle::{self, ActionRequest};
use elicense_app::seals::document::{self as sealdoc, Placement};
use elicense_app::seals::{self, NewSeal, Principal, StatusChange};
use elicense_core::lifecycle::Action;
use elicense_crypto::Alg;

const CLASSIC: &[u8] = include_bytes!("../../pdfsign/testdata/ten-pages-classic.pdf");

fn new_seal(owner: &str, kind: &str, name: &str, alg: &str) -> NewSeal {
    NewSeal {
        owner: owner.into(),
        owner_name: None,
        kind: kind.into(),
        name: name.into(),
        alg: Some(alg.into()),
        valid_days: None,
        users: Vec::new(),
        picture: None,
    }
}

fn issuer(uscc: &str) -> Principal {
    Principal::Organisation {
        role: "issuer",
        uscc: uscc.into(),
    }
}

fn operator() -> Principal {
    Principal::Operator("operator:test".into())
}

fn at(id: &str, page: u32) -> Placement {
    Placement {
        seal: id.into(),
        page: Some(page),
        rect: None,
    }
}

#[tokio::test]
async fn an_owner_files_seals_seals_a_pdf_jointly_and_anyone_verifies_it() {
    let env = env().await;
    let node = &env.node;
    // Only the owner (or the operator) files its seals.
    expect_code(
        seals::create(
            node,
            &issuer(BJ_TRAFFIC),
            new_seal(BJ_SAMR, "official", "北京市市场监督管理局", "sm2"),
        )
        .await,
        "seal.not_owner",
    );
    expect_code(
        seals::create(
            node,
            &issuer(BJ_SAMR),
            new_seal(BJ_SAMR, "stamp", "x", "sm2"),
        )
        .await,
        "seal.bad_kind",
    );
    expect_code(
        seals::create(
            node,
            &issuer(BJ_SAMR),
            new_seal(BJ_SAMR, "official", "x", "rsa"),
        )
        .await,
        "seal.bad_alg",
    );
    let samr = seals::create(
        node,
        &issuer(BJ_SAMR),
        new_seal(BJ_SAMR, "official", "北京市市场监督管理局", "sm2"),
    )
    .await
    .unwrap();
    assert_eq!(
        samr.owner_name, "北京市市场监督管理局",
        "the registered name"
    );
    assert_eq!((samr.alg.as_str(), samr.status.as_str()), ("sm2", "active"));
    assert_eq!(
        &samr.seal_id[..6],
        &BJ_SAMR[2..8],
        "the seal number starts with the area"
    );
    let police = seals::create(
        node,
        &operator(),
        new_seal(
            BJ_TRAFFIC,
            "contract",
            "北京市公安局公安交通管理局合同专用章",
            "es256",
        ),
    )
    .await
    .unwrap();
    // The register, by owner; the seal as filed, and its chain.
    let listed = seals::of_owner(node, BJ_SAMR).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].seal_id, samr.seal_id);
    let der = seals::seal_der(node, &samr.seal_id).await.unwrap();
    let parsed = elicense_seal::ses::Seal::from_der(&der).unwrap();
    assert_eq!(parsed.info().seal_id, samr.seal_id);
    assert_eq!(parsed.info().name, "北京市市场监督管理局");
    assert!(parsed.maker_signature_verifies());
    assert_eq!(parsed.to_der(), der, "byte for byte");
    let chain = seals::chain_pem(node, &samr.seal_id).await.unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);

    // Another owner's issuer may not seal with it.
    expect_code(
        sealdoc::seal(
            node,
            &issuer(BJ_TRAFFIC),
            CLASSIC,
            &[at(&samr.seal_id, 1)],
            "x",
        )
        .await,
        "seal.not_allowed",
    );
    // A joint seal: the SAMR's SM2 seal on page 1, then the police's ES256 seal on page 2.
    let once = sealdoc::seal(
        node,
        &issuer(BJ_SAMR),
        CLASSIC,
        &[at(&samr.seal_id, 1)],
        "联合发文",
    )
    .await
    .unwrap();
    let twice = sealdoc::seal(
        node,
        &issuer(BJ_TRAFFIC),
        &once,
        &[at(&police.seal_id, 2)],
        "联合发文",
    )
    .await
    .unwrap();
    assert!(
        twice.starts_with(&once),
        "an incremental update keeps the first signature's bytes"
    );
    let verdict = sealdoc::verify(node, &twice).await.unwrap();
    assert!(verdict.valid, "{verdict:?}");
    assert_eq!(verdict.signatures.len(), 2);
    assert_eq!(
        verdict.signatures[0].seal_id.as_deref(),
        Some(samr.seal_id.as_str())
    );
    assert_eq!(
        verdict.signatures[1].seal_id.as_deref(),
        Some(police.seal_id.as_str())
    );
    assert!(verdict.signatures.iter().all(|s| s.valid));
    // Every use is recorded for the owner, with the document's hash.
    let uses = seals::uses(node, &issuer(BJ_SAMR), &samr.seal_id, 10)
        .await
        .unwrap();
    assert_eq!(uses.len(), 1);
    assert_eq!(uses[0].actor, format!("issuer:{BJ_SAMR}"));
    assert_eq!(uses[0].purpose, "联合发文");
    expect_code(
        seals::uses(node, &issuer(BJ_TRAFFIC), &samr.seal_id, 10).await,
        "seal.not_owner",
    );

    // A byte changed after sealing: no longer valid.
    let mut tampered = twice.clone();
    let i = tampered.len() / 3;
    tampered[i] ^= 0x01;
    let v = sealdoc::verify(node, &tampered).await;
    assert!(
        v.map(|v| !v.valid).unwrap_or(true),
        "a changed byte is caught"
    );

    // Suspended: it seals nothing, and documents it sealed do not verify as valid.
    seals::set_status(node, &issuer(BJ_SAMR), &samr.seal_id, StatusChange::Suspend)
        .await
        .unwrap();
    expect_code(
        sealdoc::seal(
            node,
            &issuer(BJ_SAMR),
            CLASSIC,
            &[at(&samr.seal_id, 1)],
            "x",
        )
        .await,
        "seal.not_active",
    );
    let v = sealdoc::verify(node, &twice).await.unwrap();
    assert!(!v.valid);
    assert!(!v.signatures[0].valid && v.signatures[1].valid);
    // On the CA's revocation list at once.
    let crl = seals::crl(node, Alg::Sm2).await.unwrap();
    let serial = hex::decode(env.store.seal(&samr.seal_id).await.unwrap().unwrap().serial).unwrap();
    assert!(
        crl.windows(serial.len()).any(|w| w == serial.as_slice()),
        "the CRL lists the suspended seal's serial"
    );
    seals::set_status(node, &operator(), &samr.seal_id, StatusChange::Reinstate)
        .await
        .unwrap();
    assert!(sealdoc::verify(node, &twice).await.unwrap().valid);
    // Revoked is final.
    seals::set_status(node, &issuer(BJ_SAMR), &samr.seal_id, StatusChange::Revoke)
        .await
        .unwrap();
    expect_code(
        seals::set_status(
            node,
            &issuer(BJ_SAMR),
            &samr.seal_id,
            StatusChange::Reinstate,
        )
        .await,
        "seal.bad_transition",
    );
    // Nobody but the owner and the operator changes a seal.
    expect_code(
        seals::set_status(
            node,
            &issuer(BJ_SAMR),
            &police.seal_id,
            StatusChange::Revoke,
        )
        .await,
        "seal.not_owner",
    );
    assert!(!sealdoc::verify(node, &twice).await.unwrap().valid);

    // Bad input: not a PDF, a page that does not exist.
    expect_code(
        sealdoc::seal(
            node,
            &issuer(BJ_TRAFFIC),
            b"not a pdf",
            &[at(&police.seal_id, 1)],
            "",
        )
        .await,
        "pdf.not_a_pdf",
    );
    expect_code(
        sealdoc::seal(
            node,
            &issuer(BJ_TRAFFIC),
            CLASSIC,
            &[at(&police.seal_id, 99)],
            "",
        )
        .await,
        "pdf.no_such_page",
    );
}

#[tokio::test]
async fn an_enterprise_gets_its_seals_with_its_business_license_and_loses_them_with_it() {
    let env = env().await;
    let node = &env.node;
    let req = request(BUSINESS, 0, Alg::Sm2);
    let company = req.holder_id.clone();
    let license = issue_ok(&env, req).await.identifier;
    // The register shows the enterprise's official and legal-representative seals.
    let listed = seals::of_owner(node, &company).await.unwrap();
    let mut kinds: Vec<&str> = listed.iter().map(|s| s.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["legal_rep", "official"], "{listed:?}");
    let name_of = |kind: &str| listed.iter().find(|s| s.kind == kind).unwrap().name.clone();
    assert_eq!(name_of("official"), COMPANY.0);
    assert_eq!(name_of("legal_rep"), format!("{}印", ZHANG.0));
    assert!(listed
        .iter()
        .all(|s| s.license.is_some() && s.status == "active"));
    // Looking again makes nothing new.
    assert_eq!(seals::of_owner(node, &company).await.unwrap().len(), 2);
    // The representative may use them; another person may not.
    let zhang = Principal::Person(account(&env, "zhangwei", ZHANG).await);
    let li = Principal::Person(account(&env, "lina", LI).await);
    let official = listed
        .iter()
        .find(|s| s.kind == "official")
        .unwrap()
        .seal_id
        .clone();
    sealdoc::seal(node, &zhang, CLASSIC, &[at(&official, 1)], "合同")
        .await
        .unwrap();
    expect_code(
        sealdoc::seal(node, &li, CLASSIC, &[at(&official, 1)], "合同").await,
        "seal.not_allowed",
    );
    // The license suspended: the seals too; reinstated: back; cancelled: revoked for good.
    let act = |a: Action| ActionRequest::new(a, "test");
    lifecycle::apply(node, &license, act(Action::Suspend))
        .await
        .unwrap();
    let s = seals::of_owner(node, &company).await.unwrap();
    assert!(s.iter().all(|s| s.status == "suspended"), "{s:?}");
    lifecycle::apply(node, &license, act(Action::Reinstate))
        .await
        .unwrap();
    assert!(seals::of_owner(node, &company)
        .await
        .unwrap()
        .iter()
        .all(|s| s.status == "active"));
    lifecycle::apply(node, &license, act(Action::Cancel))
        .await
        .unwrap();
    let s = seals::of_owner(node, &company).await.unwrap();
    assert_eq!(s.len(), 2, "a cancelled license makes no new seals");
    assert!(s.iter().all(|s| s.status == "revoked"), "{s:?}");
    expect_code(
        sealdoc::seal(node, &zhang, CLASSIC, &[at(&official, 1)], "合同").await,
        "seal.not_active",
    );
}

#[tokio::test]
async fn a_document_sealed_on_another_node_verifies_once_its_ca_is_a_trust_anchor() {
    let a = env().await;
    let id = seals::create(
        &a.node,
        &issuer(BJ_SAMR),
        new_seal(BJ_SAMR, "contract", "北京市市场监督管理局合同专用章", "sm2"),
    )
    .await
    .unwrap()
    .seal_id;
    let sealed = sealdoc::seal(&a.node, &issuer(BJ_SAMR), CLASSIC, &[at(&id, 1)], "合同")
        .await
        .unwrap();
    // Another node does not know A's CA: the signature holds, the chain does not.
    let b = env().await;
    let v = sealdoc::verify(&b.node, &sealed).await.unwrap();
    assert!(!v.valid);
    let s = &v.signatures[0];
    assert!(s.signature_ok && s.seal_ok && !s.chain_ok, "{s:?}");
    assert!(s.problems.iter().any(|p| p.starts_with("chain.")), "{s:?}");
    assert_eq!(s.status_now.as_deref(), Some("unknown"));
    // Listed as a trust anchor (an outside CA for B), it verifies the same way.
    let mut config = elicense_app::NodeConfig::ephemeral(BASE_URL);
    for alg in [Alg::Sm2, Alg::Es256] {
        let pem = seals::ca_pem(&a.node, alg).await.unwrap();
        config
            .seal_trust_anchors
            .extend(elicense_app::config::certificates(pem.as_bytes()));
    }
    assert_eq!(config.seal_trust_anchors.len(), 2);
    let c = env_with(config.clone()).await;
    let v = sealdoc::verify(&c.node, &sealed).await.unwrap();
    assert!(v.valid, "{v:?}");
    // A revokes the seal: a node that lists A's revocation list (`seal_crls`) refuses it.
    seals::set_status(&a.node, &issuer(BJ_SAMR), &id, StatusChange::Revoke)
        .await
        .unwrap();
    config.seal_crls = vec![seals::crl(&a.node, Alg::Sm2).await.unwrap()];
    let d = env_with(config).await;
    let v = sealdoc::verify(&d.node, &sealed).await.unwrap();
    assert!(!v.valid);
    assert!(
        v.signatures[0]
            .problems
            .iter()
            .any(|p| p == "chain.revoked"),
        "{v:?}"
    );
}

#[tokio::test]
async fn an_owner_may_upload_the_seal_picture() {
    use base64::Engine;
    let env = env().await;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let picture = elicense_face::seal_png("北京市市场监督管理局", "110000", 256).unwrap();
    let mut new = new_seal(BJ_SAMR, "finance", "北京市市场监督管理局财务专用章", "sm2");
    new.picture = Some(b64(&picture));
    let s = seals::create(&env.node, &issuer(BJ_SAMR), new)
        .await
        .unwrap();
    let der = seals::seal_der(&env.node, &s.seal_id).await.unwrap();
    let seal = elicense_seal::ses::Seal::from_der(&der).unwrap();
    assert_eq!(seal.info().picture.data, picture, "the picture as uploaded");
    assert_eq!(seal.info().picture.format, "PNG");
    for bad in [b64(b"not a png"), "***".into(), b64(&picture[..40])] {
        let mut new = new_seal(BJ_SAMR, "finance", "x", "sm2");
        new.picture = Some(bad);
        expect_code(
            seals::create(&env.node, &issuer(BJ_SAMR), new).await,
            "seal.bad_picture",
        );
    }
    let tiny = elicense_face::seal_png("小", "1", 32).unwrap();
    let mut new = new_seal(BJ_SAMR, "finance", "x", "sm2");
    new.picture = Some(b64(&tiny));
    expect_code(
        seals::create(&env.node, &issuer(BJ_SAMR), new).await,
        "seal.bad_picture",
    );
}

#[tokio::test]
async fn a_face_pdf_leaves_the_node_sealed_by_its_issuer_in_the_seal_box() {
    let env = env().await;
    let node = &env.node;
    let id = issue_ok(&env, request(DRIVING, 0, Alg::Sm2))
        .await
        .identifier;
    let pdf = elicense_app::face::render_identifier(node, &id, elicense_app::face::FaceFormat::Pdf)
        .await
        .unwrap();
    let v = sealdoc::verify(node, &pdf).await.unwrap();
    assert!(v.valid, "{v:?}");
    assert_eq!(v.signatures.len(), 1);
    let s = &v.signatures[0];
    assert_eq!(s.kind.as_deref(), Some("official"));
    assert_eq!(s.alg.as_deref(), Some("es256"));
    assert!(s.owner.as_deref().unwrap().contains(BJ_TRAFFIC), "{s:?}");
    // The issuer's face seal is filed like any seal, and each face is a use of it.
    let face_seal = seals::of_owner(node, BJ_TRAFFIC).await.unwrap();
    assert_eq!(face_seal.len(), 1);
    assert_eq!(Some(&face_seal[0].seal_id), s.seal_id.as_ref());
    elicense_app::face::render_identifier(node, &id, elicense_app::face::FaceFormat::Pdf)
        .await
        .unwrap();
    assert_eq!(
        seals::of_owner(node, BJ_TRAFFIC).await.unwrap().len(),
        1,
        "one face seal"
    );
    let uses = seals::uses(node, &issuer(BJ_TRAFFIC), &face_seal[0].seal_id, 10)
        .await
        .unwrap();
    assert_eq!(uses.len(), 2);
    assert_eq!(uses[0].actor, "node");
    // Its seal suspended, the next face gets a new one.
    seals::set_status(
        node,
        &issuer(BJ_TRAFFIC),
        &face_seal[0].seal_id,
        StatusChange::Suspend,
    )
    .await
    .unwrap();
    let pdf = elicense_app::face::render_identifier(node, &id, elicense_app::face::FaceFormat::Pdf)
        .await
        .unwrap();
    assert!(sealdoc::verify(node, &pdf).await.unwrap().valid);
    assert_eq!(seals::of_owner(node, BJ_TRAFFIC).await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_owner_authorises_staff_to_use_a_seal() {
    let env = env().await;
    let node = &env.node;
    let s = seals::create(
        node,
        &issuer(BJ_SAMR),
        new_seal(BJ_SAMR, "contract", "北京市市场监督管理局合同专用章", "sm2"),
    )
    .await
    .unwrap();
    let li = account(&env, "lina", LI).await;
    let staff = Principal::Person(li.clone());
    expect_code(
        sealdoc::seal(node, &staff, CLASSIC, &[at(&s.seal_id, 1)], "合同").await,
        "seal.not_allowed",
    );
    assert!(seals::for_person(node, &li).await.unwrap().is_empty());
    // Only the owner (or the operator) names users.
    expect_code(
        seals::set_users(node, &staff, &s.seal_id, vec!["lina".into()]).await,
        "seal.not_owner",
    );
    expect_code(
        seals::set_users(node, &issuer(BJ_SAMR), &s.seal_id, vec!["li na".into()]).await,
        "seal.bad_user",
    );
    let view = seals::set_users(node, &issuer(BJ_SAMR), &s.seal_id, vec!["lina".into()])
        .await
        .unwrap();
    assert_eq!(view.users, ["lina"]);
    // Now she sees it in her wallet and may seal with it; the use names her.
    let mine = seals::for_person(node, &li).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].seal_id, s.seal_id);
    sealdoc::seal(node, &staff, CLASSIC, &[at(&s.seal_id, 1)], "合同")
        .await
        .unwrap();
    let uses = seals::uses(node, &issuer(BJ_SAMR), &s.seal_id, 5)
        .await
        .unwrap();
    assert_eq!(uses[0].actor, "account:lina");
    // Taken off the list, she may not.
    seals::set_users(node, &issuer(BJ_SAMR), &s.seal_id, vec![])
        .await
        .unwrap();
    expect_code(
        sealdoc::seal(node, &staff, CLASSIC, &[at(&s.seal_id, 1)], "合同").await,
        "seal.not_allowed",
    );
}
