//! Reaching the server through a proxy (`http-proxy`, `socks-proxy`): the engine resolves and
//! dials the proxy, asks it for a tunnel to the server, and hands the stream to the TCP link
//! as if it were a direct connection.

pub mod http;
pub mod socks;

use super::own_sockets::{tcp_to, OwnSockets};
use crate::config::{ProxyKind, ProxySettings};
use std::io;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// A TCP stream to `target` through `proxy`. Each of the proxy's addresses is tried in turn;
/// the error names the proxy, so a user can tell its failures from the server's.
/// `sockets` makes the connection to the proxy and looks its name up.
pub async fn dial_tcp(
    proxy: &ProxySettings,
    target: SocketAddr,
    sockets: &dyn OwnSockets,
) -> io::Result<TcpStream> {
    let addrs: Vec<SocketAddr> = sockets
        .resolve(&proxy.host, proxy.port)
        .await
        .map_err(|e| with_context(proxy, "cannot resolve", e))?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the name has no address");
    for addr in addrs {
        match tcp_to(sockets, addr).await {
            Ok(mut stream) => {
                match proxy.kind {
                    ProxyKind::Http => http::connect(&mut stream, proxy, target).await,
                    ProxyKind::Socks5 => {
                        socks::connect(&mut stream, proxy.credentials.as_ref(), target).await
                    }
                }
                .map_err(|e| with_context(proxy, "through", e))?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(with_context(proxy, "cannot connect to", last))
}

fn with_context(proxy: &ProxySettings, what: &str, e: io::Error) -> io::Error {
    let kind = match proxy.kind {
        ProxyKind::Http => "HTTP proxy",
        ProxyKind::Socks5 => "SOCKS proxy",
    };
    io::Error::new(
        e.kind(),
        format!("{what} the {kind} {}:{}: {e}", proxy.host, proxy.port),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Credentials, HttpVersion};
    use crate::transport::SystemSockets;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn settings(kind: ProxyKind, port: u16, credentials: Option<Credentials>) -> ProxySettings {
        ProxySettings {
            kind,
            host: "localhost".into(),
            port,
            credentials,
            http_version: HttpVersion::V1_1,
            user_agent: None,
            custom_headers: Vec::new(),
        }
    }

    /// A loopback SOCKS5 peer scripted byte for byte: the dial must send exactly the RFC 1928/1929
    /// messages and leave the stream positioned at the server's first byte.
    #[tokio::test]
    async fn dials_through_socks5_with_username_and_password() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let peer = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut b = [0u8; 4];
            s.read_exact(&mut b).await.unwrap();
            assert_eq!(b, [5, 2, 0, 2]);
            s.write_all(&[5, 2]).await.unwrap();
            let mut auth = [0u8; 9];
            s.read_exact(&mut auth).await.unwrap();
            assert_eq!(&auth, b"\x01\x03bob\x03pwd");
            s.write_all(&[1, 0]).await.unwrap();
            let mut req = [0u8; 10];
            s.read_exact(&mut req).await.unwrap();
            assert_eq!(req, [5, 1, 0, 1, 192, 0, 2, 7, 0x04, 0xaa]);
            s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 1, b'S'])
                .await
                .unwrap();
        });
        let creds = Credentials {
            username: "bob".into(),
            password: "pwd".into(),
        };
        let mut stream = dial_tcp(
            &settings(ProxyKind::Socks5, port, Some(creds)),
            "192.0.2.7:1194".parse().unwrap(),
            &SystemSockets,
        )
        .await
        .unwrap();
        let mut first = [0u8; 1];
        stream.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"S", "the reply's end was overread");
        peer.await.unwrap();
    }

    #[tokio::test]
    async fn a_refused_http_password_is_a_clear_error_naming_the_proxy() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let peer = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            while !buf.ends_with(b"\r\n\r\n") {
                let mut b = [0u8; 1];
                s.read_exact(&mut b).await.unwrap();
                buf.push(b[0]);
            }
            s.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
                .await
                .unwrap();
            String::from_utf8(buf).unwrap()
        });
        let creds = Credentials {
            username: "alice".into(),
            password: "wrong".into(),
        };
        let err = dial_tcp(
            &settings(ProxyKind::Http, port, Some(creds)),
            "192.0.2.7:443".parse().unwrap(),
            &SystemSockets,
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(&format!("HTTP proxy localhost:{port}")),
            "{err}"
        );
        assert!(err.contains("407"), "{err}");
        assert!(!err.contains("wrong"), "the password leaked: {err}");
        let req = peer.await.unwrap();
        assert!(
            req.starts_with("CONNECT 192.0.2.7:443 HTTP/1.1\r\n"),
            "{req}"
        );
        assert!(
            req.contains("Proxy-Authorization: Basic YWxpY2U6d3Jvbmc=\r\n"),
            "{req}"
        );
    }
}
