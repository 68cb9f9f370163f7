//! `elicense account disable|enable USERNAME`: the operator's switch on a wallet account, a
//! logged operator event (`cmd::operator`). It writes through the store, so a node running on
//! the same data refuses the account's sessions from its next request on.

use crate::cli::AccountCommand;

pub async fn run(cmd: AccountCommand) -> i32 {
    let (data, username, disabled) = match cmd {
        AccountCommand::Disable { data, username } => (data, username, true),
        AccountCommand::Enable { data, username } => (data, username, false),
    };
    super::operator::set_account_disabled(&data, &username, disabled).await
}
