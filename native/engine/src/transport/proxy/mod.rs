//! Reaching the server through a proxy (`http-proxy`, `socks-proxy`): the engine resolves and
//! dials the proxy, asks it for a tunnel to the server (TCP), or for a UDP relay (SOCKS5 UDP
//! ASSOCIATE), and hands that to the link as if it were a direct connection.

pub mod http;
pub mod socks;
pub mod socks_udp;

use super::own_sockets::{tcp_to, OwnSockets};
use crate::config::{ProxyKind, ProxySettings};
use std::io;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// A proxy error, carried inside the `io::Error` so the session can tell a refused proxy
/// password (no retry fixes it) from a proxy or network that failed (retried).
#[derive(Debug)]
struct ProxyFailure {
    message: String,
    credentials_refused: bool,
}

impl std::fmt::Display for ProxyFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProxyFailure {}

/// The proxy refused the credentials it was sent (or wants some and got none).
fn credentials_refused(message: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionRefused,
        ProxyFailure {
            message,
            credentials_refused: true,
        },
    )
}

/// Whether a dial failed because the proxy refused its username or password.
pub fn is_credentials_refusal(e: &io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<ProxyFailure>())
        .is_some_and(|f| f.credentials_refused)
}

/// A TCP connection to the proxy: each of its addresses is tried in turn. `sockets` looks the
/// proxy's name up and makes the connection (the helper's own, marked sockets).
async fn reach(proxy: &ProxySettings, sockets: &dyn OwnSockets) -> io::Result<TcpStream> {
    let addrs: Vec<SocketAddr> = sockets
        .resolve(&proxy.host, proxy.port)
        .await
        .map_err(|e| with_context(proxy, "cannot resolve", e))?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the name has no address");
    for addr in addrs {
        match tcp_to(sockets, addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(with_context(proxy, "cannot connect to", last))
}

/// A TCP stream to `target` through `proxy`; the error names the proxy, so a user can tell its
/// failures from the server's.
pub async fn dial_tcp(
    proxy: &ProxySettings,
    target: SocketAddr,
    sockets: &dyn OwnSockets,
) -> io::Result<TcpStream> {
    let mut stream = reach(proxy, sockets).await?;
    match proxy.kind {
        ProxyKind::Http => http::connect(&mut stream, proxy, target).await,
        ProxyKind::Socks5 => socks::connect(&mut stream, proxy.credentials.as_ref(), target).await,
    }
    .map_err(|e| with_context(proxy, "through", e))?;
    Ok(stream)
}

/// A SOCKS5 UDP association: the control connection (the association lives as long as it does)
/// and the relay's address, where every datagram goes wrapped in the SOCKS UDP header.
pub async fn associate_udp(
    proxy: &ProxySettings,
    sockets: &dyn OwnSockets,
) -> io::Result<(TcpStream, SocketAddr)> {
    if proxy.kind != ProxyKind::Socks5 {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "an HTTP proxy carries TCP only; use a TCP remote",
        ));
    }
    let mut stream = reach(proxy, sockets).await?;
    let relay = async {
        let proxy_addr = stream.peer_addr()?;
        let bound = socks::associate(&mut stream, proxy.credentials.as_ref(), proxy_addr).await?;
        socks_udp::relay_address(bound, proxy_addr).await
    }
    .await
    .map_err(|e| with_context(proxy, "through", e))?;
    Ok((stream, relay))
}

