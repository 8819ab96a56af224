//! Deterministic tests of the sans-IO client core against the in-memory fake server: virtual
//! time, scripted loss / duplication / reordering, no sockets.

use crate::config::{AuthDigest, DataCipher, EngineConfig, Proto};
use crate::connection::{CloseReason, ConnEvent, Connection};
use crate::fake_server::{self, FakeServer};
use crate::params::Prepared;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

const PUSH: &str = "PUSH_REPLY,ifconfig 10.8.0.2 255.255.255.0,topology subnet,route-gateway 10.8.0.1,peer-id 7,cipher AES-256-GCM,protocol-flags cc-exit tls-ekm,ping 10,ping-restart 60";

struct Sim {
    client: Connection,
    server: FakeServer,
    now: Instant,
    events: Vec<ConnEvent>,
    tun_out: Vec<Vec<u8>>,
    /// Decides per packet index whether the client->server / server->client packet is lost.
    lose_c2s: Box<dyn Fn(usize) -> bool>,
    lose_s2c: Box<dyn Fn(usize) -> bool>,
    duplicate_and_reorder: bool,
    sent_c2s: usize,
    sent_s2c: usize,
    client_packets: Vec<Vec<u8>>,
}

fn client_config(ca: &str) -> EngineConfig {
    let mut cfg = crate::config::tests_support::typical_config();
    cfg.ca = ca.to_string();
    cfg.tls_auth = None;
    cfg.verify_x509_name = None;
    cfg.compression = crate::config::Compression::None;
    cfg.keepalive = None;
    cfg
}

fn rand(buf: &mut [u8]) {
    use ring::rand::SecureRandom;
    ring::rand::SystemRandom::new().fill(buf).unwrap();
}

impl Sim {
    fn new(push: &[&str]) -> Sim {
        Self::build(push, false)
    }

    /// With tls-auth (SHA256, key-direction 1 on the client) on the control channel.
    fn with_tls_auth(push: &[&str]) -> Sim {
        Self::build(push, true)
    }

    fn build(push: &[&str], tls_auth: bool) -> Sim {
        Self::build_with(push, tls_auth, |_| {}, |_| {})
    }

    /// With the profile and the server changed before the connection starts.
    fn build_with(
        push: &[&str],
        tls_auth: bool,
        profile: impl FnOnce(&mut EngineConfig),
        server_setup: impl FnOnce(&mut FakeServer),
    ) -> Sim {
        let pki = fake_server::pki();
        let mut cfg = client_config(&pki.ca_pem);
        profile(&mut cfg);
        let key = crate::keys::Key2(std::array::from_fn(|i| (i * 7) as u8));
        if tls_auth {
            let hex: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
            let body: Vec<&str> = (0..16).map(|i| &hex[i * 32..i * 32 + 32]).collect();
            cfg.tls_auth = Some(crate::config::TlsAuth {
                key: format!("-----BEGIN OpenVPN Static key V1-----\n{}\n-----END OpenVPN Static key V1-----\n", body.join("\n")),
                direction: Some(crate::config::KeyDirection::Inverse),
            });
            cfg.auth_digest = AuthDigest::Sha256;
        }
        let prepared = Prepared::new(&cfg).unwrap();
        let params = prepared.conn_params(
            &cfg,
            Proto::Udp,
            false,
            Some("alice".into()),
            Some(crate::secret::Secret::from_text("pw")),
        );
        let now = Instant::now();
        let client = Connection::new(params, Box::new(rand), 1_700_000_000, now).unwrap();
        let mut server = FakeServer::new(&pki, DataCipher::Aes256Gcm);
        server.on_push_request = push.iter().map(|s| s.to_string()).collect();
        server_setup(&mut server);
        if tls_auth {
            server.wrap = crate::wrap::Wrap::tls_auth(
                &key,
                Some(crate::config::KeyDirection::Normal),
                AuthDigest::Sha256,
                1_700_000_000,
            );
        }
        Sim {
            client,
            server,
            now,
            events: Vec::new(),
            tun_out: Vec::new(),
            lose_c2s: Box::new(|_| false),
            lose_s2c: Box::new(|_| false),
            duplicate_and_reorder: false,
            sent_c2s: 0,
            sent_s2c: 0,
            client_packets: Vec::new(),
        }
    }

