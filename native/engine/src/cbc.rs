//! The legacy CBC data channel (wire-protocol §6.3), for servers that predate AEAD or cipher
//! negotiation: AES-128-CBC / AES-256-CBC with an HMAC of the `auth` digest, encrypt-then-MAC:
//!
//! ```text
//! header || HMAC(hmac key, IV || ciphertext) || IV (16, random per packet)
//!        || AES-CBC(key, IV, u32 packet_id || payload || PKCS#7 padding)
//! ```
//!
//! Keys come from the same key2 as the AEAD ciphers: the first `key_len` bytes of each
//! direction's cipher half, the first digest-length bytes of its HMAC half. Packet ids and the
//! replay window stay in `data::DataKeys`; this module only seals and opens.

use crate::config::{AuthDigest, DataCipher};
use crate::data::{DecryptError, SealError, AEAD_ROOM};
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

const BLOCK: usize = 16;

/// Bytes a CBC packet adds around its payload beyond what the AEAD layout reserves (packet id
/// and tag): the HMAC, the IV and at most one block of padding.
pub fn extra_overhead(auth: AuthDigest) -> usize {
    let (_, mac_len) = crate::wrap::digest(auth);
    let (iv, packet_id, max_padding) = (BLOCK, 4, BLOCK);
    mac_len + iv + packet_id + max_padding - AEAD_ROOM
}

/// Why a 64-bit block cipher named by a server or a profile is refused, with advice, to follow
/// the cipher's name; None for any other name. Keep the prefixes in step with
/// `app/profile/ciphers.ts` (`SWEET32_PREFIXES`).
pub fn sweet32_refusal(name: &str) -> Option<&'static str> {
    const PREFIXES: [&str; 7] = ["BF-", "BLOWFISH", "DES", "CAST", "RC2", "RC5", "IDEA"];
    let upper = name.to_ascii_uppercase();
    PREFIXES
        .iter()
        .any(|p| upper.starts_with(p))
        .then_some(SWEET32_REASON)
}

const SWEET32_REASON: &str = "a 64-bit block cipher open to the SWEET32 attack (plaintext \
    recovered from the traffic of one long session), which Causeway refuses; ask the server's \
    administrator to offer AES-256-GCM (data-ciphers), or AES-256-CBC where the server is older \
    than OpenVPN 2.4";

enum Aes {
    A128(Box<aes::Aes128>),
    A256(Box<aes::Aes256>),
}

impl Aes {
    fn new(cipher: DataCipher, key: &[u8]) -> Self {
        match cipher {
            DataCipher::Aes128Cbc => Aes::A128(Box::new(
                aes::Aes128::new_from_slice(&key[..16]).expect("16-byte key"),
            )),
            _ => Aes::A256(Box::new(
                aes::Aes256::new_from_slice(&key[..32]).expect("32-byte key"),
            )),
        }
    }

    fn encrypt(&self, block: &mut [u8]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Aes::A128(k) => k.encrypt_block(b),
            Aes::A256(k) => k.encrypt_block(b),
        }
    }

    fn decrypt(&self, block: &mut [u8]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Aes::A128(k) => k.decrypt_block(b),
            Aes::A256(k) => k.decrypt_block(b),
        }
    }
}

/// Both directions' CBC and HMAC keys of one key_id.
pub struct CbcKeys {
    enc: Aes,
    enc_mac: hmac::Key,
    dec: Aes,
    dec_mac: hmac::Key,
    mac_len: usize,
    rng: SystemRandom,
}

impl CbcKeys {
    /// From the 256-byte key2 in the client's direction: keys[0] sends, keys[1] receives.
    pub fn from_key2(cipher: DataCipher, auth: AuthDigest, key2: &[u8; 256]) -> Self {
        let (alg, mac_len) = crate::wrap::digest(auth);
        Self {
            enc: Aes::new(cipher, &key2[0..64]),
            enc_mac: hmac::Key::new(alg, &key2[64..64 + mac_len]),
            dec: Aes::new(cipher, &key2[128..192]),
            dec_mac: hmac::Key::new(alg, &key2[192..192 + mac_len]),
            mac_len,
            rng: SystemRandom::new(),
        }
    }

