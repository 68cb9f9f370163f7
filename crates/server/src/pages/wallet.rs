//! Wallet pages: the list of a holder's licenses, one license (face, data, history,
//! authorizations), face downloads and the page that shows a license as a QR code.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use elicense_app::face::{self, FaceFormat};
use elicense_app::federation::{
    self,
    wallet::{RemoteLicense, RemoteWallet},
};
use elicense_app::timeutil;
use elicense_app::wallet::agents::{self, AuthorizationView, Grant};
use elicense_app::wallet::licenses::{self, Access, Group, History, Opened, WalletLicense};
use elicense_app::wallet::present::disclosable;
use elicense_app::{AppError, ErrorKind};
use elicense_core::agency::Act;
use serde::Deserialize;

use super::auth::Holder;
use super::{render, Back, OrPage, PageError, T};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "wallet.html")]
struct ListPage {
    t: T,
    back: String,
    name: String,
    enterprises: Vec<String>,
    groups: Vec<Group>,
    /// Licenses held at other nodes of the network (one wallet across regions).
    remote: Vec<RemoteLicense>,
    /// Nodes whose licenses could not be fetched.
    unreachable: Vec<String>,
}

pub async fn list(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(id): Holder,
) -> Result<Response, PageError> {
    let mut groups = licenses::list(&s.node, &id).await.or_page(t, "/")?;
    // An agent's card names its matter in the viewer's language.
    for g in &mut groups {
        let ty = s
            .node
            .catalogue
            .get(&g.type_code, None)
            .await
            .or_page(t, "/")?;
        for l in &mut g.licenses {
            if let Some(code) = &l.agent_matter {
                if let Some(m) = ty.matters.iter().find(|m| &m.code == code) {
                    l.agent_matter = Some(if t.is_en() {
                        m.name_en.clone()
                    } else {
                        m.name.clone()
                    });
                }
            }
        }
    }
    // Licenses at other nodes: a failure leaves the local wallet as it is.
    let remote = match federation::wallet::list(&s.node, &id).await {
        Ok(w) => w.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(code = e.code, error = %e.message, "licenses at other nodes not shown");
            RemoteWallet::default()
        }
    };
    Ok(render(&ListPage {
        t,
        back,
        name: id.name.clone(),
        enterprises: id.enterprises.iter().map(|(e, _)| e.name.clone()).collect(),
        groups,
        remote: remote.licenses,
        unreachable: remote.unreachable,
    }))
}

fn type_name(t: &T, o: &Opened) -> String {
    if t.is_en() {
        o.license_type.name_en.clone()
    } else {
        o.license_type.name.clone()
    }
}

fn validity(t: &T, o: &Opened) -> String {
    let until = o
        .license
        .meta
        .valid_until
        .map(timeutil::format)
        .unwrap_or_else(|| t.s("long_term").to_owned());
    format!("{} – {until}", timeutil::format(o.license.meta.valid_from))
}

fn field_label(t: &T, o: &Opened, name: &str) -> String {
    match name {
        "holder_name" | "holder_id" | "holder_id_type" | "license_number"
            if o.license_type.item(name).is_none() =>
        {
            t.s(&format!("claim_{name}")).to_owned()
        }
        _ => o
            .license_type
            .item(name)
            .map(|i| i.label.clone())
            .unwrap_or_else(|| name.to_owned()),
    }
}

#[derive(Template)]
#[template(path = "agents.html")]
struct AgentsBox {
    t: T,
    base: String,
    agents: Vec<AuthorizationView>,
    agents_error: Option<String>,
    matters: Vec<(String, String)>,
    today: String,
}

/// The name of a matter code among `(code, name)` pairs, or the code itself.
fn matter_name(matters: &[(String, String)], code: &str) -> String {
    matters
        .iter()
        .find(|(c, _)| c == code)
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| code.to_owned())
}

impl AgentsBox {
    fn matter_name(&self, code: &str) -> String {
        matter_name(&self.matters, code)
    }
}

impl DetailPage {
    fn matter_name(&self, code: &str) -> String {
        matter_name(&self.matters, code)
    }
}

#[derive(Template)]
#[template(path = "license.html")]
struct DetailPage {
    t: T,
    back: String,
    base: String,
    type_name: String,
    l: WalletLicense,
    status_reason: Option<String>,
    validity: String,
    items: Vec<(String, String)>,
    history: History,
    log_size: u64,
    can_authorize: bool,
    /// Whether the viewer may take the license to another wallet (OpenID4VCI offer).
    can_export: bool,
    agents: Vec<AuthorizationView>,
    agents_error: Option<String>,
    matters: Vec<(String, String)>,
    today: String,
}

