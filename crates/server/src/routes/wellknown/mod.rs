pub mod elicense_node;
pub mod elicense_trust_list;
pub mod jwt_vc_issuer;
pub mod openid_credential_issuer;