    /// Seals `out`, laid out by `Encapsulation::begin` for an AEAD cipher (header, AEAD_ROOM
    /// bytes, framed payload), into the CBC layout: the payload moves behind HMAC, IV and
    /// packet id, and padding is appended (the Vec keeps its capacity between packets).
    pub fn seal(&self, out: &mut Vec<u8>, hdr_len: usize, packet_id: u32) -> Result<(), SealError> {
        let payload_at = hdr_len + AEAD_ROOM;
        let payload_len = out.len() - payload_at;
        let plain_len = 4 + payload_len;
        let pad = BLOCK - plain_len % BLOCK;
        let iv_at = hdr_len + self.mac_len;
        let ct_at = iv_at + BLOCK;
        let end = ct_at + plain_len + pad;
        out.resize(end, 0);
        out.copy_within(payload_at..payload_at + payload_len, ct_at + 4);
        out[ct_at..ct_at + 4].copy_from_slice(&packet_id.to_be_bytes());
        out[end - pad..].fill(pad as u8);
        self.rng
            .fill(&mut out[iv_at..ct_at])
            .map_err(|_| SealError)?;
        let (iv_part, body) = out[iv_at..].split_at_mut(BLOCK);
        let mut prev = [0u8; BLOCK];
        prev.copy_from_slice(iv_part);
        for block in body.chunks_exact_mut(BLOCK) {
            block.iter_mut().zip(prev).for_each(|(b, p)| *b ^= p);
            self.enc.encrypt(block);
            prev.copy_from_slice(block);
        }
        let tag = hmac::sign(&self.enc_mac, &out[iv_at..]);
        out[hdr_len..iv_at].copy_from_slice(tag.as_ref());
        Ok(())
    }

    /// Verifies and decrypts a packet in place; returns its packet id and the payload's range.
    pub fn open(
        &self,
        pkt: &mut [u8],
        hdr_len: usize,
    ) -> Result<(u32, std::ops::Range<usize>), DecryptError> {
        let iv_at = hdr_len + self.mac_len;
        let ct_at = iv_at + BLOCK;
        if pkt.len() < ct_at + BLOCK || !(pkt.len() - ct_at).is_multiple_of(BLOCK) {
            return Err(DecryptError::Truncated);
        }
        let (mac, signed) = pkt[hdr_len..].split_at_mut(self.mac_len);
        hmac::verify(&self.dec_mac, signed, mac).map_err(|_| DecryptError::Auth)?;
        let (iv_part, body) = signed.split_at_mut(BLOCK);
        let mut prev = [0u8; BLOCK];
        prev.copy_from_slice(iv_part);
        for block in body.chunks_exact_mut(BLOCK) {
            let mut this = [0u8; BLOCK];
            this.copy_from_slice(block);
            self.dec.decrypt(block);
            block.iter_mut().zip(prev).for_each(|(b, p)| *b ^= p);
            prev = this;
        }
        // The HMAC held, so bad padding or a missing packet id is a broken peer, not an oracle.
        let pad = usize::from(pkt[pkt.len() - 1]);
        let plain_end = pkt.len().wrapping_sub(pad);
        if !(1..=BLOCK).contains(&pad)
            || plain_end < ct_at + 4
            || pkt[plain_end..].iter().any(|&b| usize::from(b) != pad)
        {
            return Err(DecryptError::Auth);
        }
        let id = u32::from_be_bytes([pkt[ct_at], pkt[ct_at + 1], pkt[ct_at + 2], pkt[ct_at + 3]]);
        Ok((id, ct_at + 4..plain_end))
    }
}

#[cfg(test)]
mod tests;
