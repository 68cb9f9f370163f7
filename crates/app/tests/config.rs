//! A node opened from a data dir: secrets created once (mode 0600) and reused, so a later
//! process can sign with the keys an earlier one made.

mod common;

use common::*;
use elicense_app::issue::issue;
use elicense_app::verify::verify;
use elicense_app::{Node, NodeConfig};
use elicense_crypto::Alg;

#[tokio::test]
async fn reopening_a_data_dir_keeps_secrets_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open_dir(dir.path()).unwrap();
    elicense_app::seed::seed_catalogue(&node).await.unwrap();
    let first = issue(&node, request(BUSINESS, 0, Alg::Sm2)).await.unwrap();
    let holder_key = node
        .store
        .license(first.identifier.as_str())
        .await
        .unwrap()
        .unwrap()
        .holder_key;
    drop(node);

    let node = Node::open_dir(dir.path()).unwrap();
    let again = issue(&node, request(BUSINESS, 0, Alg::Sm2)).await.unwrap();
    let rec = node
        .store
        .license(again.identifier.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.holder_key, holder_key, "same holder secret");
    assert_eq!(node.store.by_holder(&holder_key).await.unwrap().len(), 2);
    let v = verify(&node, &first.credential, &Default::default())
        .await
        .unwrap();
    assert!(v.valid, "{:?}", v.problems);

    #[cfg(unix)]
    for name in ["key-password", "holder-secret"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}

#[test]
fn config_file_is_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("elicense.toml"),
        "base_url = \"https://certs.example.gov.cn/\"\ndefault_alg = \"es256\"\n",
    )
    .unwrap();
    let c = NodeConfig::load(dir.path()).unwrap();
    if std::env::var_os("ELICENSE_BASE_URL").is_none() {
        assert_eq!(c.base_url, "https://certs.example.gov.cn");
    }
    if std::env::var_os("ELICENSE_DEFAULT_ALG").is_none() {
        assert_eq!(c.default_alg, Alg::Es256);
    }

    std::fs::write(dir.path().join("elicense.toml"), "base_ur = \"x\"\n").unwrap();
    assert_eq!(
        NodeConfig::load(dir.path()).unwrap_err().code,
        "config.invalid"
    );
    std::fs::write(dir.path().join("elicense.toml"), "default_alg = \"rsa\"\n").unwrap();
    if std::env::var_os("ELICENSE_DEFAULT_ALG").is_none() {
        assert_eq!(
            NodeConfig::load(dir.path()).unwrap_err().code,
            "config.invalid"
        );
    }
}

#[test]
fn an_empty_secret_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("holder-secret"), b"").unwrap();
    if std::env::var_os("ELICENSE_HOLDER_SECRET").is_none() {
        assert_eq!(
            NodeConfig::load(dir.path()).unwrap_err().code,
            "config.secret_empty"
        );
    }
}

#[test]
fn share_limits_come_from_the_file_with_defaults_and_refuse_zero() {
    if ["BURST", "PER_MINUTE"]
        .iter()
        .any(|k| std::env::var_os(format!("ELICENSE_LEGAL_SHARE_{k}")).is_some())
        || std::env::var_os("ELICENSE_SHARE_MISS_BURST").is_some()
        || std::env::var_os("ELICENSE_SHARE_MISSES_PER_HOUR").is_some()
    {
        return; // the environment decides here
    }
    let dir = tempfile::tempdir().unwrap();
    let defaults = NodeConfig::load(dir.path()).unwrap().share_limits;
    assert_eq!(defaults, elicense_app::config::ShareLimits::default());
    assert_eq!(
        (
            defaults.legal.burst(),
            defaults.legal.refill(),
            defaults.legal.per_secs()
        ),
        (60, 30, 60)
    );
    assert_eq!(
        (
            defaults.misses.burst(),
            defaults.misses.refill(),
            defaults.misses.per_secs()
        ),
        (20, 20, 3600)
    );
    std::fs::write(
        dir.path().join("elicense.toml"),
        "legal_share_burst = 5\nlegal_share_per_minute = 2\nshare_miss_burst = 3\nshare_misses_per_hour = 4\n",
    )
    .unwrap();
    let l = NodeConfig::load(dir.path()).unwrap().share_limits;
    assert_eq!(
        (l.legal.burst(), l.legal.refill(), l.legal.per_secs()),
        (5, 2, 60)
    );
    assert_eq!(
        (l.misses.burst(), l.misses.refill(), l.misses.per_secs()),
        (3, 4, 3600)
    );
    std::fs::write(
        dir.path().join("elicense.toml"),
        "legal_share_per_minute = 0\n",
    )
    .unwrap();
    assert_eq!(
        NodeConfig::load(dir.path()).unwrap_err().code,
        "config.invalid"
    );
}

/// The federation settings of the environment, if any: then the environment decides.
fn federation_env_set() -> bool {
    ["ELICENSE_AREA", "ELICENSE_LEVEL", "ELICENSE_PARENT"]
        .iter()
        .any(|k| std::env::var_os(k).is_some())
}

