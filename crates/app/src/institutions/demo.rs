//! The demo institutions of `elicense demo`: a bank (consent needed) and a hotel (legal basis),
//! each with one staff member who handles every matter of its scope (the demo accounts
//! `wangfang` and `chenming` sign in to the counter page as them); the bank has an
//! account-opening form that a granted request fills (免填报), and a loan-application form
//! filled from two licenses (the joint matter `enterprise_loan`).

use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::*;
use crate::apikeys::{self, INSTITUTION_PREFIX};
use crate::error::Result;
use crate::node::Node;

/// Demo institutions of `elicense demo`: a bank (consent needed) and a hotel (legal basis).
/// Their keys are derived from the node's secret, so the demo can print them on every start.
pub async fn seed_demo(node: &Arc<Node>) -> Result<Vec<DemoInstitution>> {
    // The staff member: username, name, and the sample citizen they are (who signs in to the
    // counter page with the demo account of that person).
    type Demo<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a [&'a str],
        (&'a str, &'a str, usize),
    );
    const DEMO: [Demo; 2] = [
        (
            "91110105MA01B2C3DL",
            "示例商业银行北京分行",
            "110105",
            &["bank_account_opening", "enterprise_loan"],
            ("teller1", "柜员 王芳", 2),
        ),
        (
            "91310101MA1FPX0Q1Y",
            "上海样本大酒店",
            "310101",
            &["hotel_check_in", "age_check"],
            ("frontdesk2", "前台 陈明", 3),
        ),
    ];
    let mut out = Vec::new();
    for (code, name, area, matters, (username, staff_name, person)) in DEMO {
        let inst = register(
            node,
            NewInstitution {
                code: code.into(),
                name: name.into(),
                area: area.into(),
                matters: matters.iter().map(|m| m.to_string()).collect(),
            },
        )
        .await?;
        let mut m = Hmac::<Sha256>::new_from_slice(&node.config.holder_secret)
            .expect("HMAC takes any key length");
        m.update(b"elicense demo institution key\0");
        m.update(code.as_bytes());
        let bytes = m.finalize().into_bytes();
        let mut id = [0u8; 6];
        let mut secret = [0u8; 20];
        id.copy_from_slice(&bytes[..6]);
        secret.copy_from_slice(&bytes[6..26]);
        let (token, record) =
            apikeys::new_key(INSTITUTION_PREFIX, id, secret, code, "demo", node.now());
        if node.store.institution_key(&record.id).await?.is_none() {
            node.store.put_institution_key(record).await?;
        }
        let input = staff::StaffInput {
            name: staff_name.into(),
            matters: inst.matters.clone(),
            resident_id: Some(crate::seed::SAMPLE_CITIZENS[person].1.into()),
        };
        staff::put(node, &inst, username, input).await?;
        if inst.matters.iter().any(|m| m == "bank_account_opening") {
            let form = forms::Form {
                fields: vec![
                    form_field("company_name", "单位名称", "name", None),
                    form_field("credit_code", "统一社会信用代码", "uscc", None),
                    form_field("legal_person", "法定代表人", "legal_representative", None),
                    form_field("registered_address", "注册地址", "address", None),
                ],
            };
            forms::put(node, &inst, "bank_account_opening", form).await?;
            // The joint matter: the company from its business license, the applicant (its
            // legal representative) from their resident ID card; both carry an address.
            let (company, person) = (
                Some(elicense_core::sample::BUSINESS_LICENSE),
                Some(elicense_core::sample::RESIDENT_ID_CARD),
            );
            let form = forms::Form {
                fields: vec![
                    form_field("company_name", "借款企业名称", "name", None),
                    form_field("credit_code", "统一社会信用代码", "uscc", None),
                    form_field("registered_address", "企业注册地址", "address", company),
                    form_field("applicant_name", "申请人姓名", "holder_name", None),
                    form_field("applicant_id", "申请人身份证号", "holder_id", None),
                    form_field("applicant_address", "申请人住址", "address", person),
                ],
            };
            forms::put(node, &inst, "enterprise_loan", form).await?;
        }
        out.push(DemoInstitution {
            code: inst.code,
            name: inst.name,
            matters: inst.matters,
            api_key: token,
            staff: username.into(),
        });
    }
    Ok(out)
}

fn form_field(
    name: &str,
    label: &str,
    claim: &str,
    license_type: Option<&str>,
) -> forms::FormField {
    forms::FormField {
        name: name.into(),
        label: label.into(),
        claim: claim.into(),
        license_type: license_type.map(str::to_owned),
    }
}

/// A demo institution as `elicense demo` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct DemoInstitution {
    pub code: String,
    pub name: String,
    pub matters: Vec<String>,
    pub api_key: String,
    /// The username of its staff member.
    pub staff: String,
}
