//! `elicense node keys`, `issuer succeed`, `recognition add|remove|list`: the trust list's
//! operator commands. Each only parses and prints; the use cases are
//! `elicense_app::federation::{trust, recognition}` and `elicense_app::succession`.

use elicense_app::federation::{recognition, trust};
use elicense_app::operator::Since;
use elicense_app::{succession, AppError, ErrorKind};
use elicense_core::{OperatorActor, RecognitionList};

use super::with_node;
use crate::cli::{IssuerCommand, NodeCommand, RecognitionCommand};
use crate::output;

pub async fn node(cmd: NodeCommand) -> i32 {
    match cmd {
        NodeCommand::Keys { data, out } => {
            with_node(&data, false, |node| async move {
                let jwks = trust::public_node_keys(&node)?;
                let text = serde_json::to_string_pretty(&jwks)
                    .map_err(|e| AppError::internal(e.to_string()))?;
                match out {
                    Some(path) => {
                        std::fs::write(&path, format!("{text}\n")).map_err(|e| {
                            AppError::new(
                                ErrorKind::Unavailable,
                                "io.write",
                                format!("{}: {e}", path.display()),
                            )
                        })?;
                        eprintln!("node keys written to {}", path.display());
                    }
                    None => println!("{text}"),
                }
                Ok(0)
            })
            .await
        }
    }
}

pub async fn issuer(cmd: IssuerCommand) -> i32 {
    match cmd {
        IssuerCommand::Succeed {
            data,
            code,
            successor,
            at,
        } => {
            with_node(&data, false, |node| async move {
                let at = at.as_deref().map(Since::parse).transpose()?;
                let done =
                    succession::succeed(&node, &OperatorActor::Cli, &code, &successor, at).await?;
                eprintln!(
                    "{} succeeded (operator event {}, log leaf {})",
                    done.event.subject, done.event.op, done.leaf_index
                );
                output::json(&done);
                Ok(0)
            })
            .await
        }
    }
}

pub async fn recognition(cmd: RecognitionCommand) -> i32 {
    match cmd {
        RecognitionCommand::Add {
            data,
            id,
            name,
            areas,
            types,
        } => {
            with_node(&data, false, |node| async move {
                let l = recognition::put(
                    &node,
                    RecognitionList {
                        id,
                        name,
                        areas,
                        types,
                    },
                )
                .await?;
                output::json(&l);
                Ok(0)
            })
            .await
        }
        RecognitionCommand::Remove { data, id } => {
            with_node(&data, false, |node| async move {
                recognition::remove(&node, &id).await?;
                eprintln!("recognition list {id} removed");
                Ok(0)
            })
            .await
        }
        RecognitionCommand::List { data, area } => {
            with_node(&data, false, |node| async move {
                // Another node reads the lists from the trust list it saved.
                if !trust::is_hub(&node) {
                    trust::load_saved(&node)?;
                }
                output::json(&recognition::applying(&node, area.as_deref()).await?);
                Ok(0)
            })
            .await
        }
    }
}
