//! Property: a business-license request whose example values carry one random single-character
//! corruption either issues a license that verifies with the corrupted value, or fails with a
//! `catalogue.*` code and stores nothing. Never a panic.

mod common;

use common::*;
use elicense_app::issue::issue;
use elicense_app::verify::{verify, VerifyOptions};
use elicense_core::catalogue::Disclosure;
use elicense_crypto::Alg;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;

#[derive(Debug, Clone)]
enum Edit {
    Replace(Index, char),
    Delete(Index),
    Insert(Index, char),
}

fn apply(value: &str, edit: &Edit) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    match edit {
        Edit::Replace(i, c) if !chars.is_empty() => {
            let i = i.index(chars.len());
            chars[i] = *c;
        }
        Edit::Delete(i) if !chars.is_empty() => {
            chars.remove(i.index(chars.len()));
        }
        Edit::Insert(i, c) => {
            let i = i.index(chars.len() + 1);
            chars.insert(i, *c);
        }
        _ => {}
    }
    chars.into_iter().collect()
}

fn edits() -> impl Strategy<Value = Edit> {
    let c = select(vec![
        '0', '1', '9', 'A', 'E', 'I', 'O', 'X', 'Z', 'a', 'x', '-', ' ', '#', '~', '"', '长',
        '\u{0}', '\u{202e}',
    ]);
    prop_oneof![
        (any::<Index>(), c.clone()).prop_map(|(i, c)| Edit::Replace(i, c)),
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), c).prop_map(|(i, c)| Edit::Insert(i, c)),
    ]
}

#[test]
fn corrupted_fields_issue_or_fail_with_a_catalogue_code() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let env = rt.block_on(env());
    let t = sample_type(BUSINESS);
    let names: Vec<String> = t.items.iter().map(|i| i.name.clone()).collect();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(select(names), prop::collection::vec(edits(), 1..=1)),
            |(field, edits)| {
                rt.block_on(async {
                    let mut req = request(BUSINESS, 0, Alg::EdDSA);
                    let value = apply(&req.fields[&field], &edits[0]);
                    req.fields.insert(field.clone(), value.clone());
                    let before = env.store.count().await.unwrap();
                    match issue(&env.node, req).await {
                        Ok(issued) => {
                            prop_assert_eq!(env.store.count().await.unwrap(), before + 1);
                            let v =
                                verify(&env.node, &issued.credential, &VerifyOptions::default())
                                    .await
                                    .unwrap();
                            prop_assert!(v.valid, "{:?}", v.problems);
                            let item = t.item(&field).unwrap();
                            if item.disclosure != Disclosure::Never && !value.is_empty() {
                                prop_assert_eq!(&v.claims[&field], &json!(value));
                            }
                        }
                        Err(e) => {
                            prop_assert!(e.code.starts_with("catalogue."), "{}: {}", field, e);
                            prop_assert_eq!(env.store.count().await.unwrap(), before);
                        }
                    }
                    Ok::<(), TestCaseError>(())
                })
            },
        )
        .unwrap();
}
