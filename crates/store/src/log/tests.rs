use super::*;
use crate::records::EventRecord;

fn event(kind: &str) -> EventRecord {
    EventRecord {
        seq: 7,
        identifier: "ID".into(),
        kind: kind.into(),
        actor: "A".into(),
        at: 5,
        reason: Some("原因 \"q\"".into()),
        reason_category: None,
        detail: "{\"holder\":\"secret\",\"institution\":\"91110000X\"}".into(),
    }
}

const STATE: LeafState<'static> = LeafState {
    status: "revoked",
    pledged: false,
    credential: "cred",
};

#[test]
fn v1_leaves_still_parse_and_stay_canonical() {
    let text = format!(
        "{{\"v\":1,\"event\":7,\"identifier\":\"ID\",\"kind\":\"revoke\",\"actor\":\"A\",\
         \"at\":5,\"reason\":\"原因 \\\"q\\\"\",\"status\":\"revoked\",\"pledged\":false,\
         \"credential_sha256\":\"{}\"}}",
        credential_sha256("cred")
    );
    let e = LogEntry::parse(text.as_bytes()).unwrap();
    assert!(matches!(&e, LogEntry::V1(v) if v.reason.as_deref() == Some("原因 \"q\"")));
    assert_eq!(e.to_bytes(), text.as_bytes());
    assert_eq!(
        (e.version(), e.event(), e.identifier(), e.status()),
        (1, Some(7), Some("ID"), Some("revoked"))
    );
    let spaced = text.replace(',', ", ");
    assert!(LogEntry::parse(spaced.as_bytes()).is_err());
    // A v1 leaf of a use, as written before commitments: still a v1 leaf.
    let used = text.replace("\"revoke\"", "\"share_query\"");
    assert!(matches!(
        LogEntry::parse(used.as_bytes()),
        Ok(LogEntry::V1(_))
    ));
}

#[test]
fn a_lifecycle_leaf_has_the_public_facts_and_only_a_reason_category() {
    let mut ev = event("revoke");
    ev.reason_category = Some("court_order".into());
    let e = LogEntry::lifecycle(&ev, STATE).unwrap();
    let b = e.to_bytes();
    assert_eq!(
        String::from_utf8(b.clone()).unwrap(),
        format!(
            "{{\"v\":2,\"event\":7,\"identifier\":\"ID\",\"kind\":\"revoke\",\"at\":5,\
             \"reason\":\"court_order\",\"status\":\"revoked\",\"pledged\":false,\
             \"credential_sha256\":\"{}\"}}",
            credential_sha256("cred")
        )
    );
    assert_eq!(LogEntry::parse(&b).unwrap(), e);
    let text = String::from_utf8(b).unwrap();
    for secret in ["原因", "secret", "91110000X", "\"A\""] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    ev.reason_category = None;
    assert!(LogEntry::lifecycle(&ev, STATE)
        .unwrap()
        .to_bytes()
        .windows(13)
        .any(|w| w == b"\"reason\":null"));
}

#[test]
fn a_use_leaf_is_only_a_commitment_to_its_opening() {
    let salt = [7u8; 32];
    let ev = event("share_query");
    let (leaf, opening) = LogEntry::commit_use(&ev, STATE, salt).unwrap();
    let text = String::from_utf8(leaf.to_bytes()).unwrap();
    assert_eq!(
        text,
        format!(
            "{{\"v\":2,\"event\":7,\"commitment\":\"{}\"}}",
            opening.commitment()
        )
    );
    assert_eq!(LogEntry::parse(text.as_bytes()).unwrap(), leaf);
    assert_eq!(leaf.identifier(), None);
    // The opening: the event as stored, with the version's state at the time.
    let committed = opening.use_event().unwrap();
    assert_eq!(committed.identifier, "ID");
    assert_eq!(committed.reason.as_deref(), Some("原因 \"q\""));
    assert_eq!(committed.detail, ev.detail);
    assert_eq!(opening.salt, salt.to_vec());
    check_leaf(&leaf, Some(&ev), Some(&opening)).unwrap();
}

/// The construction pinned by an independent computation (Python's hashlib):
/// sha256(b"elicense/log/use-commitment/v2" + b"\0" + bytes([7]) * 32 + b"{}").
#[test]
fn commitment_known_answer() {
    assert_eq!(
        commitment(&[7u8; 32], b"{}"),
        "97b3647814e0328b5e8804fd0f11bf72b262c3ceefcf4fd85b6182a2cd0f204c"
    );
}

#[test]
fn a_changed_salt_or_event_fails_the_check() {
    let ev = event("consent");
    let (leaf, opening) = LogEntry::commit_use(&ev, STATE, [1u8; 32]).unwrap();
    let mut salted = opening.clone();
    salted.salt[0] ^= 1;
    assert_eq!(
        check_leaf(&leaf, Some(&ev), Some(&salted)),
        Err(LeafMismatch::Commitment { seq: 7 })
    );
    assert_eq!(
        check_leaf(&leaf, Some(&ev), None),
        Err(LeafMismatch::NoOpening { seq: 7 })
    );
    let mut changed = ev.clone();
    changed.detail = "{}".into();
    assert_eq!(
        check_leaf(&leaf, Some(&changed), Some(&opening)),
        Err(LeafMismatch::Field {
            seq: 7,
            field: "detail"
        })
    );
    assert_eq!(
        check_leaf(&leaf, None, Some(&opening)),
        Err(LeafMismatch::NoEvent { seq: 7 })
    );
    let mut revoke = event("revoke");
    revoke.reason_category = Some("violation".into());
    let l = LogEntry::lifecycle(&revoke, STATE).unwrap();
    check_leaf(&l, Some(&revoke), None).unwrap();
    revoke.reason_category = Some("other".into());
    assert_eq!(
        check_leaf(&l, Some(&revoke), None),
        Err(LeafMismatch::Field {
            seq: 7,
            field: "reason category"
        })
    );
}

#[test]
fn each_kind_takes_its_own_path() {
    assert!(matches!(
        LogEntry::lifecycle(&event("verify"), STATE),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        LogEntry::commit_use(&event("revoke"), STATE, [0; 32]),
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        LogEntry::lifecycle(&event("flip"), STATE),
        Err(StoreError::Invalid(_))
    ));
    let mut bad = event("revoke");
    bad.reason_category = Some("骗取许可".into());
    assert!(matches!(
        LogEntry::lifecycle(&bad, STATE),
        Err(StoreError::Invalid(_))
    ));
    // A v2 leaf that names a use in clear is not a leaf this log writes.
    let text = String::from_utf8(
        LogEntry::lifecycle(&event("revoke"), STATE)
            .unwrap()
            .to_bytes(),
    )
    .unwrap()
    .replace("\"revoke\"", "\"verify\"");
    assert!(LogEntry::parse(text.as_bytes()).is_err());
    assert!(LogEntry::parse(br#"{"v":3,"event":1,"commitment":"00"}"#).is_err());
    assert!(LogEntry::parse(br#"{"v":1,"event":1,"commitment":"00"}"#).is_err());
}
