//! The Origin allow-list of the upgrade: browsers send `Origin`, so a page on another site
//! cannot open signaling sockets in its visitors' name.

use axum::http::{header, HeaderMap};

/// Whether an upgrade with these headers may proceed.
///
/// Allowed: no `Origin` (non-browser clients such as wscat), an Origin whose host is the
/// request's own `Host`, localhost / 127.0.0.1 / [::1] on any port (development), and the
/// configured `extra` origins (exact match, case-insensitive, trailing `/` ignored).
pub fn allowed(headers: &HeaderMap, extra: &[String]) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    allowed_for_host(headers, host, extra)
}

/// [`allowed`] with the Host the browser asked for given explicitly: behind a trusted reverse
/// proxy that is its `X-Forwarded-Host` (see `crate::forwarded`).
pub fn allowed_for_host(headers: &HeaderMap, host: Option<&str>, extra: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    if extra
        .iter()
        .any(|o| o.trim().trim_end_matches('/').eq_ignore_ascii_case(&origin))
    {
        return true;
    }
    let Some(authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    if authority.contains(['/', '@', '?', '#']) {
        return false;
    }
    if let Some(host) = host {
        if host.eq_ignore_ascii_case(authority) {
            return true;
        }
    }
    let hostname = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    matches!(hostname, "localhost" | "127.0.0.1" | "[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn check(origin: Option<&str>, host: &str, extra: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        allowed(&headers, &extra)
    }

    #[test]
    fn allows_no_origin_same_host_localhost_and_configured() {
        assert!(check(None, "meet.example.org", &[]));
        assert!(check(
            Some("https://meet.example.org"),
            "meet.example.org",
            &[]
        ));
        assert!(check(
            Some("http://localhost:3000"),
            "meet.example.org",
            &[]
        ));
        assert!(check(Some("http://127.0.0.1:9"), "x", &[]));
        assert!(check(Some("http://[::1]:3000"), "x", &[]));
        assert!(check(
            Some("https://app.example.com"),
            "x",
            &["https://app.example.com/"]
        ));
    }

    #[test]
    fn refuses_other_sites() {
        assert!(!check(
            Some("https://evil.example"),
            "meet.example.org",
            &[]
        ));
        assert!(!check(Some("null"), "meet.example.org", &[]));
        assert!(!check(Some("http://localhost.evil.example"), "x", &[]));
        assert!(!check(
            Some("https://meet.example.org.evil"),
            "meet.example.org",
            &[]
        ));
        assert!(!check(Some("http://127.0.0.1@evil.example"), "x", &[]));
    }
}
