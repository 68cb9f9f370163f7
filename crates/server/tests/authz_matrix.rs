//! The authorization matrix (issue 16): every route the node serves, read from the router's
//! own registrations (`elicense_server::route_list()`), tried by every role against one real
//! node, each answer compared with the route's policy below. A route without a policy fails
//! the test ("add a policy for METHOD PATH"), and so does a policy of a route that is gone.
//!
//! The objects are the holder's: path parameters are filled with the holder's license (an
//! enterprise's business license, the current version after a transfer), a sharing request
//! of the in-scope institution, an authorization the holder granted, a presentation the holder
//! made. So every other role is tried on what it does not own: another holder, the former
//! holder and the agents on the holder's license, another issuer on the issuer's license, an
//! out-of-scope institution on the in-scope institution's request.
//!
//! Choices:
//! - A cell is *allowed* (a 2xx or 3xx, or a domain error the use case gives only after it
//!   decided the role may act, such as a bad signature) or *denied* (401, 403, or 404 where the
//!   node hides whether the object exists: `wallet.not_found` and `share.not_found` are the
//!   same answer as for an unknown identifier or request). Every denial names its code.
//! - Lists are checked by content: `Shows` must name one of the holder's objects (license
//!   identifier or request id), `Hides` none of them.
//! - Requests that consume their object get a fresh one per cell (a pending request to consent
//!   to or refuse, an authorization to withdraw, a device key, a prepared presentation).
//!   Sign-in and sign-out end the browser's session: their cells run after every other.
//! - Browser roles send their session cookie, its CSRF token and the node's `Origin`; the
//!   anonymous browser sends the sign-in page's pre-session instead. Key roles send
//!   `Authorization: Bearer` and no cookie.
//! - The operator acts through its API key (`elo_…`) on the `/api/v1/operator/...` routes only;
//!   each of its cells changes a fresh object of its own (an API key, an institution, an
//!   account, an issuer key made for that cell), so the change does not touch the others.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use elicense_app::wallet::agents::{self, Grant};
use elicense_app::wallet::{present, Identity};
use elicense_core::sample::{
    BEIJING_SAMR, BEIJING_TRAFFIC_POLICE, BUSINESS_LICENSE, SHANGHAI_SAMR,
};
use reqwest::Method;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The enterprise that held the license before the transfer; 王芳 represents it.
const COMPANY: (&str, &str) = ("北京示例科技有限公司", "91330000755918469E");
/// The enterprise that holds it now; 张伟 represents it.
const NEW_OWNER: (&str, &str) = ("上海样本餐饮管理有限公司", "913700001630477270");
const WANG: (&str, &str) = ("王芳", "310104198012315019");
const CHEN: (&str, &str) = ("陈明", "440306199910101239");
const ZHAO: (&str, &str) = ("赵磊", "110101199003070038");
/// Signs in on the sign-in rows and receives the authorizations granted there.
const VISITOR: (&str, &str) = ("孙丽", "110101198511120041");
/// A bank: bank_account_opening (on consent) covers business licenses.
const BANK: &str = "91110105MA01B2C3DL";
/// A hotel: hotel_check_in covers resident ID cards, not business licenses.
const HOTEL: &str = "91310101MA1FPX0Q1Y";
/// The agent's matter; the out-of-scope agent holds an authorization for `public_tender`.
const MATTER: &str = "bank_account_opening";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Anonymous,
    Holder,
    OtherHolder,
    FormerHolder,
    AgentIn,
    AgentOut,
    Issuer,
    OtherIssuer,
    InstitutionIn,
    InstitutionOut,
    Operator,
}

use Role::*;

const ROLES: [Role; 11] = [
    Anonymous,
    Holder,
    OtherHolder,
    FormerHolder,
    AgentIn,
    AgentOut,
    Issuer,
    OtherIssuer,
    InstitutionIn,
    InstitutionOut,
    Operator,
];

