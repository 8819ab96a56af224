//! The session's decisions, driven deterministically: no socket, no root, a virtual clock.

use super::machine::{randomized_host, Action, End, RandFn, SessionMachine};
use crate::api::{Command, CredentialKind, Event, LogLevel};
use crate::config::{
    AddressFamily, Credentials, EngineConfig, ErrorCode, Proto, PushedSettings, Remote,
    SessionPhase, StaticChallenge,
};
use crate::connection::{CloseReason, ConnEvent, HandshakeStage};
use crate::ctrl_msg::Crv1;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A remote of either address family.
fn remote(host: &str, port: u16, proto: Proto) -> Remote {
    Remote {
        host: host.into(),
        port,
        proto,
        family: AddressFamily::Any,
    }
}

fn config() -> EngineConfig {
    // A password profile with its credentials, one UDP remote, no retry limit.
    let mut c = crate::config::tests_support::vector_config("to-connect-minimal");
    c.remotes = vec![remote("vpn.example.com", 1194, Proto::Udp)];
    c.auth_user_pass = true;
    c.credentials = Some(Credentials {
        username: "u".into(),
        password: "p".into(),
    });
    c.connect_retry_max = None;
    c.connect_retry.initial_sec = 1;
    c.connect_retry.max_sec = 8;
    c
}

