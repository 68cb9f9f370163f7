//! Bulk import: good rows issue, bad rows are reported with codes, a rerun resumes.

mod common;

use common::*;
use elicense_app::import::{import_csv, ImportOptions, NoProgress};
use elicense_app::seed::SAMPLE_ENTERPRISES;
use elicense_app::verify::{verify, VerifyOptions};
use elicense_core::ident::Identifier;

const HEADER: &str = "type,issuer,holder_name,holder_id,name,uscc,entity_type,legal_representative,established,address,business_scope,alg";

fn row(type_code: &str, name: &str, id: &str, address: &str) -> String {
    format!(
        "{type_code},{BJ_SAMR},{name},{id},{name},{id},有限责任公司,张伟,2015-03-12,{address},软件开发,ed25519"
    )
}

fn opts(env: &Env) -> ImportOptions {
    ImportOptions {
        workers: 3,
        report: Some(env.dir.path().join("report.csv")),
        ..Default::default()
    }
}

#[tokio::test]
async fn good_rows_issue_bad_rows_are_reported_and_a_rerun_resumes() {
    let env = env().await;
    let (n0, id0) = SAMPLE_ENTERPRISES[0];
    let (n1, id1) = SAMPLE_ENTERPRISES[1];
    let (n2, id2) = SAMPLE_ENTERPRISES[2];
    let lines = [
        HEADER.to_string(),
        row(BUSINESS, n0, id0, "北京市东城区1号"), // 1 ok
        row(BUSINESS, n1, "91330000755918469F", "北京市东城区2号"), // 2 bad USCC
        row(BUSINESS, n1, id1, "北京市东城区3号"), // 3 ok
        row("11100000000000001M009", n2, id2, "北京市东城区4号"), // 4 unknown type
        row(BUSINESS, n2, id2, ""),                // 5 missing address
        format!("{BUSINESS},{BJ_SAMR},{n2},{id2}"), // 6 too few cells
        row(BUSINESS, n2, id2, "北京市东城区7号"), // 7 ok
        format!("{},extra", row(BUSINESS, n2, id2, "北京市东城区8号")), // 8 too many cells
    ];
    let csv_path = env.dir.path().join("stock.csv");
    std::fs::write(&csv_path, lines.join("\n") + "\n").unwrap();

    let s = import_csv(&env.node, &csv_path, &opts(&env), &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        (s.rows, s.issued, s.failed, s.resumed),
        (8, 3, 5, 0),
        "{s:?}"
    );
    assert_eq!(env.store.count().await.unwrap(), 3);

    let mut report = csv::Reader::from_path(&s.report).unwrap();
    let got: Vec<(u64, String)> = report
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].parse().unwrap(), r[1].to_string())
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "uscc.bad_check".to_string()),
            (4, "catalogue.unknown_type".to_string()),
            (5, "catalogue.field_required".to_string()),
            (6, "import.bad_row".to_string()),
            (8, "import.bad_row".to_string()),
        ]
    );

    // Issued rows are real licenses.
    let rows = env.store.job_rows(&s.job).await.unwrap();
    let issued: Vec<_> = rows.iter().filter_map(|r| r.identifier.clone()).collect();
    assert_eq!(issued.len(), 3);
    for id in &issued {
        Identifier::parse(id).unwrap();
        let rec = env.store.license(id).await.unwrap().unwrap();
        assert_eq!(rec.alg, "ed25519");
        let v = verify(&env.node, &rec.credential, &VerifyOptions::default())
            .await
            .unwrap();
        assert!(v.valid, "{:?}", v.problems);
        let events = env
            .store
            .events(&elicense_app::issue::lineage(
                &Identifier::parse(id).unwrap(),
            ))
            .await
            .unwrap();
        assert!(events[0].actor.starts_with("import"), "{}", events[0].actor);
    }

    // The same file again: everything resumed, nothing new.
    let again = import_csv(&env.node, &csv_path, &opts(&env), &NoProgress)
        .await
        .unwrap();
    assert_eq!(again.job, s.job);
    assert_eq!(
        (again.rows, again.issued, again.failed, again.resumed),
        (8, 3, 5, 8),
        "{again:?}"
    );
    assert_eq!(env.store.count().await.unwrap(), 3);
}

#[tokio::test]
async fn a_missing_required_column_stores_nothing() {
    let env = env().await;
    let (n0, id0) = SAMPLE_ENTERPRISES[0];
    let csv_path = env.dir.path().join("no-holder-id.csv");
    std::fs::write(
        &csv_path,
        format!("type,issuer,holder_name,name\n{BUSINESS},{BJ_SAMR},{n0},{n0}\n"),
    )
    .unwrap();
    let e = expect_code(
        import_csv(&env.node, &csv_path, &opts(&env), &NoProgress).await,
        "import.missing_column",
    );
    assert!(e.message.contains("holder_id"), "{e}");
    assert_eq!(env.store.count().await.unwrap(), 0);
    let job = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        std::fs::read(&csv_path).unwrap(),
    ));
    assert!(env.store.job_rows(&job).await.unwrap().is_empty());
    let _ = id0;
}

#[tokio::test]
async fn a_missing_file_is_an_error() {
    let env = env().await;
    let e = import_csv(
        &env.node,
        &env.dir.path().join("nope.csv"),
        &opts(&env),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "import.io");
}

#[tokio::test]
async fn an_unknown_alg_cell_is_a_row_error() {
    let env = env().await;
    let (n0, id0) = SAMPLE_ENTERPRISES[0];
    let csv_path = env.dir.path().join("alg.csv");
    let line = row(BUSINESS, n0, id0, "北京市东城区1号").replace(",ed25519", ",rsa");
    std::fs::write(&csv_path, format!("{HEADER}\n{line}\n")).unwrap();
    let s = import_csv(&env.node, &csv_path, &opts(&env), &NoProgress)
        .await
        .unwrap();
    assert_eq!((s.issued, s.failed), (0, 1));
    let rows = env.store.job_rows(&s.job).await.unwrap();
    assert_eq!(rows[0].error_code.as_deref(), Some("import.bad_alg"));
}

/// Spreadsheet exports start with a UTF-8 byte-order mark.
#[tokio::test]
async fn a_byte_order_mark_before_the_header_is_ignored() {
    let env = env().await;
    let (n0, id0) = SAMPLE_ENTERPRISES[0];
    let csv_path = env.dir.path().join("excel.csv");
    let line = row(BUSINESS, n0, id0, "北京市东城区1号");
    std::fs::write(&csv_path, format!("\u{feff}{HEADER}\r\n{line}\r\n")).unwrap();
    let s = import_csv(&env.node, &csv_path, &opts(&env), &NoProgress)
        .await
        .unwrap();
    assert_eq!((s.rows, s.issued, s.failed), (1, 1, 0), "{s:?}");
    assert_eq!(env.store.count().await.unwrap(), 1);
}
