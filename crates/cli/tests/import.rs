//! `elicense import --csv`: bad rows reported, good rows issued, reruns resume; and a
//! process killed with SIGKILL mid-import loses nothing acknowledged and issues nothing twice.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::*;

const HEADER: &str = "type,issuer,holder_name,holder_id,sex,nationality,birth_date,address,first_issue_date,vehicle_class,file_number";

/// A good driving-licence row for holder number `n`.
fn good_row(n: u32) -> String {
    format!(
        "{DRIVING_LICENSE},{BEIJING_TRAFFIC_POLICE},持证人{n},{},{},中国,{},北京市东城区示例路{n}号,2010-06-15,C1,{:012}",
        resident_id(n),
        derived(&resident_id(n)).0,
        derived(&resident_id(n)).1,
        110_100_000_000u64 + n as u64
    )
}

/// How a row of the mixed file is bad, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bad {
    CheckChar,
    UnknownType,
    CellCount,
}

impl Bad {
    fn code(self) -> &'static str {
        match self {
            Bad::CheckChar => "resident_id.bad_check",
            Bad::UnknownType => "catalogue.unknown_type",
            Bad::CellCount => "import.bad_row",
        }
    }
}

/// 300 rows, every tenth bad (rotating through the three kinds). Returns the CSV and the bad
/// rows by 1-based row number (the number the report uses: data rows after the header).
fn mixed_csv() -> (String, BTreeMap<u64, Bad>) {
    let mut csv = format!("{HEADER}\n");
    let mut bad = BTreeMap::new();
    for n in 0..300u32 {
        let row = n as u64 + 1;
        let line = if n % 10 == 7 {
            let kind = [Bad::CheckChar, Bad::UnknownType, Bad::CellCount][(n / 10 % 3) as usize];
            bad.insert(row, kind);
            let good = good_row(n);
            match kind {
                Bad::CheckChar => good.replace(&resident_id(n), &bad_check(&resident_id(n))),
                Bad::UnknownType => good.replacen(DRIVING_LICENSE, "11100000000000002Q099", 1),
                Bad::CellCount => good.rsplit_once(',').unwrap().0.to_string(),
            }
        } else {
            good_row(n)
        };
        csv.push_str(&line);
        csv.push('\n');
    }
    (csv, bad)
}

/// The error report: row -> code.
fn read_report(path: &std::path::Path) -> BTreeMap<u64, String> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("report {}: {e}", path.display()));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("row,code,message"), "report header");
    lines
        .map(|l| {
            let mut cells = l.splitn(3, ',');
            let row = cells.next().unwrap().parse().expect("row number");
            let code = cells.next().expect("code").to_string();
            assert!(
                cells.next().is_some_and(|m| !m.is_empty()),
                "a message: {l}"
            );
            (row, code)
        })
        .collect()
}

