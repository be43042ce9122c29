//! Forwarded headers from a reverse proxy, believed only when the request comes from one of the
//! configured trusted proxies: anyone else could claim any client address or host.

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap};

/// An IP range: an address and a prefix length (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` is inside the range (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Parses `10.0.0.0/8`, `::1` or `127.0.0.1` (for the `--trusted-proxies` flag).
///
/// # Errors
/// A message for people when it is neither an address nor a range.
pub fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("{s:?} is not an IP address or CIDR range"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => match p.parse::<u8>() {
            Ok(p) if p <= max => p,
            _ => return Err(format!("{s:?}: the prefix must be 0 to {max}")),
        },
    };
    Ok(IpNet { addr, prefix })
}

/// Who a request is from, and which host and scheme it was sent to, as the browser saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The browser's address: the socket peer, or the proxy's report of it.
    pub ip: IpAddr,
    /// The Host the browser asked for.
    pub host: Option<String>,
}

/// Reads the request's origin facts, believing `X-Forwarded-For` and `X-Forwarded-Host` only
/// when `peer` is a trusted proxy. Of X-Forwarded-For the rightmost address that is not itself
/// a trusted proxy counts: everything left of it was written by the client.
pub fn client(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Client {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer.ip()) {
        return Client {
            ip: peer.ip(),
            host,
        };
    }
    let mut ip = peer.ip();
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Ok(hop) = hop.parse::<IpAddr>() else {
            break;
        };
        ip = hop;
        if !is_trusted(hop) {
            break;
        }
    }
    let forwarded_host = headers
        .get("x-forwarded-host")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split(',').next())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    Client {
        ip,
        host: forwarded_host.or(host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn ranges_match_their_addresses_only() {
        let net = parse_net("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(parse_net("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(parse_net("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(parse_net("10.0.0.0/33").is_err());
        assert!(parse_net("proxy").is_err());
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("x-forwarded-for", "6.6.6.6, 203.0.113.7"),
            ("x-forwarded-host", "meet.example.org"),
        ]);
        let trusted = [parse_net("127.0.0.1").unwrap()];
        let from_proxy = client("127.0.0.1:5000".parse().unwrap(), &h, &trusted);
        assert_eq!(from_proxy.ip, "203.0.113.7".parse::<IpAddr>().unwrap());
        assert_eq!(from_proxy.host.as_deref(), Some("meet.example.org"));
        let direct = client("198.51.100.1:5000".parse().unwrap(), &h, &trusted);
        assert_eq!(direct.ip, "198.51.100.1".parse::<IpAddr>().unwrap());
        assert_eq!(direct.host.as_deref(), Some("127.0.0.1:3000"));
    }
}
