//! Electronic seals: the CA kept first-writer-wins, seals filed once (by id and by serial per
//! algorithm), status and users replaced in place, the revocation list's seals, uses appended
//! all or none, and keys never in `Debug`.

use elicense_store::*;

fn ca(alg: &str, key: &str, at: i64) -> SealCaRecord {
    SealCaRecord {
        alg: alg.into(),
        encrypted_pem: format!("-----BEGIN ENCRYPTED PRIVATE KEY-----\n{key}\n"),
        certificate: vec![0x30, 0x82, 0x00, 0xff, at as u8],
        created_at: at,
    }
}

/// Seal `id` of `owner` (serial `serial` of `alg`), made at `at`, with bytes no text encoding
/// would keep.
pub fn seal(id: &str, owner: &str, alg: &str, serial: &str, at: i64) -> SealRecord {
    SealRecord {
        id: id.into(),
        owner: owner.into(),
        owner_name: format!("企业 {owner}"),
        kind: "official".into(),
        name: format!("{owner} 公章"),
        alg: alg.into(),
        encrypted_pem: format!("SECRET-KEY-OF-{id}"),
        certificate: vec![0x30, 0x82, 0x00, 0x80, 0xff],
        serial: serial.into(),
        seal: vec![0x30, 0x00, 0xfe, id.len() as u8],
        picture: vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00],
        valid_from: at,
        valid_to: at + 86_400,
        status: "active".into(),
        status_at: at,
        license: None,
        users: vec![],
        created_at: at,
        created_by: "operator:cli".into(),
    }
}

fn seal_use(seal: &str, at: i64, page: u32) -> SealUseRecord {
    SealUseRecord {
        seq: 0,
        seal: seal.into(),
        at,
        actor: "account:alice".into(),
        document: format!("{at:064x}"),
        page,
        purpose: format!("合同 {at}"),
    }
}

pub async fn seal_ca_first_writer_wins(s: &dyn Store) {
    assert_eq!(s.seal_ca("sm2").await.unwrap(), None);
    // Eight makers at once, each with its own key: all get the one that was stored.
    let makers = (0..8).map(|i| s.put_seal_ca(ca("sm2", &format!("key-{i}"), 10 + i)));
    let got = futures::future::join_all(makers).await;
    let stored = s.seal_ca("sm2").await.unwrap().expect("a CA was stored");
    assert!(
        (0..8).any(|i| stored == ca("sm2", &format!("key-{i}"), 10 + i)),
        "the stored CA is one of those offered: {stored:?}"
    );
    for g in got {
        assert_eq!(g.unwrap(), stored, "every maker returns the stored CA");
    }
    // A later one changes nothing, and gets the first.
    assert_eq!(s.put_seal_ca(ca("sm2", "late", 99)).await.unwrap(), stored);
    assert_eq!(s.seal_ca("sm2").await.unwrap().unwrap(), stored);
    // Another algorithm has a CA of its own.
    let es = ca("es256", "p256-key", 20);
    assert_eq!(s.put_seal_ca(es.clone()).await.unwrap(), es);
    assert_eq!(s.seal_ca("es256").await.unwrap(), Some(es.clone()));
    assert_eq!(s.seal_ca("sm2").await.unwrap().unwrap(), stored);
    assert!(
        !format!("{es:?}").contains("p256-key"),
        "Debug must redact the CA's key"
    );
}

pub async fn seals_put_get_and_list(s: &dyn Store) {
    assert_eq!(s.seal("S1").await.unwrap(), None);
    assert!(s.seals_of("O1").await.unwrap().is_empty());
    // Filed out of order: the lists come oldest first, the same second by id.
    let mut s3 = seal("S3", "O1", "sm2", "03", 300);
    s3.license = Some("L-biz".into());
    s3.users = vec!["bob".into(), "alice".into()];
    let mut s1 = seal("S1", "O1", "es256", "01", 100);
    s1.license = Some("L-biz".into());
    let s2 = seal("S2", "O1", "sm2", "02", 300);
    let other = seal("S4", "O2", "sm2", "04", 50);
    for r in [&s3, &s1, &s2, &other] {
        s.put_seal(r.clone()).await.unwrap();
    }
    assert_eq!(s.seal("S3").await.unwrap(), Some(s3.clone()));
    assert_eq!(s.seal("S1").await.unwrap(), Some(s1.clone()));
    assert_eq!(
        s.seals_of("O1").await.unwrap(),
        vec![s1.clone(), s2.clone(), s3.clone()]
    );
    assert_eq!(s.seals_of("O2").await.unwrap(), vec![other]);
    assert_eq!(
        s.seals_of_license("L-biz").await.unwrap(),
        vec![s1.clone(), s3.clone()]
    );
    assert!(s.seals_of_license("L-none").await.unwrap().is_empty());
    assert!(
        !format!("{s3:?}").contains("SECRET-KEY"),
        "Debug must redact the seal's key"
    );
    assert!(format!("{s3:?}").contains("S3"));
}

