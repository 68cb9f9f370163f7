//! The OpenAPI document's frame; paths are added by the route registrations themselves.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "elicense node API",
        description = "Issue, manage and verify electronic licenses (电子证照): GB/T 36904 identifiers, SD-JWT VC credentials signed with SM2/Ed25519/ES256, Token Status Lists.",
        license(name = "Apache-2.0")
    ),
    modifiers(&IssuerKey),
    tags(
        (name = "public", description = "No account needed"),
        (name = "issuer", description = "An issuing authority, authenticated with an API key"),
        (name = "institution", description = "A relying institution (用证单位), authenticated with its API key: sharing requests and annotated copies"),
        (name = "wallet", description = "A holder's wallet, authenticated with the session cookie of the wallet pages"),
        (name = "operations", description = "Health and metrics")
    )
)]
pub struct ApiDoc;

struct IssuerKey;

impl Modify for IssuerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "institution_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "wallet_session",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    elicense_app::wallet::session::COOKIE,
                    "The wallet session (`__Host-elicense_session` when the node is served \
                     over https). Ends at sign-out, when the account is disabled, after 30 \
                     minutes without a request or 8 hours.",
                ),
            )),
        );
        components.add_security_scheme(
            "wallet_csrf",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "X-CSRF-Token",
                    "The session's CSRF token (`<meta name=\"csrf-token\">` of a wallet \
                     page); required with the session cookie on every POST, else 403 \
                     `csrf.bad_token`; a request from another origin is 403 \
                     `csrf.cross_origin`.",
                ),
            )),
        );
    }
}