    /// Moves packets and time until `done` holds or virtual time runs out.
    fn run_until(&mut self, limit: Duration, done: impl Fn(&Sim) -> bool) {
        let end = self.now + limit;
        while !done(self) && self.now < end {
            if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
                self.client.handle_timeout(self.now);
                // A timer still due right after handling it would make a driver spin.
                if let Some(t) = self.client.poll_timeout() {
                    assert!(
                        t > self.now,
                        "timer left in the past: {:?} behind",
                        self.now - t
                    );
                }
            }
            self.server.handle_timeout(self.now);
            let mut c2s: VecDeque<Vec<u8>> = VecDeque::new();
            while let Some(p) = self.client.poll_transmit() {
                self.client_packets.push(p.clone());
                self.sent_c2s += 1;
                if !(self.lose_c2s)(self.sent_c2s) {
                    c2s.push_back(p);
                }
            }
            let mut s2c: VecDeque<Vec<u8>> = VecDeque::new();
            while let Some(p) = self.server.out.pop_front() {
                self.sent_s2c += 1;
                if !(self.lose_s2c)(self.sent_s2c) {
                    s2c.push_back(p);
                }
            }
            if self.duplicate_and_reorder {
                for q in [&mut c2s, &mut s2c] {
                    if let Some(first) = q.front().cloned() {
                        q.push_back(first);
                    }
                    q.make_contiguous().reverse();
                }
            }
            let moved = !c2s.is_empty() || !s2c.is_empty();
            for p in c2s {
                self.server.handle(&p, self.now);
            }
            for mut p in s2c {
                if let Some(r) = self.client.handle_link(&mut p, self.now) {
                    self.tun_out.push(p[r].to_vec());
                }
            }
            while let Some(e) = self.client.poll_event() {
                self.events.push(e);
            }
            if !moved {
                let next = [self.client.poll_timeout(), self.server.next_deadline()]
                    .into_iter()
                    .flatten()
                    .filter(|t| *t > self.now)
                    .min()
                    .unwrap_or(self.now + Duration::from_millis(100));
                self.now = next.min(end);
            }
        }
    }

    fn established(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, ConnEvent::Established(_)))
    }

    fn closed(&self) -> Option<&CloseReason> {
        self.events.iter().find_map(|e| match e {
            ConnEvent::Closed(r) => Some(r),
            _ => None,
        })
    }

    /// A simulation run until the session is established.
    fn established_with(push: &[&str]) -> Sim {
        let mut sim = Sim::new(push);
        sim.run_until(Duration::from_secs(10), Sim::established);
        assert!(sim.established(), "not established: {:?}", sim.events);
        sim
    }

    fn auth_pending(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, ConnEvent::AuthPending { .. }))
    }

    /// Takes the events a call made outside `run_until` left queued.
    fn collect_events(&mut self) {
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
    }
}

/// A client connection established with the fake server, for driving with real I/O (the
/// driver's tests) or batches (the pipeline's).
pub(crate) fn established_pair() -> (Connection, FakeServer) {
    let sim = Sim::established_with(&[PUSH]);
    (sim.client, sim.server)
}

pub(crate) fn ip_packet(tag: u8) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 28];
    p.extend_from_slice(&[tag; 24]);
    p
}

