//! Data channel (wire-protocol §6): AEAD packets (AES-GCM, CHACHA20-POLY1305) with P_DATA_V1/V2
//! headers, packet ids and the replay window, compression framing, and the ping / OCC payloads.
//! The legacy CBC ciphers seal and open in `cbc.rs` behind the same `DataKeys`.
//! The hot path works in place on caller-owned buffers: no allocation per packet.

use crate::cbc::CbcKeys;
use crate::config::{AuthDigest, Compression, DataCipher};
use crate::replay::ReplayWindow;
use crate::wire::{P_DATA_V1, P_DATA_V2};
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};

pub const TAG_LEN: usize = 16;
/// What `Encapsulation::begin` reserves between header and payload: packet id and AEAD tag.
pub const AEAD_ROOM: usize = 4 + TAG_LEN;
/// Keepalive ping payload; never written to the TUN device.
pub const PING: [u8; 16] = [
    0x2a, 0x18, 0x7b, 0xf3, 0x64, 0x1e, 0xb4, 0xcb, 0x07, 0xed, 0x2d, 0x0a, 0x98, 0x1f, 0xc7, 0x48,
];
/// OCC message prefix; only OCC_EXIT matters in TLS mode.
pub const OCC_MAGIC: [u8; 16] = [
    0x28, 0x7f, 0x34, 0x6b, 0xd4, 0xef, 0x7a, 0x81, 0x2d, 0x56, 0xb8, 0xd3, 0xaf, 0xc5, 0x45, 0x9c,
];
pub const OCC_EXIT: u8 = 6;
/// Ask for renegotiation before the 32-bit packet id could wrap.
pub const PACKET_ID_RENEG: u32 = 0xFF00_0000;

fn algorithm(c: DataCipher) -> &'static aead::Algorithm {
    match c {
        DataCipher::Aes128Gcm => &aead::AES_128_GCM,
        DataCipher::Aes256Gcm => &aead::AES_256_GCM,
        DataCipher::Chacha20Poly1305 => &aead::CHACHA20_POLY1305,
        DataCipher::Aes256Cbc | DataCipher::Aes128Cbc => unreachable!("CBC is not AEAD"),
    }
}

/// The AEAD keys and implicit IVs of both directions.
pub struct AeadKeys {
    enc: LessSafeKey,
    enc_iv: [u8; 8],
    dec: LessSafeKey,
    dec_iv: [u8; 8],
}

/// The cipher context of one key_id, both directions: immutable once built, so the packets
/// of one batch can be sealed or opened on several threads at once (`pipeline`).
#[expect(
    clippy::large_enum_variant,
    reason = "one per key_id, built at key exchange and never moved on the packet path; boxing \
              the AEAD keys would add an indirection to every packet of the common ciphers"
)]
pub enum Crypto {
    Aead(AeadKeys),
    Cbc(CbcKeys),
}

impl Crypto {
    /// Seals `out` (laid out by `Encapsulation::begin`) as packet `packet_id`; CBC rearranges it.
    pub fn seal(&self, out: &mut Vec<u8>, hdr_len: usize, packet_id: u32) -> Result<(), SealError> {
        match self {
            Crypto::Aead(k) => k.seal(out, hdr_len, packet_id),
            Crypto::Cbc(k) => k.seal(out, hdr_len, packet_id),
        }
    }

    /// Authenticates and decrypts a packet in place: its packet id and the plaintext's range.
    /// The replay window is the caller's (`DataKeys`, or the pipeline's ordered step).
    pub fn open(
        &self,
        pkt: &mut [u8],
        hdr_len: usize,
    ) -> Result<(u32, std::ops::Range<usize>), DecryptError> {
        match self {
            Crypto::Aead(k) => Ok((aead_packet_id(pkt, hdr_len)?, k.open(pkt, hdr_len)?)),
            Crypto::Cbc(k) => k.open(pkt, hdr_len),
        }
    }
}

/// One direction pair of data keys for a key_id.
pub struct DataKeys {
    crypto: Crypto,
    send_id: u32,
    replay: ReplayWindow,
}

impl std::fmt::Debug for DataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKeys")
            .field("send_id", &self.send_id)
            .finish_non_exhaustive()
    }
}

/// The packet id space is exhausted (renegotiation did not happen in time) or sealing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecryptError {
    Truncated,
    Auth,
    Replay,
}

