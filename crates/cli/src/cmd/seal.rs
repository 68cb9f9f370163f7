//! `elicense seal create|sign|cert|verify|list|suspend|reinstate|revoke`: electronic seals
//! (GB/T 38540) from the command line, as the region operator at the node's data dir (the
//! actor is `operator:cli`). `verify` also asks a running node (`--node URL`). Over
//! `elicense_app::seals`. And `elicense key-cert request|attach`: issuer keys certified by an
//! outside CA (`elicense_app::key_certificates`).

use std::path::Path;

use elicense_app::seals::document::{self as sealdoc, Placement};
use elicense_app::seals::{self, NewSeal, Principal, StatusChange};
use elicense_app::{AppError, ErrorKind};

use super::with_node;
use crate::cli::{DataArgs, KeyCertCommand, SealCommand};
use crate::output;

fn operator() -> Principal {
    Principal::Operator(elicense_core::OperatorActor::Cli.code())
}

fn read(path: &Path) -> Result<Vec<u8>, AppError> {
    std::fs::read(path).map_err(|e| {
        AppError::new(
            ErrorKind::Invalid,
            "file.unreadable",
            format!("{}: {e}", path.display()),
        )
    })
}

pub async fn run(cmd: SealCommand) -> i32 {
    match cmd {
        SealCommand::Create {
            data,
            owner,
            owner_name,
            kind,
            name,
            alg,
            valid_days,
            user,
            picture,
            json: _,
        } => {
            with_node(&data, true, |node| async move {
                let new = NewSeal {
                    owner,
                    owner_name,
                    kind,
                    name,
                    alg: Some(alg),
                    valid_days,
                    users: user,
                    picture: match picture {
                        Some(path) => {
                            use base64::Engine;
                            Some(base64::engine::general_purpose::STANDARD.encode(read(&path)?))
                        }
                        None => None,
                    },
                };
                output::json(&seals::create(&node, &operator(), new).await?);
                Ok(0)
            })
            .await
        }
        SealCommand::Sign {
            data,
            seals,
            page,
            input,
            output: out,
            purpose,
        } => {
            with_node(&data, true, |node| async move {
                if page.len() > 1 && page.len() != seals.len() {
                    return Err(AppError::new(
                        ErrorKind::Invalid,
                        "seal.bad_placement",
                        "give one --page for all seals or one per --seal",
                    ));
                }
                let placements: Vec<Placement> = seals
                    .iter()
                    .enumerate()
                    .map(|(i, s)| Placement {
                        seal: s.clone(),
                        page: page.get(i).or(page.first()).copied(),
                        rect: None,
                    })
                    .collect();
                let pdf = read(&input)?;
                // At the data dir the operator holds the node's keys: it may use every seal.
                let local = Principal::Node(elicense_core::OperatorActor::Cli.code());
                let sealed = sealdoc::seal(&node, &local, &pdf, &placements, &purpose).await?;
                std::fs::write(&out, &sealed).map_err(|e| {
                    AppError::new(
                        ErrorKind::Invalid,
                        "file.unwritable",
                        format!("{}: {e}", out.display()),
                    )
                })?;
                eprintln!(
                    "sealed with {} seal(s): {}",
                    placements.len(),
                    out.display()
                );
                Ok(0)
            })
            .await
        }
        SealCommand::Cert { data, seal } => {
            with_node(&data, true, |node| async move {
                print!("{}", seals::chain_pem(&node, &seal).await?);
                Ok(0)
            })
            .await
        }
        SealCommand::Verify { data, node, file } => verify(&data, node.as_deref(), &file).await,
        SealCommand::List { data, owner } => {
            with_node(&data, true, |node| async move {
                output::json(&seals::of_owner(&node, &owner).await?);
                Ok(0)
            })
            .await
        }
        SealCommand::Suspend { data, seal } => status(&data, &seal, StatusChange::Suspend).await,
        SealCommand::Reinstate { data, seal } => {
            status(&data, &seal, StatusChange::Reinstate).await
        }
        SealCommand::Revoke { data, seal } => status(&data, &seal, StatusChange::Revoke).await,
    }
}

/// `elicense key-cert request|attach`.
pub async fn key_cert(cmd: KeyCertCommand) -> i32 {
    use elicense_app::key_certificates;
    match cmd {
        KeyCertCommand::Request { data, kid } => {
            with_node(&data, true, |node| async move {
                print!("{}", key_certificates::request(&node, &kid).await?);
                Ok(0)
            })
            .await
        }
        KeyCertCommand::Attach { data, kid, chain } => {
            with_node(&data, true, |node| async move {
                let pem = String::from_utf8(read(&chain)?).map_err(|_| {
                    AppError::new(ErrorKind::Invalid, "key_cert.bad_chain", "not a PEM text")
                })?;
                let actor = elicense_core::OperatorActor::Cli.code();
                output::json(&key_certificates::attach(&node, &actor, &kid, &pem).await?);
                Ok(0)
            })
            .await
        }
    }
}

async fn status(data: &DataArgs, seal: &str, change: StatusChange) -> i32 {
    with_node(data, true, |node| async move {
        output::json(&seals::set_status(&node, &operator(), seal, change).await?);
        Ok(0)
    })
    .await
}

/// Exit 0 valid, 1 not valid, 2 error (with the error on stderr).
async fn verify(data: &DataArgs, node: Option<&str>, file: &Path) -> i32 {
    let pdf = match read(file) {
        Ok(p) => p,
        Err(e) => return output::error(&e, true),
    };
    let verdict = |valid: bool| if valid { 0 } else { 1 };
    match node {
        Some(url) => match remote(url, pdf).await {
            Ok(v) => {
                output::json(&v);
                verdict(v["valid"] == serde_json::Value::Bool(true))
            }
            Err(e) => output::error(&e, true),
        },
        None => {
            with_node(data, true, |node| async move {
                let v = sealdoc::verify(&node, &pdf).await?;
                output::json(&v);
                Ok(verdict(v.valid))
            })
            .await
        }
    }
}

async fn remote(url: &str, pdf: Vec<u8>) -> Result<serde_json::Value, AppError> {
    let request = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/seal-verifications",
            url.trim_end_matches('/')
        ))
        .header("content-type", "application/pdf")
        .body(pdf);
    super::verify::node_json(url, request).await
}
