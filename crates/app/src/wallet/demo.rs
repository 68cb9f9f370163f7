//! Demo holder accounts of `elicense demo`: two citizens, each the legal representative of a
//! sample enterprise (its business license names them: `seed::example_fields`). Passwords are derived from the node's holder secret, so each demo node
//! has its own and `elicense demo` can print them again on every start without storing them.

use elicense_core::holder::{HolderCode, HolderCodeType};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::identity::{create_account, represented, NewAccount};
use crate::error::{ErrorKind, Result};
use crate::node::Node;
use crate::seed::SAMPLE_CITIZENS;

/// A demo account as `elicense demo` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub name: String,
    pub represents: Option<String>,
}

/// (username, index into SAMPLE_CITIZENS).
/// 王芳 and 陈明 are also the demo bank's teller and the demo hotel's front desk.
const ACCOUNTS: [(&str, usize); 4] = [
    ("zhangwei", 0),
    ("lina", 1),
    ("wangfang", 2),
    ("chenming", 3),
];

fn password(node: &Node, username: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(&node.config.holder_secret)
        .expect("HMAC takes any key length");
    m.update(b"elicense demo password\0");
    m.update(username.as_bytes());
    let bytes = m.finalize().into_bytes();
    // 12 characters from an alphabet without look-alikes.
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    bytes[..12]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// Creates the demo accounts that do not exist yet; returns all of them with passwords.
pub async fn seed_accounts(node: &Node) -> Result<Vec<DemoAccount>> {
    let mut out = Vec::new();
    for (username, citizen) in ACCOUNTS {
        let (name, id) = SAMPLE_CITIZENS[citizen];
        let password = password(node, username);
        let person = HolderCode::parse(HolderCodeType::ResidentId, id)
            .map_err(crate::error::AppError::invalid)?;
        let person_key = node.holder_key(&person);
        let made = create_account(
            node,
            NewAccount {
                username: username.into(),
                password: password.clone(),
                name: name.into(),
                person,
            },
        )
        .await;
        match made {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Conflict => {}
            Err(e) => return Err(e),
        }
        // The enterprises whose business license on this node names the person.
        let represents = represented(node.store.as_ref(), &person_key)
            .await?
            .into_iter()
            .map(|(e, _)| e.name)
            .next();
        out.push(DemoAccount {
            username: username.into(),
            password,
            name: name.into(),
            represents,
        });
    }
    Ok(out)
}
