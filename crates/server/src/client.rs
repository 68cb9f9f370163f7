//! Who is asking, as far as sign-in throttling needs to know: the connection's peer address
//! (`serve` records it for every connection), or, only when that peer is one of the node's
//! configured reverse proxies (`NodeConfig::trusted_proxies`), the nearest address in
//! `X-Forwarded-For` that is not one of them. A client cannot choose its own address by
//! sending the header to a node that does not sit behind a proxy.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use elicense_app::wallet::ClientAddr;

use crate::state::AppState;

/// The client of a request.
pub struct Client(pub ClientAddr);

/// The client's address, given the peer, the request's headers and the trusted proxies.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    // Right to left: each trusted proxy appended the address it received from; the first
    // address no trusted proxy has is the client (an entry that is no address ends the walk
    // at the last proxy).
    let mut client = peer;
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.into_iter().rev() {
        match entry.trim().parse::<IpAddr>() {
            Ok(a) => {
                client = a;
                if !trusted.contains(&a) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(client)
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Client(
            match client_ip(peer, &parts.headers, &s.node.config.trusted_proxies) {
                Some(ip) => ClientAddr::new(ip),
                None => ClientAddr::unknown(),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "198.51.100.7, 10.0.0.2".parse().unwrap());
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        // Not behind a proxy: the header is the client's own claim, ignored.
        assert_eq!(
            client_ip(Some(ip("203.0.113.9")), &h, &proxies),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &h, &proxies),
            Some(ip("198.51.100.7"))
        );
        // A forged entry left of the real client does not move it.
        h.insert("x-forwarded-for", "1.2.3.4, 198.51.100.7".parse().unwrap());
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &h, &proxies),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), &HeaderMap::new(), &proxies),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(client_ip(None, &h, &proxies), None);
    }
}
