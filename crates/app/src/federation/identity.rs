//! A node's place in the federation, as configured: `--area`, `--level`, `--parent` on
//! `elicense serve`, `area`, `level`, `parent` in `elicense.toml`, `ELICENSE_AREA`,
//! `ELICENSE_LEVEL`, `ELICENSE_PARENT` in the environment (command line over environment
//! over file).
//!
//! Invariants of a [`Federation`]:
//! - [`Federation::Standalone`]: none of the three settings is given (`elicense demo`, a
//!   single node); the node publishes no place in a network.
//! - [`Federation::Member`]: area and level are both given and agree
//!   ([`NodeArea::for_level`]); a national hub has no parent, every other level has one.
//!   A parent is an absolute `http` or `https` URL without credentials, query or fragment,
//!   not the node's own URL. Any other combination is refused with `config.invalid`.

use elicense_core::{ErrorCode, NodeArea, NodeLevel};
use serde::Serialize;

use crate::error::{AppError, ErrorKind, Result};

/// The absolute base URL of another node (`https://node.example.gov.cn`, no trailing
/// slash).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct NodeUrl(String);

/// Why a text is not a [`NodeUrl`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node URL {url:?}: {why}")]
pub struct BadNodeUrl {
    /// The text given.
    pub url: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl NodeUrl {
    /// Parses an absolute `http(s)://host[:port][/path]` URL; a trailing slash is dropped.
    pub fn parse(s: &str) -> std::result::Result<Self, BadNodeUrl> {
        let bad = |why| BadNodeUrl {
            url: s.to_owned(),
            why,
        };
        let u = url::Url::parse(s).map_err(|_| bad("not an absolute URL"))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(bad("the scheme must be http or https"));
        }
        if u.host_str().is_none_or(str::is_empty) {
            return Err(bad("it has no host"));
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(bad("it must not carry credentials"));
        }
        if u.query().is_some() || u.fragment().is_some() {
            return Err(bad("it must not have a query or fragment"));
        }
        Ok(Self(u.as_str().trim_end_matches('/').to_owned()))
    }

    /// The URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for NodeUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<NodeUrl> for String {
    fn from(u: NodeUrl) -> Self {
        u.0
    }
}

/// A member node's area, level and parent (see the module invariants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    area: NodeArea,
    level: NodeLevel,
    parent: Option<NodeUrl>,
}

impl NodeIdentity {
    /// The division the node serves.
    pub fn area(&self) -> &NodeArea {
        &self.area
    }

    /// The node's level.
    pub fn level(&self) -> NodeLevel {
        self.level
    }

    /// The parent node; `None` exactly for the national hub.
    pub fn parent(&self) -> Option<&NodeUrl> {
        self.parent.as_ref()
    }
}

/// Whether and where a node takes part in the federation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Federation {
    /// A node on its own (no area, level or parent configured).
    #[default]
    Standalone,
    /// A node of the network.
    Member(NodeIdentity),
}

/// The raw settings, before they are checked; `None` is "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FederationSettings {
    /// Six-digit division code (`100000` for the national hub).
    pub area: Option<String>,
    /// `county`, `city`, `province` or `national`.
    pub level: Option<String>,
    /// The parent node's base URL.
    pub parent: Option<String>,
}

impl FederationSettings {
    /// These settings with each one `over` gives replacing this one's.
    pub fn overridden_by(self, over: FederationSettings) -> FederationSettings {
        FederationSettings {
            area: over.area.or(self.area),
            level: over.level.or(self.level),
            parent: over.parent.or(self.parent),
        }
    }

    /// The settings of a configured federation (inverse of [`Federation::parse`]).
    pub fn of(federation: &Federation) -> FederationSettings {
        match federation {
            Federation::Standalone => FederationSettings::default(),
            Federation::Member(id) => FederationSettings {
                area: Some(id.area.to_string()),
                level: Some(id.level.code().to_owned()),
                parent: id.parent.as_ref().map(|p| p.to_string()),
            },
        }
    }
}

fn invalid(message: String) -> AppError {
    AppError::new(ErrorKind::Invalid, "config.invalid", message)
}

