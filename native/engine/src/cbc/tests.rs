use super::*;
use crate::data::{DataKeys, Encapsulation};

/// Packets built by the openssl command (`test/vectors/cbc/generate.mjs`).
const VECTORS: &str = include_str!("../../../../test/vectors/cbc/data-channel.json");

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn auth_of(name: &str) -> AuthDigest {
    match name {
        "SHA1" => AuthDigest::Sha1,
        "SHA256" => AuthDigest::Sha256,
        "SHA512" => AuthDigest::Sha512,
        other => panic!("digest {other}"),
    }
}

struct Vector {
    cipher: DataCipher,
    auth: AuthDigest,
    packet_id: u32,
    payload: Vec<u8>,
    packet: Vec<u8>,
}

fn vectors() -> ([u8; 256], usize, Vec<Vector>) {
    let v: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
    let key2: [u8; 256] = hex(v["key2"].as_str().unwrap()).try_into().unwrap();
    let list = v["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| Vector {
            cipher: DataCipher::from_name(x["cipher"].as_str().unwrap()).unwrap(),
            auth: auth_of(x["auth"].as_str().unwrap()),
            packet_id: u32::try_from(x["packetId"].as_u64().unwrap()).unwrap(),
            payload: hex(x["payload"].as_str().unwrap()),
            packet: hex(x["packet"].as_str().unwrap()),
        })
        .collect();
    (key2, v["headerLen"].as_u64().unwrap() as usize, list)
}

fn swapped(key2: &[u8; 256]) -> [u8; 256] {
    let mut s = [0u8; 256];
    s[..128].copy_from_slice(&key2[128..]);
    s[128..].copy_from_slice(&key2[..128]);
    s
}

const ALL: [(DataCipher, AuthDigest); 6] = [
    (DataCipher::Aes128Cbc, AuthDigest::Sha1),
    (DataCipher::Aes128Cbc, AuthDigest::Sha256),
    (DataCipher::Aes128Cbc, AuthDigest::Sha512),
    (DataCipher::Aes256Cbc, AuthDigest::Sha1),
    (DataCipher::Aes256Cbc, AuthDigest::Sha256),
    (DataCipher::Aes256Cbc, AuthDigest::Sha512),
];

#[test]
fn opens_packets_openssl_built() {
    let (key2, hdr, list) = vectors();
    assert_eq!(list.len(), 30, "every cipher x digest x length");
    for v in list {
        let keys = CbcKeys::from_key2(v.cipher, v.auth, &key2);
        let mut pkt = v.packet.clone();
        let (id, range) = keys.open(&mut pkt, hdr).unwrap();
        assert_eq!(id, v.packet_id, "{:?} {:?}", v.cipher, v.auth);
        assert_eq!(&pkt[range], &v.payload[..], "{:?} {:?}", v.cipher, v.auth);
    }
}

#[test]
fn any_changed_byte_after_the_header_is_refused() {
    let (key2, hdr, list) = vectors();
    for v in list.iter().filter(|v| v.payload.len() == 12) {
        let keys = CbcKeys::from_key2(v.cipher, v.auth, &key2);
        for i in hdr..v.packet.len() {
            let mut pkt = v.packet.clone();
            pkt[i] ^= 0x01;
            assert_eq!(
                keys.open(&mut pkt, hdr).unwrap_err(),
                DecryptError::Auth,
                "byte {i}"
            );
        }
        // The wrong digest's key, or the other direction's keys, do not verify either.
        let other = CbcKeys::from_key2(v.cipher, v.auth, &swapped(&key2));
        assert!(other.open(&mut v.packet.clone(), hdr).is_err());
    }
}

#[test]
fn truncated_or_misaligned_packets_are_refused() {
    let (key2, hdr, list) = vectors();
    let v = &list[0];
    let keys = CbcKeys::from_key2(v.cipher, v.auth, &key2);
    for cut in 0..v.packet.len() {
        let mut pkt = v.packet[..cut].to_vec();
        assert!(keys.open(&mut pkt, hdr).is_err(), "cut at {cut}");
    }
}