fn matters(t: &T, o: &Opened) -> Vec<(String, String)> {
    o.license_type
        .matters
        .iter()
        .map(|m| {
            let name = if t.is_en() { &m.name_en } else { &m.name };
            (m.code.clone(), name.clone())
        })
        .collect()
}

fn base(identifier: &str) -> String {
    format!("/wallet/licenses/{identifier}")
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<usize>,
}

pub async fn detail(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(id): Holder,
    Path(identifier): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let identifier = crate::ident::parse(&identifier).or_page(t, "/wallet")?;
    let node = &s.node;
    let o = licenses::open(node, &id, &identifier)
        .await
        .or_page(t, "/wallet")?;
    let history = licenses::history(node, &o, q.page.unwrap_or(0))
        .await
        .or_page(t, "/wallet")?;
    let log_size = elicense_app::log::checkpoint(node)
        .await
        .or_page(t, "/wallet")?
        .size;
    let status = elicense_app::verify::status_view_of(node, &o.license)
        .await
        .or_page(t, "/wallet")?;
    let can_authorize = o.may(Act::ManageAgents);
    let can_export = o.may(Act::Export);
    let agents = agents::list(node, &o).await.or_page(t, "/wallet")?;
    let items = o
        .license_type
        .items
        .iter()
        .filter_map(|i| {
            o.license.meta.data.get(&i.name).map(|v| {
                let v = v
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string());
                (i.label.clone(), v)
            })
        })
        .collect();
    Ok(render(&DetailPage {
        base: base(&o.license.record.identifier),
        type_name: type_name(&t, &o),
        l: o.summary(node.now()),
        status_reason: status.reason,
        validity: validity(&t, &o),
        items,
        history,
        log_size,
        can_authorize,
        can_export,
        agents,
        agents_error: None,
        matters: matters(&t, &o),
        today: timeutil::format(timeutil::date_at(node.now())),
        t,
        back,
    }))
}

#[derive(Deserialize)]
pub struct FaceQuery {
    inline: Option<u8>,
}

