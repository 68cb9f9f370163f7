//! `elicense federation admit|nodes|locate`: the operator admits a child node, lists the
//! nodes this node knows, or asks where a license lives. Each only parses and prints; the
//! use cases are `elicense_app::federation::{peer, directory}`.

use elicense_app::federation::{directory, peer};
use elicense_app::AppError;
use elicense_core::Identifier;

use super::with_node;
use crate::cli::FederationCommand;
use crate::output;

pub async fn run(cmd: FederationCommand) -> i32 {
    match cmd {
        FederationCommand::Admit { data, url } => {
            with_node(&data, false, |node| async move {
                let t = peer::admit(&node, &url).await?;
                eprintln!(
                    "admitted {} ({} {}) as a child",
                    t.url,
                    t.level.code(),
                    t.area
                );
                output::json(&t);
                Ok(0)
            })
            .await
        }
        FederationCommand::Nodes { data } => {
            with_node(&data, true, |node| async move {
                output::json(&peer::known_nodes(&node).await?);
                Ok(0)
            })
            .await
        }
        FederationCommand::Locate { data, identifier } => {
            with_node(&data, true, |node| async move {
                let id = Identifier::parse(&identifier).map_err(AppError::invalid)?;
                match directory::locate(&node, &id, directory::Scope::Network).await? {
                    Some(l) => {
                        output::json(&l);
                        Ok(0)
                    }
                    None => {
                        eprintln!("no node of the network holds {identifier}");
                        Ok(1)
                    }
                }
            })
            .await
        }
    }
}
