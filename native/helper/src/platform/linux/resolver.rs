//! Name lookups of the remotes (and proxies) through the helper's own marked sockets: a small
//! DNS stub that asks the name servers of resolv.conf directly, over UDP and, for a truncated
//! answer, TCP. getaddrinfo would send the query from an unmarked socket (or hand it to a
//! local daemon whose upstream query is unmarked), which the helper's own firewall blocks
//! while a full tunnel reconnects or the kill switch is on.
//!
//! /etc/hosts is read first, as getaddrinfo does. When resolv.conf names only a loopback stub
//! (systemd-resolved's 127.0.0.53), the stub's upstream servers from
//! /run/systemd/resolve/resolv.conf are asked instead. A name these servers do not answer
//! goes to the system resolver (mDNS, search domains, whatever nsswitch has), which works
//! whenever the firewall is not in the way.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::marked;

const RESOLV_CONF: &str = "/etc/resolv.conf";
const RESOLVED_UPSTREAMS: &str = "/run/systemd/resolve/resolv.conf";
const HOSTS: &str = "/etc/hosts";
/// Per name server, for both queries (the glibc default is 5 s; two servers fit in the
/// engine's 30 s resolve timeout either way).
const SERVER_TIMEOUT: Duration = Duration::from_secs(3);
const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;

pub async fn lookup(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let with_port = |ips: Vec<IpAddr>| {
        ips.into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect()
    };
    let hosts = std::fs::read_to_string(HOSTS).unwrap_or_default();
    let listed = hosts_entries(&hosts, host);
    if !listed.is_empty() {
        return Ok(with_port(listed));
    }
    let mut servers = nameservers(&std::fs::read_to_string(RESOLV_CONF).unwrap_or_default());
    if !servers.is_empty() && servers.iter().all(IpAddr::is_loopback) {
        let upstream =
            nameservers(&std::fs::read_to_string(RESOLVED_UPSTREAMS).unwrap_or_default());
        if !upstream.is_empty() {
            servers = upstream;
        }
    }
    let mut problem = None;
    for server in servers {
        match tokio::time::timeout(SERVER_TIMEOUT, ask(server, host)).await {
            Ok(Ok(ips)) if !ips.is_empty() => return Ok(with_port(ips)),
            Ok(Ok(_)) => problem = Some(format!("{server} knows no address of it")),
            Ok(Err(e)) => problem = Some(format!("{server}: {e}")),
            Err(_) => problem = Some(format!("{server} did not answer")),
        }
    }
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => Ok(addrs.collect()),
        Err(e) => Err(match problem {
            Some(p) => io::Error::new(e.kind(), format!("{e} (name server {p})")),
            None => e,
        }),
    }
}

/// The addresses /etc/hosts gives `host` (case-insensitive, as names are).
fn hosts_entries(hosts: &str, host: &str) -> Vec<IpAddr> {
    hosts
        .lines()
        .filter_map(|l| {
            let mut words = l.split('#').next()?.split_whitespace();
            let ip = words.next()?.parse::<IpAddr>().ok()?;
            words.any(|n| n.eq_ignore_ascii_case(host)).then_some(ip)
        })
        .collect()
}

/// The `nameserver` lines of a resolv.conf (an IPv6 one may carry a `%zone`: skipped).
fn nameservers(conf: &str) -> Vec<IpAddr> {
    conf.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next()? == "nameserver").then(|| words.next()?.parse().ok())?
        })
        .collect()
}

/// Both address queries to one server, over UDP, again over TCP if an answer was truncated.
async fn ask(server: IpAddr, host: &str) -> io::Result<Vec<IpAddr>> {
    let peer = SocketAddr::new(server, 53);
    let queries = [TYPE_A, TYPE_AAAA].map(|t| query(random_id(), host, t));
    let sock = causeway_engine::own_udp(&marked::MarkedSockets, peer).await?;
    for q in &queries {
        sock.send(q).await?;
    }
    let mut found = Vec::new();
    let mut pending: Vec<&Vec<u8>> = queries.iter().collect();
    let mut buf = [0u8; 1500];
    while !pending.is_empty() {
        let n = sock.recv(&mut buf).await?;
        let Some(i) = pending.iter().position(|q| q[..2] == buf[..2]) else {
            continue; // not an answer to us
        };
        let q = pending.swap_remove(i);
        match parse_answer(&buf[..n])? {
            Answer::Addresses(ips) => found.extend(ips),
            Answer::Truncated => found.extend(ask_tcp(peer, q).await?),
        }
    }
    found.sort_by_key(IpAddr::is_ipv6);
    Ok(found)
}

async fn ask_tcp(peer: SocketAddr, q: &[u8]) -> io::Result<Vec<IpAddr>> {
    let mut stream = causeway_engine::own_tcp(&marked::MarkedSockets, peer).await?;
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(q);
    stream.write_all(&framed).await?;
    let len = stream.read_u16().await? as usize;
    let mut reply = vec![0u8; len];
    stream.read_exact(&mut reply).await?;
    match parse_answer(&reply)? {
        Answer::Addresses(ips) => Ok(ips),
        Answer::Truncated => Err(io::Error::other("truncated answer over TCP")),
    }
}

fn random_id() -> [u8; 2] {
    let mut id = [0u8; 2];
    // SAFETY: getrandom(2) fills the two bytes of a valid buffer.
    let n = unsafe { libc::getrandom(id.as_mut_ptr().cast(), id.len(), 0) };
    if n != 2 {
        id = (std::process::id() as u16).to_be_bytes();
    }
    id
}