fn counting_rand() -> RandFn {
    let mut n = 0u8;
    Box::new(move |buf: &mut [u8]| {
        for b in buf {
            n = n.wrapping_add(1);
            *b = n;
        }
    })
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn settings() -> PushedSettings {
    serde_json::from_value(serde_json::json!({
        "ipv4": null, "ipv6": null, "routes": [], "routesIpv6": [], "redirectGateway": false, "redirectGatewayIpv6": false, "blockLocal": false, "blockIpv6": false,
        "dns": {"servers": [], "searchDomains": [], "routeDomains": []},
        "mtu": 1500, "peerId": null, "cipher": "AES-256-GCM", "sessionTimeoutSec": null
    }))
    .unwrap()
}

/// One attempt as the machine asked for it.
#[derive(Debug, PartialEq, Eq)]
struct Dial {
    at: Duration,
    addr: SocketAddr,
    username: Option<String>,
    password: String,
}

/// Drives the machine on a virtual clock, recording what it did.
struct Harness {
    m: SessionMachine,
    start: Instant,
    now: Instant,
    events: Vec<Event>,
    dials: Vec<Dial>,
    lookups: Vec<String>,
    wake: Option<Instant>,
    teardowns: usize,
    configures: usize,
    ended: Vec<End>,
}

impl Harness {
    fn new(cfg: EngineConfig) -> Self {
        let start = Instant::now();
        let mut h = Harness {
            m: SessionMachine::new(cfg, counting_rand()),
            start,
            now: start,
            events: Vec::new(),
            dials: Vec::new(),
            lookups: Vec::new(),
            wake: None,
            teardowns: 0,
            configures: 0,
            ended: Vec::new(),
        };
        h.drain();
        h
    }

    /// Records every pending action; answers nothing.
    fn drain(&mut self) {
        while let Some(a) = self.m.poll_action() {
            match a {
                Action::Emit(e) => self.events.push(e),
                Action::Resolve { lookup, .. } => self.lookups.push(lookup),
                Action::Connect {
                    addr,
                    username,
                    password,
                    ..
                } => self.dials.push(Dial {
                    at: self.now - self.start,
                    addr,
                    username,
                    password: password
                        .map(|p| String::from_utf8(p.as_bytes().to_vec()).unwrap())
                        .unwrap_or_default(),
                }),
                Action::SleepUntil(t) => self.wake = Some(t),
                Action::Configure { .. } => self.configures += 1,
                Action::Teardown => self.teardowns += 1,
                Action::EndConnection(e) => self.ended.push(e),
            }
        }
    }

    fn resolved(&mut self, a: &str) {
        self.m.handle_resolved(Ok(vec![addr(a)]), self.now);
        self.drain();
    }

    fn conn(&mut self, ev: ConnEvent) {
        self.m.handle_connection(ev, self.now);
        self.drain();
    }

    /// The open connection gets its PUSH_REPLY and the network is configured.
    fn establish(&mut self) {
        self.conn(ConnEvent::Established(settings()));
        self.m.handle_network_ready(Ok("tun0".into()));
        self.drain();
    }

    fn closed(&mut self, reason: CloseReason) {
        self.conn(ConnEvent::Closed(reason));
    }

    fn dial_failed(&mut self) {
        self.m.handle_dial_failed("connection refused", self.now);
        self.drain();
    }

    /// Lets virtual time run to the pending wake-up.
    fn sleep(&mut self) {
        let t = self.wake.take().expect("a pending SleepUntil");
        self.now = t;
        self.m.handle_timeout(self.now);
        self.drain();
    }

    fn answer(&mut self, password: Option<&str>, response: Option<&str>) {
        self.m.handle_command(
            Command::Credentials {
                username: None,
                password: password.map(str::to_string),
                response: response.map(str::to_string),
            },
            self.now,
        );
        self.drain();
    }

    /// What `pick` takes from each event it matches, in order.
    fn picked<T>(&self, pick: impl Fn(&Event) -> Option<T>) -> Vec<T> {
        self.events.iter().filter_map(pick).collect()
    }

    fn prompts(&self) -> Vec<CredentialKind> {
        self.picked(|e| match e {
            Event::NeedCredentials { kind, .. } => Some(*kind),
            _ => None,
        })
    }

    fn phases(&self) -> Vec<SessionPhase> {
        self.picked(|e| match e {
            Event::Phase { phase, .. } => Some(*phase),
            _ => None,
        })
    }

    fn failure(&self) -> Option<(ErrorCode, String)> {
        self.events.iter().rev().find_map(|e| match e {
            Event::Phase {
                phase: SessionPhase::Failed,
                error: Some(e),
                ..
            } => Some((e.code, e.message.clone())),
            _ => None,
        })
    }

    fn last_dial(&self) -> &Dial {
        self.dials.last().expect("a dial")
    }
}

fn token(t: &str) -> ConnEvent {
    ConnEvent::AuthToken {
        token: t.into(),
        user: None,
    }
}

#[test]
fn reconnects_with_the_pushed_auth_token_and_keeps_the_tunnel() {
    let mut h = Harness::new(config());
    h.resolved("192.0.2.1:1194");
    assert_eq!(h.last_dial().password, "p");
    h.conn(ConnEvent::Authenticating);
    h.conn(token("tok-1"));
    h.establish();
    assert_eq!(h.configures, 1);
    h.closed(CloseReason::PingTimeout);
    assert_eq!(h.ended, vec![End::Drain { linger: false }]);
    h.sleep();
    // persist-remote-ip: the same address, no new lookup; the token, not the password.
    assert_eq!(h.lookups.len(), 1);
    let d = h.last_dial();
    assert_eq!(
        (d.addr, d.password.as_str()),
        (addr("192.0.2.1:1194"), "tok-1")
    );
    assert_eq!(d.username.as_deref(), Some("u"));
    h.establish();
    assert_eq!(
        (h.configures, h.teardowns),
        (1, 0),
        "same settings: tunnel kept"
    );
    h.m.handle_command(Command::Disconnect, h.now);
    h.drain();
    assert!(h.m.is_finished());
    assert_eq!(h.teardowns, 1);
    assert_eq!(h.phases().last(), Some(&SessionPhase::Disconnected));
}

#[test]
fn a_stale_auth_token_costs_exactly_one_fresh_login() {
    let mut h = Harness::new(config());
    h.resolved("192.0.2.1:1194");
    h.conn(token("stale"));
    h.establish();
    h.closed(CloseReason::Restart);
    h.sleep();
    assert_eq!(h.last_dial().password, "stale");
    // The restarted server forgot the token.
    h.closed(CloseReason::AuthFailed(String::new()));
    assert!(h.wake.is_none(), "the fallback goes out at once");
    // The remembered address just failed, so the name is looked up again.
    h.resolved("192.0.2.1:1194");
    assert_eq!(h.last_dial().password, "p");
    assert_eq!(h.last_dial().at, Duration::from_secs(1));
    // The password is refused too: the session fails instead of looping.
    h.closed(CloseReason::AuthFailed("bad".into()));
    assert_eq!(h.dials.len(), 3);
    assert_eq!(
        h.failure(),
        Some((ErrorCode::AuthFailed, "authentication failed: bad".into()))
    );
    assert!(h.m.is_finished());
}

fn crv1() -> Crv1 {
    Crv1 {
        echo: false,
        response_required: true,
        state_id: "state42".into(),
        username: "alice".into(),
        text: "Enter code".into(),
    }
}

#[test]
fn a_crv1_answer_goes_to_the_address_that_issued_the_challenge_once() {
    let mut cfg = config();
    cfg.remotes
        .push(remote("second.example.com", 1194, Proto::Udp));
    let mut h = Harness::new(cfg);
    h.resolved("192.0.2.1:1194");
    h.closed(CloseReason::Crv1(crv1()));
    assert_eq!(h.prompts(), vec![CredentialKind::Crv1]);
    h.answer(None, Some("123456"));
    // No lookup (the name could now point elsewhere), no pause.
    assert_eq!(h.lookups.len(), 1);
    let d = h.last_dial();
    assert_eq!(d.addr, addr("192.0.2.1:1194"));
    assert_eq!(d.at, Duration::ZERO);
    assert_eq!(d.username.as_deref(), Some("alice"));
    assert_eq!(d.password, "CRV1::state42::123456");
    // The answer is not accepted: the session fails rather than replay it elsewhere.
    h.closed(CloseReason::PingTimeout);
    assert_eq!(
        h.failure(),
        Some((
            ErrorCode::AuthFailed,
            "the challenge answer was not accepted".into()
        ))
    );
    assert_eq!(h.dials.len(), 2);
}

#[test]
fn a_refused_token_after_a_crv1_login_falls_back_to_the_original_credentials() {
    let mut h = Harness::new(config());
    h.resolved("192.0.2.1:1194");
    h.closed(CloseReason::Crv1(crv1()));
    h.answer(None, Some("assertion"));
    h.conn(token("t"));
    h.establish();
    h.closed(CloseReason::PingTimeout);
    h.sleep();
    assert_eq!(h.last_dial().password, "t");
    h.closed(CloseReason::AuthFailed(String::new()));
    h.resolved("192.0.2.1:1194");
    // The single-use CRV1 answer is never replayed: the original login starts over.
    let d = h.last_dial();
    assert_eq!(
        (d.username.as_deref(), d.password.as_str()),
        (Some("u"), "p")
    );
}

#[test]
fn a_static_challenge_is_asked_again_on_every_reconnect_without_a_token() {
    let mut cfg = config();
    cfg.static_challenge = Some(StaticChallenge {
        text: "OTP".into(),
        echo: true,
    });
    let mut h = Harness::new(cfg);
    assert_eq!(h.prompts(), vec![CredentialKind::StaticChallenge]);
    assert!(h.lookups.is_empty(), "nothing is dialed before the answer");
    h.answer(None, Some("111111"));
    h.resolved("192.0.2.1:1194");
    // base64("p") and base64("111111").
    assert_eq!(h.last_dial().password, "SCRV1:cA==:MTExMTEx");
    h.establish();
    h.closed(CloseReason::PingTimeout);
    h.sleep();
    assert_eq!(h.prompts().len(), 2, "a one-time code is not replayed");
    assert_eq!(h.dials.len(), 1);
    h.answer(Some("typed"), Some("222222"));
    assert_eq!(h.last_dial().password, "SCRV1:dHlwZWQ=:MjIyMjIy");
    // With an auth-token the reconnect needs no new code.
    h.conn(token("tok"));
    h.establish();
    h.closed(CloseReason::PingTimeout);
    h.sleep();
    assert_eq!(h.prompts().len(), 2);
    assert_eq!(h.last_dial().password, "tok");
}

#[test]
fn fails_over_across_the_remotes_and_gives_up_after_connect_retry_max() {
    let mut cfg = config();
    cfg.connect_retry_max = Some(2);
    for host in ["b.example.com", "c.example.com"] {
        cfg.remotes.push(remote(host, 443, Proto::Tcp));
    }
    let mut h = Harness::new(cfg);
    h.resolved("192.0.2.1:1194");
    h.dial_failed();
    h.sleep();
    h.resolved("192.0.2.2:443");
    h.dial_failed();
    h.sleep();
    // The third remote's name does not resolve: that counts as a failed attempt too.
    h.m.handle_resolved(
        Err(crate::api::EngineError::new(
            ErrorCode::ServerUnreachable,
            "cannot resolve c.example.com",
        )),
        h.now,
    );
    h.drain();
    h.sleep();
    h.resolved("192.0.2.1:1194");
    h.conn(ConnEvent::Closed(CloseReason::HandshakeFailed(
        HandshakeStage::NoAnswer,
    )));
    h.sleep();
    h.resolved("192.0.2.2:443");
    h.dial_failed();
    h.sleep();
    h.resolved("192.0.2.3:443");
    h.dial_failed();
    let dialed: Vec<SocketAddr> = h.dials.iter().map(|d| d.addr).collect();
    assert_eq!(
        dialed,
        [
            "192.0.2.1:1194",
            "192.0.2.2:443",
            "192.0.2.1:1194",
            "192.0.2.2:443",
            "192.0.2.3:443"
        ]
        .map(addr)
    );
    let (code, message) = h.failure().expect("gave up");
    assert_eq!(code, ErrorCode::ServerUnreachable);
    assert!(
        message.starts_with("giving up after 6 failed attempts"),
        "{message}"
    );
}

#[test]
fn backs_off_on_a_virtual_clock() {
    let mut h = Harness::new(config());
    for i in 0..8 {
        h.resolved(&format!("192.0.2.{}:1194", i + 1));
        h.dial_failed();
        let due = h.wake.expect("a pause");
        // An early timer does not start the attempt.
        h.m.handle_timeout(h.now + (due - h.now) / 2);
        h.drain();
        assert!(
            h.lookups.len() == i + 1,
            "nothing starts before the pause is over"
        );
        h.sleep();
    }
    let at: Vec<u64> = h.dials.iter().map(|d| d.at.as_secs()).collect();
    // 1 s pauses, doubling after five failures, capped at connect-retry's 8 s.
    assert_eq!(at, vec![0, 1, 2, 3, 4, 5, 7, 11]);
    assert!(h.events.iter().any(
        |e| matches!(e, Event::Log { level: LogLevel::Info, text } if text == "retrying in 8 s")
    ));
}

#[test]
fn auth_failed_temp_waits_as_long_as_the_server_asks() {
    let mut h = Harness::new(config());
    h.resolved("192.0.2.1:1194");
    h.closed(CloseReason::AuthFailedTemp {
        backoff_sec: Some(30),
    });
    h.sleep();
    h.resolved("192.0.2.1:1194");
    assert_eq!(h.last_dial().at, Duration::from_secs(30));
}

#[test]
fn a_disconnect_ends_any_wait_and_tears_the_tunnel_down() {
    let mut h = Harness::new(config());
    h.resolved("192.0.2.1:1194");
    h.establish();
    h.closed(CloseReason::ServerExit);
    assert!(h.wake.is_some());
    h.m.handle_command(Command::Disconnect, h.now);
    h.drain();
    assert!(h.m.is_finished());
    assert_eq!(h.teardowns, 1);
    assert_eq!(h.phases().last(), Some(&SessionPhase::Disconnected));
    assert_eq!(h.dials.len(), 1);
}

#[test]
fn a_local_close_lingers_then_tears_down() {
    let mut h = Harness::new(config());
    h.resolved("192.0.2.1:1194");
    h.establish();
    h.closed(CloseReason::Local);
    assert_eq!(h.ended, vec![End::Drain { linger: true }]);
    let tail: Vec<SessionPhase> = h.phases().into_iter().rev().take(2).collect();
    assert_eq!(
        tail,
        vec![SessionPhase::Disconnected, SessionPhase::Disconnecting]
    );
    assert_eq!(h.teardowns, 1);
}

#[test]
fn a_failed_network_setup_says_goodbye_and_fails() {
    let mut h = Harness::new(config());
    h.resolved("192.0.2.1:1194");
    h.conn(ConnEvent::Established(settings()));
    h.m.handle_network_ready(Err(crate::api::EngineError::new(
        ErrorCode::NetworkSetupFailed,
        "no TUN",
    )));
    h.drain();
    assert_eq!(h.ended, vec![End::Disconnect]);
    assert_eq!(h.teardowns, 0, "nothing was configured");
    assert_eq!(
        h.failure().map(|f| f.0),
        Some(ErrorCode::NetworkSetupFailed)
    );
}

#[test]
fn a_password_prompt_when_the_profile_has_none() {
    let mut cfg = config();
    cfg.credentials = None;
    let mut h = Harness::new(cfg);
    assert_eq!(h.prompts(), vec![CredentialKind::Password]);
    h.answer(Some("typed"), None);
    h.resolved("192.0.2.1:1194");
    assert_eq!(h.last_dial().password, "typed");
}

#[test]
fn random_hostname_label() {
    let mut rand = counting_rand();
    let host = "cvpn-endpoint-0123.prod.clientvpn.eu-west-1.amazonaws.com";
    let a = randomized_host(host, &mut rand);
    let b = randomized_host(host, &mut rand);
    let (label, rest) = a.split_once('.').unwrap();
    assert_eq!(label.len(), 12);
    assert!(label.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(rest, host);
    assert_ne!(a, b, "a fresh label per attempt");
    assert_eq!(randomized_host("192.0.2.7", &mut rand), "192.0.2.7");
}

#[test]
fn remote_random_hostname_is_looked_up_under_a_fresh_label() {
    let mut cfg = config();
    cfg.remote_random_hostname = true;
    let h = Harness::new(cfg);
    assert_eq!(h.lookups, vec!["010203040506.vpn.example.com".to_string()]);
}

#[test]
fn a_dual_stack_name_is_tried_over_its_other_family_before_the_next_remote() {
    let mut cfg = config();
    cfg.remotes.push(remote("b.example.com", 1194, Proto::Udp));
    let mut h = Harness::new(cfg);
    h.m.handle_resolved(
        Ok(vec![addr("192.0.2.1:1194"), addr("[2001:db8::1]:1194")]),
        h.now,
    );
    h.drain();
    h.dial_failed();
    // At once, without a pause or a lookup: the same remote over IPv6.
    assert_eq!(h.lookups.len(), 1);
    let d = h.last_dial();
    assert_eq!(d.addr, addr("[2001:db8::1]:1194"));
    assert_eq!(d.at, Duration::ZERO);
    // Both addresses failed: now the remote counts as failed and the next one is resolved.
    h.conn(ConnEvent::Closed(CloseReason::HandshakeFailed(
        HandshakeStage::NoAnswer,
    )));
    h.sleep();
    assert_eq!(h.lookups, vec!["vpn.example.com", "b.example.com"]);
}

#[test]
fn a_handshake_stalled_after_the_reset_is_tried_again_and_a_repeat_is_a_refusal() {
    let stall = || CloseReason::HandshakeFailed(HandshakeStage::ResetOnly);
    let mut h = Harness::new(config());
    h.resolved("192.0.2.1:1194");
    // A lossy path lost the answer to our ClientHello: the next attempt follows, not a failure.
    h.closed(stall());
    assert_eq!(h.failure(), None);
    h.sleep();
    h.resolved("192.0.2.1:1194");
    assert_eq!(h.dials.len(), 2);
    // That one gets through.
    h.establish();
    assert_eq!(h.phases().last(), Some(&SessionPhase::Connected));

    // A server refusing our TLS versions stalls every handshake the same way: twice in a row
    // ends the session with the refusal.
    let mut h = Harness::new(config());
    h.resolved("192.0.2.1:1194");
    h.closed(stall());
    h.sleep();
    h.resolved("192.0.2.1:1194");
    h.closed(stall());
    let (code, message) = h.failure().expect("refused");
    assert_eq!(code, ErrorCode::TlsVersionRefused);
    assert!(message.contains("TLS"), "{message}");
    assert_eq!(h.dials.len(), 2);
}

#[test]
fn a_proxy_that_refuses_its_password_fails_the_session_without_retrying() {
    let mut h = Harness::new(config());
    h.resolved("192.0.2.1:1194");
    h.m.handle_proxy_credentials_refused(
        "through the SOCKS proxy 10.0.0.9:1080: the SOCKS proxy refused the proxy username or password",
    );
    h.drain();
    let (code, message) = h.failure().expect("failed at once");
    assert_eq!(code, ErrorCode::ProxyAuthFailed);
    assert!(
        message.contains("refused the proxy username or password"),
        "{message}"
    );
    assert_eq!(h.dials.len(), 1, "no second dial with the same password");
    assert!(h.wake.is_none(), "no retry scheduled");
    assert!(h.m.is_finished());
}
