//! The sans-IO core for one OpenVPN connection (one pair of session ids, the initial TLS
//! session and every renegotiation after it). It consumes link packets, TUN packets and the
//! clock, and produces link packets, decrypted TUN packets, timers and `ConnEvent`s. It never
//! touches a socket; the drivers in `driver.rs` do the I/O and decide about reconnects.

mod batch;
mod control;
mod key_state;
mod messages;

use key_state::KeyState;

use crate::api::{EngineError, LogLevel, PendingMethod};
use crate::config::{AuthDigest, Compression, DataCipher, ErrorCode, Keepalive, PushedSettings};
use crate::ctrl_msg::{self, Crv1};
use crate::data::{self, Encapsulation, OCC_EXIT, OCC_MAGIC, PING};
use crate::km2::Framing;
use crate::mss::MssClamp;
use crate::push::PushAccumulator;
use crate::secret::Secret;
use crate::wire::{self, SessionId};
use crate::wrap::Wrap;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PUSH_REQUEST_INTERVAL: Duration = Duration::from_secs(5);
/// Control packets are kept ≤ tls-mtu (1250, including an IPv4/UDP header estimate).
const TLS_MTU: usize = 1250;
const IP_UDP_ESTIMATE: usize = 28;
/// After our new data keys exist, switch sending to them once the server has used them or
/// after this grace period (wire-protocol §9: the server may still be finishing its side).
const KEY_SWITCH_GRACE: Duration = Duration::from_secs(3);
/// Largest plaintext control message accepted from a server (AWS may send large ones).
const MAX_CONTROL_MESSAGE: usize = 256 * 1024;

/// Fills a buffer with secure random bytes (injectable for deterministic tests).
pub type RandFn = Box<dyn Fn(&mut [u8]) + Send + Sync>;

/// Everything one connection needs, prepared by the session layer from the EngineConfig.
pub struct ConnParams {
    pub tls: Arc<rustls::ClientConfig>,
    pub wrap: Box<dyn Fn(u32) -> Wrap + Send + Sync>,
    pub tls_crypt_v2: bool,
    /// The profile has a client certificate (for diagnosing a silent handshake failure).
    pub client_cert: bool,
    /// The connection's tls-auth / tls-crypt / tls-crypt-v2 (Kc) key2, mixed into the dynamic
    /// tls-crypt key (wire-protocol §2.6).
    pub wrap_key: Option<crate::keys::Key2>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub framing: Framing,
    pub options_string: String,
    pub peer_info: String,
    pub data_ciphers: Vec<DataCipher>,
    /// `data-ciphers-fallback`: the cipher of a server that names none (push or options string).
    pub data_ciphers_fallback: Option<DataCipher>,
    /// The HMAC digest of the CBC data ciphers (`auth`).
    pub data_auth: AuthDigest,
    pub compression: Compression,
    pub tun_mtu: u32,
    /// `mssfix`: the MSS limit for TCP SYNs both ways through the tunnel (None: off).
    pub mss: Option<MssClamp>,
    /// `route-nopull`: ignore pushed routes (the helper adds the profile's own routing).
    pub route_no_pull: bool,
    pub hand_window: Duration,
    pub tls_timeout: Duration,
    pub reneg_sec: u32,
    pub reneg_bytes: Option<u64>,
    pub keepalive: Option<Keepalive>,
    /// UDP sends an OCC EXIT on disconnect (explicit-exit-notify); TCP closes the stream.
    pub udp: bool,
}

/// How far the first handshake got when it failed (hand-window ran out or the link dropped). A stock server that rejects our
/// TLS version or our client certificate sends its alert and forgets the session at once, so
/// the alert rarely reaches us; the stage is the best evidence of what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeStage {
    /// Not even the server's hard reset arrived.
    NoAnswer,
    /// The server answered our reset but sent no TLS bytes after our ClientHello.
    ResetOnly,
    /// TLS started but the server never sent its key exchange. `client_cert`: the profile has
    /// one; `cert_requested`: the server asked for one.
    TlsStarted {
        client_cert: bool,
        cert_requested: bool,
    },
}

