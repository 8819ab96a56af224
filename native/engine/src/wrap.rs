//! Control-channel protection (wire-protocol §2): none, tls-auth (HMAC firewall) and
//! tls-crypt / tls-crypt-v2 (AES-256-CTR + HMAC-SHA256). Works on whole packets:
//! `wrap` turns an unwrapped control packet (§1.2) into wire bytes, `unwrap` the reverse.

use crate::config::{AuthDigest, KeyDirection};
use crate::keys::Key2;
use crate::replay::ReplayWindow;
use aes::cipher::{KeyIvInit, StreamCipher};
use ring::hmac;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

const TAG_LEN: usize = 32;
/// op + own sid: the part of the header that stays in front on the wire.
const HEAD: usize = 9;

enum Protection {
    None,
    Auth {
        send: hmac::Key,
        recv: hmac::Key,
        len: usize,
    },
    Crypt {
        enc: [u8; 32],
        enc_mac: hmac::Key,
        dec: [u8; 32],
        dec_mac: hmac::Key,
    },
}

/// Sender replay counter: (id, epoch time), id pre-incremented.
struct ReplayCounter {
    id: u32,
    time: u32,
}

pub struct Wrap {
    prot: Protection,
    counter: ReplayCounter,
    replay: ReplayWindow,
    /// tls-crypt-v2 wrapped client key, appended in clear to the V3 reset and WKC_V1 packets.
    wkc: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnwrapError {
    Truncated,
    BadAuth,
    Replay,
}

impl std::fmt::Display for UnwrapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UnwrapError::Truncated => "truncated packet",
            UnwrapError::BadAuth => "control packet authentication failed",
            UnwrapError::Replay => "replayed control packet",
        })
    }
}

/// The HMAC of an `auth` digest and its length (tls-auth and the CBC data channel).
pub(crate) fn digest(d: AuthDigest) -> (hmac::Algorithm, usize) {
    match d {
        AuthDigest::Sha1 => (hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, 20),
        AuthDigest::Sha256 => (hmac::HMAC_SHA256, 32),
        AuthDigest::Sha512 => (hmac::HMAC_SHA512, 64),
    }
}

fn key32(b: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 32];
    k.copy_from_slice(&b[..32]);
    k
}

impl Wrap {
    pub fn none() -> Self {
        Self::with(Protection::None, 0, None)
    }

    fn with(prot: Protection, unix_now: u32, wkc: Option<Vec<u8>>) -> Self {
        Self {
            prot,
            counter: ReplayCounter {
                id: 0,
                time: unix_now,
            },
            replay: ReplayWindow::new(),
            wkc,
        }
    }

    /// tls-auth: outgoing/incoming HMAC key slices chosen by key-direction (§2.1, §2.3).
    pub fn tls_auth(
        key: &Key2,
        direction: Option<KeyDirection>,
        d: AuthDigest,
        unix_now: u32,
    ) -> Self {
        let (alg, len) = digest(d);
        let (out_idx, in_idx) = match direction {
            None => (0, 0),
            Some(KeyDirection::Normal) => (0, 1),
            Some(KeyDirection::Inverse) => (1, 0),
        };
        let send = hmac::Key::new(alg, &key.hmac(out_idx)[..len]);
        let recv = hmac::Key::new(alg, &key.hmac(in_idx)[..len]);
        Self::with(Protection::Auth { send, recv, len }, unix_now, None)
    }

    /// tls-crypt (client = INVERSE direction, §2.4).
    pub fn tls_crypt(key: &Key2, unix_now: u32) -> Self {
        Self::with(Self::crypt_keys(key), unix_now, None)
    }

    /// tls-crypt-v2: tls-crypt with Kc, the 0x0f early-negotiation marker in the replay id,
    /// and WKc appended to the packets that need it (§2.5).
    pub fn tls_crypt_v2(kc: &Key2, wkc: Vec<u8>, unix_now: u32) -> Self {
        let mut w = Self::with(Self::crypt_keys(kc), unix_now, Some(wkc));
        w.counter.id = 0x0f00_0000;
        w
    }

    fn crypt_keys(key: &Key2) -> Protection {
        Protection::Crypt {
            enc: key32(key.cipher(1)),
            enc_mac: hmac::Key::new(hmac::HMAC_SHA256, &key.hmac(1)[..32]),
            dec: key32(key.cipher(0)),
            dec_mac: hmac::Key::new(hmac::HMAC_SHA256, &key.hmac(0)[..32]),
        }
    }