impl DataKeys {
    /// From the 256-byte key2 (client = NORMAL direction: keys[0] sends, keys[1] receives).
    /// `auth` is the HMAC digest of the CBC ciphers; AEAD ciphers ignore it.
    pub fn from_key2(cipher: DataCipher, auth: AuthDigest, key2: &[u8; 256]) -> Self {
        let crypto = if cipher.is_aead() {
            Crypto::Aead(AeadKeys::from_key2(cipher, key2))
        } else {
            Crypto::Cbc(CbcKeys::from_key2(cipher, auth, key2))
        };
        Self {
            crypto,
            send_id: 0,
            replay: ReplayWindow::new(),
        }
    }

    /// The server-side view of the same key2 (for tests and loopback peers).
    #[cfg(test)]
    pub fn server_from_key2(cipher: DataCipher, auth: AuthDigest, key2: &[u8; 256]) -> Self {
        let mut swapped = [0u8; 256];
        swapped[..128].copy_from_slice(&key2[128..]);
        swapped[128..].copy_from_slice(&key2[..128]);
        Self::from_key2(cipher, auth, &swapped)
    }

    pub fn send_id(&self) -> u32 {
        self.send_id
    }

    pub fn crypto(&self) -> &Crypto {
        &self.crypto
    }

    /// Takes the next packet id for a packet sealed later (`Crypto::seal`), so ids go out in
    /// the order they were taken even when packets are sealed in parallel.
    pub fn next_send_id(&mut self) -> Result<u32, SealError> {
        self.send_id = self.send_id.checked_add(1).ok_or(SealError)?;
        Ok(self.send_id)
    }

    /// Encrypts the framed plaintext of `out` in place. `out` must have been laid out by
    /// `Encapsulation::begin` (header + room for packet id and tag); CBC rearranges it.
    pub fn seal(&mut self, out: &mut Vec<u8>, hdr_len: usize) -> Result<(), SealError> {
        let id = self.next_send_id()?;
        self.crypto.seal(out, hdr_len, id)
    }

    /// What can be refused before a decryption is spent: a short AEAD packet, or one whose id
    /// (in the clear) the replay window already took. `accept` checks again once authentic.
    pub fn precheck(&self, pkt: &[u8], hdr_len: usize) -> Result<(), DecryptError> {
        match self.crypto {
            Crypto::Aead(_) if !self.replay.check(0, aead_packet_id(pkt, hdr_len)?) => {
                Err(DecryptError::Replay)
            }
            _ => Ok(()),
        }
    }

    /// Records an authenticated packet's id if the window takes it; false for a replay.
    pub fn accept(&mut self, id: u32) -> bool {
        self.replay.check_and_record(0, id)
    }

    /// Decrypts a data packet in place; returns the range of the plaintext within `pkt`.
    pub fn open(
        &mut self,
        pkt: &mut [u8],
        hdr_len: usize,
    ) -> Result<std::ops::Range<usize>, DecryptError> {
        self.precheck(pkt, hdr_len)?;
        let (id, range) = self.crypto.open(pkt, hdr_len)?;
        if !self.accept(id) {
            return Err(DecryptError::Replay);
        }
        Ok(range)
    }
}

/// The packet id of an AEAD packet (in the clear after the header).
pub fn aead_packet_id(pkt: &[u8], hdr_len: usize) -> Result<u32, DecryptError> {
    if pkt.len() <= hdr_len + AEAD_ROOM {
        return Err(DecryptError::Truncated);
    }
    Ok(u32::from_be_bytes([
        pkt[hdr_len],
        pkt[hdr_len + 1],
        pkt[hdr_len + 2],
        pkt[hdr_len + 3],
    ]))
}

impl AeadKeys {
    fn from_key2(cipher: DataCipher, key2: &[u8; 256]) -> Self {
        let alg = algorithm(cipher);
        let k = cipher.key_len();
        let mk = |b: &[u8]| {
            LessSafeKey::new(UnboundKey::new(alg, &b[..k]).expect("key length matches cipher"))
        };
        let iv = |b: &[u8]| {
            let mut v = [0u8; 8];
            v.copy_from_slice(&b[..8]);
            v
        };
        Self {
            enc: mk(&key2[0..64]),
            enc_iv: iv(&key2[64..128]),
            dec: mk(&key2[128..192]),
            dec_iv: iv(&key2[192..256]),
        }
    }