pub async fn face(
    State(s): State<AppState>,
    t: T,
    Holder(id): Holder,
    Path((identifier, format)): Path<(String, String)>,
    Query(q): Query<FaceQuery>,
) -> Result<Response, PageError> {
    let identifier = crate::ident::parse(&identifier).or_page(t, "/wallet")?;
    let format: FaceFormat = format.parse().or_page(t, "/wallet")?;
    let node = &s.node;
    let o = licenses::open(node, &id, &identifier)
        .await
        .or_page(t, "/wallet")?;
    let input = face::license_input(node, &o.license, &o.license_type)
        .await
        .or_page(t, "/wallet")?;
    let bytes = face::render_sealed(node, &o.license, input, format, "face")
        .await
        .or_page(t, "/wallet")?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    let disposition = if q.inline == Some(1) {
        "inline"
    } else {
        "attachment"
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{disposition}; filename=\"{}.{}\"",
        o.license.record.identifier,
        format.extension()
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// A matter as the present page's script reads it.
pub struct MatterChoice {
    pub code: String,
    pub name: String,
    /// Space-separated field names the matter needs.
    pub fields: String,
}

#[derive(Template)]
#[template(path = "present.html")]
struct PresentPage {
    t: T,
    back: String,
    type_name: String,
    holder_name: String,
    identifier: String,
    matters: Vec<MatterChoice>,
    fixed_matter: Option<String>,
    fields: Vec<(String, String)>,
}

pub async fn present(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(id): Holder,
    Path(identifier): Path<String>,
) -> Result<Response, PageError> {
    let identifier = crate::ident::parse(&identifier).or_page(t, "/wallet")?;
    let o = licenses::open_for(&s.node, &id, &identifier, Act::Present)
        .await
        .or_page(t, "/wallet")?;
    let fixed_matter = match &o.access {
        Access::Agent(a) => Some(a.grant.matter.clone()),
        _ => None,
    };
    let matters = o
        .license_type
        .matters
        .iter()
        .filter(|m| fixed_matter.as_ref().is_none_or(|f| *f == m.code))
        .map(|m| MatterChoice {
            code: m.code.clone(),
            name: if t.is_en() {
                m.name_en.clone()
            } else {
                m.name.clone()
            },
            fields: m.fields.join(" "),
        })
        .collect();
    let fields = disclosable(&o)
        .into_iter()
        .map(|f| {
            let label = field_label(&t, &o, &f);
            (f, label)
        })
        .collect();
    Ok(render(&PresentPage {
        type_name: type_name(&t, &o),
        holder_name: o.license.meta.holder.name.clone(),
        identifier: o.license.record.identifier.clone(),
        matters,
        fixed_matter,
        fields,
        t,
        back,
    }))
}

#[derive(Deserialize)]
pub struct AuthorizeForm {
    agent_name: String,
    agent_id: String,
    matter: String,
    from: String,
    until: String,
}

async fn agents_box(
    s: &AppState,
    t: T,
    id: &elicense_app::wallet::Identity,
    identifier: &elicense_core::Identifier,
    error: Option<String>,
) -> Result<Response, PageError> {
    let node = &s.node;
    let o = licenses::open(node, id, identifier)
        .await
        .or_page(t, "/wallet")?;
    let agents = agents::list(node, &o).await.or_page(t, "/wallet")?;
    let status = if error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    let page = AgentsBox {
        base: base(&o.license.record.identifier),
        agents,
        agents_error: error,
        matters: matters(&t, &o),
        today: timeutil::format(timeutil::date_at(node.now())),
        t,
    };
    // htmx swaps error fragments too.
    let mut resp = (status, render(&page)).into_response();
    resp.headers_mut()
        .insert("hx-reswap", HeaderValue::from_static("outerHTML"));
    Ok(resp)
}

fn bad_date(what: &str) -> AppError {
    AppError::new(
        ErrorKind::Invalid,
        "wallet.bad_period",
        format!("{what} is not a date (YYYY-MM-DD)"),
    )
}

pub async fn authorize(
    State(s): State<AppState>,
    t: T,
    Holder(id): Holder,
    Path(identifier): Path<String>,
    Form(f): Form<AuthorizeForm>,
) -> Result<Response, PageError> {
    let identifier = crate::ident::parse(&identifier).or_page(t, "/wallet")?;
    let grant = (|| {
        let from = timeutil::parse(f.from.trim()).ok_or_else(|| bad_date("from"))?;
        let until = timeutil::parse(f.until.trim()).ok_or_else(|| bad_date("until"))?;
        Ok::<_, AppError>(Grant {
            agent_name: f.agent_name.clone(),
            agent_id: f.agent_id.clone(),
            matter: f.matter.clone(),
            valid_from: timeutil::day_start(from),
            valid_until: timeutil::day_end(until),
        })
    })();
    let result = match grant {
        Ok(g) => agents::authorize(&s.node, &id, &identifier, g)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    let error = match result {
        Ok(()) => None,
        Err(e) if e.kind == ErrorKind::Invalid => Some(format!("{} ({})", e.message, e.code)),
        Err(e) => {
            return Err(PageError {
                t,
                error: e,
                back: "/wallet",
            })
        }
    };
    agents_box(&s, t, &id, &identifier, error).await
}

pub async fn withdraw(
    State(s): State<AppState>,
    t: T,
    Holder(id): Holder,
    Path((identifier, auth)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let identifier = crate::ident::parse(&identifier).or_page(t, "/wallet")?;
    agents::withdraw(&s.node, &id, &identifier, &auth)
        .await
        .or_page(t, "/wallet")?;
    agents_box(&s, t, &id, &identifier, None).await
}

#[derive(Template)]
#[template(path = "offer.html")]
struct OfferPage {
    t: T,
    back: String,
    type_name: String,
    holder_name: String,
    identifier: String,
    offer: elicense_app::wallet::vci::Offer,
    qr_svg: String,
}

/// `POST /wallet/licenses/{identifier}/credential-offer`: makes an OpenID4VCI credential offer
/// and shows it as a QR code with its transaction code (shown this once).
pub async fn offer(
    State(s): State<AppState>,
    t: T,
    Back(back): Back,
    Holder(id): Holder,
    Path(identifier): Path<String>,
) -> Result<Response, PageError> {
    let identifier = crate::ident::parse(&identifier).or_page(t, "/wallet")?;
    let o = licenses::open(&s.node, &id, &identifier)
        .await
        .or_page(t, "/wallet")?;
    let offer = elicense_app::wallet::vci::create_offer(&s.node, &id, &identifier)
        .await
        .or_page(t, "/wallet")?;
    let qr_svg = elicense_face::qr_svg(&offer.offer_uri)
        .map_err(|e| AppError::internal(e.to_string()))
        .or_page(t, "/wallet")?;
    let mut resp = render(&OfferPage {
        type_name: type_name(&t, &o),
        holder_name: o.license.meta.holder.name.clone(),
        identifier: o.license.record.identifier.clone(),
        offer,
        qr_svg,
        t,
        back,
    })
    .into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}
