//! `elicense issue` and `elicense catalogue`.

use std::path::PathBuf;

use elicense_app::catalogue::TypeView;
use elicense_app::issue::IssueRequest;
use elicense_app::{AppError, ErrorKind};

use super::with_node;
use crate::cli::{DataArgs, IssueArgs};
use crate::output;

pub async fn issue(a: IssueArgs) -> i32 {
    let json = a.json;
    with_node(&a.data, json, |node| async move {
        let holder_jwk = match &a.holder_jwk {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    AppError::new(
                        ErrorKind::Invalid,
                        "holder.jwk_file",
                        format!("{}: {e}", path.display()),
                    )
                })?;
                Some(serde_json::from_str(&text).map_err(|e| {
                    AppError::new(
                        ErrorKind::Invalid,
                        "holder.bad_jwk",
                        format!("{}: {e}", path.display()),
                    )
                })?)
            }
            None => None,
        };
        let req = IssueRequest {
            type_code: a.type_code,
            issuer: a.issuer,
            holder_name: a.holder_name,
            holder_id: a.holder_id,
            fields: a.fields.into_iter().collect(),
            alg: a.alg.map(Into::into),
            holder_jwk,
            valid_until: a.valid_until,
            related_matter: None,
            actor: format!("cli:{}", whoami()),
        };
        let issued = elicense_app::issue::issue(&node, req).await?;
        if json {
            output::json(&serde_json::json!({
                "identifier": issued.identifier,
                "credential": issued.credential,
                "status": issued.status,
            }));
        } else {
            println!("issued {}", issued.identifier);
            println!("status {}#{}", issued.status.uri, issued.status.idx);
            println!("{}", issued.credential);
        }
        Ok(0)
    })
    .await
}

pub async fn catalogue(data: &DataArgs, load: Option<PathBuf>, json: bool) -> i32 {
    with_node(data, json, |node| async move {
        if let Some(path) = load {
            let loaded = node.catalogue.load_file(&path, node.now()).await?;
            if !json {
                for l in &loaded {
                    println!("loaded {} {} (catalogue version {})", l.code, l.name, l.version);
                }
            }
        }
        let types: Vec<TypeView> = node.catalogue.all().await?.iter().map(|t| TypeView::of(t)).collect();
        if json {
            output::json(&types);
        } else if types.is_empty() {
            println!("the catalogue is empty: load one with `elicense catalogue --load FILE` or run `elicense demo`");
        } else {
            for t in &types {
                println!("{}  {} ({}) v{}  issuers: {}", t.code, t.name, t.name_en, t.version, t.issuers.join(", "));
                for i in &t.items {
                    println!(
                        "    {:<24} {:<12} {}{}  e.g. {}",
                        i.name,
                        i.label,
                        i.item_type,
                        if i.required { " required" } else { "" },
                        i.example
                    );
                }
            }
        }
        Ok(0)
    })
    .await
}

/// The local user, for event actors.
pub fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "operator".into())
}
