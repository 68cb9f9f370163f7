//! The region operator's commands: `elicense apikey revoke`, `institution disable|enable`,
//! `account disable|enable`, `keygen --retire|--revoke --since`, `operator key|events`. Each
//! only parses and prints: the use cases (and their logged events, actor `operator:cli`) are
//! `elicense_app::operator`. Each prints the event it logged as JSON on stdout.

use elicense_app::operator::{self, Done, Since};
use elicense_core::OperatorActor;

use super::with_node;
use crate::cli::{DataArgs, OperatorCommand};
use crate::output;

pub(crate) fn print(done: &Done, what: &str) {
    eprintln!(
        "{what} (operator event {}, log leaf {})",
        done.event.op, done.leaf_index
    );
    output::json(done);
}

pub async fn revoke_api_key(data: &DataArgs, key_id: &str) -> i32 {
    with_node(data, false, |node| async move {
        let done = operator::revoke_api_key(&node, &OperatorActor::Cli, key_id).await?;
        print(&done, &format!("API key {} revoked", done.event.subject));
        Ok(0)
    })
    .await
}

pub async fn set_institution_disabled(data: &DataArgs, code: &str, disabled: bool) -> i32 {
    with_node(data, false, |node| async move {
        let done =
            operator::set_institution_disabled(&node, &OperatorActor::Cli, code, disabled).await?;
        let state = if disabled { "disabled" } else { "enabled" };
        print(
            &done,
            &format!("institution {} {state}", done.event.subject),
        );
        Ok(0)
    })
    .await
}

pub async fn set_account_disabled(data: &DataArgs, username: &str, disabled: bool) -> i32 {
    with_node(data, false, |node| async move {
        let done =
            operator::set_account_disabled(&node, &OperatorActor::Cli, username, disabled).await?;
        let state = if disabled {
            "disabled; its sessions have ended"
        } else {
            "enabled"
        };
        print(&done, &format!("account {username} {state}"));
        Ok(0)
    })
    .await
}

pub async fn retire_key(data: &DataArgs, kid: &str) -> i32 {
    with_node(data, false, |node| async move {
        let done = operator::retire_key(&node, &OperatorActor::Cli, kid).await?;
        print(
            &done,
            &format!(
                "issuer key {} retired: it signs nothing more",
                done.event.subject
            ),
        );
        Ok(0)
    })
    .await
}

pub async fn revoke_key(data: &DataArgs, kid: &str, since: Option<&str>) -> i32 {
    // clap requires --since with --revoke; an absent one is a bad date like any other.
    let since = match Since::parse(since.unwrap_or_default()) {
        Ok(s) => s,
        Err(e) => return output::error(&e, false),
    };
    with_node(data, false, |node| async move {
        let done = operator::revoke_key(&node, &OperatorActor::Cli, kid, since).await?;
        print(
            &done,
            &format!(
                "issuer key {} revoked: what it signed from {} on is invalid",
                done.event.subject, since.0
            ),
        );
        Ok(0)
    })
    .await
}

pub async fn run(cmd: OperatorCommand) -> i32 {
    match cmd {
        OperatorCommand::Key { data, label } => {
            with_node(&data, false, |node| async move {
                let (token, id) = operator::create_key(&node, &label).await?;
                eprintln!("operator API key {id}; it is shown only this once:");
                println!("{token}");
                Ok(0)
            })
            .await
        }
        OperatorCommand::Events { data, after, limit } => {
            with_node(&data, true, |node| async move {
                output::json(&operator::events(&node, after, limit).await?);
                Ok(0)
            })
            .await
        }
    }
}