/// Why a connection ended; the session layer maps it to a reconnect or a terminal failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    AuthFailed(String),
    AuthFailedTemp {
        backoff_sec: Option<u32>,
    },
    Crv1(Crv1),
    Restart,
    Halt(String),
    ServerExit,
    PingTimeout,
    /// The server did not answer, or dropped us, before the first key exchange finished.
    HandshakeFailed(HandshakeStage),
    PushTimeout,
    /// The session time limit the server announced (`session-timeout`) was reached.
    SessionExpired,
    Error(EngineError),
    /// We closed it (disconnect).
    Local,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnEvent {
    /// TLS is up on the first key and our credentials are on their way.
    Authenticating,
    /// First complete PUSH_REPLY: the tunnel can be configured.
    Established(PushedSettings),
    Echo(String),
    Log(LogLevel, String),
    AuthPending {
        method: PendingMethod,
        payload: String,
        echo: bool,
        timeout_sec: u32,
    },
    /// Server pushed an auth-token (and maybe a username) to use on re-auth.
    AuthToken {
        token: String,
        user: Option<String>,
    },
    Closed(CloseReason),
}

pub struct Connection {
    p: ConnParams,
    rand: RandFn,
    wrap: Wrap,
    /// Dynamic tls-crypt for key_id >= 1 once the server pushed `dyn-tls-crypt`.
    reneg_wrap: Option<Wrap>,
    /// Unix time at `started`, for replay-id epochs created later.
    unix_base: u32,
    local_sid: SessionId,
    remote_sid: Option<SessionId>,
    resend_wkc: bool,
    /// keys[0] = primary (sending), then the renegotiating key and/or the lame duck.
    keys: Vec<KeyState>,
    next_key_id: u8,
    enc: Encapsulation,
    cipher: Option<DataCipher>,
    tls_ekm: bool,
    cc_exit: bool,
    established: bool,
    push_acc: PushAccumulator,
    push_sent_at: Option<Instant>,
    push_deadline: Option<Instant>,
    started: Instant,
    last_rx: Instant,
    last_tx: Instant,
    ping: Option<Duration>,
    ping_restart: Option<Duration>,
    reneg_at: Option<Instant>,
    session_deadline: Option<Instant>,
    out: VecDeque<Vec<u8>>,
    events: VecDeque<ConnEvent>,
    closed: bool,
    /// AUTH_PENDING timeout announced by the server, for the INFO events that follow.
    pending_timeout: Option<u32>,
    /// Control packets dropped so far (for rate-limited logging).
    dropped: u64,
    next_drop_log: u64,
    scratch: Vec<u8>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

impl Connection {
    /// Starts a connection: queues the client hard reset.
    pub fn new(
        p: ConnParams,
        rand: RandFn,
        unix_now: u32,
        now: Instant,
    ) -> Result<Self, EngineError> {
        let mut local_sid = [0u8; 8];
        while local_sid == [0; 8] {
            rand(&mut local_sid);
        }
        let wrap = (p.wrap)(unix_now);
        let mut key0 = KeyState::new(0, &p.tls, p.tls_timeout, &*rand, now)?;
        let reset = if p.tls_crypt_v2 {
            wire::P_CONTROL_HARD_RESET_CLIENT_V3
        } else {
            wire::P_CONTROL_HARD_RESET_CLIENT_V2
        };
        key0.send.push(reset, Vec::new(), now);
        let ping_restart = p
            .keepalive
            .map(|k| Duration::from_secs(k.timeout_sec.into()));
        let ping = p
            .keepalive
            .map(|k| Duration::from_secs(k.interval_sec.into()));
        let enc = Encapsulation {
            peer_id: None,
            compression: p.compression,
        };
        Ok(Self {
            p,
            rand,
            wrap,
            reneg_wrap: None,
            unix_base: unix_now,
            local_sid,
            remote_sid: None,
            resend_wkc: false,
            keys: vec![key0],
            next_key_id: 1,
            enc,
            cipher: None,
            tls_ekm: false,
            cc_exit: false,
            established: false,
            push_acc: PushAccumulator::default(),
            push_sent_at: None,
            push_deadline: None,
            started: now,
            last_rx: now,
            last_tx: now,
            ping,
            ping_restart,
            reneg_at: None,
            session_deadline: None,
            out: VecDeque::new(),
            events: VecDeque::new(),
            closed: false,
            pending_timeout: None,
            dropped: 0,
            next_drop_log: 1,
            scratch: Vec::with_capacity(2048),
            rx_bytes: 0,
            tx_bytes: 0,
        })
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// How far the first handshake got (meaningful while not established).
    pub fn handshake_stage(&self) -> HandshakeStage {
        if self.remote_sid.is_none() {
            HandshakeStage::NoAnswer
        } else if !self.keys[0].got_tls {
            HandshakeStage::ResetOnly
        } else {
            HandshakeStage::TlsStarted {
                client_cert: self.p.client_cert,
                cert_requested: self.keys[0]
                    .cert_requested
                    .load(std::sync::atomic::Ordering::Relaxed),
            }
        }
    }

    pub fn is_established(&self) -> bool {
        self.established
    }

    /// Bytes added around a TUN packet on the link (for buffer sizing).
    pub fn data_overhead(&self) -> usize {
        self.enc.overhead()
    }

    fn log(&mut self, level: LogLevel, text: impl Into<String>) {
        self.events.push_back(ConnEvent::Log(level, text.into()));
    }

    fn close(&mut self, reason: CloseReason) {
        if !self.closed {
            self.closed = true;
            self.events.push_back(ConnEvent::Closed(reason));
        }
    }

    pub fn poll_event(&mut self) -> Option<ConnEvent> {
        self.events.pop_front()
    }

    /// Next link packet to send (control packets, pings, exit notifications).
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.out.pop_front()
    }

