//! `socks-proxy`: SOCKS5 (RFC 1928) CONNECT to the server, or UDP ASSOCIATE for a UDP remote
//! (the datagrams themselves are `socks_udp`'s), with username/password authentication
//! (RFC 1929) when the profile has proxy credentials. Every reply is untrusted and parsed with
//! exact lengths.

use crate::config::Credentials;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const USER_PASS: u8 = 2;
const NO_ACCEPTABLE: u8 = 0xff;
const CMD_CONNECT: u8 = 1;
const CMD_UDP_ASSOCIATE: u8 = 3;
pub(super) const ATYP_V4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
pub(super) const ATYP_V6: u8 = 4;

/// Where the proxy says it bound the relay (BND.ADDR/BND.PORT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoundAddr {
    Ip(SocketAddr),
    Domain(String, u16),
}

/// Why a SOCKS5 exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocksError {
    /// Not a SOCKS5 reply (version, reserved byte, address type or length wrong).
    Malformed,
    /// The proxy accepts none of the methods we offered.
    NoAcceptableMethod,
    /// The proxy chose a method we did not offer.
    UnofferedMethod(u8),
    /// RFC 1929: the username or password was refused.
    AuthFailed,
    /// The request failed: the reply code (RFC 1928 §6).
    Refused(u8),
}

impl std::fmt::Display for SocksError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SocksError::Malformed => write!(f, "the SOCKS proxy sent a malformed reply"),
            SocksError::NoAcceptableMethod => write!(
                f,
                "the SOCKS proxy accepts none of our authentication methods (does it need a username and password?)"
            ),
            SocksError::UnofferedMethod(m) => {
                write!(f, "the SOCKS proxy chose method {m}, which we did not offer")
            }
            SocksError::AuthFailed => {
                write!(f, "the SOCKS proxy refused the proxy username or password")
            }
            SocksError::Refused(code) => write!(
                f,
                "the SOCKS proxy refused the connection: {}",
                match code {
                    1 => "general failure",
                    2 => "not allowed by its rules",
                    3 => "network unreachable",
                    4 => "host unreachable",
                    5 => "connection refused by the server",
                    6 => "TTL expired",
                    7 => "command not supported",
                    8 => "address type not supported",
                    _ => "unknown reply code",
                }
            ),
        }
    }
}

impl From<SocksError> for io::Error {
    fn from(e: SocksError) -> Self {
        match e {
            SocksError::AuthFailed => super::credentials_refused(e.to_string()),
            _ => io::Error::new(io::ErrorKind::ConnectionRefused, e.to_string()),
        }
    }
}

/// The greeting: the methods we can do (username/password only when we have credentials).
pub fn greeting(with_credentials: bool) -> Vec<u8> {
    if with_credentials {
        vec![VERSION, 2, NO_AUTH, USER_PASS]
    } else {
        vec![VERSION, 1, NO_AUTH]
    }
}

/// The proxy's method choice (exactly 2 bytes).
pub fn parse_method_choice(b: [u8; 2], with_credentials: bool) -> Result<u8, SocksError> {
    match b {
        [VERSION, NO_ACCEPTABLE] => Err(SocksError::NoAcceptableMethod),
        [VERSION, NO_AUTH] => Ok(NO_AUTH),
        [VERSION, USER_PASS] if with_credentials => Ok(USER_PASS),
        [VERSION, m] => Err(SocksError::UnofferedMethod(m)),
        _ => Err(SocksError::Malformed),
    }
}

/// RFC 1929's request; both fields are at most 255 bytes.
pub fn auth_request(c: &Credentials) -> io::Result<Vec<u8>> {
    let (u, p) = (c.username.as_bytes(), c.password.as_bytes());
    let (Ok(ul), Ok(pl)) = (u8::try_from(u.len()), u8::try_from(p.len())) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a SOCKS username or password is longer than 255 bytes",
        ));
    };
    let mut m = vec![1, ul];
    m.extend_from_slice(u);
    m.push(pl);
    m.extend_from_slice(p);
    Ok(m)
}

/// RFC 1929's reply (exactly 2 bytes): version 1, status 0 = success.
pub fn parse_auth_reply(b: [u8; 2]) -> Result<(), SocksError> {
    match b {
        [1, 0] => Ok(()),
        [1, _] => Err(SocksError::AuthFailed),
        _ => Err(SocksError::Malformed),
    }
}

/// The address (ATYP, ADDR, PORT) as RFC 1928 writes it in requests and UDP headers.
pub(super) fn put_address(m: &mut Vec<u8>, target: SocketAddr) {
    match target.ip() {
        IpAddr::V4(ip) => {
            m.push(ATYP_V4);
            m.extend_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            m.push(ATYP_V6);
            m.extend_from_slice(&ip.octets());
        }
    }
    m.extend_from_slice(&target.port().to_be_bytes());
}

