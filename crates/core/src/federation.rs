//! Where a node stands in the federation: its level (county, city, province, national) and
//! the division it serves.
//!
//! Invariants:
//! - A [`NodeLevel`] has a stable lower-case code (`county`, `city`, `province`,
//!   `national`) used on the command line, in `elicense.toml` and in
//!   `/.well-known/elicense-node`; codes never change meaning.
//! - A [`NodeArea`] is the national division code `100000` (the code GB 32100 also uses for
//!   national-level registering authorities) or a GB/T 2260 [`AreaCode`]; its level follows
//!   from the code's structure: `PP0000` a province, `PPCC00` a city (prefecture), any other
//!   a county-level division. [`NodeArea::for_level`] is the only way to pair an area with a
//!   level, so a province node never carries a county's code.

use serde::{Deserialize, Serialize};

use crate::area::{AreaCode, AreaCodeError};
use crate::error::ErrorCode;
use crate::gb32100::NATIONAL_AREA;

/// The level of a node in the federation, from the bottom up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeLevel {
    /// A county-level division (区、县、县级市).
    County,
    /// A prefecture-level division (地级市、州、盟).
    City,
    /// A province-level division (省、自治区、直辖市、特别行政区).
    Province,
    /// The national hub (全国一体化政务服务平台).
    National,
}

/// Every level, bottom up.
pub const NODE_LEVELS: [NodeLevel; 4] = [
    NodeLevel::County,
    NodeLevel::City,
    NodeLevel::Province,
    NodeLevel::National,
];

/// A text that names no [`NodeLevel`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown node level {0:?} (county, city, province or national)")]
pub struct UnknownNodeLevel(pub String);

impl ErrorCode for UnknownNodeLevel {
    fn code(&self) -> &'static str {
        "federation.unknown_level"
    }
}

impl NodeLevel {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::County => "county",
            Self::City => "city",
            Self::Province => "province",
            Self::National => "national",
        }
    }

    /// Parses a stable code (exactly, lower case).
    pub fn parse(s: &str) -> Result<Self, UnknownNodeLevel> {
        NODE_LEVELS
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| UnknownNodeLevel(s.to_owned()))
    }

    /// Whether a node of this level reports to a parent (every level but the national hub).
    pub fn has_parent(self) -> bool {
        self != Self::National
    }
}

impl std::fmt::Display for NodeLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for NodeLevel {
    type Err = UnknownNodeLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Why an area code does not fit a node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NodeAreaError {
    /// Not a division code at all.
    #[error(transparent)]
    Code(#[from] AreaCodeError),
    /// A division code of another level than the node's.
    #[error("area {code} is a {actual}-level code, not {expected}")]
    LevelMismatch {
        /// The code given.
        code: String,
        /// The level its structure says.
        actual: NodeLevel,
        /// The level the node was given.
        expected: NodeLevel,
    },
}

impl ErrorCode for NodeAreaError {
    fn code(&self) -> &'static str {
        match self {
            Self::Code(e) => e.code(),
            Self::LevelMismatch { .. } => "federation.area_level_mismatch",
        }
    }
}

/// The division a node serves: the whole country, or one GB/T 2260 division.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NodeArea {
    /// `100000`: the national hub.
    National,
    /// A province, city or county division.
    Division(AreaCode),
}

impl NodeArea {
    /// Parses `100000` or a GB/T 2260 code (any level).
    pub fn parse(s: &str) -> Result<Self, AreaCodeError> {
        if s == NATIONAL_AREA {
            return Ok(Self::National);
        }
        AreaCode::parse(s).map(Self::Division)
    }

    /// Parses `s` for a node of `level`: the code's structure must say that level.
    pub fn for_level(s: &str, level: NodeLevel) -> Result<Self, NodeAreaError> {
        let area = Self::parse(s)?;
        let actual = area.level();
        if actual != level {
            return Err(NodeAreaError::LevelMismatch {
                code: s.to_owned(),
                actual,
                expected: level,
            });
        }
        Ok(area)
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        match self {
            Self::National => NATIONAL_AREA,
            Self::Division(code) => code.as_str(),
        }
    }

    /// True when `other` lies within this area: the nation holds everything, a province the
    /// codes with its two digits, a city those with its four, a county only itself. A node
    /// admits as children only nodes of a lower level within its area.
    pub fn contains(&self, other: &NodeArea) -> bool {
        let prefix = match self.level() {
            NodeLevel::National => return true,
            NodeLevel::Province => 2,
            NodeLevel::City => 4,
            NodeLevel::County => 6,
        };
        other.as_str().starts_with(&self.as_str()[..prefix])
    }

    /// The level the code's structure names.
    pub fn level(&self) -> NodeLevel {
        match self {
            Self::National => NodeLevel::National,
            Self::Division(code) => {
                let s = code.as_str();
                if &s[2..] == "0000" {
                    NodeLevel::Province
                } else if &s[4..] == "00" {
                    NodeLevel::City
                } else {
                    NodeLevel::County
                }
            }
        }
    }
}

impl std::fmt::Display for NodeArea {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for NodeArea {
    type Error = AreaCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<NodeArea> for String {
    fn from(a: NodeArea) -> Self {
        a.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_codes_round_trip_and_are_stable() {
        for l in NODE_LEVELS {
            assert_eq!(NodeLevel::parse(l.code()), Ok(l));
            assert_eq!(serde_json::to_string(&l).unwrap(), format!("\"{l}\""));
        }
        assert_eq!(
            NODE_LEVELS.map(NodeLevel::code),
            ["county", "city", "province", "national"]
        );
        assert_eq!(
            NodeLevel::parse("County").unwrap_err().code(),
            "federation.unknown_level"
        );
        assert!(NodeLevel::County < NodeLevel::National);
        assert!(!NodeLevel::National.has_parent() && NodeLevel::City.has_parent());
    }

    #[test]
    fn area_levels_follow_the_code_structure() {
        let level = |s: &str| NodeArea::parse(s).unwrap().level();
        assert_eq!(level("100000"), NodeLevel::National);
        assert_eq!(level("320000"), NodeLevel::Province);
        assert_eq!(level("320100"), NodeLevel::City);
        assert_eq!(level("320102"), NodeLevel::County);
        assert_eq!(level("429004"), NodeLevel::County); // 省直辖县级市 仙桃市
        assert!(NodeArea::for_level("320102", NodeLevel::County).is_ok());
        let e = NodeArea::for_level("320100", NodeLevel::County).unwrap_err();
        assert_eq!(e.code(), "federation.area_level_mismatch");
        assert_eq!(
            NodeArea::for_level("990000", NodeLevel::Province)
                .unwrap_err()
                .code(),
            "area.bad_province"
        );
        assert_eq!(
            serde_json::to_string(&NodeArea::National).unwrap(),
            "\"100000\""
        );
        assert!(serde_json::from_str::<NodeArea>("\"000000\"").is_err());
    }

    #[test]
    fn containment_follows_the_code_structure() {
        let a = |s: &str| NodeArea::parse(s).unwrap();
        assert!(NodeArea::National.contains(&a("510104")));
        assert!(a("510000").contains(&a("510104")));
        assert!(a("510100").contains(&a("510104")));
        assert!(!a("510100").contains(&a("510704")));
        assert!(!a("500000").contains(&a("510104")));
        assert!(a("510104").contains(&a("510104")));
        assert!(!a("510104").contains(&a("510105")));
        assert!(!a("510000").contains(&NodeArea::National));
    }
}