#[test]
fn import_reports_bad_rows_and_resumes() {
    let d = DataDir::empty().setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let (csv, bad) = mixed_csv();
    assert_eq!(bad.len(), 30);
    let file = d.path("licences.csv");
    std::fs::write(&file, csv).unwrap();

    let out = d.run(&[
        "import",
        "--csv",
        file.to_str().unwrap(),
        "--alg",
        "ed25519",
        "--json",
    ]);
    out.expect_code(1); // some rows failed
    let s = out.json();
    assert_eq!(s["rows"], 300, "{s}");
    assert_eq!(s["issued"], 270, "{s}");
    assert_eq!(s["failed"], 30, "{s}");
    assert_eq!(s["resumed"], 0, "{s}");
    let report_path = std::path::PathBuf::from(s["report"].as_str().unwrap());
    assert_eq!(
        report_path,
        d.path("licences.csv.errors.csv"),
        "default report beside the CSV"
    );
    let report = read_report(&report_path);
    let want: BTreeMap<u64, String> = bad
        .iter()
        .map(|(r, b)| (*r, b.code().to_string()))
        .collect();
    assert_eq!(
        report, want,
        "the report lists exactly the bad rows with their codes"
    );

    assert_eq!(d.count("SELECT COUNT(*) FROM licenses"), 270);
    assert_eq!(
        d.count("SELECT COUNT(DISTINCT holder_key) FROM licenses"),
        270,
        "one license per good row"
    );
    assert_eq!(d.count("SELECT COUNT(*) FROM import_rows"), 300);
    assert_eq!(
        d.count(
            "SELECT COUNT(*) FROM import_rows WHERE identifier IS NOT NULL AND error_code IS NULL"
        ),
        270
    );
    assert_eq!(
        d.count(
            "SELECT COUNT(*) FROM import_rows r JOIN licenses l ON l.identifier = r.identifier"
        ),
        270,
        "every journalled identifier is a stored license"
    );
    // The journal says which rows failed, the same as the report.
    let failed: BTreeSet<u64> = d
        .sql()
        .prepare("SELECT row FROM import_rows WHERE error_code IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|r| r.unwrap() as u64)
        .collect();
    assert_eq!(failed, bad.keys().copied().collect());
    d.assert_license_event_integrity();

    // The same file again: nothing new, everything resumed; the report is the same.
    std::fs::remove_file(&report_path).unwrap();
    let out = d.run(&[
        "import",
        "--csv",
        file.to_str().unwrap(),
        "--alg",
        "ed25519",
        "--json",
    ]);
    out.expect_code(1);
    let s = out.json();
    assert_eq!(
        (
            s["rows"].as_u64(),
            s["issued"].as_u64(),
            s["failed"].as_u64(),
            s["resumed"].as_u64()
        ),
        (Some(300), Some(270), Some(30), Some(300)),
        "{s}"
    );
    assert_eq!(read_report(&report_path), want);
    assert_eq!(
        d.count("SELECT COUNT(*) FROM licenses"),
        270,
        "a rerun issues nothing"
    );
    assert_eq!(d.count("SELECT COUNT(*) FROM events"), 270);

    // The human summary says so too; and an explicit --report path is honoured.
    let report2 = d.path("my-report.csv");
    let out = d.run(&[
        "import",
        "--csv",
        file.to_str().unwrap(),
        "--report",
        report2.to_str().unwrap(),
    ]);
    out.expect_code(1);
    assert!(
        out.stdout
            .contains("300 rows: 270 issued, 30 failed (300 done by an earlier run)"),
        "{out:?}"
    );
    assert_eq!(read_report(&report2), want);
    assert_eq!(d.count("SELECT COUNT(*) FROM licenses"), 270);
}

#[test]
fn import_of_a_bad_file_is_an_error() {
    let d = DataDir::empty().setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let file = d.path("no-holder.csv");
    std::fs::write(&file, "type,issuer,holder_name\nx,y,z\n").unwrap();
    let out = d.run(&["import", "--csv", file.to_str().unwrap()]);
    out.expect_code(2);
    assert!(
        out.stderr.starts_with("error[import.missing_column]"),
        "{out:?}"
    );
    let out = d.run(&["import", "--csv", d.path("missing.csv").to_str().unwrap()]);
    out.expect_code(2);
    assert!(out.stderr.starts_with("error[import.io]"), "{out:?}");
    assert_eq!(d.count("SELECT COUNT(*) FROM licenses"), 0);

    // All rows good: exit 0.
    let file = d.path("good.csv");
    std::fs::write(
        &file,
        format!("{HEADER}\n{}\n{}\n", good_row(1), good_row(2)),
    )
    .unwrap();
    let out = d.run(&[
        "import",
        "--csv",
        file.to_str().unwrap(),
        "--alg",
        "ed25519",
    ]);
    out.ok();
    assert!(out.stdout.contains("2 rows: 2 issued, 0 failed"), "{out:?}");
}

/// Identifiers journalled by import rows that issued.
fn journalled(d: &DataDir) -> BTreeSet<String> {
    d.sql()
        .prepare("SELECT identifier FROM import_rows WHERE identifier IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Journal and licenses agree: each issued row has its license and each license its row.
#[track_caller]
fn assert_journal_matches_licenses(d: &DataDir) {
    d.assert_license_event_integrity();
    assert_eq!(
        d.count("SELECT COUNT(*) FROM import_rows r WHERE r.identifier IS NOT NULL AND NOT EXISTS (SELECT 1 FROM licenses l WHERE l.identifier = r.identifier)"),
        0,
        "journalled rows without their license"
    );
    assert_eq!(
        d.count("SELECT COUNT(*) FROM licenses l WHERE NOT EXISTS (SELECT 1 FROM import_rows r WHERE r.identifier = l.identifier)"),
        0,
        "licenses without their journal row"
    );
    assert_eq!(
        d.count("SELECT COUNT(*) FROM import_rows WHERE error_code IS NOT NULL"),
        0,
        "no row of the good file failed"
    );
}

#[test]
fn sigkill_mid_import_then_resume() {
    const ROWS: u32 = 3000;
    const KILL_AFTER: i64 = 200;
    let d = DataDir::empty().setup(&[(BEIJING_TRAFFIC_POLICE, "ed25519")]);
    let mut csv = format!("{HEADER}\n");
    for n in 0..ROWS {
        csv.push_str(&good_row(n));
        csv.push('\n');
    }
    let file = d.path("big.csv");
    std::fs::write(&file, csv).unwrap();
    let args = [
        "import",
        "--data",
        d.data(),
        "--csv",
        file.to_str().unwrap(),
        "--alg",
        "ed25519",
        "--json",
    ];

    let mut import = Running::spawn(command(&args), d.tmp.path(), "import1");
    // Wait (bounded) until enough rows are journalled, then SIGKILL.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = 0;
    while seen < KILL_AFTER {
        if let Some(code) = import.exited() {
            panic!(
                "import exited ({code}) after {seen} rows, before it could be killed:\n{}",
                import.stderr()
            );
        }
        assert!(
            Instant::now() < deadline,
            "fewer than {KILL_AFTER} rows journalled in 120 s ({seen})"
        );
        std::thread::sleep(Duration::from_millis(5));
        if d.db().exists() {
            // The table exists once the schema is migrated (keygen did it).
            seen = d.count("SELECT COUNT(*) FROM import_rows");
        }
    }
    import.kill9();

    // Right after the kill: consistent, and really interrupted.
    let at_kill = journalled(&d);
    eprintln!("SIGKILL after {} of {ROWS} rows journalled", at_kill.len());
    assert!(at_kill.len() as i64 >= KILL_AFTER);
    assert!(
        (at_kill.len() as u32) < ROWS,
        "the import was killed before it finished ({} rows)",
        at_kill.len()
    );
    assert_journal_matches_licenses(&d);
    assert_eq!(
        d.count("SELECT COUNT(*) FROM licenses"),
        at_kill.len() as i64
    );

    // Rerun to completion.
    let out = run(&args);
    out.ok();
    let s = out.json();
    assert_eq!(s["rows"], ROWS, "{s}");
    assert_eq!(s["issued"], ROWS, "{s}");
    assert_eq!(s["failed"], 0, "{s}");
    assert_eq!(
        s["resumed"].as_u64(),
        Some(at_kill.len() as u64),
        "the rerun skipped exactly the rows done before the kill: {s}"
    );

    assert_eq!(d.count("SELECT COUNT(*) FROM licenses"), ROWS as i64);
    assert_eq!(
        d.count("SELECT COUNT(DISTINCT holder_key) FROM licenses"),
        ROWS as i64,
        "no holder issued twice"
    );
    assert_eq!(d.count("SELECT COUNT(*) FROM import_rows"), ROWS as i64);
    assert_eq!(
        d.count("SELECT COUNT(DISTINCT identifier) FROM import_rows"),
        ROWS as i64,
        "no identifier journalled twice"
    );
    assert_eq!(d.count("SELECT MIN(row) FROM import_rows"), 1);
    assert_eq!(d.count("SELECT MAX(row) FROM import_rows"), ROWS as i64);
    assert_eq!(d.count("SELECT COUNT(*) FROM events"), ROWS as i64);
    assert_eq!(
        d.count("SELECT COUNT(DISTINCT status_list || ':' || status_idx) FROM licenses"),
        ROWS as i64
    );
    assert_journal_matches_licenses(&d);
    let after = journalled(&d);
    assert!(
        at_kill.is_subset(&after),
        "rows journalled before the kill keep their identifiers"
    );

    // A sample of credentials (from before and after the kill) verifies.
    let conn = d.sql();
    let mut sample: Vec<String> = at_kill.iter().take(3).cloned().collect();
    sample.extend(after.difference(&at_kill).step_by(700).cloned());
    assert!(sample.len() >= 5);
    for id in &sample {
        let cred: String = conn
            .query_row(
                "SELECT credential FROM licenses WHERE identifier = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        let out = d.run_stdin(&["verify"], &cred);
        out.ok();
        let v = out.json();
        assert_eq!(v["valid"], true, "{id}: {v}");
        assert_eq!(v["identifier"], id.as_str());
    }

    // And a third run does nothing.
    let out = run(&args);
    out.ok();
    assert_eq!(out.json()["resumed"], ROWS);
    assert_eq!(d.count("SELECT COUNT(*) FROM licenses"), ROWS as i64);
}
