//! `elicense account disable|enable USERNAME`: the operator's switch on a wallet account.
//! It writes through the store, so a node running on the same data refuses the account's
//! sessions from its next request on.

use elicense_app::wallet::security;

use super::with_node;
use crate::cli::AccountCommand;

pub async fn run(cmd: AccountCommand) -> i32 {
    let (data, username, disabled) = match cmd {
        AccountCommand::Disable { data, username } => (data, username, true),
        AccountCommand::Enable { data, username } => (data, username, false),
    };
    with_node(&data, false, |node| async move {
        security::set_disabled(&node, &username, disabled).await?;
        let done = if disabled {
            "disabled; its sessions have ended"
        } else {
            "enabled"
        };
        eprintln!("account {username} {done}");
        Ok(0)
    })
    .await
}
