//! `elicense institution add|list|key|disable|enable`: relying institutions (用证单位), their
//! business scope and their API keys; disable and enable are operator events (`cmd::operator`).

use elicense_app::institutions::{self, NewInstitution};

use super::with_node;
use crate::cli::{DataArgs, InstitutionCommand};
use crate::output;

pub async fn run(cmd: InstitutionCommand) -> i32 {
    match cmd {
        InstitutionCommand::Add {
            data,
            code,
            name,
            area,
            matter,
            label,
        } => {
            with_node(&data, false, |node| async move {
                let rec = institutions::register(
                    &node,
                    NewInstitution {
                        code,
                        name,
                        area,
                        matters: matter,
                    },
                )
                .await?;
                let (token, id) = institutions::create_key(&node, &rec.code, &label).await?;
                eprintln!(
                    "institution {} registered; API key {id}, shown only this once",
                    rec.code
                );
                output::json(&serde_json::json!({
                    "code": rec.code,
                    "name": rec.name,
                    "area": rec.area,
                    "matters": rec.matters,
                    "api_key": token,
                }));
                Ok(0)
            })
            .await
        }
        InstitutionCommand::List { data } => list(&data).await,
        InstitutionCommand::Disable { data, code } => {
            super::operator::set_institution_disabled(&data, &code, true).await
        }
        InstitutionCommand::Enable { data, code } => {
            super::operator::set_institution_disabled(&data, &code, false).await
        }
        InstitutionCommand::Key { data, code, label } => {
            with_node(&data, false, |node| async move {
                let (token, id) = institutions::create_key(&node, &code, &label).await?;
                eprintln!("API key {id} for institution {code}; it is shown only this once:");
                println!("{token}");
                Ok(0)
            })
            .await
        }
    }
}

async fn list(data: &DataArgs) -> i32 {
    with_node(data, true, |node| async move {
        output::json(&institutions::list(&node).await?);
        Ok(0)
    })
    .await
}