    /// Bytes the wrap adds to a packet (for sizing control payloads), WKc excluded.
    pub fn overhead(&self) -> usize {
        match &self.prot {
            Protection::None => 0,
            Protection::Auth { len, .. } => len + 8,
            Protection::Crypt { .. } => 8 + TAG_LEN + 16,
        }
    }

    pub fn wkc_len(&self) -> usize {
        self.wkc.as_ref().map_or(0, Vec::len)
    }

    fn next_replay_id(&mut self) -> [u8; 8] {
        self.counter.id = self.counter.id.wrapping_add(1);
        let mut r = [0u8; 8];
        r[..4].copy_from_slice(&self.counter.id.to_be_bytes());
        r[4..].copy_from_slice(&self.counter.time.to_be_bytes());
        r
    }

    /// Wraps the unwrapped control packet `plain` into `out`. `append_wkc` adds the tls-crypt-v2
    /// wrapped key (V3 reset, WKC_V1).
    pub fn wrap(&mut self, plain: &[u8], append_wkc: bool, out: &mut Vec<u8>) {
        out.clear();
        if matches!(self.prot, Protection::None) {
            out.extend_from_slice(plain);
            return;
        }
        let replay = self.next_replay_id();
        let (head, rest) = plain.split_at(HEAD);
        match &self.prot {
            Protection::None => unreachable!("handled above"),
            Protection::Auth { send, len, .. } => {
                let mut ctx = hmac::Context::with_key(send);
                ctx.update(&replay);
                ctx.update(head);
                ctx.update(rest);
                let tag = ctx.sign();
                out.extend_from_slice(head);
                out.extend_from_slice(&tag.as_ref()[..*len]);
                out.extend_from_slice(&replay);
                out.extend_from_slice(rest);
            }
            Protection::Crypt { enc, enc_mac, .. } => {
                let mut ctx = hmac::Context::with_key(enc_mac);
                ctx.update(head);
                ctx.update(&replay);
                ctx.update(rest);
                let tag = ctx.sign();
                out.extend_from_slice(head);
                out.extend_from_slice(&replay);
                out.extend_from_slice(tag.as_ref());
                let start = out.len();
                out.extend_from_slice(rest);
                let mut iv = [0u8; 16];
                iv.copy_from_slice(&tag.as_ref()[..16]);
                Aes256Ctr::new(enc.into(), &iv.into()).apply_keystream(&mut out[start..]);
            }
        }
        if append_wkc {
            if let Some(wkc) = &self.wkc {
                out.extend_from_slice(wkc);
            }
        }
    }

    /// Verifies and unwraps a received control packet into its §1.2 form.
    pub fn unwrap(&mut self, pkt: &[u8]) -> Result<Vec<u8>, UnwrapError> {
        if pkt.len() < HEAD {
            return Err(UnwrapError::Truncated);
        }
        let (head, rest) = pkt.split_at(HEAD);
        let (plain, time, id) = match &self.prot {
            Protection::None => return Ok(pkt.to_vec()),
            Protection::Auth { recv, len, .. } => {
                if rest.len() < len + 8 {
                    return Err(UnwrapError::Truncated);
                }
                let (tag, tail) = rest.split_at(*len);
                let (replay, body) = tail.split_at(8);
                let mut ctx = hmac::Context::with_key(recv);
                ctx.update(replay);
                ctx.update(head);
                ctx.update(body);
                let expect = ctx.sign();
                if !ct_eq(&expect.as_ref()[..*len], tag) {
                    return Err(UnwrapError::BadAuth);
                }
                let mut plain = Vec::with_capacity(HEAD + body.len());
                plain.extend_from_slice(head);
                plain.extend_from_slice(body);
                (plain, be32(&replay[4..]), be32(&replay[..4]))
            }
            Protection::Crypt { dec, dec_mac, .. } => {
                if rest.len() < 8 + TAG_LEN {
                    return Err(UnwrapError::Truncated);
                }
                let (replay, tail) = rest.split_at(8);
                let (tag, ct) = tail.split_at(TAG_LEN);
                let mut plain = Vec::with_capacity(HEAD + ct.len());
                plain.extend_from_slice(head);
                plain.extend_from_slice(ct);
                let mut iv = [0u8; 16];
                iv.copy_from_slice(&tag[..16]);
                Aes256Ctr::new(dec.into(), &iv.into()).apply_keystream(&mut plain[HEAD..]);
                let mut ctx = hmac::Context::with_key(dec_mac);
                ctx.update(head);
                ctx.update(replay);
                ctx.update(&plain[HEAD..]);
                if !ct_eq(ctx.sign().as_ref(), tag) {
                    return Err(UnwrapError::BadAuth);
                }
                (plain, be32(&replay[4..]), be32(&replay[..4]))
            }
        };
        if !self.replay.check_and_record(time, id) {
            return Err(UnwrapError::Replay);
        }
        Ok(plain)
    }
}