    // ---------------------------------------------------------------- inbound link

    fn handle_data(&mut self, pkt: &mut [u8], now: Instant) -> Option<std::ops::Range<usize>> {
        let mut rx = [crate::pipeline::Rx::new(pkt)];
        self.open_run(&mut rx, now, None);
        rx[0].plain.take()
    }

    // ---------------------------------------------------------------- outbound data

    /// Encrypts one IP packet from the TUN device into `out`. Returns false if no data key
    /// is ready (the packet is dropped, like stock OpenVPN does before the tunnel is up).
    /// A TCP SYN's MSS is lowered to the `mssfix` limit first.
    pub fn encrypt_tun(&mut self, ip: &mut [u8], out: &mut Vec<u8>, now: Instant) -> bool {
        if !self.prepare_tun(ip) {
            return false;
        }
        if self.seal(ip, out) {
            self.tx_bytes += ip.len() as u64;
            self.last_tx = now;
            true
        } else {
            false
        }
    }

    /// A TUN packet can be sent (the tunnel is up and it is not empty); its MSS is clamped.
    fn prepare_tun(&self, ip: &mut [u8]) -> bool {
        if !self.established || ip.is_empty() {
            return false;
        }
        if let Some(mss) = self.p.mss {
            mss.apply(ip);
        }
        true
    }

    fn seal(&mut self, payload: &[u8], out: &mut Vec<u8>) -> bool {
        let Some(ks) = self.keys.first_mut() else {
            return false;
        };
        let Some(keys) = ks.data.as_mut() else {
            return false;
        };
        let hdr = self.enc.begin(ks.key_id, payload, out);
        if keys.seal(out, hdr).is_err() {
            return false;
        }
        ks.bytes += out.len() as u64;
        true
    }