    fn seal(&self, out: &mut [u8], hdr_len: usize, packet_id: u32) -> Result<(), SealError> {
        let pid = packet_id.to_be_bytes();
        out[hdr_len..hdr_len + 4].copy_from_slice(&pid);
        let nonce = nonce(&pid, &self.enc_iv);
        let (head, body) = out.split_at_mut(hdr_len + AEAD_ROOM);
        let mut ad = [0u8; 8];
        let ad_len = ad_bytes(&head[..hdr_len + 4], hdr_len, &mut ad);
        let tag = self
            .enc
            .seal_in_place_separate_tag(nonce, Aad::from(&ad[..ad_len]), body)
            .map_err(|_| SealError)?;
        head[hdr_len + 4..].copy_from_slice(tag.as_ref());
        Ok(())
    }

    /// Opens a packet whose id `aead_packet_id` has read (so its length is checked).
    fn open(&self, pkt: &mut [u8], hdr_len: usize) -> Result<std::ops::Range<usize>, DecryptError> {
        let body_start = hdr_len + AEAD_ROOM;
        let pid = [
            pkt[hdr_len],
            pkt[hdr_len + 1],
            pkt[hdr_len + 2],
            pkt[hdr_len + 3],
        ];
        let mut ad = [0u8; 8];
        let ad_len = ad_bytes(&pkt[..hdr_len + 4], hdr_len, &mut ad);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&pkt[hdr_len + 4..body_start]);
        let nonce = nonce(&pid, &self.dec_iv);
        self.dec
            .open_in_place_separate_tag(
                nonce,
                Aad::from(&ad[..ad_len]),
                aead::Tag::from(tag),
                &mut pkt[body_start..],
                0..,
            )
            .map_err(|_| DecryptError::Auth)?;
        Ok(body_start..pkt.len())
    }
}

fn nonce(pid: &[u8; 4], iv: &[u8; 8]) -> Nonce {
    let mut n = [0u8; 12];
    n[..4].copy_from_slice(pid);
    n[4..].copy_from_slice(iv);
    Nonce::assume_unique_for_key(n)
}

/// AD = V2: 4 header bytes || packet id; V1: packet id only (the opcode is not authenticated).
fn ad_bytes(head: &[u8], hdr_len: usize, ad: &mut [u8; 8]) -> usize {
    if hdr_len == 4 {
        ad.copy_from_slice(&head[..8]);
        8
    } else {
        ad[..4].copy_from_slice(&head[hdr_len..hdr_len + 4]);
        4
    }
}

/// Header and compression framing for outgoing packets.
#[derive(Debug, Clone, Copy)]
pub struct Encapsulation {
    pub peer_id: Option<u32>,
    pub compression: Compression,
}

impl Encapsulation {
    pub fn header_len(&self) -> usize {
        if self.peer_id.is_some() {
            4
        } else {
            1
        }
    }

    /// Bytes added in front of and behind the payload (for MTU/buffer sizing).
    pub fn overhead(&self) -> usize {
        self.header_len() + 4 + TAG_LEN + 2
    }

    /// Lays out header, packet-id/tag room and the framed payload into `out` (cleared first).
    /// Returns the header length to pass to `DataKeys::seal`.
    pub fn begin(&self, key_id: u8, payload: &[u8], out: &mut Vec<u8>) -> usize {
        out.clear();
        let hdr = match self.peer_id {
            Some(pid) => {
                let word = (u32::from(P_DATA_V2 << 3 | key_id) << 24) | (pid & 0x00FF_FFFF);
                out.extend_from_slice(&word.to_be_bytes());
                4
            }
            None => {
                out.push(P_DATA_V1 << 3 | key_id);
                1
            }
        };
        out.extend_from_slice(&[0u8; 4 + TAG_LEN]);
        match self.compression {
            Compression::None => out.extend_from_slice(payload),
            Compression::CompLzoNo => {
                out.push(0xFA);
                out.extend_from_slice(payload);
            }
            Compression::CompressStub => {
                // "Swap" framing: the first payload byte moves to the end, 0xFB takes its place.
                if let Some((first, rest)) = payload.split_first() {
                    out.push(0xFB);
                    out.extend_from_slice(rest);
                    out.push(*first);
                } else {
                    out.push(0xFB);
                }
            }
            Compression::CompressStubV2 => {
                if payload.first() == Some(&0x50) {
                    out.extend_from_slice(&[0x50, 0x00]);
                }
                out.extend_from_slice(payload);
            }
        }
        hdr
    }