pub async fn seals_duplicates_write_nothing(s: &dyn Store) {
    let first = seal("D1", "O1", "sm2", "0a", 100);
    s.put_seal(first.clone()).await.unwrap();
    // The same id, of another owner and serial.
    let err = s
        .put_seal(seal("D1", "O2", "sm2", "0b", 200))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.duplicate", "{err}");
    // The same serial of the same algorithm, under a new id.
    let err = s
        .put_seal(seal("D2", "O2", "sm2", "0a", 200))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.duplicate", "{err}");
    assert_eq!(s.seal("D1").await.unwrap(), Some(first.clone()));
    assert_eq!(s.seal("D2").await.unwrap(), None);
    assert!(s.seals_of("O2").await.unwrap().is_empty());
    assert_eq!(s.seals_of("O1").await.unwrap(), vec![first]);
    // The same serial under the other algorithm's CA is another certificate.
    let es = seal("D3", "O2", "es256", "0a", 300);
    s.put_seal(es.clone()).await.unwrap();
    assert_eq!(s.seals_of("O2").await.unwrap(), vec![es]);
}

pub async fn seal_status_and_users(s: &dyn Store) {
    let mut r = seal("U1", "O1", "sm2", "11", 100);
    s.put_seal(r.clone()).await.unwrap();
    assert!(s.set_seal_status("U1", "suspended", 150).await.unwrap());
    assert!(!s.set_seal_status("nope", "revoked", 150).await.unwrap());
    r.status = "suspended".into();
    r.status_at = 150;
    assert_eq!(s.seal("U1").await.unwrap(), Some(r.clone()));

    assert!(s
        .set_seal_users("U1", vec!["carol".into(), "dave".into()])
        .await
        .unwrap());
    assert!(!s
        .set_seal_users("nope", vec!["carol".into()])
        .await
        .unwrap());
    r.users = vec!["carol".into(), "dave".into()];
    assert_eq!(s.seal("U1").await.unwrap(), Some(r.clone()));
    // Found by user: an exact name, not a part of one.
    assert_eq!(s.seals_of_user("dave").await.unwrap(), vec![r.clone()]);
    assert!(s.seals_of_user("dav").await.unwrap().is_empty());
    assert!(s.seals_of_user("nobody").await.unwrap().is_empty());
    // Replaced, not added to; and emptied.
    assert!(s.set_seal_users("U1", vec!["erin".into()]).await.unwrap());
    assert_eq!(s.seal("U1").await.unwrap().unwrap().users, ["erin"]);
    assert!(s.seals_of_user("dave").await.unwrap().is_empty());
    assert!(s.set_seal_users("U1", vec![]).await.unwrap());
    r.users = vec![];
    assert_eq!(s.seal("U1").await.unwrap(), Some(r));
    assert!(s.seal("nope").await.unwrap().is_none());
}

pub async fn inactive_seals_by_algorithm(s: &dyn Store) {
    for (id, alg) in [
        ("A1", "sm2"),
        ("A2", "sm2"),
        ("A3", "sm2"),
        ("A4", "es256"),
        ("A5", "sm2"),
    ] {
        s.put_seal(seal(id, "O1", alg, id, 100)).await.unwrap();
    }
    assert!(s.inactive_seals("sm2").await.unwrap().is_empty());
    // Changed in another order than filed: listed by when the status changed.
    assert!(s.set_seal_status("A3", "revoked", 200).await.unwrap());
    assert!(s.set_seal_status("A1", "suspended", 300).await.unwrap());
    assert!(s.set_seal_status("A4", "revoked", 150).await.unwrap());
    // Suspended and reinstated: active again, so not listed.
    assert!(s.set_seal_status("A5", "suspended", 120).await.unwrap());
    assert!(s.set_seal_status("A5", "active", 130).await.unwrap());
    let sm2: Vec<(String, String, i64)> = s
        .inactive_seals("sm2")
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.status, r.status_at))
        .collect();
    assert_eq!(
        sm2,
        [
            ("A3".into(), "revoked".into(), 200),
            ("A1".into(), "suspended".into(), 300)
        ]
    );
    let es: Vec<String> = s
        .inactive_seals("es256")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(es, ["A4"]);
    assert!(s.inactive_seals("ed25519").await.unwrap().is_empty());
}

