//! `http-proxy`: an HTTP `CONNECT` tunnel to the server (RFC 9110 §9.3.6), with Basic
//! authentication (RFC 7617) when the profile has proxy credentials. The proxy's answer is
//! untrusted: its header is bounded, parsed strictly, and only a 2xx status opens the tunnel.

use crate::config::{HttpVersion, ProxySettings};
use base64::Engine as _;
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest response header we read from a proxy before giving up on it.
pub const MAX_RESPONSE_HEADER: usize = 8192;

/// Why a proxy's response does not open a tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectRefusal {
    /// The header ended (or exceeded `MAX_RESPONSE_HEADER`) without a valid HTTP status line.
    Malformed,
    /// 407: the proxy wants (other) credentials.
    AuthRequired,
    /// Any other non-2xx status: the code and the proxy's reason phrase (sanitized).
    Status(u16, String),
}

impl std::fmt::Display for ConnectRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectRefusal::Malformed => write!(f, "the HTTP proxy sent a malformed response"),
            ConnectRefusal::AuthRequired => write!(
                f,
                "the HTTP proxy answered 407 Proxy Authentication Required: it refused the proxy username or password"
            ),
            ConnectRefusal::Status(code, reason) => {
                write!(f, "the HTTP proxy refused the connection: {code} {reason}")
            }
        }
    }
}

/// Parses the start of a proxy's response. `Ok(None)`: the header is not complete yet (read
/// more); `Ok(Some(n))`: the tunnel is open and its data starts at `buf[n..]`.
pub fn parse_connect_response(buf: &[u8]) -> Result<Option<usize>, ConnectRefusal> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() >= MAX_RESPONSE_HEADER {
            Err(ConnectRefusal::Malformed)
        } else {
            Ok(None)
        };
    };
    if end + 4 > MAX_RESPONSE_HEADER {
        return Err(ConnectRefusal::Malformed);
    }
    let line_end = buf.windows(2).position(|w| w == b"\r\n").unwrap_or(end);
    let line = std::str::from_utf8(&buf[..line_end]).map_err(|_| ConnectRefusal::Malformed)?;
    // "HTTP/1.x SP 3DIGIT [SP reason]"
    let rest = line
        .strip_prefix("HTTP/1.")
        .filter(|r| r.starts_with(['0', '1']))
        .map(|r| &r[1..])
        .and_then(|r| r.strip_prefix(' '))
        .ok_or(ConnectRefusal::Malformed)?;
    // `get`, not `split_at`: byte 3 may fall inside a multi-byte character of a hostile reply.
    let digits = rest.get(..3).ok_or(ConnectRefusal::Malformed)?;
    let reason = &rest[3..];
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectRefusal::Malformed);
    }
    if !(reason.is_empty() || reason.starts_with(' ')) {
        return Err(ConnectRefusal::Malformed);
    }
    let code: u16 = digits.parse().map_err(|_| ConnectRefusal::Malformed)?;
    match code {
        200..=299 => Ok(Some(end + 4)),
        407 => Err(ConnectRefusal::AuthRequired),
        100..=599 => Err(ConnectRefusal::Status(code, sanitize_reason(reason))),
        _ => Err(ConnectRefusal::Malformed),
    }
}

/// The reason phrase as it may appear in an error: printable ASCII, bounded.
fn sanitize_reason(reason: &str) -> String {
    reason
        .trim()
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(80)
        .collect()
}

/// The CONNECT request for `target`. Errors on a header that would break the request (the
/// protocol's types bound these; the engine does not trust that).
pub fn connect_request(proxy: &ProxySettings, target: SocketAddr) -> io::Result<Vec<u8>> {
    let version = match proxy.http_version {
        HttpVersion::V1_0 => "1.0",
        HttpVersion::V1_1 => "1.1",
    };
    let mut req = format!("CONNECT {target} HTTP/{version}\r\nHost: {target}\r\n");
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, what.to_string());
    if let Some(agent) = &proxy.user_agent {
        if agent.contains(['\r', '\n']) {
            return Err(bad("the proxy User-Agent contains a line break"));
        }
        req.push_str(&format!("User-Agent: {agent}\r\n"));
    }
    for h in &proxy.custom_headers {
        let name_ok = !h.name.is_empty()
            && h.name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !name_ok || h.value.contains(['\r', '\n']) {
            return Err(bad("a custom proxy header is not a valid HTTP header"));
        }
        req.push_str(&format!("{}: {}\r\n", h.name, h.value));
    }
    if let Some(c) = &proxy.credentials {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", c.username, c.password));
        req.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    req.push_str("\r\n");
    Ok(req.into_bytes())
}

