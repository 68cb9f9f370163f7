//! `elicense archive export|verify`: BagIt bags of licenses (`elicense_app::archive`),
//! written from a node's data and checked offline.

use elicense_app::archive::{self, Scope};
use elicense_app::{AppError, ErrorKind};

use crate::cli::ArchiveCommand;
use crate::output;

pub async fn run(command: ArchiveCommand) -> i32 {
    match command {
        ArchiveCommand::Export {
            data,
            issuer,
            holder,
            license,
            out,
        } => {
            let scope = match (issuer, holder, license) {
                (Some(i), None, None) => Scope::Issuer(i),
                (None, Some(h), None) => Scope::Holder(h),
                (None, None, Some(l)) => match super::identifier(&l) {
                    Ok(id) => Scope::License(id),
                    Err(e) => return output::error(&e, false),
                },
                _ => {
                    return output::error(
                        &AppError::new(
                            ErrorKind::Invalid,
                            "archive.scope",
                            "give exactly one of --issuer, --holder, --license",
                        ),
                        false,
                    )
                }
            };
            let summary = match super::open_node(&data) {
                Ok(node) => archive::export(&node, scope, &out).await,
                Err(e) => Err(e),
            };
            match summary {
                Ok(summary) => {
                    output::json(&summary);
                    0
                }
                Err(e) => output::error(&e, false),
            }
        }
        ArchiveCommand::Verify { bag } => {
            let report = archive::verify(&bag);
            for p in &report.problems {
                eprintln!("PROBLEM: {p}");
            }
            let ok = report.ok;
            output::json(&report);
            if ok {
                0
            } else {
                1
            }
        }
    }
}