#[test]
fn federation_settings_come_from_the_file_and_are_checked() {
    use elicense_app::federation::{Federation, FederationSettings};
    use elicense_core::NodeLevel;
    if federation_env_set() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        NodeConfig::load(dir.path()).unwrap().federation,
        Federation::Standalone,
        "no settings: a standalone node, as `demo` runs"
    );
    std::fs::write(
        dir.path().join("elicense.toml"),
        "area = \"320100\"\nlevel = \"city\"\nparent = \"https://js.example.gov.cn/\"\n",
    )
    .unwrap();
    let mut c = NodeConfig::load(dir.path()).unwrap();
    let id = c.federation.identity().unwrap().clone();
    assert_eq!(
        (
            id.area().as_str(),
            id.level(),
            id.parent().unwrap().as_str()
        ),
        ("320100", NodeLevel::City, "https://js.example.gov.cn")
    );
    // The command line overrides setting by setting and the result is checked again.
    c.override_federation(FederationSettings {
        area: Some("320102".into()),
        level: Some("county".into()),
        parent: None,
    })
    .unwrap();
    let id = c.federation.identity().unwrap();
    assert_eq!(id.level(), NodeLevel::County);
    assert_eq!(id.parent().unwrap().as_str(), "https://js.example.gov.cn");
    let e = c
        .override_federation(FederationSettings {
            level: Some("national".into()),
            area: Some("100000".into()),
            parent: None,
        })
        .unwrap_err();
    assert_eq!(e.code, "config.invalid", "a hub with a parent");

    for (text, why) in [
        ("area = \"320100\"\n", "area without level"),
        (
            "level = \"city\"\nparent = \"http://p\"\n",
            "level without area",
        ),
        (
            "area = \"320100\"\nlevel = \"city\"\n",
            "a city without parent",
        ),
        (
            "area = \"320100\"\nlevel = \"town\"\nparent = \"http://p\"\n",
            "unknown level",
        ),
        (
            "area = \"320102\"\nlevel = \"city\"\nparent = \"http://p\"\n",
            "a county's code on a city node",
        ),
        (
            "area = \"3201\"\nlevel = \"city\"\nparent = \"http://p\"\n",
            "not six digits",
        ),
        (
            "area = \"100000\"\nlevel = \"national\"\nparent = \"http://p\"\n",
            "a hub with a parent",
        ),
        (
            "area = \"320100\"\nlevel = \"city\"\nparent = \"ftp://p\"\n",
            "not http(s)",
        ),
        ("parent = \"http://p\"\n", "parent alone"),
    ] {
        std::fs::write(dir.path().join("elicense.toml"), text).unwrap();
        assert_eq!(
            NodeConfig::load(dir.path()).unwrap_err().code,
            "config.invalid",
            "{why}"
        );
    }
    std::fs::write(
        dir.path().join("elicense.toml"),
        "area = \"100000\"\nlevel = \"national\"\n",
    )
    .unwrap();
    let hub = NodeConfig::load(dir.path()).unwrap().federation;
    assert_eq!(hub.identity().unwrap().level(), NodeLevel::National);
    assert!(hub.identity().unwrap().parent().is_none());
}

#[test]
fn status_cache_max_secs_comes_from_the_file_between_1_and_300() {
    if std::env::var_os("ELICENSE_STATUS_CACHE_MAX_SECS").is_some() {
        return; // the environment decides here
    }
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        NodeConfig::load(dir.path()).unwrap().status_cache_max_secs,
        300
    );
    std::fs::write(
        dir.path().join("elicense.toml"),
        "status_cache_max_secs = 2\n",
    )
    .unwrap();
    assert_eq!(
        NodeConfig::load(dir.path()).unwrap().status_cache_max_secs,
        2
    );
    for bad in ["0", "301"] {
        std::fs::write(
            dir.path().join("elicense.toml"),
            format!("status_cache_max_secs = {bad}\n"),
        )
        .unwrap();
        assert_eq!(
            NodeConfig::load(dir.path()).unwrap_err().code,
            "config.invalid",
            "{bad}"
        );
    }
}