/// Asks the proxy on `stream` to open a tunnel to `target`. The server speaks only after the
/// client, so nothing may follow the proxy's header: bytes there are a broken proxy.
pub async fn connect(
    stream: &mut TcpStream,
    proxy: &ProxySettings,
    target: SocketAddr,
) -> io::Result<()> {
    stream.write_all(&connect_request(proxy, target)?).await?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "the HTTP proxy closed the connection before answering CONNECT",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        match parse_connect_response(&buf) {
            Ok(None) => continue,
            Ok(Some(end)) if end == buf.len() => return Ok(()),
            Ok(Some(_)) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the HTTP proxy sent data before the server could speak",
                ))
            }
            Err(ConnectRefusal::AuthRequired) => {
                return Err(super::credentials_refused(
                    ConnectRefusal::AuthRequired.to_string(),
                ))
            }
            Err(refusal) => {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    refusal.to_string(),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Credentials, HttpHeader, ProxyKind};

    fn proxy() -> ProxySettings {
        ProxySettings {
            kind: ProxyKind::Http,
            host: "proxy.example".into(),
            port: 3128,
            credentials: Some(Credentials {
                username: "alice".into(),
                password: "s3cret".into(),
            }),
            http_version: HttpVersion::V1_1,
            user_agent: Some("Causeway".into()),
            custom_headers: vec![HttpHeader {
                name: "X-Team".into(),
                value: "blue".into(),
            }],
        }
    }

    #[test]
    fn a_status_code_cut_inside_a_multibyte_character_is_malformed_not_a_panic() {
        // Found by the http_connect_response fuzz target.
        let reply = b"HTTP/1.0 \r\xf3\xa9\x96\x96: squid\r\n\r\n";
        assert!(matches!(
            parse_connect_response(reply),
            Err(ConnectRefusal::Malformed)
        ));
    }

    #[test]
    fn builds_the_request_with_basic_auth_and_options() {
        let req = connect_request(&proxy(), "192.0.2.1:443".parse().unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(req).unwrap(),
            "CONNECT 192.0.2.1:443 HTTP/1.1\r\nHost: 192.0.2.1:443\r\nUser-Agent: Causeway\r\n\
             X-Team: blue\r\nProxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"
        );
    }

    #[test]
    fn refuses_headers_that_would_break_the_request() {
        let target = "192.0.2.1:443".parse().unwrap();
        let mut p = proxy();
        p.user_agent = Some("a\r\nX-Evil: 1".into());
        assert!(connect_request(&p, target).is_err());
        let mut p = proxy();
        p.custom_headers[0].name = "X Team:".into();
        assert!(connect_request(&p, target).is_err());
        let mut p = proxy();
        p.custom_headers[0].value = "v\n".into();
        assert!(connect_request(&p, target).is_err());
    }

    #[test]
    fn accepts_2xx_and_says_where_the_tunnel_starts() {
        let r = b"HTTP/1.1 200 Connection established\r\nVia: squid\r\n\r\n";
        assert_eq!(parse_connect_response(r), Ok(Some(r.len())));
        assert_eq!(
            parse_connect_response(b"HTTP/1.0 200\r\n\r\nxy"),
            Ok(Some(16))
        );
    }

    #[test]
    fn waits_for_a_truncated_header() {
        let r = b"HTTP/1.1 200 Connection established\r\nVia: squid\r\n\r\n";
        for n in 0..r.len() {
            assert_eq!(parse_connect_response(&r[..n]), Ok(None), "prefix {n}");
        }
    }

    #[test]
    fn reports_auth_and_other_refusals() {
        assert_eq!(
            parse_connect_response(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"),
            Err(ConnectRefusal::AuthRequired)
        );
        assert_eq!(
            parse_connect_response(b"HTTP/1.1 403 Forbidden\x07\r\n\r\n"),
            Err(ConnectRefusal::Status(403, "Forbidden".into()))
        );
        assert!(ConnectRefusal::AuthRequired
            .to_string()
            .contains("password"));
    }

    #[test]
    fn rejects_hostile_and_garbage_responses() {
        for bad in [
            &b"\r\n\r\n"[..],
            b"HTTP/2 200 OK\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 +20 OK\r\n\r\n",
            b"HTTP/1.1 999 What\r\n\r\n",
            b"HTTP/1.9 200 OK\r\n\r\n",
            b"SSH-2.0-OpenSSH\r\n\r\n",
            b"HTTP/1.1 200\xff\r\n\r\n",
            b"HTTP/1.1200 OK\r\n\r\n",
        ] {
            assert_eq!(
                parse_connect_response(bad),
                Err(ConnectRefusal::Malformed),
                "{bad:?}"
            );
        }
        // A header that never ends is cut off at the bound.
        let endless = vec![b'a'; MAX_RESPONSE_HEADER];
        assert_eq!(
            parse_connect_response(&endless),
            Err(ConnectRefusal::Malformed)
        );
        let mut long = b"HTTP/1.1 200 OK\r\n".to_vec();
        long.resize(MAX_RESPONSE_HEADER, b'x');
        long.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            parse_connect_response(&long),
            Err(ConnectRefusal::Malformed)
        );
    }
}
