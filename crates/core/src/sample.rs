//! The sample catalogue shipped with elicense (`catalogue/sample.toml`).
//!
//! Invariants: the sample loads through the same checks as any catalogue (so every example
//! validates); the constants below name types and issuers that are in it. All USCCs in it
//! are fictitious, with correct GB 32100 check characters.

use crate::catalogue::Catalogue;

/// The TOML text of the sample catalogue.
pub const SAMPLE_TOML: &str = include_str!("catalogue/sample.toml");

/// Type code of 营业执照 (business license).
pub const BUSINESS_LICENSE: &str = "11100000000000001M001";
/// Type code of 食品经营许可证 (food business license).
pub const FOOD_BUSINESS_LICENSE: &str = "11100000000000001M002";
/// Type code of 居民身份证 (resident identity card).
pub const RESIDENT_ID_CARD: &str = "11100000000000002Q001";
/// Type code of 机动车驾驶证 (driving license).
pub const DRIVING_LICENSE: &str = "11100000000000002Q002";

/// A fictitious resident ID that the sample's example values fit: born 1990-03-07 (the
/// examples of the `derives = "birth_date"` items), digit 17 odd (男, the examples of the
/// `derives = "sex"` items).
pub const EXAMPLE_RESIDENT_ID: &str = "110101199003071233";

/// USCC of 北京市市场监督管理局.
pub const BEIJING_SAMR: &str = "11110000000000011T";
/// USCC of 北京市公安局公安交通管理局.
pub const BEIJING_TRAFFIC_POLICE: &str = "11110000000000012X";
/// USCC of 北京市公安局东城分局.
pub const BEIJING_DONGCHENG_POLICE: &str = "11110101000000013L";
/// USCC of 上海市市场监督管理局.
pub const SHANGHAI_SAMR: &str = "113100000000000118";
/// USCC of 上海市公安局交通警察总队.
pub const SHANGHAI_TRAFFIC_POLICE: &str = "11310000000000012B";
/// USCC of 吉林省市场监督管理厅.
pub const JILIN_SAMR: &str = "11220000000000011M";

impl Catalogue {
    /// The sample catalogue: 营业执照, 食品经营许可证, 居民身份证, 机动车驾驶证 and six
    /// issuing authorities in Beijing, Shanghai and Jilin.
    pub fn sample() -> Self {
        Self::from_toml_str(SAMPLE_TOML).expect("the sample catalogue is valid")
    }
}
