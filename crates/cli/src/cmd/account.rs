//! `elicense account add|reset-password|disable|enable`: the operator's work on wallet
//! accounts at the counter, each a logged operator event (`cmd::operator`). It writes through
//! the store, so a node running on the same data sees the new account, and refuses the
//! sessions of a disabled account or of one whose password was reset, from its next request
//! on. A password is generated (shown once, on stderr) unless `--password-stdin` gives one.

use elicense_app::operator;
use elicense_app::wallet::identity::NewAccount;
use elicense_app::{AppError, ErrorKind};
use elicense_core::holder::{HolderCode, HolderCodeType};
use elicense_core::OperatorActor;

use super::with_node;
use crate::cli::AccountCommand;
use crate::output;

pub async fn run(cmd: AccountCommand) -> i32 {
    match cmd {
        AccountCommand::Add {
            data,
            username,
            name,
            resident_id,
            password_stdin,
        } => {
            let person = match HolderCode::parse(HolderCodeType::ResidentId, resident_id.trim()) {
                Ok(p) => p,
                Err(e) => return output::error(&AppError::invalid(e), false),
            };
            let (password, generated) = match password(password_stdin) {
                Ok(p) => p,
                Err(e) => return output::error(&e, false),
            };
            with_node(&data, false, |node| async move {
                let account = NewAccount {
                    username,
                    password: password.clone(),
                    name,
                    person,
                };
                let (done, identity) =
                    operator::create_account(&node, &OperatorActor::Cli, account).await?;
                eprintln!(
                    "account {} made for {} {} (operator event {}, log leaf {})",
                    identity.username,
                    identity.name,
                    identity.person_masked,
                    done.event.op,
                    done.leaf_index
                );
                if generated {
                    eprintln!("its password, shown only this once: {password}");
                }
                output::json(&serde_json::json!({
                    "account": identity.account,
                    "username": identity.username,
                    "name": identity.name,
                    "person": identity.person_masked,
                    "event": done.event,
                    "leaf_index": done.leaf_index,
                }));
                Ok(0)
            })
            .await
        }
        AccountCommand::ResetPassword {
            data,
            username,
            password_stdin,
        } => {
            let (password, generated) = match password(password_stdin) {
                Ok(p) => p,
                Err(e) => return output::error(&e, false),
            };
            with_node(&data, false, |node| async move {
                let done =
                    operator::reset_password(&node, &OperatorActor::Cli, &username, &password)
                        .await?;
                super::operator::print(
                    &done,
                    &format!("password of {username} reset; its sessions have ended"),
                );
                if generated {
                    eprintln!("the new password, shown only this once: {password}");
                }
                Ok(0)
            })
            .await
        }
        AccountCommand::Disable { data, username } => {
            super::operator::set_account_disabled(&data, &username, true).await
        }
        AccountCommand::Enable { data, username } => {
            super::operator::set_account_disabled(&data, &username, false).await
        }
    }
}

/// The password to set: the first line of stdin, or a generated one (`true`).
fn password(from_stdin: bool) -> Result<(String, bool), AppError> {
    if !from_stdin {
        return Ok((operator::generate_password(), true));
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| AppError::new(ErrorKind::Invalid, "account.invalid", format!("stdin: {e}")))?;
    Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
}
