//! Seeding a node: the sample catalogue, keys for every issuer (SM2, Ed25519, ES256), an API
//! key per issuer, and (on an empty node) sample licenses across the lifecycle, for the demo.

use std::sync::Arc;

use elicense_core::catalogue::{Catalogue, ItemType, LicenseType};
use elicense_core::gb11643::ResidentId;
use elicense_core::holder::HolderCodeType;
use elicense_core::lifecycle::Action;
use elicense_core::Identifier;
use elicense_crypto::Alg;
use serde::Serialize;

use crate::error::Result;
use crate::issue::{issue, IssueRequest};
use crate::lifecycle::{apply, ActionRequest};
use crate::node::Node;

/// Sample citizens: (name, resident ID with a correct GB 11643 check char).
pub const SAMPLE_CITIZENS: [(&str, &str); 4] = [
    ("张伟", "11010519491231002X"),
    ("李娜", "110105200002290021"),
    ("王芳", "310104198012315019"),
    ("陈明", "440306199910101239"),
];

/// Sample enterprises: (name, USCC with a correct GB 32100 check char).
pub const SAMPLE_ENTERPRISES: [(&str, &str); 3] = [
    ("北京示例科技有限公司", "91330000755918469E"),
    ("上海样本餐饮管理有限公司", "913700001630477270"),
    ("吉林演示建筑工程有限公司", "91610800064834709T"),
];

