//! Per-key_id state: the reliability layer, one TLS session and its KM2 exchange, data keys.

use crate::api::EngineError;
use crate::data::DataKeys;
use crate::km2::{KeySource, ServerKm2};
use crate::reliable::{ReliableRecv, ReliableSend};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) struct KeyState {
    pub(super) key_id: u8,
    pub(super) send: ReliableSend,
    pub(super) recv: ReliableRecv,
    pub(super) tls: rustls::ClientConnection,
    /// TLS ciphertext produced by rustls, not yet cut into control packets.
    pub(super) tls_out: Vec<u8>,
    /// Plaintext from the server not yet consumed (KM2, then NUL-delimited messages).
    pub(super) plain_in: Vec<u8>,
    pub(super) source: KeySource,
    pub(super) peer_reset_seen: bool,
    /// Any TLS bytes from the server (a ServerHello or an alert) arrived.
    pub(super) got_tls: bool,
    /// The server asked for a client certificate in this TLS session.
    pub(super) cert_requested: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub(super) km2_sent: bool,
    pub(super) server_km2: Option<ServerKm2>,
    pub(super) data: Option<DataKeys>,
    pub(super) started: Instant,
    pub(super) keys_at: Option<Instant>,
    pub(super) peer_used: bool,
    /// Replaced by a newer key: receive only, no timers.
    pub(super) lame: bool,
    pub(super) bytes: u64,
}

impl KeyState {
    pub(super) fn new(
        key_id: u8,
        tls: &Arc<rustls::ClientConfig>,
        tls_timeout: Duration,
        rand: &dyn Fn(&mut [u8]),
        now: Instant,
    ) -> Result<Self, EngineError> {
        let (tls, cert_requested) = crate::tls::with_cert_request_flag(tls);
        let conn = rustls::ClientConnection::new(tls, crate::tls::dummy_server_name())
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
            cert_requested,
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
