//! `GET /metrics`: Prometheus text format: the recorder's series, then the node's recent
//! institution alerts (`institutions::Guard::alerts`), one gauge per kind and institution
//! among them, valued at the time of its latest alert. Those series come and go with the
//! ring of recent alerts, so their number stays bounded by it.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use elicense_app::institutions::Alert;

use crate::state::AppState;

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus metrics", content_type = "text/plain")))]
pub async fn handler(State(s): State<AppState>) -> impl IntoResponse {
    if let Ok(n) = s.node.store.count().await {
        metrics::gauge!("elicense_licenses").set(n as f64);
    }
    let mut text = s.metrics.render();
    text.push_str(&render_alerts(&s.node.share_guard.alerts()));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// The recent alerts as `elicense_share_alert_last_seconds{kind,institution}` (nothing when
/// there are none).
fn render_alerts(alerts: &[Alert]) -> String {
    let mut latest: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for a in alerts {
        let at = latest.entry((a.kind.label(), &a.institution)).or_default();
        *at = (*at).max(a.at);
    }
    if latest.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "# HELP elicense_share_alert_last_seconds Time of the latest of the recent alerts \
         (share.alert.*) per kind and institution\n\
         # TYPE elicense_share_alert_last_seconds gauge\n",
    );
    for ((kind, institution), at) in latest {
        let institution = institution.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(
            out,
            "elicense_share_alert_last_seconds{{kind=\"{kind}\",institution=\"{institution}\"}} {at}"
        );
    }
    out
}