pub async fn seal_uses_all_or_none(s: &dyn Store) {
    s.put_seal(seal("K1", "O1", "sm2", "21", 100))
        .await
        .unwrap();
    s.put_seal(seal("K2", "O1", "sm2", "22", 100))
        .await
        .unwrap();
    assert!(s.record_seal_uses(vec![]).await.unwrap().is_empty());

    // Two seals on one document: both uses, seq assigned in order, the rest as given.
    let batch = vec![seal_use("K1", 200, 1), seal_use("K2", 200, 3)];
    let stored = s.record_seal_uses(batch.clone()).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored[0].seq < stored[1].seq, "{stored:?}");
    for (got, sent) in stored.iter().zip(&batch) {
        assert_eq!(
            SealUseRecord {
                seq: 0,
                ..got.clone()
            },
            *sent
        );
    }

    // A batch naming an unknown seal writes nothing, not even the known seal's use.
    let err = s
        .record_seal_uses(vec![seal_use("K1", 250, 1), seal_use("nope", 250, 1)])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "store.not_found", "{err}");
    assert_eq!(
        s.seal_uses("K1", 10).await.unwrap(),
        vec![stored[0].clone()]
    );
    assert!(s.seal_uses("nope", 10).await.unwrap().is_empty());

    // Later uses get higher numbers; reads are newest first, at most `limit`.
    let more = s
        .record_seal_uses(vec![seal_use("K1", 300, 2), seal_use("K1", 400, 5)])
        .await
        .unwrap();
    assert!(more[0].seq > stored[1].seq && more[1].seq > more[0].seq);
    assert_eq!(
        s.seal_uses("K1", 10).await.unwrap(),
        vec![more[1].clone(), more[0].clone(), stored[0].clone()]
    );
    assert_eq!(
        s.seal_uses("K1", 2).await.unwrap(),
        vec![more[1].clone(), more[0].clone()]
    );
    assert!(s.seal_uses("K1", 0).await.unwrap().is_empty());
    assert_eq!(
        s.seal_uses("K2", 10).await.unwrap(),
        vec![stored[1].clone()]
    );
}

/// An issuer key's outside certificate: none at first, stored with its chain as given, and a
/// renewal replaces it.
pub async fn key_certificates_are_replaced_by_renewals(s: &dyn Store) {
    assert_eq!(s.key_certificate("kid-1").await.unwrap(), None);
    let cert = |serial: &str, chain: Vec<Vec<u8>>, at: i64| KeyCertificateRecord {
        kid: "kid-1".into(),
        chain,
        subject: "CN=北京市公安局公安交通管理局,SERIALNUMBER=11110000000000012X".into(),
        issuer: "CN=Third Party Trust CA".into(),
        serial: serial.into(),
        not_after: at + 86_400,
        attached_at: at,
        attached_by: "cli".into(),
    };
    // A chain of a leaf and an intermediate, with an empty and a large member to show the
    // chain's bytes come back exactly.
    let first = cert(
        "4d",
        vec![vec![0x30, 0x82, 1, 2], vec![], vec![7u8; 70_000]],
        100,
    );
    s.put_key_certificate(first.clone()).await.unwrap();
    assert_eq!(s.key_certificate("kid-1").await.unwrap(), Some(first));
    assert_eq!(s.key_certificate("kid-2").await.unwrap(), None);
    let renewed = cert("4e", vec![vec![0x30, 3]], 200);
    s.put_key_certificate(renewed.clone()).await.unwrap();
    assert_eq!(s.key_certificate("kid-1").await.unwrap(), Some(renewed));
}