    fn send_data_payload(&mut self, payload: &[u8], now: Instant) {
        let mut out = Vec::with_capacity(payload.len() + 64);
        if self.seal(payload, &mut out) {
            self.last_tx = now;
            self.out.push_back(out);
        }
    }

    // ---------------------------------------------------------------- commands

    /// Sends `CR_RESPONSE` for a CR_TEXT challenge.
    pub fn send_cr_response(&mut self, response: &str, now: Instant) {
        let msg = ctrl_msg::cr_response(response);
        self.send_message(0, msg.as_bytes());
        self.flush(now);
    }

    /// Starts an orderly shutdown: EXIT over the control channel when cc-exit was negotiated,
    /// else an OCC EXIT data packet on UDP (explicit-exit-notify).
    pub fn disconnect(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if self.established {
            if self.cc_exit {
                self.send_message(0, b"EXIT");
            } else if self.p.udp {
                let mut occ = [0u8; 17];
                occ[..16].copy_from_slice(&OCC_MAGIC);
                occ[16] = OCC_EXIT;
                self.send_data_payload(&occ, now);
            }
        }
        self.flush(now);
        self.close(CloseReason::Local);
    }

    // ---------------------------------------------------------------- timers

    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        // The earliest of the deadlines below; no collection, as the driver asks every step.
        let mut t = Earliest(None);
        for d in self.keys.iter().filter_map(|k| k.send.next_deadline()) {
            t.push(d);
        }
        // Once the key exchange is done, the push deadline (possibly extended by AUTH_PENDING)
        // replaces the hand-window.
        if !self.established && self.push_deadline.is_none() {
            t.push(self.started + self.p.hand_window);
        }
        if let Some(d) = self.push_deadline {
            t.push(d);
        }
        if let Some(s) = self.push_sent_at.filter(|_| !self.established) {
            t.push(s + PUSH_REQUEST_INTERVAL);
        }
        if self.established {
            if let Some(p) = self.ping {
                t.push(self.last_tx + p);
            }
            if let Some(r) = self.ping_restart {
                t.push(self.last_rx + r);
            }
            if let Some(r) = self.reneg_at {
                t.push(r);
            }
            if let Some(d) = self.session_deadline {
                t.push(d);
            }
            for k in self.keys[1..].iter().filter(|k| !k.lame) {
                if k.data.is_none() {
                    t.push(k.started + self.p.hand_window);
                } else if let Some(at) = k.keys_at.filter(|_| k.send.is_empty()) {
                    // Switching also waits for our control packets to be acknowledged; the
                    // ACK itself arrives as a packet, so no timer is needed until then.
                    t.push(at + KEY_SWITCH_GRACE);
                }
            }
        }
        t.0
    }

