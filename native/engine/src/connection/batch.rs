//! The connection's side of the crypto pipeline (`pipeline`): batches of TUN packets staged
//! and sealed, batches of link packets opened, in order, with the cipher work fanned out.

use super::Connection;
use crate::data::{self, Crypto, OCC_EXIT, OCC_MAGIC, PING};
use crate::pipeline::{Fanout, Rx, SealBatch};
use std::time::Instant;

/// Key ids are 3 bits: a table indexed by them finds a packet's cipher without a search.
type CryptoTable<'a> = [Option<&'a Crypto>; 8];

impl Connection {
    /// The cipher of each key_id that has data keys, for the parallel step.
    fn crypto_table(&self) -> CryptoTable<'_> {
        let mut t: CryptoTable<'_> = [None; 8];
        for k in &self.keys {
            if let Some(d) = &k.data {
                t[usize::from(k.key_id & 7)].get_or_insert(d.crypto());
            }
        }
        t
    }

    fn key_index(&self, key_id: u8) -> Option<usize> {
        self.keys
            .iter()
            .position(|k| k.key_id == key_id && k.data.is_some())
    }

    /// Step 1 of encryption: frames one IP packet from the TUN device into the batch's next
    /// slot and takes its packet id; `seal_batch` seals it. False if no data key is ready (the
    /// packet is dropped). A TCP SYN's MSS is lowered to the `mssfix` limit first.
    pub(crate) fn stage_tun(&mut self, ip: &mut [u8], batch: &mut SealBatch, now: Instant) -> bool {
        if !self.prepare_tun(ip) {
            return false;
        }
        let Some(ks) = self.keys.first_mut() else {
            return false;
        };
        let Some(keys) = ks.data.as_mut() else {
            return false;
        };
        let slot = batch.next_slot();
        slot.hdr = self.enc.begin(ks.key_id, ip, &mut slot.buf);
        let Ok(id) = keys.next_send_id() else {
            return false;
        };
        slot.key_id = ks.key_id;
        slot.id = id;
        batch.push();
        self.tx_bytes += ip.len() as u64;
        self.last_tx = now;
        true
    }

    /// Steps 2 and 3 of encryption: seals every staged packet (fanned out when that pays);
    /// `SealBatch::drain_sealed` then hands them out in id order.
    pub(crate) fn seal_batch(&mut self, batch: &mut SealBatch, fan: &mut Fanout) {
        let table = self.crypto_table();
        fan.for_each(
            batch.staged(),
            |s| s.buf.len(),
            |s| {
                s.sealed = table[usize::from(s.key_id & 7)]
                    .is_some_and(|c| c.seal(&mut s.buf, s.hdr, s.id).is_ok());
            },
        );
        for s in batch.staged().iter().filter(|s| s.sealed) {
            if let Some(i) = self.key_index(s.key_id) {
                self.keys[i].bytes += s.buf.len() as u64;
            }
        }
    }

    /// Handles a batch of link packets in the order received: control packets one by one,
    /// each run of data packets through the three steps. Afterwards each `Rx` holds its
    /// plaintext for the TUN device, if any.
    pub(crate) fn handle_link_batch(
        &mut self,
        pkts: &mut [Rx<'_>],
        now: Instant,
        fan: &mut Fanout,
    ) {
        let mut rest = pkts;
        while !rest.is_empty() {
            let data = rest
                .iter()
                .take_while(|p| data::data_header(p.buf).is_some())
                .count();
            let (run, tail) = rest.split_at_mut(data.max(1));
            if data == 0 {
                run[0].plain = self.handle_link(run[0].buf, now);
            } else {
                self.open_run(run, now, Some(&mut *fan));
            }
            rest = tail;
        }
    }

    /// A run of data packets: pick keys and pre-check ids (in order), open (in parallel with a
    /// `fan`), then take ids into the replay window and hand the packets on (in order).
    pub(super) fn open_run(&mut self, run: &mut [Rx<'_>], now: Instant, fan: Option<&mut Fanout>) {
        if self.closed {
            return;
        }
        for p in run.iter_mut() {
            p.open = data::data_header(p.buf).filter(|&(key_id, hdr)| {
                self.key_index(key_id).is_some_and(|i| {
                    let keys = self.keys[i].data.as_ref().expect("key_index has data");
                    keys.precheck(p.buf, hdr).is_ok()
                })
            });
        }
        let table = self.crypto_table();
        let open = |p: &mut Rx<'_>| {
            p.opened = p
                .open
                .and_then(|(key_id, hdr)| table[usize::from(key_id & 7)]?.open(p.buf, hdr).ok());
        };
        match fan {
            Some(fan) => fan.for_each(run, |p| p.open.map_or(0, |_| p.buf.len()), open),
            None => run.iter_mut().for_each(open),
        }
        for p in run.iter_mut() {
            // An OCC EXIT earlier in the batch closed the connection: the rest is ignored.
            if self.closed {
                return;
            }
            if let (Some((key_id, _)), Some((id, range))) = (p.open, p.opened.take()) {
                p.plain = self.accept_data(key_id, id, p.buf, range, now);
            }
        }
    }

    /// Step 3 for one authentic packet: the replay window, key use, keepalive and OCC
    /// payloads; the IP packet's range if there is one for the TUN device.
    fn accept_data(
        &mut self,
        key_id: u8,
        id: u32,
        pkt: &mut [u8],
        range: std::ops::Range<usize>,
        now: Instant,
    ) -> Option<std::ops::Range<usize>> {
        // Looked up again: a packet before this one may have switched keys.
        let idx = self.key_index(key_id)?;
        let ks = &mut self.keys[idx];
        if !ks.data.as_mut()?.accept(id) {
            return None;
        }
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
                self.close(super::CloseReason::ServerExit);
            }
            return None;
        }
        if payload.starts_with(&OCC_MAGIC) {
            return None;
        }
        self.rx_bytes += payload.len() as u64;
        if let Some(mss) = self.p.mss {
            mss.apply(&mut pkt[range.clone()]);
        }
        if idx != 0 {
            self.maybe_switch_key(now);
        }
        Some(range)
    }
}

#[cfg(test)]
mod tests;