fn with_context(proxy: &ProxySettings, what: &str, e: io::Error) -> io::Error {
    let kind = match proxy.kind {
        ProxyKind::Http => "HTTP proxy",
        ProxyKind::Socks5 => "SOCKS proxy",
    };
    let message = format!("{what} the {kind} {}:{}: {e}", proxy.host, proxy.port);
    if is_credentials_refusal(&e) {
        credentials_refused(message)
    } else {
        io::Error::new(e.kind(), message)
    }
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

    /// A loopback proxy peer: accepts one connection and plays `script` on it; its port and
    /// the script's result.
    async fn scripted_peer<F, Fut, T>(script: F) -> (u16, tokio::task::JoinHandle<T>)
    where
        F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = T> + Send,
        T: Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let peer = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            script(s).await
        });
        (port, peer)
    }

    /// Dials `target` through the scripted proxy peer at `port` with a wrong password: the
    /// error, which must say the proxy refused the credentials (no retry fixes that).
    async fn refused_dial(kind: ProxyKind, port: u16, username: &str, target: &str) -> io::Error {
        let creds = Credentials {
            username: username.into(),
            password: "wrong".into(),
        };
        let err = dial_tcp(
            &settings(kind, port, Some(creds)),
            target.parse().unwrap(),
            &SystemSockets,
        )
        .await
        .unwrap_err();
        assert!(is_credentials_refusal(&err), "{err}");
        err
    }

    /// A loopback SOCKS5 peer scripted byte for byte: the dial must send exactly the RFC 1928/1929
    /// messages and leave the stream positioned at the server's first byte.
    #[tokio::test]
    async fn dials_through_socks5_with_username_and_password() {
        let (port, peer) = scripted_peer(|mut s| async move {
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
        })
        .await;
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
        let (port, peer) = scripted_peer(|mut s| async move {
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
        })
        .await;
        let err = refused_dial(ProxyKind::Http, port, "alice", "192.0.2.7:443").await;
        let err = err.to_string();
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

    /// A loopback SOCKS5 peer that grants UDP ASSOCIATE with an unspecified relay address (as
    /// dante may) and relays by hand: the link must send to the proxy's address, wrap every
    /// packet, take only the server's unwrapped datagrams, drop fragments and strangers, and
    /// fail once the control connection closes.
    #[tokio::test]
    async fn relays_udp_through_socks5_and_ends_with_the_control_connection() {
        let relay = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let relay_port = relay.local_addr().unwrap().port();
        let server: SocketAddr = "192.0.2.7:1194".parse().unwrap();
        let (close_tx, close_rx) = tokio::sync::oneshot::channel::<()>();
        let (port, peer) = scripted_peer(move |mut s| async move {
            let mut b = [0u8; 3];
            s.read_exact(&mut b).await.unwrap();
            assert_eq!(b, [5, 1, 0]);
            s.write_all(&[5, 0]).await.unwrap();
            let mut req = [0u8; 10];
            s.read_exact(&mut req).await.unwrap();
            assert_eq!(
                req,
                [5, 3, 0, 1, 0, 0, 0, 0, 0, 0],
                "UDP ASSOCIATE for 0.0.0.0:0"
            );
            let mut reply = vec![5, 0, 0, 1, 0, 0, 0, 0];
            reply.extend_from_slice(&relay_port.to_be_bytes());
            s.write_all(&reply).await.unwrap();
            let mut d = [0u8; 2048];
            let (n, client) = relay.recv_from(&mut d).await.unwrap();
            assert_eq!(&d[..n], b"\0\0\0\x01\xc0\0\x02\x07\x04\xaaping");
            let header = socks_udp::udp_header(server);
            let stranger = socks_udp::udp_header("192.0.2.8:1194".parse().unwrap());
            let mut fragment = header.clone();
            fragment[2] = 1;
            for (h, body) in [
                (&stranger, &b"no"[..]),
                (&fragment, b"frag"),
                (&header, b"pong"),
            ] {
                let mut out = h.clone();
                out.extend_from_slice(body);
                relay.send_to(&out, client).await.unwrap();
            }
            close_rx.await.unwrap();
            drop(s);
        })
        .await;
        let mut link = crate::transport::Link::connect(
            server,
            crate::config::Proto::Udp,
            Some(&settings(ProxyKind::Socks5, port, None)),
            std::time::Duration::from_secs(5),
            &SystemSockets,
        )
        .await
        .unwrap();
        link.queue(b"ping");
        link.flush().await.unwrap();
        let mut got = Vec::new();
        while got.is_empty() {
            link.recv_batch().await.unwrap();
            let mut pkts: [&mut [u8]; 4] = Default::default();
            let n = link.next_packets(&mut pkts);
            got.extend(pkts[..n].iter().map(|p| p.to_vec()));
        }
        assert_eq!(
            got,
            [b"pong".to_vec()],
            "only the server's whole datagram, unwrapped"
        );
        close_tx.send(()).unwrap();
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), link.recv_batch())
            .await
            .expect("the closed association went unnoticed");
        assert!(ended
            .unwrap_err()
            .to_string()
            .contains("ended the UDP association"));
        peer.await.unwrap();
    }

    #[tokio::test]
    async fn a_refused_socks_password_is_a_credentials_refusal() {
        let (port, peer) = scripted_peer(|mut s| async move {
            let mut b = [0u8; 4];
            s.read_exact(&mut b).await.unwrap();
            s.write_all(&[5, 2]).await.unwrap();
            let mut auth = [0u8; 11];
            s.read_exact(&mut auth).await.unwrap();
            s.write_all(&[1, 1]).await.unwrap();
        })
        .await;
        let err = refused_dial(ProxyKind::Socks5, port, "bob", "192.0.2.7:1194").await;
        assert!(
            err.to_string()
                .contains(&format!("SOCKS proxy localhost:{port}")),
            "{err}"
        );
        peer.await.unwrap();
        let plain = io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        assert!(!is_credentials_refusal(&plain));
    }
}
