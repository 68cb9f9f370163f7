pub mod elicense_node;
pub mod jwt_vc_issuer;