/// A recursive query for `host`'s records of `qtype`.
fn query(id: [u8; 2], host: &str, qtype: u16) -> Vec<u8> {
    let mut q = id.to_vec();
    // Recursion desired; one question.
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in host.trim_end_matches('.').split('.') {
        let label = &label.as_bytes()[..label.len().min(63)];
        q.push(label.len() as u8);
        q.extend_from_slice(label);
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes()); // class IN
    q
}

#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Addresses(Vec<IpAddr>),
    Truncated,
}

fn malformed() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "malformed DNS answer")
}

/// Skips a (possibly compressed) name starting at `at`; returns the offset after it.
fn skip_name(msg: &[u8], mut at: usize) -> io::Result<usize> {
    loop {
        let len = *msg.get(at).ok_or_else(malformed)? as usize;
        match len {
            0 => return Ok(at + 1),
            l if l & 0xc0 == 0xc0 => return Ok(at + 2),
            l => at += 1 + l,
        }
    }
}

fn u16_at(msg: &[u8], at: usize) -> io::Result<u16> {
    Ok(u16::from_be_bytes([
        *msg.get(at).ok_or_else(malformed)?,
        *msg.get(at + 1).ok_or_else(malformed)?,
    ]))
}

/// The A and AAAA records of an answer's answer section (a CNAME chain's target records come
/// with it from a recursive server). A name error or an empty answer is no addresses.
fn parse_answer(msg: &[u8]) -> io::Result<Answer> {
    if msg.len() < 12 || msg[2] & 0x80 == 0 {
        return Err(malformed());
    }
    if msg[2] & 0x02 != 0 {
        return Ok(Answer::Truncated);
    }
    let rcode = msg[3] & 0x0f;
    if rcode != 0 && rcode != 3 {
        return Err(io::Error::other(format!(
            "the name server refused (rcode {rcode})"
        )));
    }
    let (questions, answers) = (u16_at(msg, 4)?, u16_at(msg, 6)?);
    let mut at = 12;
    for _ in 0..questions {
        at = skip_name(msg, at)? + 4;
    }
    let mut ips = Vec::new();
    for _ in 0..answers {
        at = skip_name(msg, at)?;
        let rtype = u16_at(msg, at)?;
        let len = u16_at(msg, at + 8)? as usize;
        let data = msg.get(at + 10..at + 10 + len).ok_or_else(malformed)?;
        match (rtype, len) {
            (TYPE_A, 4) => ips.push(IpAddr::from(<[u8; 4]>::try_from(data).unwrap())),
            (TYPE_AAAA, 16) => ips.push(IpAddr::from(<[u8; 16]>::try_from(data).unwrap())),
            _ => {}
        }
        at += 10 + len;
    }
    Ok(Answer::Addresses(ips))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer a recursive server gives for vpn.example: a CNAME to edge.example (with a
    /// compression pointer back to the question) and its A record.
    fn answer() -> Vec<u8> {
        let mut m = query([0xab, 0xcd], "vpn.example", TYPE_A);
        m[2] = 0x81;
        m[3] = 0x80;
        m[7] = 2; // two answers
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 7]);
        m.extend_from_slice(&[4, b'e', b'd', b'g', b'e', 0xc0, 16]);
        m.extend_from_slice(&[0xc0, 41, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 10]);
        m
    }

    #[test]
    fn a_query_names_the_host_in_labels() {
        let q = query([1, 2], "vpn.example.", TYPE_AAAA);
        assert_eq!(&q[..4], &[1, 2, 0x01, 0x00]);
        assert_eq!(&q[12..], b"\x03vpn\x07example\x00\x00\x1c\x00\x01");
    }

    #[test]
    fn answers_give_their_addresses_through_cnames_and_pointers() {
        assert_eq!(
            parse_answer(&answer()).unwrap(),
            Answer::Addresses(vec!["192.0.2.10".parse().unwrap()])
        );
        let mut truncated = answer();
        truncated[2] |= 0x02;
        assert_eq!(parse_answer(&truncated).unwrap(), Answer::Truncated);
        let mut nxdomain = query([0, 0], "nope.example", TYPE_A);
        nxdomain[2] = 0x81;
        nxdomain[3] = 0x83;
        assert_eq!(parse_answer(&nxdomain).unwrap(), Answer::Addresses(vec![]));
        let mut refused = nxdomain.clone();
        refused[3] = 0x85;
        assert!(parse_answer(&refused).is_err());
        // A query is not an answer; a cut answer is malformed, not a panic.
        assert!(parse_answer(&query([0, 0], "x", TYPE_A)).is_err());
        let full = answer();
        for cut in 12..full.len() {
            let _ = parse_answer(&full[..cut]);
        }
        assert!(parse_answer(&full[..full.len() - 2]).is_err());
    }

    #[test]
    fn resolv_conf_and_hosts_are_read_as_the_c_library_reads_them() {
        let conf = "# comment\nsearch corp.example\nnameserver 10.0.0.53\nnameserver fe80::1%eth0\nnameserver 2001:db8::53\noptions edns0\n";
        assert_eq!(
            nameservers(conf),
            [
                "10.0.0.53".parse::<IpAddr>().unwrap(),
                "2001:db8::53".parse().unwrap()
            ]
        );
        let hosts = "127.0.0.1 localhost\n192.0.2.7 vpn.example vpn # lab\n2001:db8::7 VPN.example\n#192.0.2.8 vpn.example\n";
        assert_eq!(
            hosts_entries(hosts, "vpn.EXAMPLE"),
            [
                "192.0.2.7".parse::<IpAddr>().unwrap(),
                "2001:db8::7".parse().unwrap()
            ]
        );
        assert!(hosts_entries(hosts, "other.example").is_empty());
    }
}
