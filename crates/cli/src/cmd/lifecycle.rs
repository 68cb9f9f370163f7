//! Lifecycle commands: revoke, suspend, reinstate, cancel, withdraw, change, extend, transfer,
//! inspect, pledge, release, expire.

use elicense_app::lifecycle::{apply, expire_due, ActionRequest};
use elicense_core::lifecycle::Action;

use super::issue::whoami;
use super::with_node;
use crate::cli::{ActionArgs, DataArgs};
use crate::output;

async fn run(a: ActionArgs, action: Action, fill: impl FnOnce(&mut ActionRequest)) -> i32 {
    let json = a.json;
    let id = match super::identifier(&a.identifier) {
        Ok(id) => id,
        Err(e) => return output::error(&e, json),
    };
    with_node(&a.data, json, |node| async move {
        let mut req = ActionRequest::new(action, &format!("cli:{}", whoami()));
        req.reason = a.reason.clone();
        req.reason_category = a.reason_category;
        fill(&mut req);
        let outcome = apply(&node, &id, req).await?;
        if json {
            output::json(&outcome);
        } else {
            println!(
                "{} {}: now {}",
                outcome.action, outcome.identifier, outcome.status
            );
            if let Some(s) = &outcome.successor {
                println!("new version {}", s.identifier);
                println!("{}", s.credential);
            }
        }
        Ok(0)
    })
    .await
}

pub async fn simple(a: ActionArgs, action: Action) -> i32 {
    run(a, action, |_| {}).await
}

pub async fn change(a: ActionArgs, fields: Vec<(String, String)>) -> i32 {
    run(a, Action::Change, |r| {
        r.fields = fields.into_iter().collect()
    })
    .await
}

pub async fn extend(a: ActionArgs, valid_until: Option<String>) -> i32 {
    run(a, Action::Extend, |r| r.valid_until = valid_until).await
}

pub async fn transfer(a: ActionArgs, name: String, id: String) -> i32 {
    run(a, Action::Transfer, |r| {
        r.new_holder_name = Some(name);
        r.new_holder_id = Some(id);
    })
    .await
}

pub async fn inspect(a: ActionArgs, result: String) -> i32 {
    run(a, Action::AnnualInspection, |r| r.result = Some(result)).await
}

pub async fn expire(data: &DataArgs) -> i32 {
    with_node(data, false, |node| async move {
        let n = expire_due(&node, u32::MAX).await?;
        println!("{n} license(s) expired");
        Ok(0)
    })
    .await
}
