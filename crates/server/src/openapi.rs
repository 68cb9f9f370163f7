//! The OpenAPI document's frame; paths are added by the route registrations themselves, and
//! `finish` makes the result a valid OpenAPI 3.1 document.

use elicense_app::face::FaceFormat;
use elicense_core::lifecycle::{Action, Status};
use elicense_core::share::{Basis, ShareState};
use elicense_core::{EventKind, OperatorAction};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{RefOr, Schema};
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
        (name = "openid4vp", description = "Wallets (the node's own or any OpenID4VP 1.0 wallet): the signed request object of a presentation request, fetched by reference, and the wallet's response (`direct_post`, or `direct_post.jwt` encrypted to the request's key)"),
        (name = "wallet", description = "A holder's wallet, authenticated with the session cookie of the wallet pages"),
        (name = "operator", description = "The region operator, authenticated with an operator key (`elo_…`): revoke API keys, disable or enable institutions and accounts, retire or revoke issuer keys; each a logged event"),
        (name = "federation", description = "Node to node (docs/FEDERATION.md): upward sync and the holder-hash key take requests signed with a node key (HTTP Message Signatures, RFC 9421) of a node this node admitted; the wallet requests (`holders`, `wallet`) one signed by any node of the trust list; the directory lookup is public and answers with the owning node's signed statement"),
        (name = "oid4vci", description = "OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow: another wallet takes a license its holder offered (`POST /api/v1/wallet/licenses/{identifier}/credential-offer`): discovery, token (pre-authorized code + 6-digit transaction code), nonce, credential. No cookie, no API key: the code and the access token are the credentials; errors are OAuth errors (`error`, `error_description`, and the node's stable `code`)"),
        (name = "seals", description = "Electronic seals (电子印章, GB/T 38540): the public register of seals by owner, each seal's `SESeal` and certificate chain, the node's seal CAs and revocation lists; the owner (its API key, or a signed-in representative) or the operator files seals and changes their status; the owner or a listed user seals PDFs (PAdES for ES256 seals, a GB/T 38540 `SES_Signature` for SM2 seals)"),
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
            "operator_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "oid4vci_token",
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

/// The document of the route registrations `api`, made valid and precise; what
/// `/api/openapi.json` serves.
///
/// Invariants of the result: every path is an OpenAPI path template (the router's wildcard
/// `{*name}` becomes `{name}`, a parameter whose value may contain `/`); every operation has
/// a unique `operationId` (`<method>_<path>`); the closed sets of values listed in
/// `field_enums` and `param_enums` are enums, taken from the domain types where those exist.
pub fn finish(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let paths = std::mem::take(&mut api.paths.paths);
    api.paths.paths = paths
        .into_iter()
        .map(|(path, mut item)| {
            let path = template(&path);
            for (method, op) in operations(&mut item) {
                op.operation_id = Some(operation_id(method, &path));
            }
            (path, item)
        })
        .collect();
    for (path, name, values) in param_enums() {
        let Some(item) = api.paths.paths.get_mut(path) else {
            continue;
        };
        for (_, op) in operations(item) {
            for p in op.parameters.iter_mut().flatten() {
                if p.name == name {
                    if let Some(schema) = p.schema.as_mut() {
                        set_enum(schema, &values);
                    }
                }
            }
        }
    }
    if let Some(components) = api.components.as_mut() {
        for (schema, field, values) in field_enums() {
            if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(schema) {
                if let Some(p) = o.properties.get_mut(field) {
                    set_enum(p, &values);
                }
            }
        }
    }
    api
}

/// An axum route path as an OpenAPI path template: `{*rest}` → `{rest}`.
pub fn template(route: &str) -> String {
    route.replace("{*", "{")
}

/// `<method>_<path>` with every run of other characters than letters and digits as one `_`:
/// `GET /api/v1/licenses/{identifier}` → `get_api_v1_licenses_identifier`.
pub fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for part in path.split(|c: char| !c.is_ascii_alphanumeric()) {
        if !part.is_empty() {
            id.push('_');
            id.push_str(part);
        }
    }
    id
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("options", item.options.as_mut()),
        ("head", item.head.as_mut()),
        ("patch", item.patch.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// Makes `schema` (an inline string schema) an enum of `values`; `null` stays allowed when it
/// was.
fn set_enum(schema: &mut RefOr<Schema>, values: &[&str]) {
    if let RefOr::T(Schema::Object(o)) = schema {
        let mut all: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
        let nullable = matches!(
            &o.schema_type,
            utoipa::openapi::schema::SchemaType::Array(types)
                if types.contains(&utoipa::openapi::schema::Type::Null)
        );
        if nullable {
            all.push(serde_json::Value::Null);
        }
        o.enum_values = Some(all);
    }
}

/// The actions a client may ask for (`expire` is the node's own).
fn requestable_actions() -> Vec<&'static str> {
    Action::ALL
        .into_iter()
        .filter(|a| *a != Action::Expire)
        .map(|a| a.code())
        .collect()
}

/// Component fields (schema, property) that hold one of a closed set of values.
pub fn field_enums() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.code()).collect();
    vec![
        (
            "OperatorEvent",
            "action",
            OperatorAction::ALL.iter().map(|a| a.as_str()).collect(),
        ),
        ("StatusView", "code", statuses.clone()),
        ("ActionOutcome", "status", statuses),
        ("ActionOutcome", "action", requestable_actions()),
        ("ActionRequest", "action", requestable_actions()),
        (
            "ShareView",
            "state",
            [
                ShareState::Pending,
                ShareState::Granted,
                ShareState::Refused,
                ShareState::Expired,
            ]
            .map(ShareState::code)
            .to_vec(),
        ),
        (
            "ShareView",
            "basis",
            [Basis::Consent, Basis::Legal].map(Basis::code).to_vec(),
        ),
        (
            "NodeDocument",
            "level",
            elicense_core::federation::NODE_LEVELS
                .map(elicense_core::NodeLevel::code)
                .to_vec(),
        ),
        (
            "EventView",
            "kind",
            EventKind::all().map(|k| k.as_str()).collect(),
        ),
        (
            "StatusListEntry",
            "alg",
            elicense_crypto::Alg::ALL
                .map(elicense_crypto::Alg::jws_name)
                .to_vec(),
        ),
    ]
}

/// Path parameters (path template, name) that hold one of a closed set of values.
pub fn param_enums() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![(
        "/api/v1/shares/{id}/face/{format}",
        "format",
        [FaceFormat::Pdf, FaceFormat::Png, FaceFormat::Svg]
            .map(FaceFormat::extension)
            .to_vec(),
    )]
}

#[cfg(test)]
mod tests {
    use super::{operation_id, template};

    #[test]
    fn wildcards_become_templates_and_ids_are_method_and_path() {
        assert_eq!(template("/log/tile/{*path}"), "/log/tile/{path}");
        assert_eq!(template("/a/{b}/c"), "/a/{b}/c");
        assert_eq!(
            operation_id("GET", "/api/v1/licenses/{identifier}"),
            "get_api_v1_licenses_identifier"
        );
        assert_eq!(
            operation_id("get", "/.well-known/jwt-vc-issuer"),
            "get_well_known_jwt_vc_issuer"
        );
    }
}
