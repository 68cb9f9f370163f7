//! `elicense jwks`, `elicense keygen` (new keys; `--retire`/`--revoke` are in `operator`),
//! `elicense apikey` (new issuer keys; `apikey revoke` is in `operator`).

use std::path::PathBuf;

use elicense_app::{AppError, ErrorKind};
use elicense_crypto::{Alg, KeyPair};

use super::with_node;
use crate::cli::DataArgs;
use crate::output;

pub async fn jwks(data: &DataArgs, issuer: &str) -> i32 {
    with_node(data, true, |node| async move {
        if node.store.issuer(issuer).await?.is_none() {
            return Err(AppError::not_found(
                "issuer.unknown",
                format!("issuer {issuer} is not registered"),
            ));
        }
        output::json(&node.keys.jwks(issuer).await?);
        Ok(0)
    })
    .await
}

pub async fn keygen(
    data: &DataArgs,
    alg: Alg,
    issuer: Option<String>,
    out: Option<PathBuf>,
) -> i32 {
    if let Some(out) = out {
        return keygen_file(alg, &out);
    }
    let Some(issuer) = issuer else {
        let e = AppError::new(
            ErrorKind::Invalid,
            "keygen.target",
            "name --issuer USCC (a node key) or --out FILE (a key file)",
        );
        return output::error(&e, false);
    };
    with_node(data, false, |node| async move {
        if node.store.issuer(&issuer).await?.is_none() {
            return Err(AppError::not_found(
                "issuer.unknown",
                format!("issuer {issuer} is not registered"),
            ));
        }
        let rec = node.keys.generate(&issuer, alg, node.now()).await?;
        eprintln!(
            "generated {} key {} for {issuer} (private key stored encrypted)",
            rec.alg, rec.kid
        );
        println!("{}", rec.public_jwk);
        Ok(0)
    })
    .await
}

/// Writes an encrypted PKCS#8 key file; prints its public JWK. The password comes from
/// `ELICENSE_KEYFILE_PASSWORD` (required: a key file is never written in clear). It is not
/// `ELICENSE_KEY_PASSWORD`, which unlocks a node's issuer keys.
fn keygen_file(alg: Alg, out: &std::path::Path) -> i32 {
    let password = match std::env::var("ELICENSE_KEYFILE_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            let e = AppError::new(
                ErrorKind::Invalid,
                "key.password_required",
                "set ELICENSE_KEYFILE_PASSWORD to encrypt the key file",
            );
            return output::error(&e, false);
        }
    };
    let mut rng = rand::rngs::OsRng;
    let pair = KeyPair::generate(alg, &mut rng);
    let pem = match pair.to_encrypted_pem(password.as_bytes(), &mut rng) {
        Ok(p) => p,
        Err(e) => return output::error(&AppError::crypto(e), false),
    };
    if out.exists() {
        let e = AppError::new(
            ErrorKind::Conflict,
            "key.file_exists",
            format!("{} exists; not overwriting a key", out.display()),
        );
        return output::error(&e, false);
    }
    if let Err(e) = elicense_app::config::write_private_file(out, pem.as_bytes()) {
        let e = AppError::new(
            ErrorKind::Unavailable,
            "key.io",
            format!("{}: {e}", out.display()),
        );
        return output::error(&e, false);
    }
    output::json(&pair.public_jwk());
    0
}

pub async fn apikey(data: &DataArgs, issuer: Option<&str>, label: &str) -> i32 {
    let Some(issuer) = issuer else {
        let e = AppError::new(
            ErrorKind::Invalid,
            "apikey.issuer_required",
            "name --issuer USCC (a new issuer key) or use `apikey revoke KEY_ID`",
        );
        return output::error(&e, false);
    };
    with_node(data, false, |node| async move {
        let (token, id) = elicense_app::apikeys::create(&node, issuer, label).await?;
        eprintln!("API key {id} for {issuer}; it is shown only this once:");
        println!("{token}");
        Ok(0)
    })
    .await
}