#[test]
fn handshake_push_and_data_both_ways() {
    let mut sim = Sim::established_with(&[PUSH]);
    let settings = sim.events.iter().find_map(|e| match e {
        ConnEvent::Established(s) => Some(s.clone()),
        _ => None,
    });
    let s = settings.expect("established");
    let v4 = s.ipv4.unwrap();
    assert_eq!((v4.address.as_str(), v4.prefix), ("10.8.0.2", 24));
    assert_eq!(s.peer_id, Some(7));
    assert_eq!(sim.server.client_password.as_deref(), Some("pw"));
    assert_eq!(
        data_cipher_summary(&sim),
        "control channel TLSv1_3 TLS13_AES_256_GCM_SHA384; data channel AES-256-GCM via TLS-EKM, peer-id 7"
    );

    let header = assert_data_both_ways(&mut sim);
    assert_eq!(header, [0x48, 0, 0, 7], "P_DATA_V2 with the pushed peer-id");
    assert_eq!((sim.client.tx_bytes, sim.client.rx_bytes), (28, 28));
}

#[test]
fn survives_loss_duplication_and_reordering() {
    let mut sim = Sim::new(&[PUSH]);
    sim.lose_c2s = Box::new(|i| i % 3 == 0 && i < 30);
    sim.lose_s2c = Box::new(|i| i % 4 == 1 && i < 30);
    sim.duplicate_and_reorder = true;
    sim.run_until(Duration::from_secs(60), Sim::established);
    assert!(sim.established(), "events: {:?}", sim.events);
}

#[test]
fn retransmits_reset_with_backoff_then_times_out() {
    let mut sim = Sim::new(&[PUSH]);
    sim.lose_c2s = Box::new(|_| true);
    sim.run_until(Duration::from_secs(120), |s| s.closed().is_some());
    assert_eq!(
        sim.closed(),
        Some(&CloseReason::HandshakeFailed(
            crate::connection::HandshakeStage::NoAnswer
        ))
    );
    // Sent at 0, 2, 6, 14, 30 s within the 60 s hand-window (timeout doubles).
    assert_eq!(sim.client_packets.len(), 5);
}

#[test]
fn push_continuation_is_applied_atomically() {
    let sim = Sim::established_with(&[
        "PUSH_REPLY,route 10.1.0.0 255.255.0.0,push-continuation 2",
        "PUSH_REPLY,ifconfig 10.8.0.9 255.255.255.0,topology subnet,cipher AES-256-GCM,protocol-flags tls-ekm,echo Welcome to the VPN,push-continuation 1",
    ]);
    let s = sim.events.iter().find_map(|e| match e {
        ConnEvent::Established(s) => Some(s.clone()),
        _ => None,
    });
    let s = s.expect("established");
    assert_eq!(*s.routes, vec!["10.1.0.0/16"]);
    assert_eq!(s.ipv4.unwrap().address, "10.8.0.9");
    assert!(sim
        .events
        .contains(&ConnEvent::Echo("Welcome to the VPN".into())));
}

