//! Drives the sans-IO `Connection` directly over a plain UDP socket against stock openvpn
//! (needs root, so `#[ignore]`d like the interop tests): no driver, no TUN. Used for what `run_session` cannot select, e.g. the legacy
//! OpenVPN PRF (a 2.6 server uses it when the client does not announce TLS-EKM).
// Network namespaces and the stock openvpn peer exist only on Linux; on other targets this
// test file compiles to nothing rather than to ignored tests.
#![cfg(target_os = "linux")]

mod lab;

use causeway_engine::connection::{ConnEvent, Connection};
use causeway_engine::params::{self, Prepared};
use causeway_engine::{EngineConfig, Proto};
use lab::Lab;
use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

fn rand_fill(buf: &mut [u8]) {
    use ring::rand::SecureRandom;
    ring::rand::SystemRandom::new().fill(buf).unwrap();
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 ICMP echo request from `src` to `dst`.
fn icmp_echo(src: Ipv4Addr, dst: Ipv4Addr, seq: u16) -> Vec<u8> {
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, (seq >> 8) as u8, seq as u8];
    icmp.extend_from_slice(b"causeway-engine-core-test");
    let c = checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let total = 20 + icmp.len();
    let mut ip = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0,
        0,
        64,
        1,
        0,
        0,
    ];
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(&icmp);
    ip
}

#[test]
#[ignore = "needs root"]
fn legacy_prf_data_channel_against_openvpn() {
    let mut lab = Lab::new();
    lab.start_server("udp", "tls-crypt TA");
    lab.enter_client_ns();
    let mut cfg = lab::lab_config(&lab, "udp");
    cfg["tlsCrypt"] = lab.read("ta.key").into();
    cfg["dataCiphers"] = serde_json::json!(["AES-128-GCM"]);
    let cfg: EngineConfig = serde_json::from_value(cfg).unwrap();
    let prepared = Prepared::new(&cfg).unwrap();
    let mut p = prepared.conn_params(&cfg, Proto::Udp, false, None, None);
    // Without IV_PROTO bit 3 (TLS_KEY_EXPORT) the server falls back to the OpenVPN PRF.
    p.peer_info = params::peer_info(&cfg, params::IV_PROTO & !8);
    let sock = UdpSocket::bind("0.0.0.0:0").unwrap();
    sock.connect((lab.server_ip.as_str(), 1194)).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    let mut conn = Connection::new(p, Box::new(rand_fill), unix, Instant::now()).unwrap();

    let mut local = None;
    let mut replies = 0;
    let mut seq = 0u16;
    let mut buf = vec![0u8; 65535];
    let mut out = Vec::new();
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end && replies < 3 {
        let now = Instant::now();
        if conn.poll_timeout().is_some_and(|t| t <= now) {
            conn.handle_timeout(now);
        }
        while let Some(pkt) = conn.poll_transmit() {
            sock.send(&pkt).unwrap();
        }
        while let Some(ev) = conn.poll_event() {
            match ev {
                ConnEvent::Established(s) => {
                    local = Some(s.ipv4.unwrap().address.parse::<Ipv4Addr>().unwrap())
                }
                ConnEvent::Closed(r) => panic!("closed: {r:?}\n{}", lab.server_log()),
                _ => {}
            }
        }
        if let Some(src) = local {
            seq += 1;
            assert!(conn.encrypt_tun(
                &mut icmp_echo(src, Ipv4Addr::new(10, 8, 0, 1), seq),
                &mut out,
                now
            ));
            sock.send(&out).unwrap();
        }
        if let Ok(n) = sock.recv(&mut buf) {
            if let Some(r) = conn.handle_link(&mut buf[..n], Instant::now()) {
                let ip = &buf[r];
                if ip[9] == 1 && ip[20] == 0 {
                    replies += 1;
                }
            }
        }
    }
    let log = lab.server_log();
    assert!(replies >= 3, "no echo replies through the tunnel\n{log}");
    let push = log
        .lines()
        .find(|l| l.contains("PUSH_REPLY"))
        .unwrap_or_default();
    assert!(
        !push.contains("tls-ekm"),
        "the server used EKM, not the PRF: {push}"
    );
}