    /// The machine was suspended for `slept`, which `now` does not count: the keepalive
    /// does. Past ping-restart the server has dropped us, so the connection restarts now
    /// rather than a whole ping-restart after the resume.
    pub fn handle_suspended(&mut self, slept: Duration, now: Instant) {
        if self.closed || !self.established {
            return;
        }
        if let Some(r) = self.ping_restart {
            if now.saturating_duration_since(self.last_rx) + slept >= r {
                self.close(CloseReason::PingTimeout);
                return;
            }
            // Less than that: the rest of the timeout counts from before the suspension.
            if let Some(earlier) = self.last_rx.checked_sub(slept) {
                self.last_rx = earlier;
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if !self.established
            && now >= self.started + self.p.hand_window
            && self.push_deadline.is_none()
        {
            let stage = self.handshake_stage();
            self.close(CloseReason::HandshakeFailed(stage));
            return;
        }
        if let Some(d) = self.push_deadline {
            if now >= d {
                self.close(CloseReason::PushTimeout);
                return;
            }
        }
        if !self.established {
            if let Some(s) = self.push_sent_at {
                if now >= s + PUSH_REQUEST_INTERVAL {
                    self.send_push_request(now);
                }
            }
        } else {
            if self.session_deadline.is_some_and(|d| now >= d) {
                self.close(CloseReason::SessionExpired);
                return;
            }
            if let Some(r) = self.ping_restart {
                if now >= self.last_rx + r {
                    self.close(CloseReason::PingTimeout);
                    return;
                }
            }
            if let Some(p) = self.ping {
                if now >= self.last_tx + p {
                    self.send_data_payload(&PING, now);
                }
            }
            let bytes_due = self.p.reneg_bytes.is_some_and(|b| self.keys[0].bytes >= b);
            let pid_due = self.keys[0]
                .data
                .as_ref()
                .is_some_and(|d| d.send_id() >= data::PACKET_ID_RENEG);
            if (self.reneg_at.is_some_and(|r| now >= r) || bytes_due || pid_due)
                && self.keys.iter().all(|k| k.data.is_some())
            {
                match self.start_renegotiation(now) {
                    Ok(()) => self.log(LogLevel::Info, "starting renegotiation"),
                    Err(e) => {
                        self.close(CloseReason::Error(e));
                        return;
                    }
                }
            }
            if self
                .keys
                .iter()
                .skip(1)
                .any(|k| k.data.is_none() && now >= k.started + self.p.hand_window)
            {
                self.close(CloseReason::Error(EngineError::new(
                    ErrorCode::TlsFailed,
                    "renegotiation did not finish within hand-window",
                )));
                return;
            }
            self.maybe_switch_key(now);
        }
        self.flush(now);
    }

    /// Creates the next key state and queues our SOFT_RESET (initiator or responder).
    fn start_renegotiation(&mut self, now: Instant) -> Result<(), EngineError> {
        let key_id = self.next_key_id;
        self.next_key_id = if key_id == 7 { 1 } else { key_id + 1 };
        let mut ks = KeyState::new(key_id, &self.p.tls, self.p.tls_timeout, &*self.rand, now)?;
        ks.send.push(wire::P_CONTROL_SOFT_RESET_V1, Vec::new(), now);
        // The previous renegotiation's key becomes primary now; the peer keeps only its two
        // newest keys. Then drop the lame duck: at most primary + the new key.
        self.switch_key(now, true);
        self.keys.truncate(1);
        self.keys.push(ks);
        self.reneg_at =
            (self.p.reneg_sec > 0).then(|| now + Duration::from_secs(self.p.reneg_sec.into()));
        Ok(())
    }

    /// Makes the renegotiated key primary once it is safe (wire-protocol §9).
    fn maybe_switch_key(&mut self, now: Instant) {
        self.switch_key(now, false);
    }

    /// Promotes the renegotiated key (if it has data keys) to primary; `force` skips the
    /// grace period (a newer renegotiation is starting and the server will drop the oldest).
    fn switch_key(&mut self, now: Instant, force: bool) {
        let Some(idx) = self
            .keys
            .iter()
            .skip(1)
            .position(|k| k.data.is_some() && !k.lame)
            .map(|i| i + 1)
        else {
            return;
        };
        let k = &self.keys[idx];
        let ready = force
            || k.send.is_empty()
                && (k.peer_used || k.keys_at.is_some_and(|at| now >= at + KEY_SWITCH_GRACE));
        if ready {
            let new = self.keys.remove(idx);
            self.keys.insert(0, new);
            // Old primary stays at index 1 as the lame duck (receive only).
            self.keys.truncate(2);
            if let Some(old) = self.keys.get_mut(1) {
                old.lame = true;
            }
            self.log(
                LogLevel::Info,
                format!("switched to data key {}", self.keys[0].key_id),
            );
        }
    }

    // ---------------------------------------------------------------- outbound control
}

/// The earliest of the instants pushed into it.
struct Earliest(Option<Instant>);

impl Earliest {
    fn push(&mut self, t: Instant) {
        self.0 = Some(self.0.map_or(t, |e| e.min(t)));
    }
}