/// The `[oidc]` section: read with its defaults, the secret only from a private file, and
/// every bad setting refused with `config.invalid`.
#[test]
fn oidc_settings_come_from_the_file_and_are_checked() {
    if std::env::vars().any(|(k, _)| k.starts_with("ELICENSE_OIDC_")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    assert!(NodeConfig::load(dir.path()).unwrap().oidc.is_none());
    let write_secret = |name: &str, mode: u32| {
        let path = dir.path().join(name);
        std::fs::write(&path, "  the-secret\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    };
    write_secret("oidc-secret", 0o600);
    let load = |toml: &str| {
        std::fs::write(dir.path().join("elicense.toml"), toml).unwrap();
        NodeConfig::load(dir.path())
    };
    let c = load(
        "[oidc]\nissuer = \"https://id.example.gov.cn/oidc\"\nclient_id = \"node-1\"\n\
         client_secret_file = \"oidc-secret\"\n",
    )
    .unwrap()
    .oidc
    .unwrap();
    assert_eq!(c.issuer, "https://id.example.gov.cn/oidc");
    assert_eq!(c.client_id, "node-1");
    assert_eq!(c.client_secret.as_str(), "the-secret");
    assert_eq!(c.scopes, ["openid", "profile"]);
    assert_eq!(
        (c.resident_id_claim.as_str(), c.name_claim.as_str()),
        ("resident_id", "name")
    );
    assert_eq!(c.provider_name, "id.example.gov.cn");
    assert!(!format!("{c:?}").contains("the-secret"));
    let c = load(
        "[oidc]\nissuer = \"http://127.0.0.1:9000\"\nclient_id = \"node-1\"\n\
         client_secret_file = \"oidc-secret\"\nscopes = [\"openid\", \"profile\", \"idcard\"]\n\
         resident_id_claim = \"id_number\"\nname_claim = \"real_name\"\n\
         provider_name = \"江苏政务服务\"\n",
    )
    .unwrap()
    .oidc
    .unwrap();
    assert_eq!(c.scopes, ["openid", "profile", "idcard"]);
    assert_eq!(c.resident_id_claim, "id_number");
    assert_eq!(c.name_claim, "real_name");
    assert_eq!(c.provider_name, "江苏政务服务");

    write_secret("shared-secret", 0o644);
    let good = "client_id = \"node-1\"\nclient_secret_file = \"oidc-secret\"\n";
    for bad in [
        // The secret itself in the file: not a key of the section.
        format!("[oidc]\nissuer = \"https://id.example\"\n{good}client_secret = \"x\"\n"),
        // Plain http to another host, a query, credentials, not a URL.
        format!("[oidc]\nissuer = \"http://id.example\"\n{good}"),
        format!("[oidc]\nissuer = \"https://id.example/?tenant=1\"\n{good}"),
        format!("[oidc]\nissuer = \"https://u:p@id.example\"\n{good}"),
        format!("[oidc]\nissuer = \"id.example\"\n{good}"),
        // A client without an issuer; an issuer without a client or secret.
        format!("[oidc]\n{good}"),
        "[oidc]\nissuer = \"https://id.example\"\nclient_secret_file = \"oidc-secret\"\n".into(),
        "[oidc]\nissuer = \"https://id.example\"\nclient_id = \"node-1\"\n".into(),
        // A secret others may read, a missing one.
        "[oidc]\nissuer = \"https://id.example\"\nclient_id = \"n\"\n\
         client_secret_file = \"shared-secret\"\n"
            .into(),
        "[oidc]\nissuer = \"https://id.example\"\nclient_id = \"n\"\n\
         client_secret_file = \"missing\"\n"
            .into(),
        // Scopes without openid; an empty claim name.
        format!("[oidc]\nissuer = \"https://id.example\"\n{good}scopes = [\"profile\"]\n"),
        format!("[oidc]\nissuer = \"https://id.example\"\n{good}name_claim = \" \"\n"),
    ] {
        let e = load(&bad).unwrap_err();
        assert_eq!(e.code, "config.invalid", "{bad}: {e}");
    }
}

#[test]
fn wallet_verifiers_are_origins_over_https_or_on_this_host() {
    if std::env::var_os("ELICENSE_WALLET_VERIFIERS").is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let with = |list: &str| {
        std::fs::write(
            dir.path().join("elicense.toml"),
            format!("wallet_verifiers = {list}\n"),
        )
        .unwrap();
        NodeConfig::load(dir.path())
    };
    let c = with(r#"["https://shop.example", "http://127.0.0.1:9100/"]"#).unwrap();
    assert_eq!(
        c.wallet_verifiers,
        ["https://shop.example", "http://127.0.0.1:9100"]
    );
    for bad in [
        r#"["http://shop.example"]"#,
        r#"["https://shop.example/path"]"#,
        r#"["ftp://shop.example"]"#,
        r#"["not a url"]"#,
    ] {
        assert_eq!(with(bad).unwrap_err().code, "config.invalid", "{bad}");
    }
    assert!(NodeConfig::ephemeral("http://127.0.0.1:8080")
        .wallet_verifiers
        .is_empty());
}

#[test]
fn checkpoint_interval_comes_from_the_file_up_to_a_second() {
    if std::env::var_os("ELICENSE_CHECKPOINT_INTERVAL_MS").is_some() {
        return; // the environment decides here
    }
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        NodeConfig::load(dir.path()).unwrap().checkpoint_interval_ms,
        2
    );
    for (text, want) in [("0", Some(0)), ("250", Some(250)), ("1001", None)] {
        std::fs::write(
            dir.path().join("elicense.toml"),
            format!("checkpoint_interval_ms = {text}\n"),
        )
        .unwrap();
        match want {
            Some(ms) => assert_eq!(
                NodeConfig::load(dir.path()).unwrap().checkpoint_interval_ms,
                ms
            ),
            None => assert_eq!(
                NodeConfig::load(dir.path()).unwrap_err().code,
                "config.invalid"
            ),
        }
    }
}