#[test]
fn crv1_challenge_closes_with_the_challenge() {
    let mut sim = Sim::new(&["AUTH_FAILED,CRV1:R,E:state-1:YWxpY2U=:Enter your OTP"]);
    sim.run_until(Duration::from_secs(10), |s| s.closed().is_some());
    match sim.closed() {
        Some(CloseReason::Crv1(c)) => {
            assert_eq!(
                (c.state_id.as_str(), c.username.as_str(), c.text.as_str()),
                ("state-1", "alice", "Enter your OTP")
            );
            assert!(c.echo);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn auth_pending_web_auth_then_push() {
    let mut sim = Sim::new(&[
        "AUTH_PENDING,timeout 90",
        "INFO_PRE,WEB_AUTH::https://sso.example/login?x=1",
    ]);
    sim.run_until(Duration::from_secs(10), Sim::auth_pending);
    assert!(sim.events.contains(&ConnEvent::AuthPending {
        method: crate::api::PendingMethod::WebAuth,
        payload: "https://sso.example/login?x=1".into(),
        echo: false,
        timeout_sec: 90,
    }));
    // The user logs in out of band; the server then sends the PUSH_REPLY on the same session.
    sim.server.on_push_request = vec![PUSH.into()];
    sim.run_until(Duration::from_secs(30), Sim::established);
    assert!(sim.established());
    assert!(
        sim.server.push_requests >= 2,
        "PUSH_REQUEST is repeated while pending"
    );
}

#[test]
fn halt_and_restart_close_the_connection() {
    for (msg, want) in [
        ("HALT,maintenance", CloseReason::Halt("maintenance".into())),
        ("RESTART", CloseReason::Restart),
    ] {
        let mut sim = Sim::established_with(&[PUSH]);
        let now = sim.now;
        sim.server.send_message(msg, now);
        sim.run_until(Duration::from_secs(5), |s| s.closed().is_some());
        assert_eq!(sim.closed(), Some(&want));
    }
}

#[test]
fn keepalive_pings_and_ping_restart() {
    let mut sim = Sim::established_with(&[PUSH]);
    let t0 = sim.now;
    let before = sim.client_packets.len();
    sim.lose_s2c = Box::new(|_| true);
    sim.run_until(Duration::from_secs(120), |s| s.closed().is_some());
    assert_eq!(sim.closed(), Some(&CloseReason::PingTimeout));
    let elapsed = sim.now - t0;
    assert!(
        elapsed >= Duration::from_secs(59) && elapsed <= Duration::from_secs(61),
        "{elapsed:?}"
    );
    // ping 10 over ~60 s: 5 or 6 keepalive data packets, never written to the TUN.
    let pings = sim.client_packets[before..]
        .iter()
        .filter(|p| crate::wire::opcode(p[0]) == crate::wire::P_DATA_V2)
        .count();
    assert!((5..=6).contains(&pings), "{pings}");
}

#[test]
fn disconnect_sends_exit_when_cc_exit_negotiated() {
    let mut sim = Sim::established_with(&[PUSH]);
    let now = sim.now;
    sim.client.disconnect(now);
    while let Some(p) = sim.client.poll_transmit() {
        sim.server.handle(&p, now);
    }
    assert_eq!(sim.server.received_messages, vec!["EXIT".to_string()]);
    assert!(sim.client.is_closed());
}

#[test]
fn announced_session_timeout_expires_the_session() {
    // No keepalive here: the fake server does not send pings.
    let mut sim = Sim::established_with(&["PUSH_REPLY,ifconfig 10.8.0.2 255.255.255.0,topology subnet,cipher AES-256-GCM,protocol-flags tls-ekm,session-timeout 300"]);
    let t0 = sim.now;
    sim.run_until(Duration::from_secs(400), |s| s.closed().is_some());
    assert_eq!(sim.closed(), Some(&CloseReason::SessionExpired));
    assert!(sim.now - t0 >= Duration::from_secs(299));
}

#[test]
fn disconnect_without_cc_exit_sends_occ_exit_on_udp() {
    let mut sim = Sim::established_with(&["PUSH_REPLY,ifconfig 10.8.0.2 255.255.255.0,topology subnet,peer-id 7,cipher AES-256-GCM,key-derivation tls-ekm"]);
    let now = sim.now;
    sim.client.disconnect(now);
    let mut got = Vec::new();
    while let Some(mut p) = sim.client.poll_transmit() {
        if let Some(payload) = sim.server.decrypt(&mut p) {
            got.push(payload);
        }
    }
    let mut occ_exit = crate::data::OCC_MAGIC.to_vec();
    occ_exit.push(crate::data::OCC_EXIT);
    assert_eq!(got, vec![occ_exit]);
    sim.collect_events();
    assert_eq!(sim.closed(), Some(&CloseReason::Local));
}

#[test]
fn server_occ_exit_and_pings_are_not_tunnel_data() {
    let mut sim = Sim::established_with(&[PUSH]);
    let mut ping = sim.server.encrypt(&crate::data::PING);
    assert!(sim.client.handle_link(&mut ping, sim.now).is_none());
    let mut occ = crate::data::OCC_MAGIC.to_vec();
    occ.push(crate::data::OCC_EXIT);
    let mut exit = sim.server.encrypt(&occ);
    assert!(sim.client.handle_link(&mut exit, sim.now).is_none());
    sim.collect_events();
    assert_eq!(sim.closed(), Some(&CloseReason::ServerExit));
    assert_eq!(sim.client.rx_bytes, 0);
}

#[test]
fn long_auth_pending_outlives_the_hand_window_without_spinning() {
    let mut sim = Sim::new(&[
        "AUTH_PENDING,timeout 300",
        "INFO_PRE,WEB_AUTH::https://sso.example/x",
    ]);
    sim.run_until(Duration::from_secs(10), Sim::auth_pending);
    // The user takes two minutes in the browser (beyond the 60 s hand-window).
    sim.run_until(Duration::from_secs(120), |s| s.closed().is_some());
    assert_eq!(sim.closed(), None);
    sim.server.on_push_request = vec![PUSH.into()];
    sim.run_until(Duration::from_secs(10), Sim::established);
    assert!(sim.established());
}

/// The core is the real network-facing entry point: random datagrams and mutated copies of
/// genuine server packets must never panic it or break an established session.
#[test]
fn garbage_and_mutated_packets_do_not_disturb_a_session() {
    let mut sim = Sim::with_tls_auth(&[PUSH]);
    sim.run_until(Duration::from_secs(10), Sim::established);
    let mut genuine: Vec<Vec<u8>> = vec![sim.server.encrypt(&ip_packet(3))];
    let now = sim.now;
    sim.server.send_message("INFO,hello", now);
    genuine.extend(sim.server.out.drain(..));
    // A small deterministic generator (xorshift) keeps failures reproducible.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..5000 {
        let mut pkt = if i % 2 == 0 {
            let len = (next() % 300) as usize;
            (0..len).map(|_| next() as u8).collect::<Vec<u8>>()
        } else {
            let mut p = genuine[(next() as usize) % genuine.len()].clone();
            let flips = 1 + next() % 4;
            for _ in 0..flips {
                let at = (next() as usize) % p.len();
                p[at] ^= 1 << (next() % 8);
            }
            if next() % 4 == 0 {
                p.truncate((next() as usize) % p.len());
            }
            p
        };
        assert!(
            sim.client.handle_link(&mut pkt, now).is_none(),
            "forged data reached the TUN"
        );
    }
    let mut drop_logs = 0;
    while let Some(e) = sim.client.poll_event() {
        assert!(
            !matches!(e, ConnEvent::Closed(_)),
            "garbage closed the session: {e:?}"
        );
        drop_logs += usize::from(
            matches!(&e, ConnEvent::Log(_, t) if t.starts_with("dropped control packet")),
        );
    }
    assert!(
        drop_logs <= 10,
        "drops are logged sparingly, got {drop_logs}"
    );
    // Still working both ways.
    assert_data_both_ways(&mut sim);
}

/// A server that answers PUSH_REQUEST with continuation after continuation is refused once
/// the push passes the message cap, with a protocol error, instead of being buffered forever.
#[test]
fn a_flood_of_push_continuations_closes_the_connection() {
    let flood: Vec<String> = (0..=crate::limits::MAX_PUSH_MESSAGES)
        .map(|i| {
            format!(
                "PUSH_REPLY,route 10.{}.{}.0 255.255.255.0,push-continuation 2",
                i / 256,
                i % 256
            )
        })
        .collect();
    let script: Vec<&str> = flood.iter().map(String::as_str).collect();
    let mut sim = Sim::new(&script);
    sim.run_until(Duration::from_secs(60), |s| s.closed().is_some());
    match sim.closed() {
        Some(CloseReason::Error(e)) => {
            assert_eq!(e.code, crate::config::ErrorCode::ProtocolError);
            assert!(e.message.contains("PUSH_REPLY messages"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
    assert!(!sim.established());
}

/// A push without `cipher`: what a server without cipher negotiation sends.
const PUSH_NO_CIPHER: &str =
    "PUSH_REPLY,ifconfig 10.8.0.2 255.255.255.0,topology subnet,peer-id 7,key-derivation tls-ekm";

/// What a CBC test's profile allows: its data ciphers (empty: the default list), its fallback
/// and the digest its HMAC uses.
struct CbcProfile {
    data_ciphers: &'static [DataCipher],
    fallback: Option<DataCipher>,
    auth: AuthDigest,
}

impl CbcProfile {
    /// The default data ciphers and HMAC-SHA1, with `fallback` for a server naming none.
    fn falling_back_to(fallback: Option<DataCipher>) -> Self {
        let auth = AuthDigest::Sha1;
        CbcProfile {
            data_ciphers: &[],
            fallback,
            auth,
        }
    }
}

/// A CBC test's server: its options string and the data channel it runs.
struct CbcServer {
    occ: &'static str,
    cipher: DataCipher,
    auth: AuthDigest,
}

impl CbcServer {
    /// An AES-256-CBC/HMAC-SHA1 server sending `occ`.
    fn aes256_sha1(occ: &'static str) -> Self {
        CbcServer {
            occ,
            cipher: DataCipher::Aes256Cbc,
            auth: AuthDigest::Sha1,
        }
    }
}

/// Connects with `push` from `profile` to `server`; returns the simulation once established
/// or closed.
fn cbc_sim(push: &str, profile: CbcProfile, server: CbcServer) -> Sim {
    let configure = |cfg: &mut EngineConfig| {
        if !profile.data_ciphers.is_empty() {
            cfg.data_ciphers = profile.data_ciphers.to_vec();
        }
        cfg.data_ciphers_fallback = profile.fallback;
        cfg.auth_digest = profile.auth;
    };
    let mut sim = Sim::build_with(&[push], false, configure, |s| {
        s.cipher = server.cipher;
        s.auth = server.auth;
        s.options_string = server.occ.into();
    });
    sim.run_until(Duration::from_secs(10), |s| {
        s.established() || s.closed().is_some()
    });
    sim
}

fn data_cipher_summary(sim: &Sim) -> String {
    sim.events
        .iter()
        .find_map(|e| match e {
            ConnEvent::Log(_, t) if t.starts_with("control channel") => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no summary: {:?}", sim.events))
}

/// Sends a packet each way through the established session; returns the first four bytes of
/// the client's (opcode, key id and peer-id).
fn assert_data_both_ways(sim: &mut Sim) -> [u8; 4] {
    let mut out = Vec::new();
    assert!(sim.client.encrypt_tun(&mut ip_packet(1), &mut out, sim.now));
    let header = out[..4].try_into().unwrap();
    assert_eq!(sim.server.decrypt(&mut out).unwrap(), ip_packet(1));
    let mut back = sim.server.encrypt(&ip_packet(2));
    let r = sim
        .client
        .handle_link(&mut back, sim.now)
        .expect("data for the TUN");
    assert_eq!(back[r].to_vec(), ip_packet(2));
    header
}

fn closed_with(sim: &Sim) -> String {
    match sim.closed() {
        Some(CloseReason::Error(e)) => e.message.clone(),
        other => panic!("{other:?} {:?}", sim.events),
    }
}

#[test]
fn cbc_negotiated_announced_or_fallen_back_to_carries_data_with_the_profiles_hmac() {
    use DataCipher::{Aes128Cbc, Aes256Cbc, Aes256Gcm};
    let cases = [
        (
            "pushed by a negotiating server",
            PUSH.replace("cipher AES-256-GCM", "cipher AES-256-CBC"),
            CbcProfile {
                data_ciphers: &[Aes256Gcm, Aes256Cbc],
                fallback: None,
                auth: AuthDigest::Sha256,
            },
            CbcServer {
                occ: "V4,dev-type tun,cipher AES-256-CBC,auth SHA256,tls-server",
                cipher: Aes256Cbc,
                auth: AuthDigest::Sha256,
            },
            "data channel AES-256-CBC via TLS-EKM",
        ),
        (
            // 2.4-style: the profile's `cipher AES-128-CBC` is among the ciphers it allows.
            "named in the options string of a server without negotiation",
            PUSH_NO_CIPHER.into(),
            CbcProfile {
                data_ciphers: &[Aes256Gcm, Aes128Cbc],
                fallback: None,
                auth: AuthDigest::Sha512,
            },
            CbcServer {
                occ: "V4,dev-type tun,cipher AES-128-CBC,auth SHA512,keysize 128,tls-server",
                cipher: Aes128Cbc,
                auth: AuthDigest::Sha512,
            },
            "data channel AES-128-CBC",
        ),
        (
            "the fallback, for a server naming no cipher",
            PUSH_NO_CIPHER.into(),
            CbcProfile::falling_back_to(Some(Aes256Cbc)),
            CbcServer::aes256_sha1("V4,dev-type tun,tls-server"),
            "data channel AES-256-CBC",
        ),
    ];
    for (what, push, profile, server, expected) in cases {
        let mut sim = cbc_sim(&push, profile, server);
        let summary = data_cipher_summary(&sim);
        assert!(summary.contains(expected), "{what}: {summary}");
        assert_data_both_ways(&mut sim);
    }
}

#[test]
fn a_fallback_answers_a_server_naming_it_and_without_one_the_error_says_what_to_set() {
    // A fallback also answers a server whose options string names it, though data-ciphers do not.
    let sim = cbc_sim(
        PUSH_NO_CIPHER,
        CbcProfile::falling_back_to(Some(DataCipher::Aes256Cbc)),
        CbcServer::aes256_sha1("V4,dev-type tun,cipher AES-256-CBC,tls-server"),
    );
    assert!(sim.established(), "{:?}", sim.events);
    // Without one, the connection ends saying what to set.
    let sim = cbc_sim(
        PUSH_NO_CIPHER,
        CbcProfile::falling_back_to(None),
        CbcServer::aes256_sha1("V4,dev-type tun,tls-server"),
    );
    assert!(closed_with(&sim).contains("data-ciphers-fallback"));
}

#[test]
fn a_server_choosing_a_64_bit_block_cipher_is_refused_naming_sweet32() {
    for (push, occ) in [
        (
            PUSH_NO_CIPHER.to_string(),
            "V4,dev-type tun,cipher BF-CBC,auth SHA1,keysize 128,tls-server",
        ),
        (
            PUSH.replace("cipher AES-256-GCM", "cipher DES-EDE3-CBC"),
            "V4,dev-type tun,tls-server",
        ),
    ] {
        let profile = CbcProfile::falling_back_to(Some(DataCipher::Aes256Cbc));
        let sim = cbc_sim(&push, profile, CbcServer::aes256_sha1(occ));
        let msg = closed_with(&sim);
        assert!(
            msg.contains("SWEET32") && msg.contains("AES-256-GCM"),
            "{msg}"
        );
        assert!(!sim.established());
    }
}

#[test]
fn a_suspension_longer_than_ping_restart_restarts_the_connection_at_once() {
    let mut sim = Sim::established_with(&[PUSH]);
    let now = sim.now;
    // The lid was closed for 90 s; the monotonic clock saw none of it.
    sim.client.handle_suspended(Duration::from_secs(90), now);
    sim.collect_events();
    assert_eq!(sim.closed(), Some(&CloseReason::PingTimeout));
}

#[test]
fn a_shorter_suspension_counts_towards_ping_restart() {
    let mut sim = Sim::established_with(&[PUSH]);
    let now = sim.now;
    sim.client.handle_suspended(Duration::from_secs(30), now);
    sim.collect_events();
    assert_eq!(sim.closed(), None, "30 s asleep is within ping-restart 60");
    // The server stays silent: the rest of the 60 s runs out 30 s after the resume.
    let t0 = sim.now;
    sim.lose_s2c = Box::new(|_| true);
    sim.run_until(Duration::from_secs(120), |s| s.closed().is_some());
    assert_eq!(sim.closed(), Some(&CloseReason::PingTimeout));
    let elapsed = sim.now - t0;
    assert!(
        elapsed >= Duration::from_secs(29) && elapsed <= Duration::from_secs(31),
        "{elapsed:?}"
    );
}