impl Federation {
    /// Checks `settings` for a node whose own base URL is `own_url`; `config.invalid` with
    /// a message naming the setting otherwise.
    pub fn parse(settings: &FederationSettings, own_url: &str) -> Result<Federation> {
        fn given(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let (area, level, parent) = (
            given(&settings.area),
            given(&settings.level),
            given(&settings.parent),
        );
        let (area, level) = match (area, level) {
            (None, None) => {
                return match parent {
                    None => Ok(Federation::Standalone),
                    Some(_) => Err(invalid(
                        "parent is set but area and level are not: a node with a parent \
                         needs its area and level"
                            .into(),
                    )),
                };
            }
            (Some(_), None) => return Err(invalid("area is set without level".into())),
            (None, Some(_)) => return Err(invalid("level is set without area".into())),
            (Some(a), Some(l)) => (a, l),
        };
        let level =
            NodeLevel::parse(level).map_err(|e| invalid(format!("level: {e} [{}]", e.code())))?;
        let area = NodeArea::for_level(area, level)
            .map_err(|e| invalid(format!("area: {e} [{}]", e.code())))?;
        let parent = match (level.has_parent(), parent) {
            (false, None) => None,
            (false, Some(p)) => {
                return Err(invalid(format!(
                    "parent {p:?}: the national hub has no parent"
                )))
            }
            (true, None) => {
                return Err(invalid(format!(
                    "a {level} node needs a parent (--parent URL, parent in elicense.toml, \
                     ELICENSE_PARENT)"
                )))
            }
            (true, Some(p)) => {
                let url = NodeUrl::parse(p).map_err(|e| invalid(format!("parent: {e}")))?;
                if url.as_str() == own_url.trim_end_matches('/') {
                    return Err(invalid(format!("parent {url} is this node itself")));
                }
                Some(url)
            }
        };
        Ok(Federation::Member(NodeIdentity {
            area,
            level,
            parent,
        }))
    }

    /// The identity of a member node.
    pub fn identity(&self) -> Option<&NodeIdentity> {
        match self {
            Federation::Standalone => None,
            Federation::Member(id) => Some(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(
        area: Option<&str>,
        level: Option<&str>,
        parent: Option<&str>,
    ) -> FederationSettings {
        FederationSettings {
            area: area.map(Into::into),
            level: level.map(Into::into),
            parent: parent.map(Into::into),
        }
    }

    const OWN: &str = "http://127.0.0.1:8080";

    #[test]
    fn node_urls() {
        assert_eq!(
            NodeUrl::parse("https://hub.example.gov.cn/")
                .unwrap()
                .as_str(),
            "https://hub.example.gov.cn"
        );
        assert_eq!(
            NodeUrl::parse("http://127.0.0.1:9000/js").unwrap().as_str(),
            "http://127.0.0.1:9000/js"
        );
        for bad in [
            "hub.example.gov.cn",
            "ftp://hub.example.gov.cn",
            "https://u:p@hub.example.gov.cn",
            "https://hub.example.gov.cn/?a=1",
            "https://hub.example.gov.cn/#x",
            "/relative",
        ] {
            assert!(NodeUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_combinations() {
        assert_eq!(
            Federation::parse(&settings(None, None, None), OWN).unwrap(),
            Federation::Standalone
        );
        let hub =
            Federation::parse(&settings(Some("100000"), Some("national"), None), OWN).unwrap();
        assert_eq!(hub.identity().unwrap().level(), NodeLevel::National);
        assert!(hub.identity().unwrap().parent().is_none());
        let county = Federation::parse(
            &settings(
                Some("320102"),
                Some("county"),
                Some("http://127.0.0.1:9001/"),
            ),
            OWN,
        )
        .unwrap();
        let id = county.identity().unwrap();
        assert_eq!(id.area().as_str(), "320102");
        assert_eq!(id.parent().unwrap().as_str(), "http://127.0.0.1:9001");
        assert_eq!(
            FederationSettings::of(&county).area.as_deref(),
            Some("320102")
        );
        for bad in [
            settings(None, None, Some("http://p")),
            settings(Some("320102"), None, None),
            settings(None, Some("county"), None),
            settings(Some("320102"), Some("township"), Some("http://p")),
            settings(Some("320100"), Some("county"), Some("http://p")),
            settings(Some("32010"), Some("county"), Some("http://p")),
            settings(Some("320102"), Some("county"), None),
            settings(Some("100000"), Some("national"), Some("http://p")),
            settings(Some("320102"), Some("county"), Some("p")),
            settings(Some("320102"), Some("county"), Some(OWN)),
        ] {
            let e = Federation::parse(&bad, OWN).unwrap_err();
            assert_eq!(e.code, "config.invalid", "{bad:?}");
        }
    }
}