/// What a role gets from a route.
#[derive(Debug, Clone, Copy, PartialEq)]
enum E {
    /// Allowed: this status.
    Ok(u16),
    /// Allowed: 200, and the answer names one of the holder's objects.
    Shows,
    /// Allowed: 200, and the answer names none of the holder's objects.
    Hides,
    /// Allowed: past the authorization decision, into this domain error.
    Past(u16, &'static str),
    /// Denied with this status and code.
    No(u16, &'static str),
    /// Denied: a page sends the signed-out viewer to the sign-in page.
    SignIn,
}

const OK: E = E::Ok(200);
const HIDDEN: E = E::No(404, "wallet.not_found");
const NO_SHARE: E = E::No(404, "share.not_found");
const AGENT_CANNOT: E = E::No(403, "wallet.agent_cannot_delegate");
const AGENT_SCOPE: E = E::No(403, "wallet.agent_scope");
const NOT_YOURS: E = E::No(403, "license.not_your_license");
const UNSIGNED: E = E::No(401, "httpsig.missing");
const SIGNED_OUT: E = E::No(401, "wallet.signed_out");
const NO_KEY: E = E::No(401, "auth.missing");
const BAD_KEY: E = E::No(401, "auth.invalid_key");
const NO_TOKEN: E = E::No(403, "csrf.bad_token");

type Cells = [E; 11];

/// Every role gets `e`: a public route ignores credentials.
fn public(e: E) -> Cells {
    [e; 11]
}

/// Cells from a function of the role.
fn each(f: impl Fn(Role) -> E) -> Cells {
    ROLES.map(f)
}

/// A wallet JSON route: the browser roles as given; anonymous and the key roles are signed out.
fn wallet_api(holder: E, other: E, former: E, agent_in: E, agent_out: E) -> Cells {
    wallet(SIGNED_OUT, [holder, other, former, agent_in, agent_out])
}

/// A wallet page: the same, but the signed out are sent to the sign-in page.
fn wallet_page(holder: E, other: E, former: E, agent_in: E, agent_out: E) -> Cells {
    wallet(E::SignIn, [holder, other, former, agent_in, agent_out])
}

fn wallet(signed_out: E, browsers: [E; 5]) -> Cells {
    each(|r| match r {
        Holder => browsers[0],
        OtherHolder => browsers[1],
        FormerHolder => browsers[2],
        AgentIn => browsers[3],
        AgentOut => browsers[4],
        _ => signed_out,
    })
}

/// An issuer API route: the two issuers as given; no key is `auth.missing`, an institution's
/// or operator's key is no issuer key.
fn issuer_api(issuer: E, other: E) -> Cells {
    each(|r| match r {
        Issuer => issuer,
        OtherIssuer => other,
        InstitutionIn | InstitutionOut | Operator => BAD_KEY,
        _ => NO_KEY,
    })
}

/// An institution API route: the two institutions as given; no key is `auth.missing`, an
/// issuer's or operator's key is no institution key.
fn institution_api(inside: E, outside: E) -> Cells {
    each(|r| match r {
        InstitutionIn => inside,
        InstitutionOut => outside,
        Issuer | OtherIssuer | Operator => BAD_KEY,
        _ => NO_KEY,
    })
}

/// An operator API route: the operator as given; no key is `auth.missing`, an issuer's or
/// institution's key is no operator key.
fn operator_api(operator: E) -> Cells {
    each(|r| match r {
        Operator => operator,
        Issuer | OtherIssuer | InstitutionIn | InstitutionOut => BAD_KEY,
        _ => NO_KEY,
    })
}

/// A seal route: the holder (the owner's representative) and the operator as given; every
/// other signed-in person and every other key is not the owner; no session is signed out.
fn seal_owner(holder: E, operator: E) -> Cells {
    let not_owner = if matches!(operator, E::No(_, "seal.not_allowed")) {
        operator
    } else {
        E::No(403, "seal.not_owner")
    };
    each(|r| match r {
        Holder => holder,
        Operator => operator,
        Anonymous => SIGNED_OUT,
        _ => not_owner,
    })
}

/// The policy of every route: (method, path template as `route_list()` names it, cells).
fn policies() -> Vec<(Method, &'static str, Cells)> {
    use Method as M;
    let view = wallet_page(OK, HIDDEN, HIDDEN, OK, OK);
    let manage_agents = wallet_page(OK, HIDDEN, HIDDEN, AGENT_CANNOT, AGENT_CANNOT);
    vec![
        // Operations and published documents.
        (M::GET, "/healthz", public(OK)),
        (M::GET, "/metrics", public(OK)),
        (M::GET, "/api/openapi.json", public(OK)),
        (M::GET, "/.well-known/jwt-vc-issuer", public(OK)),
        (
            M::GET,
            "/.well-known/jwt-vc-issuer/issuers/{uscc}",
            public(OK),
        ),
        // OpenID4VCI: discovery is public; the token and credential endpoints take no cookie
        // and no API key, only the offer's code and access token.
        (M::GET, "/.well-known/openid-credential-issuer", public(OK)),
        (
            M::GET,
            "/.well-known/oauth-authorization-server",
            public(OK),
        ),
        (
            M::POST,
            "/oid4vci/token",
            public(E::Past(400, "vci.unknown_code")),
        ),
        (M::POST, "/oid4vci/nonce", public(OK)),
        (
            M::POST,
            "/oid4vci/credential",
            public(E::No(401, "vci.invalid_token")),
        ),
        (M::GET, "/.well-known/elicense-log", public(OK)),
        (M::GET, "/.well-known/elicense-node", public(OK)),
        (M::GET, "/status-lists", public(OK)),
        // This test node is standalone: it holds no trust list.
        (
            M::GET,
            "/.well-known/elicense-trust-list",
            public(E::No(404, "trust_list.none")),
        ),
        (M::GET, "/status-lists/{id}", public(OK)),
        (M::GET, "/api/v1/catalogue", public(OK)),
        (M::GET, "/api/v1/catalogue/{code}", public(OK)),
        (M::GET, "/api/v1/issuers", public(OK)),
        (M::GET, "/log/checkpoint", public(OK)),
        (M::GET, "/log/tile/{path}", public(OK)),
        (M::GET, "/api/v1/log/proof/inclusion", public(OK)),
        (M::GET, "/api/v1/log/proof/consistency", public(OK)),
        // Public verification.
        (
            M::GET,
            "/api/v1/licenses/{identifier}/verification",
            public(OK),
        ),
        // Anyone verifies; an institution's key records its check; any other key is refused.
        (
            M::POST,
            "/api/v1/verifications",
            each(|r| match r {
                Issuer | OtherIssuer | Operator => BAD_KEY,
                _ => OK,
            }),
        ),
        (M::GET, "/verify", public(OK)),
        (M::GET, "/verify/go", public(E::Ok(303))),
        (
            M::POST,
            "/verify/scan",
            public(E::Past(400, "verify.bad_image")),
        ),
        (M::GET, "/verify/{identifier}", public(OK)),
        (M::GET, "/verify/{identifier}/{token}", public(OK)),
        (M::GET, "/verify/p/{id}", public(OK)),
        (M::GET, "/verify/c/{id}", public(OK)),
        // Site pages.
        (M::GET, "/", public(OK)),
        (M::GET, "/prefs", public(E::Ok(303))),
        (M::GET, "/assets/{file}", public(OK)),
        (M::GET, "/wallet/login", public(OK)),
        // A key role is an API client: no pre-session, so no sign-in form to post.
        (
            M::POST,
            "/wallet/login",
            each(|r| match r {
                Issuer | OtherIssuer | InstitutionIn | InstitutionOut | Operator => NO_TOKEN,
                _ => E::Ok(303),
            }),
        ),
        (M::POST, "/wallet/logout", public(E::Ok(303))),
        // OpenID Connect sign-in is open to anyone; this node has no provider (the flow is
        // tested against a real one in tests/oidc.rs).
        (
            M::GET,
            "/wallet/oidc/start",
            public(E::Past(404, "oidc.not_configured")),
        ),
        (
            M::GET,
            "/wallet/oidc/callback",
            public(E::Past(404, "oidc.not_configured")),
        ),
        // Issuers.
        (
            M::POST,
            "/api/v1/licenses",
            issuer_api(E::Ok(201), E::No(403, "auth.wrong_issuer")),
        ),
        (
            M::GET,
            "/api/v1/licenses/{identifier}",
            issuer_api(OK, NOT_YOURS),
        ),
        (
            M::POST,
            "/api/v1/licenses/{identifier}/actions",
            issuer_api(OK, NOT_YOURS),
        ),
        (
            M::GET,
            "/api/v1/licenses/{identifier}/openings",
            issuer_api(OK, NOT_YOURS),
        ),
        // Relying institutions.
        (
            M::POST,
            "/api/v1/shares",
            institution_api(E::Ok(202), E::No(403, "share.out_of_scope")),
        ),
        (
            M::GET,
            "/api/v1/shares",
            institution_api(E::Shows, E::Hides),
        ),
        (M::GET, "/api/v1/shares/{id}", institution_api(OK, NO_SHARE)),
        // Each institution keeps its own forms (the bank has one for its matter).
        (
            M::PUT,
            "/api/v1/forms/{matter}",
            institution_api(OK, E::No(403, "share.out_of_scope")),
        ),
        (
            M::GET,
            "/api/v1/forms/{matter}",
            institution_api(OK, E::No(404, "form.not_defined")),
        ),
        (
            M::GET,
            "/api/v1/shares/{id}/form",
            institution_api(OK, NO_SHARE),
        ),
        // Each institution keeps its own staff: the hotel has no `banker`, and may not
        // assign the bank's matter.
        // Presentation requests (OpenID4VP): each institution starts and sees its own; the
        // hotel may not ask for the bank's matter. Wallets fetch the request object and
        // answer without any credentials (an empty answer is refused past the decision).
        (
            M::POST,
            "/api/v1/presentation-requests",
            institution_api(E::Ok(201), E::No(403, "share.out_of_scope")),
        ),
        (
            M::GET,
            "/api/v1/presentation-requests",
            institution_api(OK, OK),
        ),
        (
            M::GET,
            "/api/v1/presentation-requests/{id}",
            institution_api(OK, E::No(404, "vp.not_found")),
        ),
        // Electronic seals: the register, each seal's public parts, the CAs and verification
        // are public; the owner (the enterprise's representative, 张伟) or the operator files
        // seals and changes them; the owner seals documents (the operator never does).
        (M::GET, "/api/v1/seals", public(OK)),
        (M::GET, "/api/v1/seals/{id}", public(OK)),
        (M::GET, "/api/v1/seals/{id}/seal", public(OK)),
        (M::GET, "/api/v1/seals/{id}/certificate", public(OK)),
        (M::GET, "/api/v1/seal-ca/{alg}/certificate", public(OK)),
        (M::GET, "/api/v1/seal-ca/{alg}/crl", public(OK)),
        (M::POST, "/api/v1/seal-verifications", public(OK)),
        (M::GET, "/seals", public(OK)),
        // Each person sees the seals of the enterprises they represent (none: an empty page).
        (M::GET, "/wallet/seals", wallet_page(OK, OK, OK, OK, OK)),
        (
            M::POST,
            "/seals/verify",
            public(E::Past(400, "seal.bad_upload")),
        ),
        (M::POST, "/api/v1/seals", seal_owner(E::Ok(201), E::Ok(201))),
        (M::POST, "/api/v1/seals/{id}/suspension", seal_owner(OK, OK)),
        (
            M::POST,
            "/api/v1/seals/{id}/reinstatement",
            seal_owner(OK, OK),
        ),
        (M::POST, "/api/v1/seals/{id}/revocation", seal_owner(OK, OK)),
        (M::GET, "/api/v1/seals/{id}/uses", seal_owner(OK, OK)),
        (M::PUT, "/api/v1/seals/{id}/users", seal_owner(OK, OK)),
        (
            M::POST,
            "/api/v1/seals/{id}/documents",
            seal_owner(OK, E::No(403, "seal.not_allowed")),
        ),
        // Any institution may scan a holder's one code (its staff member must be registered);
        // what it gets is a handle for its own requests.
        (M::POST, "/api/v1/one-code/scans", institution_api(OK, OK)),
        (M::GET, "/oid4vp/requests/{id}", public(OK)),
        (
            M::POST,
            "/oid4vp/responses/{id}",
            public(E::Past(400, "vp.encryption_required")),
        ),
        (M::GET, "/api/v1/staff", institution_api(OK, OK)),
        (
            M::PUT,
            "/api/v1/staff/{username}",
            institution_api(OK, E::No(403, "staff.out_of_scope")),
        ),
        (
            M::POST,
            "/api/v1/staff/{username}/disabling",
            institution_api(OK, E::No(404, "staff.not_found")),
        ),
        (
            M::POST,
            "/api/v1/staff/{username}/enabling",
            institution_api(OK, E::No(404, "staff.not_found")),
        ),
        (
            M::GET,
            "/api/v1/shares/{id}/face/{format}",
            institution_api(OK, NO_SHARE),
        ),
        // The wallet's JSON API.
        (
            M::GET,
            "/api/v1/wallet/shares",
            wallet_api(E::Shows, E::Hides, E::Hides, E::Hides, E::Hides),
        ),
        (
            M::POST,
            "/api/v1/wallet/shares/{id}/consent",
            wallet_api(OK, NO_SHARE, NO_SHARE, NO_SHARE, NO_SHARE),
        ),
        (
            M::POST,
            "/api/v1/wallet/shares/{id}/refusal",
            wallet_api(OK, NO_SHARE, NO_SHARE, NO_SHARE, NO_SHARE),
        ),
        (
            M::GET,
            "/api/v1/wallet/licenses/{identifier}/events/{seq}/opening",
            wallet_api(
                OK,
                HIDDEN,
                HIDDEN,
                E::No(404, "log.no_opening"),
                E::No(404, "log.no_opening"),
            ),
        ),
        (
            M::POST,
            "/api/v1/wallet/licenses/{identifier}/binding",
            wallet_api(OK, HIDDEN, HIDDEN, OK, OK),
        ),
        (
            M::POST,
            "/api/v1/wallet/licenses/{identifier}/credential-offer",
            wallet_api(OK, HIDDEN, HIDDEN, AGENT_CANNOT, AGENT_CANNOT),
        ),
        (
            M::POST,
            "/api/v1/wallet/licenses/{identifier}/presentations/prepare",
            wallet_api(OK, HIDDEN, HIDDEN, OK, AGENT_SCOPE),
        ),
        (
            M::POST,
            "/api/v1/wallet/licenses/{identifier}/presentations",
            {
                let bad_signature = E::Past(400, "wallet.bad_signature");
                wallet_api(bad_signature, HIDDEN, HIDDEN, bad_signature, AGENT_SCOPE)
            },
        ),
        // The wallet's pages.
        // Answering a counter's request (OpenID4VP) with the license: the holder, or the
        // agent for the request's matter; the request itself is public (anyone who scanned
        // the QR code may see it or refuse it, as in the protocol).
        (
            M::POST,
            "/api/v1/wallet/vp/{id}/prepare",
            wallet_api(OK, HIDDEN, HIDDEN, OK, AGENT_SCOPE),
        ),
        (M::POST, "/api/v1/wallet/vp/{id}/answer", {
            let refused = E::Past(400, "vp.presentation_invalid");
            wallet_api(refused, HIDDEN, HIDDEN, refused, AGENT_SCOPE)
        }),
        (M::GET, "/wallet/vp", wallet_page(OK, OK, OK, OK, OK)),
        // Another verifier's request: its request object must verify before anything else
        // (here it does not), for every signed-in person alike.
        (M::POST, "/api/v1/wallet/vp-foreign/prepare", {
            let bad = E::Past(400, "wallet.vp_bad_request");
            wallet_api(bad, bad, bad, bad, bad)
        }),
        (M::POST, "/api/v1/wallet/vp-foreign/answer", {
            let bad = E::Past(400, "wallet.vp_bad_request");
            wallet_api(bad, bad, bad, bad, bad)
        }),
        (M::POST, "/wallet/vp-foreign/refuse", {
            let bad = E::Past(400, "wallet.vp_bad_request");
            wallet_page(bad, bad, bad, bad, bad)
        }),
        // Everyone signed in has a one code of their own.
        (M::GET, "/wallet/code", wallet_page(OK, OK, OK, OK, OK)),
        (M::GET, "/wallet/code/box", wallet_page(OK, OK, OK, OK, OK)),
        // The counter page: every signed-in person may open it (it lists the counters they
        // work at, maybe none); only the bank's teller (王芳) starts requests there and sees
        // them.
        (M::GET, "/counter", wallet_page(OK, OK, OK, OK, OK)),
        (M::POST, "/counter/requests", {
            let not_staff = E::No(403, "staff.not_yours");
            wallet_page(not_staff, not_staff, E::Ok(303), not_staff, not_staff)
        }),
        (M::GET, "/counter/requests/{id}", {
            let hidden = E::No(404, "vp.not_found");
            wallet_page(hidden, hidden, OK, hidden, hidden)
        }),
        (M::GET, "/counter/requests/{id}/status", {
            let hidden = E::No(404, "vp.not_found");
            wallet_page(hidden, hidden, OK, hidden, hidden)
        }),
        (
            M::POST,
            "/wallet/vp/{id}/refuse",
            wallet_page(OK, OK, OK, OK, OK),
        ),
        (
            M::GET,
            "/wallet",
            wallet_page(E::Shows, E::Hides, E::Hides, E::Shows, E::Shows),
        ),
        (M::GET, "/wallet/licenses/{identifier}", view),
        (M::GET, "/wallet/licenses/{identifier}/face/{format}", view),
        (M::GET, "/wallet/licenses/{identifier}/present", view),
        (
            M::POST,
            "/wallet/licenses/{identifier}/authorizations",
            manage_agents,
        ),
        (
            M::POST,
            "/wallet/licenses/{identifier}/credential-offer",
            wallet_page(OK, HIDDEN, HIDDEN, AGENT_CANNOT, AGENT_CANNOT),
        ),
        (
            M::POST,
            "/wallet/licenses/{identifier}/authorizations/{id}/withdraw",
            manage_agents,
        ),
        (M::GET, "/wallet/security", wallet_page(OK, OK, OK, OK, OK)),
        (
            M::GET,
            "/wallet/requests",
            wallet_page(E::Shows, E::Hides, E::Hides, E::Hides, E::Hides),
        ),
        (
            M::POST,
            "/wallet/requests/{id}/consent",
            wallet_page(E::Ok(303), NO_SHARE, NO_SHARE, NO_SHARE, NO_SHARE),
        ),
        (
            M::POST,
            "/wallet/requests/{id}/refuse",
            wallet_page(E::Ok(303), NO_SHARE, NO_SHARE, NO_SHARE, NO_SHARE),
        ),
        // The region operator.
        (M::GET, "/api/v1/operator/events", operator_api(OK)),
        (
            M::GET,
            "/api/v1/operator/federation/nodes",
            operator_api(OK),
        ),
        // This test node is standalone: it has no children to admit.
        (
            M::POST,
            "/api/v1/operator/federation/nodes",
            operator_api(E::No(400, "federation.standalone")),
        ),
        // Mutual-recognition lists: this standalone node knows none and keeps none.
        (M::GET, "/api/v1/operator/recognition", operator_api(OK)),
        (
            M::GET,
            "/api/v1/operator/recognition/{id}",
            operator_api(E::No(404, "recognition.not_found")),
        ),
        (
            M::PUT,
            "/api/v1/operator/recognition/{id}",
            operator_api(E::No(400, "recognition.not_hub")),
        ),
        (
            M::DELETE,
            "/api/v1/operator/recognition/{id}",
            operator_api(E::No(400, "recognition.not_hub")),
        ),
        // Node to node: only a request signed by a known node's key; no role here has one.
        (M::GET, "/federation/v1/sync", public(UNSIGNED)),
        (M::POST, "/federation/v1/sync", public(UNSIGNED)),
        (M::GET, "/federation/v1/holder-key", public(UNSIGNED)),
        (M::GET, "/federation/v1/directory/{identifier}", public(OK)),
        (M::POST, "/federation/v1/holders", public(UNSIGNED)),
        (M::POST, "/federation/v1/wallet", public(UNSIGNED)),
        (M::GET, "/api/v1/operator/witness/forks", operator_api(OK)),
        // The witness (C2SP tlog-witness): unauthenticated, the log's signature is the
        // credential; an empty body is malformed for everyone.
        (
            M::POST,
            "/witness/add-checkpoint",
            public(E::Past(400, "witness.malformed")),
        ),
    ]
    .into_iter()
    .chain(OPERATOR_CHANGES.map(|path| (M::POST, path, operator_api(E::Ok(201)))))
    .collect()
}

/// The operator's changes: each a `POST` that creates an event (`201`).
const OPERATOR_CHANGES: [&str; 10] = [
    "/api/v1/operator/accounts",
    "/api/v1/operator/accounts/{username}/password-reset",
    "/api/v1/operator/api-keys/{id}/revocation",
    "/api/v1/operator/institutions/{code}/disabling",
    "/api/v1/operator/institutions/{code}/enabling",
    "/api/v1/operator/accounts/{username}/disabling",
    "/api/v1/operator/accounts/{username}/enabling",
    "/api/v1/operator/keys/{kid}/retirement",
    "/api/v1/operator/keys/{kid}/revocation",
    "/api/v1/operator/issuers/{code}/succession",
];

/// The routes whose cells end the browser's session: run after every other.
fn ends_sessions(method: &Method, path: &str) -> bool {
    *method == Method::POST && (path == "/wallet/login" || path == "/wallet/logout")
}

/// A valid USCC not used by any fixture, numbered `n`.
fn fresh_uscc(n: usize) -> String {
    let body = format!("91110105MA{n:07}");
    let check = elicense_core::gb32100::Uscc::check_char_for(&body).unwrap();
    format!("{body}{check}")
}

/// How a role authenticates.
enum Credentials {
    /// A browser: its cookie (session, or the anonymous pre-session) and the CSRF token.
    Browser {
        cookie: String,
        token: String,
    },
    Key(String),
}

/// The node, its objects and every role's credentials.
struct Fixtures {
    srv: TestServer,
    holder: Identity,
    /// The holder's license: the current version after the transfer.
    license: String,
    credential: String,
    /// A request of the in-scope institution the holder consented to.
    share: String,
    /// A use of the license the holder sees in its history.
    use_seq: i64,
    face_token: String,
    presentation: String,
    /// A presentation request of the in-scope institution, not answered.
    vp_request: String,
    /// One its teller 王芳 started (what the counter page shows her).
    counter_request: String,
    status_list: u32,
    bank_key: String,
    /// The holder enterprise's official seal (it came with the business license).
    seal: String,
    credentials: BTreeMap<Role, Credentials>,
}

async fn ask_bank(srv: &TestServer, key: &str) -> (StatusCode, Value) {
    read(
        srv.post("/api/v1/shares")
            .bearer_auth(key)
            .json(&json!({"matter": MATTER, "holder_id": NEW_OWNER.1,
                "purpose": "开户审核", "staff": "clerk"}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The bank's account-opening form: the company's name and code from its business license.
fn bank_form() -> Value {
    json!({"fields": [
        {"name": "company", "label": "单位名称", "claim": "name"},
        {"name": "credit_code", "label": "统一社会信用代码", "claim": "uscc"}]})
}

fn grant(who: (&str, &str), matter: &str, now: i64) -> Grant {
    Grant {
        agent_name: who.0.into(),
        agent_id: who.1.into(),
        matter: matter.into(),
        valid_from: now - 60,
        valid_until: now + 86_400,
    }
}

async fn browser(srv: &TestServer, user: &str) -> Credentials {
    let cookie = sign_in(srv, user).await;
    let token = csrf(srv, &cookie).await;
    Credentials::Browser { cookie, token }
}

async fn fixtures() -> Fixtures {
    let srv = TestServer::start().await;
    let node = srv.node.clone();
    let holder = account(&srv, "zhangwei", CITIZEN).await;
    account(&srv, "lina", CITIZEN2).await;
    account(&srv, "wangfang", WANG).await;
    account(&srv, "chenming", CHEN).await;
    account(&srv, "zhaolei", ZHAO).await;
    account(&srv, "visitor", VISITOR).await;

    // 王芳's company is issued the license and transfers it to 张伟's; each license names
    // its holder's legal representative. The company keeps a business license of another
    // registry naming 王芳, so she stays its representative (the former holder).
    let mut req = srv
        .issue_request(BUSINESS_LICENSE, BEIJING_SAMR, COMPANY, "sm2")
        .await;
    req["fields"]["legal_representative"] = json!(WANG.0);
    req["fields"]["legal_representative_id"] = json!(WANG.1);
    let mut other = srv
        .issue_request(BUSINESS_LICENSE, SHANGHAI_SAMR, COMPANY, "sm2")
        .await;
    other["fields"] = req["fields"].clone();
    srv.issue(&other).await;
    let first = srv.issue(&req).await["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, moved) = read(
        srv.post(&format!("/api/v1/licenses/{first}/actions"))
            .bearer_auth(srv.key(BEIJING_SAMR))
            .json(&json!({"action": "transfer", "reason": "股权转让",
                "new_holder_name": NEW_OWNER.0, "new_holder_id": NEW_OWNER.1,
                "fields": {"legal_representative": CITIZEN.0,
                    "legal_representative_id": CITIZEN.1}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let license = moved["successor"]["identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    // 李娜 holds a license of her own.
    srv.issue(&srv.driving_request(CITIZEN2, "es256").await)
        .await;

    // 张伟 (now the new holder's representative) authorizes 陈明 for the bank, 赵磊 for a
    // tender.
    let holder = now_as(&srv, &holder).await;
    let now = node.now();
    for (who, matter) in [(CHEN, MATTER), (ZHAO, "public_tender")] {
        agents::authorize(
            &node,
            &holder,
            &license.parse().unwrap(),
            grant(who, matter, now),
        )
        .await
        .unwrap();
    }

    // The bank asks, 张伟 consents; the hotel's business is not this license.
    let bank_key = institution(&srv, BANK, "示例银行", MATTER).await;
    let hotel_key = institution(&srv, HOTEL, "示例酒店", "hotel_check_in").await;
    let bank = node.store.institution(BANK).await.unwrap().unwrap();
    elicense_app::institutions::forms::put(
        &node,
        &bank,
        MATTER,
        serde_json::from_value(bank_form()).unwrap(),
    )
    .await
    .unwrap();
    elicense_app::institutions::staff::put(
        &node,
        &bank,
        "banker",
        elicense_app::institutions::staff::StaffInput {
            name: "客户经理 周八".into(),
            matters: vec![MATTER.into()],
            // 王芳 (the former holder) works at the bank's counter.
            resident_id: Some(WANG.1.into()),
        },
    )
    .await
    .unwrap();
    let (status, asked) = ask_bank(&srv, &bank_key).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{asked}");
    let share = asked["id"].as_str().unwrap().to_owned();
    elicense_app::institutions::decide(&node, &holder, &share, true)
        .await
        .unwrap();

    let rec = node.store.license(&license).await.unwrap().unwrap();
    let use_seq = node
        .store
        .events(&rec.lineage)
        .await
        .unwrap()
        .into_iter()
        .find(|e| {
            e.identifier == license
                && elicense_core::EventKind::parse(&e.kind).is_ok_and(|k| k.is_use())
        })
        .expect("a use of the license")
        .seq;
    let face_token = elicense_app::face::check::sign(
        &node,
        &elicense_app::stored::License::try_from(rec.clone()).unwrap(),
    )
    .await
    .unwrap();

    let mut credentials = BTreeMap::new();
    for (role, user) in [
        (Holder, "zhangwei"),
        (OtherHolder, "lina"),
        (FormerHolder, "wangfang"),
        (AgentIn, "chenming"),
        (AgentOut, "zhaolei"),
    ] {
        credentials.insert(role, browser(&srv, user).await);
    }
    let (cookie, token) = login_page(&srv).await;
    credentials.insert(Anonymous, Credentials::Browser { cookie, token });
    let keys = [
        (Issuer, srv.key(BEIJING_SAMR).to_owned()),
        (OtherIssuer, srv.key(BEIJING_TRAFFIC_POLICE).to_owned()),
        (InstitutionIn, bank_key.clone()),
        (InstitutionOut, hotel_key),
    ];
    for (role, key) in keys {
        credentials.insert(role, Credentials::Key(key));
    }
    credentials.insert(Operator, Credentials::Key(operator_key(&srv).await));

    let Some(Credentials::Browser { cookie, .. }) = credentials.get(&Holder) else {
        unreachable!()
    };
    let shown = present(&srv, cookie, &license, &Device::new(), &["address"], MATTER).await;
    let presentation = shown["id"].as_str().unwrap().to_owned();
    let counter_request = elicense_app::institutions::presentations::start(
        &node,
        &bank,
        serde_json::from_value(json!({"matter": MATTER, "staff": "banker", "purpose": "开户审核"}))
            .unwrap(),
    )
    .await
    .unwrap()
    .id;
    let vp_request = elicense_app::institutions::presentations::start(
        &node,
        &bank,
        serde_json::from_value(json!({"matter": MATTER, "staff": "clerk", "purpose": "开户审核"}))
            .unwrap(),
    )
    .await
    .unwrap()
    .id;

    // The enterprise's seals come with its business license; the former holder's were revoked
    // by the transfer.
    let seals = elicense_app::seals::of_owner(&node, NEW_OWNER.1)
        .await
        .unwrap();
    let seal = seals
        .iter()
        .find(|s| s.kind == "official" && s.status == "active")
        .expect("the new holder's official seal")
        .seal_id
        .clone();

    Fixtures {
        holder,
        seal,
        credential: rec.credential.clone(),
        status_list: rec.status_list,
        license,
        share,
        use_seq,
        face_token,
        presentation,
        vp_request,
        counter_request,
        bank_key,
        credentials,
        srv,
    }
}

/// What a request carries besides its path.
enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
    Credential(String),
    Upload,
    Pdf,
}

/// A PDF made by another producer (ReportLab), to seal and to verify.
const PDF: &[u8] = include_bytes!("../../pdfsign/testdata/ten-pages-classic.pdf");

impl Fixtures {
    /// A pending request of the in-scope institution, to consent to or refuse.
    async fn pending_share(&self) -> String {
        let (status, asked) = ask_bank(&self.srv, &self.bank_key).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{asked}");
        asked["id"].as_str().unwrap().to_owned()
    }

    /// A new presentation request of the bank, not answered.
    async fn fresh_vp_request(&self) -> String {
        let bank = self
            .srv
            .node
            .store
            .institution(BANK)
            .await
            .unwrap()
            .unwrap();
        elicense_app::institutions::presentations::start(
            &self.srv.node,
            &bank,
            serde_json::from_value(
                json!({"matter": MATTER, "staff": "clerk", "purpose": "开户审核"}),
            )
            .unwrap(),
        )
        .await
        .unwrap()
        .id
    }

    /// A device key the holder bound to the license: its thumbprint.
    async fn bound_key(&self) -> String {
        let jwk = Device::new().jwk().to_string();
        present::bind(
            &self.srv.node,
            &self.holder,
            &self.license.parse().unwrap(),
            &jwk,
        )
        .await
        .unwrap()
    }

    /// A fresh seal of the holder enterprise, filed by the operator (suspended when asked), for
    /// a cell that changes its status.
    async fn fresh_seal(&self, suspended: bool) -> String {
        use elicense_app::seals::{self, NewSeal, Principal, StatusChange};
        let node = &self.srv.node;
        let operator = Principal::Operator("operator:cli".into());
        let new = NewSeal {
            owner: NEW_OWNER.1.into(),
            owner_name: None,
            kind: "finance".into(),
            name: "上海样本餐饮管理有限公司财务专用章".into(),
            alg: None,
            valid_days: None,
            users: Vec::new(),
            picture: None,
        };
        let id = seals::create(node, &operator, new).await.unwrap().seal_id;
        if suspended {
            seals::set_status(node, &operator, &id, StatusChange::Suspend)
                .await
                .unwrap();
        }
        id
    }

    /// The log's size now.
    async fn log_size(&self) -> u64 {
        elicense_app::log::checkpoint(&self.srv.node)
            .await
            .unwrap()
            .size
    }

    /// The path of one cell: the template's parameters filled with the holder's objects
    /// (fresh ones where the cell consumes them), and the query the route needs.
    async fn path(&self, template: &str) -> String {
        if let Some(path) = self.operator_path(template).await {
            return path;
        }
        let id = match template {
            "/api/v1/wallet/shares/{id}/consent"
            | "/api/v1/wallet/shares/{id}/refusal"
            | "/wallet/requests/{id}/consent"
            | "/wallet/requests/{id}/refuse" => self.pending_share().await,
            "/wallet/licenses/{identifier}/authorizations/{id}/withdraw" => {
                let g = grant(VISITOR, "public_tender", self.srv.node.now());
                agents::authorize(
                    &self.srv.node,
                    &self.holder,
                    &self.license.parse().unwrap(),
                    g,
                )
                .await
                .unwrap()
                .id
            }
            "/verify/p/{id}" => self.presentation.clone(),
            "/api/v1/presentation-requests/{id}"
            | "/oid4vp/requests/{id}"
            | "/oid4vp/responses/{id}"
            | "/api/v1/wallet/vp/{id}/prepare"
            | "/api/v1/wallet/vp/{id}/answer" => self.vp_request.clone(),
            "/wallet/vp/{id}/refuse" => self.fresh_vp_request().await,
            "/counter/requests/{id}" | "/counter/requests/{id}/status" => {
                self.counter_request.clone()
            }
            "/status-lists/{id}" => self.status_list.to_string(),
            "/api/v1/seals/{id}"
            | "/api/v1/seals/{id}/seal"
            | "/api/v1/seals/{id}/certificate"
            | "/api/v1/seals/{id}/uses"
            | "/api/v1/seals/{id}/users"
            | "/api/v1/seals/{id}/documents" => self.seal.clone(),
            "/api/v1/seals/{id}/suspension" | "/api/v1/seals/{id}/revocation" => {
                self.fresh_seal(false).await
            }
            "/api/v1/seals/{id}/reinstatement" => self.fresh_seal(true).await,
            _ => self.share.clone(),
        };
        let size = self.log_size().await;
        let tile = elicense_log::tiles::tiles_for_size(size)[0].path();
        let query = match template {
            "/api/v1/log/proof/inclusion" => format!("?index=0&size={size}"),
            "/api/v1/log/proof/consistency" => format!("?from=1&to={size}"),
            "/verify/go" => format!("?identifier={}", self.license),
            "/prefs" => "?lang=zh&back=/wallet".into(),
            "/api/v1/seals" => format!("?owner={}", NEW_OWNER.1),
            "/wallet/vp" => {
                let link = elicense_app::openid4vp::qr_link(
                    &self.srv.node.verifier.get().unwrap().client_id,
                    &elicense_app::openid4vp::request_uri(&self.srv.node, &self.vp_request),
                );
                format!("?{}", link.split_once('?').unwrap().1)
            }
            _ => String::new(),
        };
        let filled = template
            .replace("{identifier}", &self.license)
            .replace("{seq}", &self.use_seq.to_string())
            .replace("{format}", "svg")
            .replace("{file}", "app.css")
            .replace("{path}", tile.trim_start_matches("tile/"))
            .replace("{uscc}", BEIJING_SAMR)
            .replace("{code}", BUSINESS_LICENSE)
            .replace("{token}", &self.face_token)
            .replace("{id}", &id)
            .replace("{username}", "banker")
            .replace("{alg}", "sm2")
            .replace("{matter}", MATTER);
        format!("{filled}{query}")
    }

    /// The path of an operator route's cell, on a fresh object made for it: an issuer's API
    /// key, an institution (disabled first, to enable), an account (likewise), an issuer key.
    async fn operator_path(&self, template: &str) -> Option<String> {
        use elicense_app::operator;
        static FRESH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        let n = FRESH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let node = &self.srv.node;
        let cli = elicense_core::OperatorActor::Cli;
        let rest = template.strip_prefix("/api/v1/operator/")?;
        let (kind, action) = rest
            .split_once("/{")
            .map(|(k, r)| (k, r.split_once('/').map_or("", |x| x.1)))?;
        let object = match kind {
            "api-keys" => {
                elicense_app::apikeys::create(node, BEIJING_TRAFFIC_POLICE, "matrix")
                    .await
                    .unwrap()
                    .1
            }
            "institutions" => {
                let code = fresh_uscc(n);
                institution(&self.srv, &code, "矩阵测试单位", MATTER).await;
                if action == "enabling" {
                    operator::set_institution_disabled(node, &cli, &code, true)
                        .await
                        .unwrap();
                }
                code
            }
            "accounts" => {
                let user = format!("matrix{n}");
                account(&self.srv, &user, VISITOR).await;
                if action == "enabling" {
                    operator::set_account_disabled(node, &cli, &user, true)
                        .await
                        .unwrap();
                }
                user
            }
            "keys" => {
                node.keys
                    .generate(
                        BEIJING_TRAFFIC_POLICE,
                        elicense_crypto::Alg::EdDSA,
                        node.now(),
                    )
                    .await
                    .unwrap()
                    .kid
            }
            "issuers" => {
                let code = fresh_uscc(n);
                node.store
                    .put_issuer(elicense_store::IssuerRecord {
                        code: code.clone(),
                        name: "矩阵测试机关".into(),
                        area: "110000".into(),
                        successor: None,
                        ended_at: None,
                    })
                    .await
                    .unwrap();
                code
            }
            "recognition" => format!("m{n}"),
            other => panic!("no fresh object for operator route {other}"),
        };
        if action.is_empty() {
            return Some(format!("/api/v1/operator/{kind}/{object}"));
        }
        Some(format!("/api/v1/operator/{kind}/{object}/{action}"))
    }

    /// A body that passes validation, so that an allowed role reaches the use case.
    async fn body(&self, method: &Method, template: &str) -> Body {
        let lic = "/api/v1/wallet/licenses/{identifier}";
        match (method.as_str(), template) {
            ("POST", "/api/v1/licenses") => Body::Json(
                self.srv
                    .issue_request(
                        BUSINESS_LICENSE,
                        BEIJING_SAMR,
                        elicense_app::seed::SAMPLE_ENTERPRISES[2],
                        "es256",
                    )
                    .await,
            ),
            ("POST", "/api/v1/licenses/{identifier}/actions") => {
                Body::Json(json!({"action": "annual_inspection"}))
            }
            ("POST", "/api/v1/shares") => Body::Json(json!({"matter": MATTER,
                "holder_id": NEW_OWNER.1, "purpose": "开户审核", "staff": "clerk"})),
            ("POST", "/api/v1/verifications") => Body::Credential(self.credential.clone()),
            ("POST", "/api/v1/wallet/vp-foreign/prepare") => {
                Body::Json(json!({"jar": "a.b.c", "identifier": self.license, "jkt": "x"}))
            }
            ("POST", "/api/v1/wallet/vp-foreign/answer") => Body::Json(json!({"jar": "a.b.c",
                "identifier": self.license, "presentation": "x~", "signing_input": "a.b",
                "signature": "c"})),
            ("POST", "/wallet/vp-foreign/refuse") => Body::Form(vec![("jar", "a.b.c".into())]),
            ("POST", "/api/v1/one-code/scans") => Body::Json(json!({
                "code": elicense_app::one_code::code_for(&self.srv.node, &self.holder)
                    .unwrap()
                    .code,
                "staff": "clerk"})),
            ("POST", "/api/v1/presentation-requests") => {
                Body::Json(json!({"matter": MATTER, "staff": "clerk", "purpose": "开户审核"}))
            }
            ("POST", "/oid4vp/responses/{id}") => Body::Form(vec![("state", "x".into())]),
            ("POST", "/counter/requests") => Body::Form(vec![
                ("institution", BANK.into()),
                ("matter", MATTER.into()),
                ("purpose", "开户审核".into()),
            ]),
            ("POST", "/api/v1/wallet/vp/{id}/prepare") => {
                Body::Json(json!({"identifier": self.license, "jkt": self.bound_key().await}))
            }
            ("POST", "/api/v1/wallet/vp/{id}/answer") => {
                // A presentation as prepared for the holder, with a signature that is not
                // the device key's: past the authorization decision, the verifier refuses it.
                let prepared = elicense_app::wallet::openid4vp::prepare(
                    &self.srv.node,
                    &self.holder,
                    &self.vp_request,
                    &self.license.parse().unwrap(),
                    &self.bound_key().await,
                )
                .await
                .unwrap();
                Body::Json(json!({"identifier": self.license,
                    "presentation": prepared.presentation,
                    "signing_input": prepared.signing_input,
                    "signature": "bm90IGEgc2lnbmF0dXJl"}))
            }
            ("POST", t) if t == format!("{lic}/binding") => {
                Body::Json(json!({"jwk": Device::new().jwk()}))
            }
            ("POST", t) if t == format!("{lic}/presentations/prepare") => Body::Json(
                json!({"jkt": self.bound_key().await, "fields": ["address"], "matter": MATTER}),
            ),
            ("POST", t) if t == format!("{lic}/presentations") => {
                let node = &self.srv.node;
                let jkt = self.bound_key().await;
                let fields = ["address".to_owned()];
                let prepared = present::prepare(
                    node,
                    &self.holder,
                    &self.license.parse().unwrap(),
                    &jkt,
                    &fields,
                    Some(MATTER),
                )
                .await
                .unwrap();
                Body::Json(json!({"id": prepared.id, "signature": "bm90IGEgc2lnbmF0dXJl"}))
            }
            ("POST", "/wallet/login") => Body::Form(vec![
                ("username", "visitor".into()),
                ("password", "visitor-password".into()),
                ("next", "/wallet".into()),
            ]),
            ("POST", "/wallet/licenses/{identifier}/authorizations") => {
                let today = elicense_app::timeutil::format(elicense_app::timeutil::date_at(
                    self.srv.node.now(),
                ));
                Body::Form(vec![
                    ("agent_name", VISITOR.0.into()),
                    ("agent_id", VISITOR.1.into()),
                    ("matter", "public_tender".into()),
                    ("from", today.clone()),
                    ("until", today),
                ])
            }
            ("POST", "/verify/scan") => Body::Upload,
            ("POST", "/seals/verify") => Body::Upload,
            ("POST", "/api/v1/seals") => Body::Json(json!({"owner": NEW_OWNER.1,
                "kind": "contract", "name": "上海样本餐饮管理有限公司合同专用章"})),
            ("POST", "/api/v1/seals/{id}/documents") => Body::Pdf,
            ("PUT", "/api/v1/seals/{id}/users") => Body::Json(json!({"users": []})),
            ("POST", "/api/v1/seal-verifications") => Body::Pdf,
            ("POST", "/oid4vci/token") => Body::Form(vec![
                (
                    "grant_type",
                    elicense_app::wallet::vci::PRE_AUTHORIZED_GRANT.into(),
                ),
                ("pre-authorized_code", "not-a-code".into()),
                ("tx_code", "123456".into()),
            ]),
            ("POST", "/api/v1/operator/federation/nodes") => {
                Body::Json(json!({"url": "http://127.0.0.1:9/"}))
            }
            ("POST", "/federation/v1/sync") => Body::Json(json!({})),
            ("PUT", "/api/v1/forms/{matter}") => Body::Json(bank_form()),
            ("PUT", "/api/v1/staff/{username}") => Body::Json(
                json!({"name": "客户经理 周八", "matters": [MATTER], "resident_id": WANG.1}),
            ),
            ("POST", "/api/v1/operator/accounts") => {
                static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Body::Json(
                    json!({"username": format!("counter{n}"), "name": "柜台新户",
                    "resident_id": VISITOR.1}),
                )
            }
            ("POST", "/api/v1/operator/accounts/{username}/password-reset") => {
                Body::Json(json!({}))
            }
            ("POST", "/federation/v1/holders") => Body::Json(json!({"holders": []})),
            ("POST", "/federation/v1/wallet") => {
                Body::Json(json!({"holders": [], "identifiers": []}))
            }
            ("POST", "/api/v1/operator/issuers/{code}/succession") => {
                Body::Json(json!({"successor": BEIJING_TRAFFIC_POLICE}))
            }
            ("PUT", "/api/v1/operator/recognition/{id}") => Body::Json(
                json!({"name": "矩阵", "areas": ["110000", "310000"], "types": [BUSINESS_LICENSE]}),
            ),
            ("POST", "/api/v1/operator/keys/{kid}/revocation") => {
                Body::Json(json!({"since": self.srv.node.now()}))
            }
            _ => Body::None,
        }
    }

    /// Sends one cell's request as `role` (`None`: the role has no credentials yet).
    async fn send(&self, role: Role, method: &Method, template: &str) -> Option<Answer> {
        let credentials = self.credentials.get(&role)?;
        let path = self.path(template).await;
        let mut req = no_redirect()
            .request(method.clone(), self.srv.url(&path))
            .header("origin", &self.srv.base);
        req = match credentials {
            Credentials::Browser { cookie, token } => {
                req.header("cookie", cookie).header("x-csrf-token", token)
            }
            Credentials::Key(key) => req.bearer_auth(key),
        };
        req = match self.body(method, template).await {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Form(fields) => req.form(&fields),
            Body::Credential(c) => req.header("content-type", "application/dc+sd-jwt").body(c),
            Body::Upload => req.multipart(reqwest::multipart::Form::new().part(
                "image",
                reqwest::multipart::Part::bytes(b"not an image".to_vec()).file_name("qr.png"),
            )),
            Body::Pdf => req
                .header("content-type", "application/pdf")
                .body(PDF.to_vec()),
        };
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = resp.text().await.unwrap();
        Some(Answer {
            path,
            status,
            location,
            body,
        })
    }
}

struct Answer {
    path: String,
    status: u16,
    location: String,
    body: String,
}

impl Answer {
    /// The stable error code of a JSON error (an OAuth error of the OpenID4VCI endpoints
    /// carries it as `code`) or of an error page.
    fn code(&self) -> Option<String> {
        if let Ok(v) = serde_json::from_str::<Value>(&self.body) {
            return v["error"]["code"]
                .as_str()
                .or(v["code"].as_str())
                .map(str::to_owned);
        }
        let start = self.body.find(r#"<code id="error-code">"#)? + 22;
        let len = self.body[start..].find('<')?;
        Some(self.body[start..start + len].to_owned())
    }

    fn names_any(&self, objects: &[&str]) -> bool {
        objects.iter().any(|o| self.body.contains(o))
    }

    /// Whether the answer is what `e` says, for a role on `objects`.
    fn is(&self, e: E, objects: &[&str]) -> bool {
        let code = self.code();
        match e {
            E::Ok(status) => self.status == status,
            E::Shows => self.status == 200 && self.names_any(objects),
            E::Hides => self.status == 200 && !self.names_any(objects),
            E::Past(status, c) | E::No(status, c) => {
                self.status == status && code.as_deref() == Some(c)
            }
            E::SignIn => self.status == 303 && self.location.starts_with("/wallet/login"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_role_as_its_policy_says() {
    let fx = fixtures().await;
    let policies = policies();
    let served: BTreeSet<(String, String)> = elicense_server::route_list()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p))
        .collect();
    let mut problems = Vec::new();
    let mut table = BTreeMap::new();
    for (method, path, cells) in &policies {
        let key = (method.to_string(), path.to_string());
        if !served.contains(&key) {
            problems.push(format!(
                "a policy for {method} {path}, which the node does not serve"
            ));
        }
        if table.insert(key, *cells).is_some() {
            problems.push(format!("two policies for {method} {path}"));
        }
    }
    let (mut first, mut last): (Vec<_>, Vec<_>) = served
        .iter()
        .partition(|(m, p)| !ends_sessions(&m.parse().unwrap(), p));
    first.append(&mut last);
    let objects = [fx.license.as_str(), fx.share.as_str()];
    for (method, path) in first {
        let Some(cells) = table.get(&(method.clone(), path.clone())) else {
            problems.push(format!("add a policy for {method} {path}"));
            continue;
        };
        let method: Method = method.parse().unwrap();
        for role in ROLES {
            let expected = cells[role as usize];
            let Some(got) = fx.send(role, &method, path).await else {
                problems.push(format!("{role:?} has no credentials"));
                continue;
            };
            if !got.is(expected, &objects) {
                problems.push(format!(
                    "{method} {path} as {role:?}: expected {expected:?}, got {} {} ({})",
                    got.status,
                    got.code().unwrap_or_else(|| got.location.clone()),
                    got.path,
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