    /// Removes compression framing from a decrypted payload (in place); None = drop the packet
    /// (compressed by the peer, which we never negotiate, or malformed).
    pub fn unframe(
        &self,
        buf: &mut [u8],
        range: std::ops::Range<usize>,
    ) -> Option<std::ops::Range<usize>> {
        let (start, end) = (range.start, range.end);
        if start >= end {
            return None;
        }
        match self.compression {
            Compression::None => Some(range),
            Compression::CompLzoNo => (buf[start] == 0xFA).then_some(start + 1..end),
            Compression::CompressStub => match buf[start] {
                0xFB if end - start >= 2 => {
                    buf[start] = buf[end - 1];
                    Some(start..end - 1)
                }
                0xFB => Some(start + 1..end),
                0xFA => Some(start + 1..end),
                _ => None,
            },
            Compression::CompressStubV2 => {
                if buf[start] != 0x50 {
                    Some(range)
                } else if end - start >= 2 && buf[start + 1] == 0x00 {
                    Some(start + 2..end)
                } else {
                    None
                }
            }
        }
    }
}

/// Parses the first byte(s) of a data packet: (key_id, header length).
pub fn data_header(pkt: &[u8]) -> Option<(u8, usize)> {
    let b0 = *pkt.first()?;
    match b0 >> 3 {
        P_DATA_V1 => Some((b0 & 7, 1)),
        P_DATA_V2 if pkt.len() >= 4 => Some((b0 & 7, 4)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key2() -> [u8; 256] {
        let mut k = [0u8; 256];
        for (i, b) in k.iter_mut().enumerate() {
            *b = i as u8 ^ 0x5a;
        }
        k
    }

    fn roundtrip(cipher: DataCipher, enc: Encapsulation) {
        let mut client = DataKeys::from_key2(cipher, AuthDigest::Sha256, &key2());
        let mut server = DataKeys::server_from_key2(cipher, AuthDigest::Sha256, &key2());
        let ip = [
            0x45u8, 0, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        ];
        let mut out = Vec::new();
        let hdr = enc.begin(3, &ip, &mut out);
        client.seal(&mut out, hdr).unwrap();
        assert_eq!(data_header(&out), Some((3, hdr)));
        let mut copy = out.clone();
        let r = server.open(&mut out, hdr).unwrap();
        let r = enc.unframe(&mut out, r).unwrap();
        assert_eq!(&out[r], &ip);
        assert_eq!(server.open(&mut copy, hdr), Err(DecryptError::Replay));
        // Tampering with the header is detected for V2 (authenticated) packets.
        let mut again = Vec::new();
        let hdr = enc.begin(3, &ip, &mut again);
        client.seal(&mut again, hdr).unwrap();
        *again.last_mut().unwrap() ^= 1;
        assert_eq!(server.open(&mut again, hdr), Err(DecryptError::Auth));
    }

    #[test]
    fn all_ciphers_and_framings() {
        for c in [
            DataCipher::Aes128Gcm,
            DataCipher::Aes256Gcm,
            DataCipher::Chacha20Poly1305,
            DataCipher::Aes256Cbc,
            DataCipher::Aes128Cbc,
        ] {
            for comp in [
                Compression::None,
                Compression::CompLzoNo,
                Compression::CompressStub,
                Compression::CompressStubV2,
            ] {
                roundtrip(
                    c,
                    Encapsulation {
                        peer_id: Some(7),
                        compression: comp,
                    },
                );
                roundtrip(
                    c,
                    Encapsulation {
                        peer_id: None,
                        compression: comp,
                    },
                );
            }
        }
    }

    #[test]
    fn v2_header_layout() {
        let enc = Encapsulation {
            peer_id: Some(0x123456),
            compression: Compression::None,
        };
        let mut out = Vec::new();
        enc.begin(1, &[0x45], &mut out);
        assert_eq!(&out[..4], &[0x49, 0x12, 0x34, 0x56]);
    }

    #[test]
    fn stub_v2_escapes_0x50() {
        let enc = Encapsulation {
            peer_id: None,
            compression: Compression::CompressStubV2,
        };
        let mut out = Vec::new();
        enc.begin(0, &[0x50, 1], &mut out);
        assert_eq!(&out[1 + 4 + TAG_LEN..], &[0x50, 0, 0x50, 1]);
        let mut lz4 = [0x50, 0x01, 9];
        assert_eq!(
            enc.unframe(&mut lz4, 0..3),
            None,
            "compressed packets are dropped"
        );
    }
}
