//! Demo holder accounts of `elicense demo`: two citizens, each the legal representative of a
//! sample enterprise. Passwords are derived from the node's holder secret, so each demo node
//! has its own and `elicense demo` can print them again on every start without storing them.

use elicense_core::holder::{HolderCode, HolderCodeType};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::identity::{create_account, NewAccount};
use crate::error::{ErrorKind, Result};
use crate::node::Node;
use crate::seed::{SAMPLE_CITIZENS, SAMPLE_ENTERPRISES};

/// A demo account as `elicense demo` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub name: String,
    pub represents: Option<String>,
}

/// (username, index into SAMPLE_CITIZENS, index into SAMPLE_ENTERPRISES).
const ACCOUNTS: [(&str, usize, usize); 2] = [("zhangwei", 0, 0), ("lina", 1, 1)];

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
    for (username, citizen, enterprise) in ACCOUNTS {
        let (name, id) = SAMPLE_CITIZENS[citizen];
        let (ename, uscc) = SAMPLE_ENTERPRISES[enterprise];
        let password = password(node, username);
        let person = HolderCode::parse(HolderCodeType::ResidentId, id)
            .map_err(crate::error::AppError::invalid)?;
        let company = HolderCode::parse(HolderCodeType::Uscc, uscc)
            .map_err(crate::error::AppError::invalid)?;
        let made = create_account(
            node,
            NewAccount {
                username: username.into(),
                password: password.clone(),
                name: name.into(),
                person,
                enterprises: vec![(ename.into(), company)],
            },
        )
        .await;
        match made {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Conflict => {}
            Err(e) => return Err(e),
        }
        out.push(DemoAccount {
            username: username.into(),
            password,
            name: name.into(),
            represents: Some(ename.into()),
        });
    }
    Ok(out)
}
