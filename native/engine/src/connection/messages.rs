//! Plaintext control messages of a connection: the server KM2, PUSH_REPLY and the messages
//! that end or pause a session (AUTH_FAILED, RESTART, HALT, AUTH_PENDING, INFO), plus data key
//! derivation once the cipher is known.

use super::{CloseReason, ConnEvent, Connection};
use crate::api::{EngineError, LogLevel, PendingMethod};
use crate::config::{DataCipher, ErrorCode, PushedSettings};
use crate::ctrl_msg::{self, InfoRequest, ServerMessage};
use crate::data::{DataKeys, Encapsulation};
use crate::km2::{self};
use crate::push::{self, PushedOptions};
use crate::secret::Secret;
use crate::wrap::Wrap;
use std::io::Write as _;
use std::time::{Duration, Instant};

impl Connection {
    pub(super) fn process_plaintext(&mut self, idx: usize, now: Instant) {
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

    pub(super) fn on_key_exchanged(&mut self, idx: usize, now: Instant) {
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
    pub(super) fn session_expiring(&self, now: Instant) -> bool {
        self.session_deadline
            .is_some_and(|d| now + Duration::from_secs(10) >= d)
    }

    pub(super) fn send_push_request(&mut self, now: Instant) {
        self.push_sent_at = Some(now);
        self.send_message(0, b"PUSH_REQUEST");
    }

    /// Writes one control message as one TLS record on key slot `idx`.
    pub(super) fn send_message(&mut self, idx: usize, msg: &[u8]) {
        let Some(ks) = self.keys.get_mut(idx) else {
            return;
        };
        let mut rec = Vec::with_capacity(msg.len() + 1);
        rec.extend_from_slice(msg);
        rec.push(0);
        let _ = ks.tls.writer().write_all(&rec);
    }

    pub(super) fn handle_message(&mut self, msg: &str, now: Instant) {
        match ctrl_msg::classify(msg) {
            ServerMessage::PushReply(body) => match self.push_acc.feed(body) {
                Ok(Some(lines)) => self.on_push_reply(&lines, now),
                Ok(None) => {}
                Err(e) => self.close(CloseReason::Error(EngineError::new(
                    ErrorCode::ProtocolError,
                    format!("unusable PUSH_REPLY: {e}"),
                ))),
            },
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

    pub(super) fn on_push_reply(&mut self, lines: &[String], now: Instant) {
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

    pub(super) fn negotiate(
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
        let cipher = self.choose_cipher(opts.cipher.as_deref(), server_occ_cipher.as_deref())?;
        if !cipher.is_aead() {
            let extra = crate::cbc::extra_overhead(self.p.data_auth);
            self.p.mss = self.p.mss.map(|m| m.with_extra_data_overhead(extra));
        }
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
        let tls = &self.keys[0].tls;
        let summary = format!(
            "control channel {} {}; data channel {} via {}{}{}",
            tls.protocol_version()
                .map_or_else(|| "TLS ?".into(), |v| format!("{v:?}")),
            tls.negotiated_cipher_suite()
                .map_or_else(|| "?".into(), |s| format!("{:?}", s.suite())),
            cipher.name(),
            if self.tls_ekm {
                "TLS-EKM"
            } else {
                "OpenVPN PRF"
            },
            opts.peer_id
                .map_or(String::new(), |p| format!(", peer-id {p}")),
            if opts.dyn_tls_crypt {
                ", dynamic tls-crypt"
            } else {
                ""
            },
        );
        self.log(LogLevel::Info, summary);
        self.session_deadline = opts
            .session_timeout
            .map(|t| now + Duration::from_secs(t.into()));
        if self.p.reneg_sec > 0 {
            self.reneg_at = Some(now + Duration::from_secs(self.p.reneg_sec.into()));
        }
        Ok(opts.to_settings(cipher, self.p.tun_mtu, self.p.route_no_pull))
    }

    /// The data cipher (wire-protocol §4.4, OpenVPN's `check_pull_client_ncp`): the pushed
    /// one, else the server's options-string `cipher` (a server without negotiation), else
    /// `data-ciphers-fallback` (a server that names none). The first two must be allowed by the
    /// profile (`data-ciphers`, or the fallback itself); a 64-bit block cipher never is.
    fn choose_cipher(
        &self,
        pushed: Option<&str>,
        server_occ: Option<&str>,
    ) -> Result<DataCipher, EngineError> {
        let fallback = self.p.data_ciphers_fallback;
        let (name, allowed): (&str, &dyn Fn(DataCipher) -> bool) = match (pushed, server_occ) {
            (Some(name), _) => (name, &|c| self.p.data_ciphers.contains(&c)),
            (None, Some(name)) => (name, &|c| {
                self.p.data_ciphers.contains(&c) || fallback == Some(c)
            }),
            (None, None) => match fallback {
                Some(c) => return Ok(c),
                None => {
                    return Err(EngineError::new(
                        ErrorCode::ProtocolError,
                        "the server named no data cipher; set data-ciphers-fallback to the cipher it uses",
                    ))
                }
            },
        };
        if let Some(reason) = crate::cbc::sweet32_refusal(name) {
            return Err(EngineError::new(
                ErrorCode::ProtocolError,
                format!("the server chose data cipher {name}, {reason}"),
            ));
        }
        DataCipher::from_name(name)
            .filter(|c| allowed(*c))
            .ok_or_else(|| {
                EngineError::new(
                    ErrorCode::ProtocolError,
                    format!(
                        "the server chose data cipher '{name}', which this profile does not allow"
                    ),
                )
            })
    }

    /// tls-crypt for renegotiations keyed from the first TLS session: EKM
    /// "EXPORTER-OpenVPN-dynamic-tls-crypt" XOR the connection's original wrap key (§2.6).
    pub(super) fn dynamic_tls_crypt(&mut self, now: Instant) -> Result<Wrap, EngineError> {
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

    pub(super) fn install_keys(
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
        ks.data = Some(DataKeys::from_key2(cipher, self.p.data_auth, &key2));
        key2.fill(0);
        ks.keys_at = Some(now);
        Ok(())
    }
}