#[test]
fn sealed_packets_open_on_the_other_side_with_fresh_ivs() {
    let key2: [u8; 256] = std::array::from_fn(|i| (i as u8).wrapping_mul(29));
    for (cipher, auth) in ALL {
        let client = CbcKeys::from_key2(cipher, auth, &key2);
        let server = CbcKeys::from_key2(cipher, auth, &swapped(&key2));
        let mac_len = crate::wrap::digest(auth).1;
        for len in [0usize, 1, 11, 12, 27, 28, 1400] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8 ^ 0xa5).collect();
            let seal = |pid| {
                let mut out = vec![0x48, 0, 0, 7];
                out.extend_from_slice(&[0u8; AEAD_ROOM]);
                out.extend_from_slice(&payload);
                client.seal(&mut out, 4, pid).unwrap();
                out
            };
            let (a, b) = (seal(5), seal(5));
            // 4 + len plaintext bytes padded to whole blocks, always with 1..=16 bytes of padding.
            let padded = (4 + len) / BLOCK * BLOCK + BLOCK;
            assert_eq!(a.len(), 4 + mac_len + BLOCK + padded);
            assert_ne!(
                a[4 + mac_len..4 + mac_len + BLOCK],
                b[4 + mac_len..4 + mac_len + BLOCK],
                "the IV is random per packet"
            );
            let mut pkt = a.clone();
            let (id, range) = server.open(&mut pkt, 4).unwrap();
            assert_eq!(
                (id, &pkt[range]),
                (5, &payload[..]),
                "{cipher:?} {auth:?} {len}"
            );
            // Our own direction's keys never open what we sent (no reflection).
            assert!(client.open(&mut a.clone(), 4).is_err());
        }
    }
}

#[test]
fn data_keys_carry_cbc_with_framing_and_replay_protection() {
    let key2: [u8; 256] = std::array::from_fn(|i| i as u8);
    for (cipher, auth) in ALL {
        let mut client = DataKeys::from_key2(cipher, auth, &key2);
        let mut server = DataKeys::server_from_key2(cipher, auth, &key2);
        let enc = Encapsulation {
            peer_id: None,
            compression: crate::config::Compression::CompressStubV2,
        };
        let ip = [0x45u8, 0, 0, 20, 9, 9, 9, 9];
        let mut out = Vec::new();
        let hdr = enc.begin(2, &ip, &mut out);
        client.seal(&mut out, hdr).unwrap();
        assert_eq!(crate::data::data_header(&out), Some((2, 1)));
        let mut again = out.clone();
        let r = server.open(&mut out, hdr).unwrap();
        let r = enc.unframe(&mut out, r).unwrap();
        assert_eq!(&out[r], &ip);
        assert_eq!(server.open(&mut again, hdr), Err(DecryptError::Replay));
    }
}

#[test]
fn sweet32_refuses_64_bit_block_ciphers_only() {
    for weak in [
        "BF-CBC",
        "bf-cfb",
        "DES-CBC",
        "DES-EDE3-CBC",
        "DESX-CBC",
        "CAST5-CBC",
        "RC2-CBC",
        "RC2-40-CBC",
        "IDEA-CBC",
    ] {
        let reason = sweet32_refusal(weak).unwrap_or_else(|| panic!("{weak}"));
        assert!(
            reason.contains("SWEET32") && reason.contains("AES-256-GCM"),
            "{reason}"
        );
    }
    for strong in [
        "AES-256-CBC",
        "AES-128-GCM",
        "CHACHA20-POLY1305",
        "CAMELLIA-256-CBC",
        "SEED-CBC",
    ] {
        assert_eq!(sweet32_refusal(strong), None, "{strong}");
    }
}
