//! The pipeline's batches give what the packet-at-a-time path gives: the same packets, ids
//! and order, on one thread or two, with replays and forgeries dropped one by one and a key
//! switch inside a batch.

use super::super::key_state::KeyState;
use super::super::Connection;
use crate::config::{AuthDigest, Compression, DataCipher};
use crate::connection_tests::established_pair;
use crate::data::{aead_packet_id, data_header, DataKeys, Encapsulation};
use crate::pipeline::{Fanout, Rx, SealBatch};
use std::time::Instant;

const AUTH: AuthDigest = AuthDigest::Sha256;
const CIPHERS: [DataCipher; 3] = [
    DataCipher::Aes256Gcm,
    DataCipher::Chacha20Poly1305,
    DataCipher::Aes256Cbc,
];

fn key2(seed: u8) -> [u8; 256] {
    std::array::from_fn(|i| (i as u8).wrapping_mul(31) ^ seed)
}

/// A UDP-in-IPv4 packet of `len` bytes (not TCP: the MSS clamp leaves it alone).
fn ip(tag: u8, len: usize) -> Vec<u8> {
    let mut p = vec![
        0x45,
        0,
        (len >> 8) as u8,
        len as u8,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
    ];
    p.extend_from_slice(&[10, 8, 0, 2, 10, 8, 0, 1]);
    p.extend((p.len()..len).map(|i| (i as u8) ^ tag));
    p
}

/// Packets of mixed sizes, so the byte-balanced split is not simply the middle.
fn payloads(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| ip(i as u8, 60 + (i * 337) % 1340)).collect()
}

/// The established client with fresh data keys for key_id 0 (packet ids from 1 again).
fn with_fresh_keys(c: &mut Connection, cipher: DataCipher) {
    c.keys[0].data = Some(DataKeys::from_key2(cipher, AUTH, &key2(1)));
}

fn server_keys(cipher: DataCipher, seed: u8) -> DataKeys {
    DataKeys::server_from_key2(cipher, AUTH, &key2(seed))
}

fn server_seal(keys: &mut DataKeys, key_id: u8, payload: &[u8]) -> Vec<u8> {
    let enc = Encapsulation {
        peer_id: Some(7),
        compression: Compression::None,
    };
    let mut out = Vec::new();
    let hdr = enc.begin(key_id, payload, &mut out);
    keys.seal(&mut out, hdr).unwrap();
    out
}

/// The server opens a client packet: its id and payload.
fn server_open(keys: &mut DataKeys, pkt: &[u8]) -> (u8, u32, Vec<u8>) {
    let mut pkt = pkt.to_vec();
    let (key_id, hdr) = data_header(&pkt).unwrap();
    let (id, r) = keys.crypto().open(&mut pkt, hdr).unwrap();
    assert!(keys.accept(id), "packet id {id} twice");
    (key_id, id, pkt[r].to_vec())
}

fn stage_and_seal(c: &mut Connection, pkts: &[Vec<u8>], fan: &mut Fanout) -> Vec<Vec<u8>> {
    let mut batch = SealBatch::new();
    let now = Instant::now();
    for p in pkts {
        assert!(c.stage_tun(&mut p.clone(), &mut batch, now));
    }
    let mut sealed = Vec::new();
    c.seal_batch(&mut batch, fan);
    batch.drain_sealed(|b| sealed.push(b.clone()));
    sealed
}

/// The plaintexts a batch of link packets gave, in order.
fn open_batch(c: &mut Connection, wire: &[Vec<u8>], fan: &mut Fanout) -> Vec<Vec<u8>> {
    let mut bufs = wire.to_vec();
    let mut rx: Vec<Rx<'_>> = bufs.iter_mut().map(|b| Rx::new(b)).collect();
    c.handle_link_batch(&mut rx, Instant::now(), fan);
    rx.iter()
        .filter_map(|r| r.plaintext().map(<[u8]>::to_vec))
        .collect()
}

#[test]
fn a_batch_sealed_on_two_threads_is_the_packet_at_a_time_path() {
    let (mut c, _) = established_pair();
    let pkts = payloads(40);
    for cipher in CIPHERS {
        with_fresh_keys(&mut c, cipher);
        let now = Instant::now();
        let one_by_one: Vec<Vec<u8>> = pkts
            .iter()
            .map(|p| {
                let mut out = Vec::new();
                assert!(c.encrypt_tun(&mut p.clone(), &mut out, now));
                out
            })
            .collect();
        with_fresh_keys(&mut c, cipher);
        let mut fan = Fanout::always();
        let parallel = stage_and_seal(&mut c, &pkts, &mut fan);
        assert_eq!(fan.parallel_batches, 1, "{cipher:?}: the batch was split");
        assert_eq!(parallel.len(), pkts.len());
        if cipher.is_aead() {
            assert!(parallel == one_by_one, "{cipher:?}: other ciphertexts");
            let ids: Vec<u32> = parallel
                .iter()
                .map(|p| aead_packet_id(p, 4).unwrap())
                .collect();
            assert_eq!(ids, (1..=40).collect::<Vec<u32>>());
        }
        // CBC draws a random IV per packet: what must agree is what the server gets.
        for sealed in [&one_by_one, &parallel] {
            let mut server = server_keys(cipher, 1);
            for (i, (p, plain)) in sealed.iter().zip(&pkts).enumerate() {
                assert_eq!(
                    server_open(&mut server, p),
                    (0, i as u32 + 1, plain.clone()),
                    "{cipher:?}: packet {i}"
                );
            }
        }
    }
}