/// A request (CONNECT or UDP ASSOCIATE) for `target`.
pub fn request(cmd: u8, target: SocketAddr) -> Vec<u8> {
    let mut m = vec![VERSION, cmd, 0];
    put_address(&mut m, target);
    m
}

/// How many bytes the address of type `atyp` takes after the ATYP byte, port excluded;
/// `first` is the byte after ATYP (a domain's length). `Ok(None)`: not known yet.
fn address_len(atyp: u8, first: Option<u8>) -> Result<Option<usize>, SocksError> {
    match atyp {
        ATYP_V4 => Ok(Some(4)),
        ATYP_V6 => Ok(Some(16)),
        ATYP_DOMAIN => match first {
            None => Ok(None),
            Some(0) => Err(SocksError::Malformed),
            Some(n) => Ok(Some(1 + usize::from(n))),
        },
        _ => Err(SocksError::Malformed),
    }
}

/// Parses an address that starts at `buf[0]` (the ATYP byte). `Ok(None)`: `buf` ends before
/// it does; `Ok(Some((addr, n)))`: it was `buf[..n]`.
pub(super) fn parse_address(buf: &[u8]) -> Result<Option<(BoundAddr, usize)>, SocksError> {
    let Some(&atyp) = buf.first() else {
        return Ok(None);
    };
    let Some(addr_len) = address_len(atyp, buf.get(1).copied())? else {
        return Ok(None);
    };
    let total = 1 + addr_len + 2;
    if buf.len() < total {
        return Ok(None);
    }
    let a = &buf[1..1 + addr_len];
    let port = u16::from_be_bytes([buf[total - 2], buf[total - 1]]);
    let bound = match atyp {
        ATYP_V4 => BoundAddr::Ip(SocketAddr::new(
            Ipv4Addr::from(<[u8; 4]>::try_from(a).unwrap()).into(),
            port,
        )),
        ATYP_V6 => BoundAddr::Ip(SocketAddr::new(
            Ipv6Addr::from(<[u8; 16]>::try_from(a).unwrap()).into(),
            port,
        )),
        _ => {
            let name = std::str::from_utf8(&a[1..]).map_err(|_| SocksError::Malformed)?;
            if !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                return Err(SocksError::Malformed);
            }
            BoundAddr::Domain(name.to_string(), port)
        }
    };
    Ok(Some((bound, total)))
}

/// Parses a request's reply. `Ok(None)`: incomplete, read more; `Ok(Some((addr, n)))`: the
/// reply was `buf[..n]`.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(BoundAddr, usize)>, SocksError> {
    if buf.len() < 4 {
        // Check what is there already: garbage fails early.
        if buf.first().is_some_and(|&v| v != VERSION) || buf.get(2).is_some_and(|&r| r != 0) {
            return Err(SocksError::Malformed);
        }
        return Ok(None);
    }
    if buf[0] != VERSION || buf[2] != 0 {
        return Err(SocksError::Malformed);
    }
    // A refusal is reported as soon as its address type shows it is a SOCKS5 reply.
    if address_len(buf[3], buf.get(4).copied())?.is_none() {
        return Ok(None);
    }
    if buf[1] != 0 {
        return Err(SocksError::Refused(buf[1]));
    }
    Ok(parse_address(&buf[3..])?.map(|(bound, n)| (bound, 3 + n)))
}

/// Negotiates a method and authenticates on `stream`.
async fn handshake(stream: &mut TcpStream, credentials: Option<&Credentials>) -> io::Result<()> {
    stream.write_all(&greeting(credentials.is_some())).await?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).await?;
    if parse_method_choice(choice, credentials.is_some())? == USER_PASS {
        // parse_method_choice only picks USER_PASS when we have credentials.
        let c = credentials.ok_or(SocksError::Malformed)?;
        stream.write_all(&auth_request(c)?).await?;
        let mut reply = [0u8; 2];
        stream.read_exact(&mut reply).await?;
        parse_auth_reply(reply)?;
    }
    Ok(())
}

/// Sends a request and reads its reply byte by byte up to its exact end, so nothing of what
/// follows (the server's stream) is consumed.
async fn exchange(stream: &mut TcpStream, cmd: u8, target: SocketAddr) -> io::Result<BoundAddr> {
    stream.write_all(&request(cmd, target)).await?;
    let mut buf = Vec::with_capacity(22);
    loop {
        let mut b = [0u8; 1];
        stream.read_exact(&mut b).await?;
        buf.push(b[0]);
        if let Some((bound, _)) = parse_reply(&buf)? {
            return Ok(bound);
        }
    }
}

/// Asks the SOCKS5 proxy on `stream` to connect to `target`.
pub async fn connect(
    stream: &mut TcpStream,
    credentials: Option<&Credentials>,
    target: SocketAddr,
) -> io::Result<()> {
    handshake(stream, credentials).await?;
    exchange(stream, CMD_CONNECT, target).await.map(|_| ())
}

