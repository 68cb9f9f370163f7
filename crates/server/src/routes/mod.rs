//! Routes, one handler per file: `routes/<resource>/<verb>.rs`.

pub mod catalogue;
pub mod federation;
pub mod forms;
pub mod health;
pub mod issuers;
pub mod licenses;
pub mod log;
pub mod metrics;
pub mod oid4vci;
pub mod oid4vp;
pub mod one_code;
pub mod operator;
pub mod presentation_requests;
pub mod seals;
pub mod shares;
pub mod staff;
pub mod status_lists;
pub mod verifications;
pub mod wallet;
pub mod wellknown;
pub mod witness;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::openapi::ApiDoc;
use crate::state::AppState;

/// Every route of the node with its OpenAPI description.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::get::handler))
        .routes(routes!(metrics::get::handler))
        .routes(routes!(wellknown::jwt_vc_issuer::node))
        .routes(routes!(wellknown::jwt_vc_issuer::issuer))
        .routes(routes!(wellknown::elicense_node::handler))
        .routes(routes!(wellknown::elicense_trust_list::handler))
        .routes(routes!(wellknown::openid_credential_issuer::issuer))
        .routes(routes!(
            wellknown::openid_credential_issuer::authorization_server
        ))
        .routes(routes!(oid4vci::token::handler))
        .routes(routes!(oid4vci::nonce::handler))
        .routes(routes!(oid4vci::credential::handler))
        .routes(routes!(federation::sync::post, federation::sync::get))
        .routes(routes!(federation::holder_key::handler))
        .routes(routes!(federation::directory::handler))
        .routes(routes!(federation::wallet::holders))
        .routes(routes!(federation::wallet::owned))
        .routes(routes!(
            operator::federation_nodes::admit,
            operator::federation_nodes::list
        ))
        .routes(routes!(status_lists::list::handler))
        .routes(routes!(status_lists::get::handler))
        .routes(routes!(catalogue::list::handler))
        .routes(routes!(catalogue::get::handler))
        .routes(routes!(issuers::list::handler))
        .routes(routes!(licenses::create::handler))
        .routes(routes!(licenses::get::handler))
        .routes(routes!(licenses::verification::handler))
        .routes(routes!(licenses::actions::handler))
        .routes(routes!(verifications::create::handler))
        .routes(routes!(log::wellknown::handler))
        .routes(routes!(log::checkpoint::handler))
        .routes(routes!(log::tile::handler))
        .routes(routes!(log::inclusion::handler))
        .routes(routes!(log::consistency::handler))
        .routes(routes!(log::openings::holder_opening))
        .routes(routes!(log::openings::issuer_openings))
        .routes(routes!(wallet::binding::handler))
        .routes(routes!(wallet::credential_offer::handler))
        .routes(routes!(wallet::presentations::prepare))
        .routes(routes!(wallet::presentations::complete))
        .routes(routes!(wallet::shares::list))
        .routes(routes!(wallet::vp::prepare))
        .routes(routes!(wallet::vp::answer))
        .routes(routes!(wallet::vp::foreign_prepare))
        .routes(routes!(wallet::vp::foreign_answer))
        .routes(routes!(wallet::shares::consent))
        .routes(routes!(wallet::shares::refusal))
        .routes(routes!(shares::create::handler, shares::list::handler))
        .routes(routes!(shares::get::handler))
        .routes(routes!(forms::put, forms::get))
        .routes(routes!(forms::filled))
        .routes(routes!(
            presentation_requests::create,
            presentation_requests::list
        ))
        .routes(routes!(presentation_requests::get))
        .routes(routes!(one_code::scan))
        .routes(routes!(oid4vp::request_object))
        .routes(routes!(oid4vp::response))
        .routes(routes!(staff::list))
        .routes(routes!(staff::put))
        .routes(routes!(staff::disabling))
        .routes(routes!(staff::enabling))
        .routes(routes!(shares::face::handler))
        .routes(routes!(operator::api_key_revocation::handler))
        .routes(routes!(operator::institution_disabling::handler))
        .routes(routes!(operator::institution_enabling::handler))
        .routes(routes!(operator::accounts::create))
        .routes(routes!(operator::accounts::reset_password))
        .routes(routes!(operator::account_disabling::handler))
        .routes(routes!(operator::account_enabling::handler))
        .routes(routes!(operator::key_retirement::handler))
        .routes(routes!(operator::key_revocation::handler))
        .routes(routes!(operator::events::handler))
        .routes(routes!(operator::witness_forks::handler))
        .routes(routes!(witness::add_checkpoint::handler))
        .routes(routes!(operator::issuer_succession::handler))
        .routes(routes!(operator::recognition::list))
        .routes(routes!(
            operator::recognition::get,
            operator::recognition::put,
            operator::recognition::delete
        ))
        .routes(routes!(seals::create, seals::list))
        .routes(routes!(seals::get))
        .routes(routes!(seals::seal_der))
        .routes(routes!(seals::certificate))
        .routes(routes!(seals::suspension))
        .routes(routes!(seals::reinstatement))
        .routes(routes!(seals::revocation))
        .routes(routes!(seals::uses))
        .routes(routes!(seals::users))
        .routes(routes!(seals::ca_certificate))
        .routes(routes!(seals::ca_crl))
        // PDFs are larger than any other body: these two take up to 32 MiB.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(seals::documents))
                .routes(routes!(seals::verification))
                .layer(axum::extract::DefaultBodyLimit::max(seals::MAX_PDF_BODY)),
        )
}