#[test]
fn a_replayed_or_forged_packet_in_a_batch_is_dropped_alone_in_order() {
    let (mut c, _) = established_pair();
    let pkts = payloads(24);
    for cipher in CIPHERS {
        for mut fan in [Fanout::always(), Fanout::one_thread()] {
            with_fresh_keys(&mut c, cipher);
            let mut server = server_keys(cipher, 1);
            let wire: Vec<Vec<u8>> = pkts
                .iter()
                .map(|p| server_seal(&mut server, 0, p))
                .collect();
            let first: Vec<Vec<u8>> = wire[..4].to_vec();
            assert_eq!(open_batch(&mut c, &first, &mut fan), pkts[..4]);
            let mut forged = wire[10].clone();
            *forged.last_mut().unwrap() ^= 1;
            let mut batch = wire[4..10].to_vec();
            batch.push(wire[6].clone()); // replayed within the batch
            batch.push(forged);
            batch.push(wire[2].clone()); // replayed from the batch before
            batch.extend_from_slice(&wire[11..]);
            batch.push(wire[10].clone()); // genuine, after its forgery
            let mut expect = pkts[4..10].to_vec();
            expect.extend_from_slice(&pkts[11..]);
            expect.push(pkts[10].clone());
            let rx_before = c.rx_bytes;
            assert_eq!(open_batch(&mut c, &batch, &mut fan), expect, "{cipher:?}");
            let bytes: usize = expect.iter().map(Vec::len).sum();
            assert_eq!(c.rx_bytes - rx_before, bytes as u64);
        }
    }
}

#[test]
fn a_key_switch_inside_a_batch_keeps_each_packet_on_its_key() {
    for cipher in CIPHERS {
        let (mut c, _) = established_pair();
        with_fresh_keys(&mut c, cipher);
        let now = Instant::now();
        // A renegotiated key 1, its key exchange done, not yet used by the server.
        let mut next = KeyState::new(1, &c.p.tls, c.p.tls_timeout, &*c.rand, now).unwrap();
        next.data = Some(DataKeys::from_key2(cipher, AUTH, &key2(2)));
        next.keys_at = Some(now);
        c.keys.push(next);
        let (mut old, mut new) = (server_keys(cipher, 1), server_keys(cipher, 2));
        let pkts = payloads(12);

        let mut fan = Fanout::always();
        let mut batch = SealBatch::new();
        for p in &pkts[..3] {
            assert!(c.stage_tun(&mut p.clone(), &mut batch, now));
        }
        // The server's first packets under key 1 switch the client over mid-batch; the old
        // key's stragglers after them still count (lame duck).
        let mut wire: Vec<Vec<u8>> = pkts[..4]
            .iter()
            .map(|p| server_seal(&mut old, 0, p))
            .collect();
        wire.extend(pkts[4..8].iter().map(|p| server_seal(&mut new, 1, p)));
        wire.extend(pkts[8..10].iter().map(|p| server_seal(&mut old, 0, p)));
        wire.extend(pkts[10..].iter().map(|p| server_seal(&mut new, 1, p)));
        assert_eq!(open_batch(&mut c, &wire, &mut fan), pkts);
        assert_eq!(c.keys[0].key_id, 1, "{cipher:?}: switched to key 1");
        assert!(c.keys[1].lame);

        // Packets staged before the switch are sealed under key 0, those after under key 1,
        // each key with its own packet ids, in one batch.
        for p in &pkts[3..6] {
            assert!(c.stage_tun(&mut p.clone(), &mut batch, now));
        }
        let mut sealed = Vec::new();
        c.seal_batch(&mut batch, &mut fan);
        batch.drain_sealed(|b| sealed.push(b.clone()));
        let (mut old_server, mut new_server) = (server_keys(cipher, 1), server_keys(cipher, 2));
        let got: Vec<(u8, u32, Vec<u8>)> = sealed
            .iter()
            .enumerate()
            .map(|(i, p)| match i {
                0..3 => server_open(&mut old_server, p),
                _ => server_open(&mut new_server, p),
            })
            .collect();
        let expect: Vec<(u8, u32, Vec<u8>)> = (0..6)
            .map(|i| ((i >= 3).into(), (i % 3 + 1) as u32, pkts[i].clone()))
            .collect();
        assert_eq!(got, expect, "{cipher:?}");
    }
}
