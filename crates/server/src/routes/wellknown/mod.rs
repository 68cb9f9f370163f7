pub mod jwt_vc_issuer;