/// What seeding created, for `elicense demo` to print.
#[derive(Debug, Clone, Serialize)]
pub struct Seeded {
    pub types: usize,
    pub issuers: Vec<SeededIssuer>,
    pub licenses: Vec<SeededLicense>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeededIssuer {
    pub code: String,
    pub name: String,
    /// A fresh API key (shown once).
    pub api_key: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeededLicense {
    pub identifier: String,
    pub type_name: String,
    pub holder: String,
    pub status: String,
}

/// Which of the sample catalogue's issuers a node seeds: all of them (a single demo node), or
/// those of one area (a node of the federation demo seeds the issuers of its own area).
#[derive(Debug, Clone, Copy)]
pub enum IssuersOf<'a> {
    All,
    Area(&'a str),
}

impl IssuersOf<'_> {
    fn takes(&self, area: &str) -> bool {
        match self {
            IssuersOf::All => true,
            IssuersOf::Area(a) => *a == area,
        }
    }
}

/// Loads the sample catalogue and makes sure every issuer has keys and a fresh API key.
pub async fn seed_catalogue(node: &Arc<Node>) -> Result<Seeded> {
    seed_catalogue_of(node, IssuersOf::All).await
}

/// Loads the sample catalogue; the issuers `of` get keys and a fresh API key.
pub async fn seed_catalogue_of(node: &Arc<Node>, of: IssuersOf<'_>) -> Result<Seeded> {
    let catalogue = Catalogue::sample();
    let now = node.now();
    node.catalogue.load(&catalogue, now).await?;
    let mut issuers = Vec::new();
    for i in catalogue
        .issuers
        .iter()
        .filter(|i| of.takes(i.area.as_str()))
    {
        let code = i.code.to_string();
        let have = node.store.keys(&code).await?;
        for alg in [Alg::Sm2, Alg::EdDSA, Alg::Es256] {
            if !have.iter().any(|k| k.alg == alg.cli_name()) {
                node.keys.generate(&code, alg, now).await?;
            }
        }
        let (api_key, _) = crate::apikeys::create(node, &code, "demo").await?;
        issuers.push(SeededIssuer {
            code,
            name: i.name.clone(),
            api_key,
        });
    }
    Ok(Seeded {
        types: catalogue.types.len(),
        issuers,
        licenses: Vec::new(),
    })
}

/// Seeds the catalogue, and sample licenses if the node has none yet.
pub async fn seed_demo(node: &Arc<Node>) -> Result<Seeded> {
    seed_demo_of(node, IssuersOf::All).await
}

/// Seeds the catalogue with the issuers `of`, and (on an empty node) their sample licenses.
pub async fn seed_demo_of(node: &Arc<Node>, of: IssuersOf<'_>) -> Result<Seeded> {
    let mut seeded = seed_catalogue_of(node, of).await?;
    if node.store.count().await? > 0 {
        return Ok(seeded);
    }
    let catalogue = Catalogue::sample();
    let mine: Vec<String> = seeded.issuers.iter().map(|i| i.code.clone()).collect();
    let mut n = 0usize;
    for t in &catalogue.types {
        for issuer in t.issuers.iter().filter(|i| mine.contains(&i.to_string())) {
            let holders: Vec<(&str, &str)> = match t.holder_kind {
                HolderCodeType::Uscc => SAMPLE_ENTERPRISES.to_vec(),
                _ => SAMPLE_CITIZENS.to_vec(),
            };
            for (name, id) in holders.into_iter().take(2) {
                let req = IssueRequest {
                    type_code: t.code.to_string(),
                    issuer: issuer.to_string(),
                    holder_name: name.to_string(),
                    holder_id: id.to_string(),
                    fields: example_fields(t, name, id),
                    alg: Some([Alg::Sm2, Alg::EdDSA, Alg::Es256][n % 3]),
                    valid_until: None,
                    actor: "demo".into(),
                    ..Default::default()
                };
                let issued = issue(node, req).await?;
                // Show the lifecycle: of every seven licenses, one is suspended and one revoked.
                let status = match n % 7 {
                    3 => {
                        act(
                            node,
                            &issued.identifier,
                            Action::Suspend,
                            "年检未通过，暂扣 pending inspection",
                        )
                        .await?
                    }
                    5 => {
                        act(
                            node,
                            &issued.identifier,
                            Action::Revoke,
                            "以欺骗手段取得，撤销 obtained by deception",
                        )
                        .await?
                    }
                    _ => "valid".to_string(),
                };
                seeded.licenses.push(SeededLicense {
                    identifier: issued.identifier.to_string(),
                    type_name: t.name.clone(),
                    holder: name.to_string(),
                    status,
                });
                n += 1;
            }
        }
    }
    Ok(seeded)
}

async fn act(node: &Arc<Node>, id: &Identifier, action: Action, reason: &str) -> Result<String> {
    let mut req = ActionRequest::new(action, "demo");
    req.reason = Some(reason.to_string());
    Ok(apply(node, id, req).await?.status)
}

/// The sample citizen who represents the sample enterprise with this USCC (the one at the
/// same index).
fn representative_of(uscc: &str) -> Option<(&'static str, &'static str)> {
    let i = SAMPLE_ENTERPRISES.iter().position(|e| e.1 == uscc)?;
    SAMPLE_CITIZENS.get(i).copied()
}

/// The catalogue's example values, with holder-identifying items set to the holder and the
/// items the holder's resident ID determines (`derives`: birth date, sex) taken from it; a
/// sample enterprise's legal representative is the sample citizen at its index.
pub fn example_fields(
    t: &LicenseType,
    name: &str,
    id: &str,
) -> std::collections::BTreeMap<String, String> {
    let derived = match (&t.holder_kind, ResidentId::parse(id)) {
        (HolderCodeType::ResidentId, Ok(rid)) => t.derived_fields(&rid),
        _ => Default::default(),
    };
    t.items
        .iter()
        .map(|item| {
            if let Some(value) = derived.get(&item.name) {
                return (item.name.clone(), value.clone());
            }
            let value = match (&item.item_type, item.name.as_str()) {
                (ItemType::Uscc, _) if id.len() == 18 && t.holder_kind == HolderCodeType::Uscc => {
                    id.to_string()
                }
                (ItemType::ResidentId, _) if t.holder_kind == HolderCodeType::ResidentId => {
                    id.to_string()
                }
                (_, "name") | (_, "operator_name") => name.to_string(),
                // Sample enterprise i is represented by sample citizen i.
                (ItemType::ResidentId, _) if item.represents => {
                    representative_of(id).map_or(item.example.clone(), |c| c.1.to_owned())
                }
                (_, "legal_representative") => {
                    representative_of(id).map_or(item.example.clone(), |c| c.0.to_owned())
                }
                _ => item.example.clone(),
            };
            (item.name.clone(), value)
        })
        .collect()
}
