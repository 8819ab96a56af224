//! The sans-IO core for one OpenVPN connection (one pair of session ids, the initial TLS
//! session and every renegotiation after it). It consumes link packets, TUN packets and the
//! clock, and produces link packets, decrypted TUN packets, timers and `ConnEvent`s. It never
//! touches a socket; the drivers in `driver.rs` do the I/O and decide about reconnects.

use crate::api::{EngineError, LogLevel, PendingMethod};
use crate::config::{Compression, DataCipher, ErrorCode, Keepalive, PushedSettings};
use crate::ctrl_msg::{self, Crv1, InfoRequest, ServerMessage};
use crate::data::{self, DataKeys, Encapsulation, OCC_EXIT, OCC_MAGIC, PING};
use crate::km2::{self, ClientKm2, Framing, KeySource, ServerKm2};
use crate::push::{self, PushAccumulator, PushedOptions};
use crate::reliable::{self, Received, ReliableRecv, ReliableSend};
use crate::secret::Secret;
use crate::wire::{self, SessionId};
use crate::wrap::Wrap;
use std::collections::VecDeque;
use std::io::Write as _;
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

/// Everything one connection needs, prepared by the session layer from the EngineConfig.
/// Fills a buffer with secure random bytes (injectable for deterministic tests).
pub type RandFn = Box<dyn Fn(&mut [u8]) + Send + Sync>;