/// Asks the SOCKS5 proxy on `stream` (reached at `proxy_addr`) for a UDP relay; returns where
/// the relay listens, as the proxy says it. Our datagrams' source is not known before they
/// are sent (NAT may change it), so the request names the unspecified address, as RFC 1928
/// allows.
pub async fn associate(
    stream: &mut TcpStream,
    credentials: Option<&Credentials>,
    proxy_addr: SocketAddr,
) -> io::Result<BoundAddr> {
    handshake(stream, credentials).await?;
    let unspecified: IpAddr = if proxy_addr.is_ipv4() {
        Ipv4Addr::UNSPECIFIED.into()
    } else {
        Ipv6Addr::UNSPECIFIED.into()
    };
    exchange(stream, CMD_UDP_ASSOCIATE, SocketAddr::new(unspecified, 0)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_user_pass_only_with_credentials() {
        assert_eq!(greeting(false), [5, 1, 0]);
        assert_eq!(greeting(true), [5, 2, 0, 2]);
        assert_eq!(
            parse_method_choice([5, 2], false),
            Err(SocksError::UnofferedMethod(2))
        );
        assert_eq!(parse_method_choice([5, 2], true), Ok(2));
        assert_eq!(
            parse_method_choice([5, 0xff], true),
            Err(SocksError::NoAcceptableMethod)
        );
        assert_eq!(
            parse_method_choice([4, 0], true),
            Err(SocksError::Malformed)
        );
    }

    #[test]
    fn encodes_rfc1929_and_reads_its_reply() {
        let c = Credentials {
            username: "bob".into(),
            password: "pw".into(),
        };
        assert_eq!(auth_request(&c).unwrap(), b"\x01\x03bob\x02pw");
        let long = Credentials {
            username: "u".into(),
            password: "p".repeat(256),
        };
        assert!(auth_request(&long).is_err());
        assert_eq!(parse_auth_reply([1, 0]), Ok(()));
        assert_eq!(parse_auth_reply([1, 1]), Err(SocksError::AuthFailed));
        assert_eq!(parse_auth_reply([5, 0]), Err(SocksError::Malformed));
    }

    #[test]
    fn encodes_requests_for_both_families() {
        assert_eq!(
            request(1, "192.0.2.1:1194".parse().unwrap()),
            [5, 1, 0, 1, 192, 0, 2, 1, 0x04, 0xaa]
        );
        let v6 = request(3, "[2001:db8::1]:443".parse().unwrap());
        assert_eq!(&v6[..4], [5, 3, 0, 4]);
        assert_eq!(v6.len(), 4 + 16 + 2);
    }

    #[test]
    fn parses_replies_of_every_address_type() {
        let v4 = [5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90];
        assert_eq!(
            parse_reply(&v4),
            Ok(Some((BoundAddr::Ip("10.0.0.1:8080".parse().unwrap()), 10)))
        );
        let mut v6 = vec![5, 0, 0, 4];
        v6.extend_from_slice(&[0; 15]);
        v6.extend_from_slice(&[1, 0, 53]);
        assert_eq!(
            parse_reply(&v6),
            Ok(Some((BoundAddr::Ip("[::1]:53".parse().unwrap()), 22)))
        );
        let dom = b"\x05\x00\x00\x03\x05relay\x00\x35";
        assert_eq!(
            parse_reply(dom),
            Ok(Some((BoundAddr::Domain("relay".into(), 53), dom.len())))
        );
    }

    #[test]
    fn waits_for_truncated_replies() {
        let dom = b"\x05\x00\x00\x03\x05relay\x00\x35";
        for n in 0..dom.len() {
            assert_eq!(parse_reply(&dom[..n]), Ok(None), "prefix {n}");
        }
    }

    #[test]
    fn rejects_hostile_and_garbage_replies() {
        assert_eq!(parse_reply(&[4]), Err(SocksError::Malformed));
        assert_eq!(parse_reply(&[5, 0, 1]), Err(SocksError::Malformed));
        assert_eq!(parse_reply(&[5, 0, 0, 9, 0]), Err(SocksError::Malformed));
        assert_eq!(
            parse_reply(&[5, 0, 0, 3, 0, 0, 0]),
            Err(SocksError::Malformed)
        );
        assert_eq!(
            parse_reply(b"\x05\x00\x00\x03\x02a\xff\x00\x00"),
            Err(SocksError::Malformed)
        );
        assert_eq!(
            parse_reply(b"\x05\x00\x00\x03\x02a/\x00\x00"),
            Err(SocksError::Malformed)
        );
        assert_eq!(
            parse_reply(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]),
            Err(SocksError::Refused(5))
        );
        assert!(SocksError::Refused(2).to_string().contains("rules"));
    }
}