/// Constant-time comparison of two MACs.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire;

    fn key(seed: u8) -> Key2 {
        let mut k = [0u8; 256];
        for (i, b) in k.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(seed);
        }
        Key2(k)
    }

    fn sample() -> Vec<u8> {
        let mut p = Vec::new();
        wire::write_control(
            &mut p,
            wire::P_CONTROL_V1,
            1,
            &[3; 8],
            &[4],
            &[5; 8],
            Some(9),
            b"tls bytes",
        );
        p
    }

    #[test]
    fn tls_auth_roundtrip_with_opposite_directions() {
        for d in [AuthDigest::Sha1, AuthDigest::Sha256, AuthDigest::Sha512] {
            let k = key(1);
            let mut client = Wrap::tls_auth(&k, Some(KeyDirection::Inverse), d, 100);
            let mut server = Wrap::tls_auth(&k, Some(KeyDirection::Normal), d, 100);
            let mut out = Vec::new();
            client.wrap(&sample(), false, &mut out);
            assert_eq!(out.len(), sample().len() + client.overhead());
            assert_eq!(server.unwrap(&out).unwrap(), sample());
            assert_eq!(server.unwrap(&out), Err(UnwrapError::Replay));
            // Same direction on both ends must fail: the keys differ.
            let mut wrong = Wrap::tls_auth(&k, Some(KeyDirection::Inverse), d, 100);
            assert_eq!(wrong.unwrap(&out), Err(UnwrapError::BadAuth));
        }
    }

    /// A server-side wrap for tests: tls-crypt with NORMAL direction.
    fn server_crypt(k: &Key2) -> Wrap {
        Wrap::with(
            Protection::Crypt {
                enc: key32(k.cipher(0)),
                enc_mac: hmac::Key::new(hmac::HMAC_SHA256, &k.hmac(0)[..32]),
                dec: key32(k.cipher(1)),
                dec_mac: hmac::Key::new(hmac::HMAC_SHA256, &k.hmac(1)[..32]),
            },
            7,
            None,
        )
    }

    #[test]
    fn tls_crypt_roundtrip_and_tamper() {
        let k = key(2);
        let mut client = Wrap::tls_crypt(&k, 100);
        let mut server = server_crypt(&k);
        let mut out = Vec::new();
        client.wrap(&sample(), false, &mut out);
        assert_eq!(out.len(), sample().len() + 40);
        assert!(
            !out.windows(9).any(|w| w == b"tls bytes"),
            "payload must be encrypted"
        );
        assert_eq!(server.unwrap(&out).unwrap(), sample());
        let mut reply = Vec::new();
        server.wrap(&sample(), false, &mut reply);
        assert_eq!(client.unwrap(&reply).unwrap(), sample());
        let mut bad = out.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(server.unwrap(&bad), Err(UnwrapError::BadAuth));
    }

    #[test]
    fn tls_crypt_v2_marks_early_negotiation_and_appends_wkc() {
        let k = key(3);
        let mut client = Wrap::tls_crypt_v2(&k, vec![0xAA; 20], 100);
        let mut out = Vec::new();
        client.wrap(&sample(), true, &mut out);
        assert_eq!(&out[9..13], &0x0f00_0001u32.to_be_bytes());
        assert!(out.ends_with(&[0xAA; 20]));
        let mut server = server_crypt(&k);
        assert_eq!(server.unwrap(&out[..out.len() - 20]).unwrap(), sample());
    }
}