pub struct ConnParams {
    pub tls: Arc<rustls::ClientConfig>,
    pub wrap: Box<dyn Fn(u32) -> Wrap + Send + Sync>,
    pub tls_crypt_v2: bool,
    /// The connection's tls-auth / tls-crypt / tls-crypt-v2 (Kc) key2, mixed into the dynamic
    /// tls-crypt key (wire-protocol §2.6).
    pub wrap_key: Option<crate::keys::Key2>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub framing: Framing,
    pub options_string: String,
    pub peer_info: String,
    pub data_ciphers: Vec<DataCipher>,
    pub compression: Compression,
    pub tun_mtu: u32,
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
    /// The server did not answer or the handshake did not finish within hand-window.
    HandshakeTimeout {
        got_server_reset: bool,
        got_server_tls: bool,
    },
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

struct KeyState {
    key_id: u8,
    send: ReliableSend,
    recv: ReliableRecv,
    tls: rustls::ClientConnection,
    /// TLS ciphertext produced by rustls, not yet cut into control packets.
    tls_out: Vec<u8>,
    /// Plaintext from the server not yet consumed (KM2, then NUL-delimited messages).
    plain_in: Vec<u8>,
    source: KeySource,
    peer_reset_seen: bool,
    /// Any TLS bytes from the server (a ServerHello or an alert) arrived.
    got_tls: bool,
    km2_sent: bool,
    server_km2: Option<ServerKm2>,
    data: Option<DataKeys>,
    started: Instant,
    keys_at: Option<Instant>,
    peer_used: bool,
    /// Replaced by a newer key: receive only, no timers.
    lame: bool,
    bytes: u64,
}

impl KeyState {
    fn new(
        key_id: u8,
        tls: &Arc<rustls::ClientConfig>,
        tls_timeout: Duration,
        rand: &dyn Fn(&mut [u8]),
        now: Instant,
    ) -> Result<Self, EngineError> {
        let conn = rustls::ClientConnection::new(tls.clone(), crate::tls::dummy_server_name())
            .map_err(|e| crate::tls::map_tls_error(&e))?;
        // A KM2 can carry a 128 KiB password (AWS SAML); rustls would otherwise cap the
        // buffered plaintext at 64 KiB and silently accept only part of the write.
        let mut conn = conn;
        conn.set_buffer_limit(None);
        let mut source = KeySource {
            pre_master: [0; 48],
            random1: [0; 32],
            random2: [0; 32],
        };
        rand(&mut source.pre_master);
        rand(&mut source.random1);
        rand(&mut source.random2);
        Ok(Self {
            key_id,
            send: ReliableSend::new(tls_timeout),
            recv: ReliableRecv::new(),
            tls: conn,
            tls_out: Vec::new(),
            plain_in: Vec::new(),
            source,
            peer_reset_seen: false,
            got_tls: false,
            km2_sent: false,
            server_km2: None,
            data: None,
            started: now,
            keys_at: None,
            peer_used: false,
            lame: false,
            bytes: 0,
        })
    }
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
            scratch: Vec::with_capacity(2048),
            rx_bytes: 0,
            tx_bytes: 0,
        })
    }

    pub fn is_closed(&self) -> bool {
        self.closed
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

    /// Handles one link packet. If it carried tunnel data, returns the range of the IP packet
    /// inside `pkt` (decrypted in place) for the caller to write to the TUN device.
    pub fn handle_link(&mut self, pkt: &mut [u8], now: Instant) -> Option<std::ops::Range<usize>> {
        if self.closed || pkt.is_empty() {
            return None;
        }
        let op = wire::opcode(pkt[0]);
        if op == wire::P_DATA_V1 || op == wire::P_DATA_V2 {
            return self.handle_data(pkt, now);
        }
        if !wire::is_control(op) {
            return None;
        }
        let wrap = match &mut self.reneg_wrap {
            Some(w) if wire::key_id(pkt[0]) > 0 => w,
            _ => &mut self.wrap,
        };
        let plain = match wrap.unwrap(pkt) {
            Ok(p) => p,
            Err(e) => {
                self.log(LogLevel::Debug, format!("dropped control packet: {e}"));
                return None;
            }
        };
        if let Err(e) = self.handle_control(&plain, now) {
            self.log(LogLevel::Debug, format!("dropped control packet: {e}"));
        }
        self.flush(now);
        None
    }

    fn handle_control(&mut self, plain: &[u8], now: Instant) -> Result<(), String> {
        let pkt = wire::parse_control(plain).map_err(|e| e.to_string())?;
        match pkt.opcode {
            wire::P_CONTROL_HARD_RESET_CLIENT_V2
            | wire::P_CONTROL_HARD_RESET_CLIENT_V3
            | wire::P_CONTROL_WKC_V1 => {
                return Err("client->client connection attempted".into());
            }
            wire::P_CONTROL_HARD_RESET_SERVER_V2 => {
                if pkt.key_id != 0 || pkt.mpid != Some(0) {
                    return Err("invalid server hard reset".into());
                }
                match self.remote_sid {
                    None => {
                        self.remote_sid = Some(pkt.sid);
                        self.resend_wkc = wire::parse_early_negotiation(pkt.payload)
                            .map_err(|e| e.to_string())?
                            && self.p.tls_crypt_v2;
                    }
                    Some(s) if s != pkt.sid => {
                        return Err("server reset from another session".into())
                    }
                    Some(_) => {}
                }
            }
            _ => {
                if self.remote_sid != Some(pkt.sid) {
                    return Err("packet from unknown session".into());
                }
            }
        }
        if let Some(rs) = pkt.remote_sid {
            if rs != self.local_sid {
                return Err("ack for another session".into());
            }
        }
        self.last_rx = now;

        // A soft reset for the next key id starts a server-initiated renegotiation.
        if pkt.opcode == wire::P_CONTROL_SOFT_RESET_V1
            && !self.keys.iter().any(|k| k.key_id == pkt.key_id)
        {
            if pkt.key_id != self.next_key_id
                || self.keys[0].data.is_none()
                || self.keys.iter().any(|k| k.data.is_none())
            {
                return Err("key IDs out of sync".into());
            }
            self.start_renegotiation(now).map_err(|e| e.message)?;
            self.log(LogLevel::Info, "server started a renegotiation");
        }
        let Some(idx) = self.keys.iter().position(|k| k.key_id == pkt.key_id) else {
            return Err(format!("no key state for key id {}", pkt.key_id));
        };
        let first_from_peer = !self.keys[idx].peer_reset_seen;
        for id in pkt.ack_ids() {
            self.keys[idx].send.ack(id);
        }
        let Some(mpid) = pkt.mpid else { return Ok(()) };
        let ks = &mut self.keys[idx];
        if ks.recv.receive(mpid, pkt.opcode, pkt.payload) != Received::Accepted {
            return Ok(());
        }
        while let Some((op, payload)) = self.keys[idx].recv.pop_ordered() {
            match op {
                wire::P_CONTROL_HARD_RESET_SERVER_V2 | wire::P_CONTROL_SOFT_RESET_V1 => {
                    self.keys[idx].peer_reset_seen = true;
                    if first_from_peer {
                        self.keys[idx].send.resend_all_now(now);
                    }
                    if op == wire::P_CONTROL_HARD_RESET_SERVER_V2 && self.resend_wkc {
                        // mpid 1 must be a WKC_V1 (carrying the ACK for the server reset).
                        self.keys[idx]
                            .send
                            .push(wire::P_CONTROL_WKC_V1, Vec::new(), now);
                    }
                }
                wire::P_CONTROL_V1 => self.feed_tls(idx, &payload, now)?,
                _ => {}
            }
            if self.closed {
                break;
            }
        }
        Ok(())
    }

    fn feed_tls(&mut self, idx: usize, mut payload: &[u8], now: Instant) -> Result<(), String> {
        self.keys[idx].got_tls = true;
        while !payload.is_empty() {
            let ks = &mut self.keys[idx];
            ks.tls
                .read_tls(&mut payload)
                .map_err(|e| format!("TLS input: {e}"))?;
            if let Err(e) = ks.tls.process_new_packets() {
                // Let rustls emit its alert to the server before we go.
                let _ = ks.tls.write_tls(&mut ks.tls_out);
                let err = crate::tls::map_tls_error(&e);
                self.fail_key(idx, err);
                return Ok(());
            }
        }
        let ks = &mut self.keys[idx];
        let mut buf = [0u8; 4096];
        loop {
            match std::io::Read::read(&mut ks.tls.reader(), &mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if ks.plain_in.len() + n > MAX_CONTROL_MESSAGE {
                        return Err("control message too large".into());
                    }
                    ks.plain_in.extend_from_slice(&buf[..n]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => break,
            }
        }
        self.process_plaintext(idx, now);
        Ok(())
    }

    fn fail_key(&mut self, idx: usize, err: EngineError) {
        if idx == 0 && !self.established {
            self.close(CloseReason::Error(err));
        } else {
            // A failed renegotiation: the old key keeps working until it is replaced or the
            // connection restarts.
            self.log(
                LogLevel::Warn,
                format!("renegotiation failed: {}", err.message),
            );
            self.close(CloseReason::Error(err));
        }
    }

    fn process_plaintext(&mut self, idx: usize, now: Instant) {
        if self.keys[idx].server_km2.is_none() {
            match km2::parse_server(&self.keys[idx].plain_in) {
                Ok((km, used)) => {
                    self.keys[idx].plain_in.drain(..used);
                    self.keys[idx].server_km2 = Some(km);
                    self.on_key_exchanged(idx, now);
                }
                Err(km2::Km2Error::Incomplete) => return,
                Err(km2::Km2Error::Invalid(why)) => {
                    self.close(CloseReason::Error(EngineError::new(
                        ErrorCode::ProtocolError,
                        format!("server key exchange: {why}"),
                    )));
                    return;
                }
            }
        }
        while let Some(nul) = self.keys[idx].plain_in.iter().position(|b| *b == 0) {
            let raw: Vec<u8> = self.keys[idx].plain_in.drain(..=nul).collect();
            match ctrl_msg::sanitize(&raw[..raw.len() - 1]) {
                Some(msg) => {
                    let msg = msg.to_string();
                    self.handle_message(&msg, now);
                }
                None => self.log(
                    LogLevel::Debug,
                    "discarded a control message with control characters",
                ),
            }
            if self.closed {
                return;
            }
        }
    }

    fn on_key_exchanged(&mut self, idx: usize, now: Instant) {
        if self.keys[idx].key_id == 0 {
            if !self.established {
                self.send_push_request(now);
                self.push_deadline = Some(now + self.p.hand_window);
            }
        } else if let Some(cipher) = self.cipher {
            if let Err(e) = self.install_keys(idx, cipher, now) {
                self.close(CloseReason::Error(e));
            }
        }
    }

    /// The server ends sessions at the announced limit; a restart then is the expiry.
    fn session_expiring(&self, now: Instant) -> bool {
        self.session_deadline
            .is_some_and(|d| now + Duration::from_secs(10) >= d)
    }

    fn send_push_request(&mut self, now: Instant) {
        self.push_sent_at = Some(now);
        self.send_message(0, b"PUSH_REQUEST");
    }

    /// Writes one control message as one TLS record on key slot `idx`.
    fn send_message(&mut self, idx: usize, msg: &[u8]) {
        let Some(ks) = self.keys.get_mut(idx) else {
            return;
        };
        let mut rec = Vec::with_capacity(msg.len() + 1);
        rec.extend_from_slice(msg);
        rec.push(0);
        let _ = ks.tls.writer().write_all(&rec);
    }

    fn handle_message(&mut self, msg: &str, now: Instant) {
        match ctrl_msg::classify(msg) {
            ServerMessage::PushReply(body) => {
                if let Some(lines) = self.push_acc.feed(body) {
                    self.on_push_reply(&lines, now);
                }
            }
            ServerMessage::AuthFailed(reason) => {
                let reason = if let Some(c) = ctrl_msg::parse_crv1(reason) {
                    CloseReason::Crv1(c)
                } else if let Some(backoff_sec) = ctrl_msg::temp_backoff(reason) {
                    CloseReason::AuthFailedTemp { backoff_sec }
                } else {
                    CloseReason::AuthFailed(reason.to_string())
                };
                self.close(reason);
            }
            ServerMessage::Restart(_) if self.session_expiring(now) => {
                self.close(CloseReason::SessionExpired)
            }
            ServerMessage::Exit if self.session_expiring(now) => {
                self.close(CloseReason::SessionExpired)
            }
            ServerMessage::Restart(_) => self.close(CloseReason::Restart),
            ServerMessage::Halt(m) => self.close(CloseReason::Halt(m.to_string())),
            ServerMessage::Exit => self.close(CloseReason::ServerExit),
            ServerMessage::AuthPending(args) => {
                let timeout = ctrl_msg::auth_pending_timeout(args);
                if let Some(t) = timeout {
                    self.push_deadline = Some(now + Duration::from_secs(t.into()));
                }
                self.log(
                    LogLevel::Info,
                    "server is waiting for additional authentication",
                );
                self.pending_timeout = timeout;
            }
            ServerMessage::Info(extra) => {
                let timeout_sec = self
                    .pending_timeout
                    .unwrap_or(self.p.hand_window.as_secs() as u32);
                let ev = match ctrl_msg::parse_info(extra) {
                    Some(InfoRequest::WebAuth(url)) => Some((PendingMethod::WebAuth, url, false)),
                    Some(InfoRequest::OpenUrl(url)) => Some((PendingMethod::OpenUrl, url, false)),
                    Some(InfoRequest::CrText { echo, text }) => {
                        Some((PendingMethod::CrText, text, echo))
                    }
                    None => None,
                };
                match ev {
                    Some((method, payload, echo)) => {
                        self.events.push_back(ConnEvent::AuthPending {
                            method,
                            payload,
                            echo,
                            timeout_sec,
                        })
                    }
                    None => self.log(LogLevel::Info, "server sent an INFO message"),
                }
            }
            ServerMessage::Unknown => {
                let name: String = msg
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .take(32)
                    .collect();
                self.log(LogLevel::Debug, format!("ignored control message {name}"));
            }
        }
    }

    fn on_push_reply(&mut self, lines: &[String], now: Instant) {
        let (opts, echoes) = match push::parse_options(lines) {
            Ok(v) => v,
            Err(e) => {
                self.close(CloseReason::Error(EngineError::new(
                    ErrorCode::ProtocolError,
                    format!("unusable PUSH_REPLY: {e}"),
                )));
                return;
            }
        };
        for e in echoes {
            self.events.push_back(ConnEvent::Echo(e));
        }
        if let Some(token) = &opts.auth_token {
            self.events.push_back(ConnEvent::AuthToken {
                token: token.clone(),
                user: opts.auth_token_user.clone(),
            });
            // Renegotiations of this connection authenticate with the token.
            self.p.password = Some(Secret::from_text(token));
            if let Some(u) = &opts.auth_token_user {
                self.p.username = Some(u.clone());
            }
        }
        if self.established {
            return;
        }
        for name in &opts.ignored {
            self.log(LogLevel::Debug, format!("ignored pushed option '{name}'"));
        }
        match self.negotiate(&opts, now) {
            Ok(settings) => {
                self.established = true;
                self.push_deadline = None;
                self.events.push_back(ConnEvent::Established(settings));
            }
            Err(e) => self.close(CloseReason::Error(e)),
        }
    }

    fn negotiate(
        &mut self,
        opts: &PushedOptions,
        now: Instant,
    ) -> Result<PushedSettings, EngineError> {
        let server_occ_cipher = self.keys[0].server_km2.as_ref().and_then(|k| {
            k.options
                .split(',')
                .find_map(|o| o.strip_prefix("cipher "))
                .map(str::to_string)
        });
        let name = opts
            .cipher
            .clone()
            .or(server_occ_cipher)
            .unwrap_or_default();
        let cipher = DataCipher::from_name(&name)
            .filter(|c| self.p.data_ciphers.contains(c))
            .ok_or_else(|| {
                EngineError::new(
                    ErrorCode::ProtocolError,
                    format!(
                        "the server chose data cipher '{name}', which this profile does not allow"
                    ),
                )
            })?;
        self.cipher = Some(cipher);
        self.tls_ekm = opts.tls_ekm;
        self.cc_exit = opts.cc_exit;
        self.enc = Encapsulation {
            peer_id: opts.peer_id,
            compression: opts.compression.unwrap_or(self.p.compression),
        };
        if let Some(p) = opts.ping {
            self.ping = (p > 0).then(|| Duration::from_secs(p.into()));
        }
        if let Some(p) = opts.ping_restart {
            self.ping_restart = (p > 0).then(|| Duration::from_secs(p.into()));
        }
        self.install_keys(0, cipher, now)?;
        if opts.dyn_tls_crypt {
            self.reneg_wrap = Some(self.dynamic_tls_crypt(now)?);
        }
        self.session_deadline = opts
            .session_timeout
            .map(|t| now + Duration::from_secs(t.into()));
        if self.p.reneg_sec > 0 {
            self.reneg_at = Some(now + Duration::from_secs(self.p.reneg_sec.into()));
        }
        Ok(opts.to_settings(cipher, self.p.tun_mtu, self.p.route_no_pull))
    }

    /// tls-crypt for renegotiations keyed from the first TLS session: EKM
    /// "EXPORTER-OpenVPN-dynamic-tls-crypt" XOR the connection's original wrap key (§2.6).
    fn dynamic_tls_crypt(&mut self, now: Instant) -> Result<Wrap, EngineError> {
        let mut k = [0u8; 256];
        self.keys[0]
            .tls
            .export_keying_material(&mut k[..], b"EXPORTER-OpenVPN-dynamic-tls-crypt", None)
            .map_err(|e| {
                EngineError::new(ErrorCode::TlsFailed, format!("TLS key export failed: {e}"))
            })?;
        if let Some(orig) = &self.p.wrap_key {
            for (a, b) in k.iter_mut().zip(orig.0.iter()) {
                *a ^= b;
            }
        }
        let unix_now = self
            .unix_base
            .saturating_add((now - self.started).as_secs() as u32);
        let wrap = Wrap::tls_crypt(&crate::keys::Key2(k), unix_now);
        k.fill(0);
        Ok(wrap)
    }

    fn install_keys(
        &mut self,
        idx: usize,
        cipher: DataCipher,
        now: Instant,
    ) -> Result<(), EngineError> {
        let remote_sid = self.remote_sid.unwrap_or_default();
        let ks = &mut self.keys[idx];
        let mut key2 = [0u8; 256];
        if self.tls_ekm {
            ks.tls
                .export_keying_material(&mut key2[..], b"EXPORTER-OpenVPN-datakeys", None)
                .map_err(|e| {
                    EngineError::new(ErrorCode::TlsFailed, format!("TLS key export failed: {e}"))
                })?;
        } else {
            let server = ks
                .server_km2
                .as_ref()
                .ok_or_else(|| EngineError::new(ErrorCode::Internal, "no server key material"))?;
            key2 = crate::prf::openvpn_prf_key2(&ks.source, server, &self.local_sid, &remote_sid);
        }
        ks.data = Some(DataKeys::from_key2(cipher, &key2));
        key2.fill(0);
        ks.keys_at = Some(now);
        Ok(())
    }

    fn handle_data(&mut self, pkt: &mut [u8], now: Instant) -> Option<std::ops::Range<usize>> {
        let (key_id, hdr) = data::data_header(pkt)?;
        let idx = self
            .keys
            .iter()
            .position(|k| k.key_id == key_id && k.data.is_some())?;
        let ks = &mut self.keys[idx];
        let range = ks.data.as_mut()?.open(pkt, hdr).ok()?;
        ks.peer_used = true;
        ks.bytes += pkt.len() as u64;
        self.last_rx = now;
        let range = self.enc.unframe(pkt, range)?;
        let payload = &pkt[range.clone()];
        if payload == PING {
            return None;
        }
        if payload.len() == 17 && payload[..16] == OCC_MAGIC {
            if payload[16] == OCC_EXIT {
                self.close(CloseReason::ServerExit);
            }
            return None;
        }
        if payload.starts_with(&OCC_MAGIC) {
            return None;
        }
        self.rx_bytes += payload.len() as u64;
        if idx != 0 && self.keys[idx].data.is_some() {
            self.maybe_switch_key(now);
        }
        Some(range)
    }

    // ---------------------------------------------------------------- outbound data

    /// Encrypts one IP packet from the TUN device into `out`. Returns false if no data key
    /// is ready (the packet is dropped, like stock OpenVPN does before the tunnel is up).
    pub fn encrypt_tun(&mut self, ip: &[u8], out: &mut Vec<u8>, now: Instant) -> bool {
        if !self.established || ip.is_empty() {
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
        let mut t: Vec<Instant> = self
            .keys
            .iter()
            .filter_map(|k| k.send.next_deadline())
            .collect();
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
        t.into_iter().min()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if !self.established
            && now >= self.started + self.p.hand_window
            && self.push_deadline.is_none()
        {
            let got_server_reset = self.remote_sid.is_some();
            let got_server_tls = self.keys[0].got_tls;
            self.close(CloseReason::HandshakeTimeout {
                got_server_reset,
                got_server_tls,
            });
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

    /// Moves TLS output into reliable packets and emits everything due.
    fn flush(&mut self, now: Instant) {
        for idx in 0..self.keys.len() {
            self.write_km2_if_ready(idx);
            self.pump_tls(idx, now);
            self.emit_due(idx, now);
        }
    }

    fn write_km2_if_ready(&mut self, idx: usize) {
        let ks = &mut self.keys[idx];
        if ks.km2_sent || ks.tls.is_handshaking() || !ks.peer_reset_seen {
            return;
        }
        let with_creds = self.p.username.is_some() || self.p.password.is_some();
        let m = ClientKm2 {
            source: &ks.source,
            options: &self.p.options_string,
            username: if with_creds {
                self.p.username.as_deref().or(Some(""))
            } else {
                None
            },
            password: self.p.password.as_ref(),
            peer_info: &self.p.peer_info,
        };
        match km2::write_client(&m, self.p.framing) {
            Ok(msg) => {
                if ks.tls.writer().write_all(msg.as_bytes()).is_err() {
                    self.close(CloseReason::Error(EngineError::new(
                        ErrorCode::Internal,
                        "could not queue the key exchange message",
                    )));
                    return;
                }
                ks.km2_sent = true;
                if ks.key_id == 0 {
                    self.events.push_back(ConnEvent::Authenticating);
                }
            }
            Err(e) => {
                self.close(CloseReason::Error(EngineError::new(
                    ErrorCode::ConfigInvalid,
                    e,
                )));
            }
        }
    }

    fn control_payload_max(&self, with_wkc: bool) -> usize {
        let overhead = IP_UDP_ESTIMATE
            + 1
            + 8
            + (1 + 4 * reliable::ACKS_PER_CONTROL + 8)
            + 4
            + self.wrap.overhead();
        let wkc = if with_wkc { self.wrap.wkc_len() } else { 0 };
        TLS_MTU.saturating_sub(overhead + wkc).max(256)
    }

    fn pump_tls(&mut self, idx: usize, now: Instant) {
        if !self.keys[idx].peer_reset_seen {
            return;
        }
        let max = self.control_payload_max(false);
        let ks = &mut self.keys[idx];
        while ks.tls.wants_write() {
            if ks.tls.write_tls(&mut ks.tls_out).is_err() {
                break;
            }
        }
        while !ks.tls_out.is_empty() && ks.send.can_send() {
            let n = ks.tls_out.len().min(max);
            let chunk: Vec<u8> = ks.tls_out.drain(..n).collect();
            ks.send.push(wire::P_CONTROL_V1, chunk, now);
        }
    }

    fn emit_due(&mut self, idx: usize, now: Instant) {
        let remote = self.remote_sid.unwrap_or_default();
        let local = self.local_sid;
        loop {
            let ks = &mut self.keys[idx];
            let key_id = ks.key_id;
            let acks = if remote != [0; 8] {
                ks.recv.take_acks(reliable::ACKS_PER_CONTROL)
            } else {
                Vec::new()
            };
            let Some(due) = ks.send.next_due(now) else {
                // Nothing to retransmit: put the ACKs back into a dedicated P_ACK_V1.
                let mut all = acks;
                all.extend(ks.recv.take_acks(reliable::ACKS_PER_ACK - all.len()));
                if !all.is_empty() {
                    wire::write_control(
                        &mut self.scratch,
                        wire::P_ACK_V1,
                        key_id,
                        &local,
                        &all,
                        &remote,
                        None,
                        &[],
                    );
                    self.push_wrapped(key_id, false);
                }
                if self.keys[idx].recv.has_owed_acks() {
                    continue;
                }
                break;
            };
            let with_wkc = matches!(
                due.opcode,
                wire::P_CONTROL_HARD_RESET_CLIENT_V3 | wire::P_CONTROL_WKC_V1
            );
            wire::write_control(
                &mut self.scratch,
                due.opcode,
                key_id,
                &local,
                &acks,
                &remote,
                Some(due.mpid),
                due.payload,
            );
            self.push_wrapped(key_id, with_wkc);
        }
    }

    fn push_wrapped(&mut self, key_id: u8, with_wkc: bool) {
        let wrap = match &mut self.reneg_wrap {
            Some(w) if key_id > 0 => w,
            _ => &mut self.wrap,
        };
        let mut pkt = Vec::with_capacity(self.scratch.len() + 64 + wrap.wkc_len());
        wrap.wrap(&self.scratch, with_wkc, &mut pkt);
        self.out.push_back(pkt);
    }
}
