//! Control channel of a connection: unwrapping and parsing control packets, the reliability
//! layer in both directions, feeding TLS, and writing our KM2 and TLS records out as packets.

use super::{CloseReason, ConnEvent, Connection, IP_UDP_ESTIMATE, MAX_CONTROL_MESSAGE, TLS_MTU};
use crate::api::{EngineError, LogLevel};
use crate::config::ErrorCode;
use crate::km2::{self, ClientKm2};
use crate::reliable::{self, Received};
use crate::wire::{self};
use std::io::Write as _;
use std::time::Instant;

impl Connection {
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
                self.note_dropped(&e.to_string());
                return None;
            }
        };
        if let Err(e) = self.handle_control(&plain, now) {
            self.note_dropped(&e);
        }
        self.flush(now);
        None
    }

    /// Logs dropped control packets sparingly: a flood of forged packets must not turn into a
    /// flood of events.
    fn note_dropped(&mut self, why: &str) {
        self.dropped += 1;
        if self.dropped >= self.next_drop_log {
            // The first few, then one line per thousand.
            self.next_drop_log = if self.dropped < 5 {
                self.dropped + 1
            } else {
                self.dropped + 1000
            };
            let n = self.dropped;
            self.log(
                LogLevel::Debug,
                format!("dropped control packet ({n} so far): {why}"),
            );
        }
    }

    pub(super) fn handle_control(&mut self, plain: &[u8], now: Instant) -> Result<(), String> {
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

    pub(super) fn feed_tls(
        &mut self,
        idx: usize,
        mut payload: &[u8],
        now: Instant,
    ) -> Result<(), String> {
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

    pub(super) fn fail_key(&mut self, idx: usize, err: EngineError) {
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

    /// Moves TLS output into reliable packets and emits everything due.
    pub(super) fn flush(&mut self, now: Instant) {
        for idx in 0..self.keys.len() {
            self.write_km2_if_ready(idx);
            self.pump_tls(idx, now);
            self.emit_due(idx, now);
        }
    }

    pub(super) fn write_km2_if_ready(&mut self, idx: usize) {
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

    pub(super) fn control_payload_max(&self, with_wkc: bool) -> usize {
        let overhead = IP_UDP_ESTIMATE
            + 1
            + 8
            + (1 + 4 * reliable::ACKS_PER_CONTROL + 8)
            + 4
            + self.wrap.overhead();
        let wkc = if with_wkc { self.wrap.wkc_len() } else { 0 };
        TLS_MTU.saturating_sub(overhead + wkc).max(256)
    }

    pub(super) fn pump_tls(&mut self, idx: usize, now: Instant) {
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

    pub(super) fn emit_due(&mut self, idx: usize, now: Instant) {
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

    pub(super) fn push_wrapped(&mut self, key_id: u8, with_wkc: bool) {
        let wrap = match &mut self.reneg_wrap {
            Some(w) if key_id > 0 => w,
            _ => &mut self.wrap,
        };
        let mut pkt = Vec::with_capacity(self.scratch.len() + 64 + wrap.wkc_len());
        wrap.wrap(&self.scratch, with_wkc, &mut pkt);
        self.out.push_back(pkt);
    }
}
