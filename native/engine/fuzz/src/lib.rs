//! The checks behind the fuzz targets: each takes libFuzzer's bytes, feeds them to a parser of
//! untrusted input and asserts what must hold for any input (garbage is rejected, nothing is
//! accepted twice, valid frames come out whole), not merely that nothing panics.

use causeway_engine::config::{AuthDigest, Compression, DataCipher, KeyDirection};
use causeway_engine::data::{self, DataKeys, Encapsulation};
use causeway_engine::keys::Key2;
use causeway_engine::reliable::{Received, ReliableRecv, RECV_WINDOW};
use causeway_engine::replay::ReplayWindow;
use causeway_engine::wrap::Wrap;
use causeway_engine::{
    ctrl_msg, km2, parse_connect_response, parse_socks_reply, parse_socks_udp_header, push, wire,
    Deframer,
};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::task::{Context, Poll, Waker};

/// The helper's frame codec, compiled here as it is in the helper (a binary crate).
#[path = "../../../helper/src/codec.rs"]
pub mod helper_codec;

pub fn control_packet(data: &[u8]) {
    if let Ok(p) = wire::parse_control(data) {
        assert!(wire::is_control(p.opcode) && p.ack_ids().count() <= wire::MAX_ACKS);
    }
    let _ = wire::parse_early_negotiation(data);
}

pub fn control_wrap(data: &[u8]) {
    let k = Key2([0x42; 256]);
    if let Ok(plain) = Wrap::none().unwrap(data) {
        assert_eq!(plain, data, "no wrap passes packets through unchanged");
    }
    for mut w in [
        Wrap::tls_auth(&k, Some(KeyDirection::Inverse), AuthDigest::Sha256, 1),
        Wrap::tls_crypt(&k, 1),
        Wrap::tls_crypt_v2(&k, vec![0, 4, 0, 4], 1),
    ] {
        assert!(
            w.unwrap(data).is_err(),
            "unauthenticated bytes were accepted"
        );
    }
}

/// The shortest server KM2: a u32 lead, the method byte and two 32-byte randoms.
const KM2_MIN: usize = 4 + 1 + 64;

pub fn server_km2(data: &[u8]) {
    if let Ok((_, used)) = km2::parse_server(data) {
        assert!((KM2_MIN..=data.len()).contains(&used));
    }
}

pub fn control_messages(data: &[u8]) {
    let Some(text) = ctrl_msg::sanitize(data) else {
        return;
    };
    assert!(
        !text.chars().any(|c| (c as u32) < 0x20 || c == '\u{7f}'),
        "a control character passed sanitize"
    );
    let _ = ctrl_msg::classify(text);
    if ctrl_msg::parse_crv1(text).is_some() {
        assert!(text.starts_with("CRV1:"));
    }
    let _ = ctrl_msg::parse_info(text);
    let _ = ctrl_msg::auth_pending_timeout(text);
    let _ = ctrl_msg::temp_backoff(text);
    let mut acc = push::PushAccumulator::default();
    if let Ok(Some(lines)) = acc.feed(text) {
        if let Ok((opts, _)) = push::parse_options(&lines) {
            let _ = opts.to_settings(DataCipher::Aes256Gcm, 1500, false);
        }
    }
}

pub fn data_packet(data: &[u8]) {
    // The AEAD format, and the CBC one, whose HMAC must refuse what no key signed.
    for (cipher, auth) in [
        (DataCipher::Aes128Gcm, AuthDigest::Sha1),
        (DataCipher::Aes256Cbc, AuthDigest::Sha1),
        (DataCipher::Aes128Cbc, AuthDigest::Sha512),
    ] {
        let mut pkt = data.to_vec();
        let mut keys = DataKeys::from_key2(cipher, auth, &[9u8; 256]);
        if let Some((_, hdr)) = data::data_header(&pkt) {
            assert!(
                keys.open(&mut pkt, hdr).is_err(),
                "a forged packet decrypted"
            );
        }
    }
    for compression in [
        Compression::None,
        Compression::CompLzoNo,
        Compression::CompressStub,
        Compression::CompressStubV2,
    ] {
        let mut buf = data.to_vec();
        let len = buf.len();
        let enc = Encapsulation {
            peer_id: Some(1),
            compression,
        };
        let _ = enc.unframe(&mut buf, 0..len);
    }
}

/// Frames as a reader of the whole stream at once sees them; an incomplete tail yields none.
fn frames_of(mut stream: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while stream.len() >= 2 {
        let len = u16::from_be_bytes([stream[0], stream[1]]) as usize;
        if stream.len() < 2 + len {
            break;
        }
        out.push(&stream[2..2 + len]);
        stream = &stream[2 + len..];
    }
    out
}

/// The first byte chooses how the rest arrives in segments; the deframer must yield exactly
/// the frames of the whole stream, however it was cut.
pub fn tcp_deframer(data: &[u8]) {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let mut deframer = Deframer::new();
    let mut got: Vec<Vec<u8>> = Vec::new();
    let step = usize::from(cut) + 1;
    for segment in stream.chunks(step) {
        deframer.extend(segment);
        while let Some(frame) = deframer.take() {
            got.push(frame.to_vec());
        }
    }
    assert_eq!(got, frames_of(stream));
}

/// Polls a future over an in-memory reader, which never has to wait.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a reader over a byte slice never waits"),
    }
}

/// Reads frames until the reader stops; each answer must match the stream's own layout:
/// payloads whole, an oversized length refused before allocating, a cut frame an I/O error and
/// a clean end only between frames.
pub fn helper_frames(data: &[u8]) {
    use helper_codec::{read_frame, ReadError, MAX_FRAME_BYTES};
    let mut reader = data;
    let mut rest = data;
    loop {
        let got = ready(read_frame(&mut reader));
        if rest.is_empty() {
            assert!(matches!(got, Err(ReadError::Eof)), "{got:?} at the end");
            return;
        }
        if rest.len() < 4 {
            assert!(
                matches!(got, Err(ReadError::Io(ref e)) if e.kind() == std::io::ErrorKind::UnexpectedEof)
            );
            return;
        }
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len > MAX_FRAME_BYTES {
            assert!(matches!(got, Err(ReadError::TooLarge(n)) if n == len));
            return;
        }
        if rest.len() < 4 + len {
            assert!(
                matches!(got, Err(ReadError::Io(ref e)) if e.kind() == std::io::ErrorKind::UnexpectedEof)
            );
            return;
        }
        assert_eq!(got.expect("a whole frame").as_slice(), &rest[4..4 + len]);
        rest = &rest[4 + len..];
    }
}

/// Each 3 bytes are one packet: an id (the high bit counts back from u32::MAX, around the
/// wrap), an opcode and a one-byte payload. Delivered packets must come in id order from 0,
/// each once, with the payload of its first copy; nothing beyond the window is buffered or
/// acknowledged.
pub fn reliable_recv(data: &[u8]) {
    let mut recv = ReliableRecv::new();
    let mut next: u32 = 0;
    let mut buffered: HashMap<u32, (u8, Vec<u8>)> = HashMap::new();
    let mut ackable: HashSet<u32> = HashSet::new();
    for p in data.chunks_exact(3) {
        let mpid = if p[0] & 0x80 != 0 {
            u32::MAX - u32::from(p[0] & 0x7f)
        } else {
            u32::from(p[0])
        };
        let payload = vec![p[2]];
        let ahead = mpid.wrapping_sub(next);
        match recv.receive(mpid, p[1], &payload) {
            Received::Accepted => {
                assert!(
                    ahead < RECV_WINDOW,
                    "accepted {mpid} outside the window at {next}"
                );
                assert!(
                    buffered.insert(mpid, (p[1], payload)).is_none(),
                    "accepted {mpid} twice"
                );
                ackable.insert(mpid);
            }
            Received::Duplicate => {
                assert!(ahead >= RECV_WINDOW || buffered.contains_key(&mpid));
                ackable.insert(mpid);
            }
            Received::OutOfWindow => assert!((RECV_WINDOW..=u32::MAX / 2).contains(&ahead)),
        }
        while let Some(got) = recv.pop_ordered() {
            let want = buffered
                .remove(&next)
                .expect("delivered an id never accepted");
            assert_eq!(got, want);
            next = next.wrapping_add(1);
        }
        assert!(
            !buffered.contains_key(&next),
            "{next} arrived but was not delivered"
        );
        for id in recv.take_acks(usize::from(p[2] % 9)) {
            assert!(
                ackable.contains(&id),
                "acknowledged {id}, which was never taken"
            );
        }
    }
}

/// Each 3 bytes are one packet: an epoch (0..4) and a u16 id. No (epoch, id) is accepted
/// twice, id 0 never, an older epoch never after a newer one; a new highest id is always taken.
pub fn replay_window(data: &[u8]) {
    let mut w = ReplayWindow::new();
    let mut accepted: HashSet<(u32, u32)> = HashSet::new();
    let mut epoch: Option<(u32, u32)> = None; // (time, highest id) of the current sequence
    for p in data.chunks_exact(3) {
        let time = u32::from(p[0] % 4);
        let id = u32::from(u16::from_be_bytes([p[1], p[2]]));
        let would = w.check(time, id);
        assert_eq!(would, w.check(time, id), "check changed the window");
        let ok = w.check_and_record(time, id);
        assert_eq!(ok, would);
        match epoch {
            _ if id == 0 => assert!(!ok, "id 0 accepted"),
            Some((t, _)) if time < t => assert!(!ok, "epoch {time} reopened after {t}"),
            Some((t, high)) if time == t && id > high => assert!(ok, "new highest id {id} refused"),
            Some((t, _)) if time > t => assert!(ok, "a newer epoch was refused"),
            None => assert!(ok, "the first packet was refused"),
            _ => {}
        }
        if ok {
            assert!(accepted.insert((time, id)), "({time}, {id}) accepted twice");
            epoch = match epoch {
                Some((t, high)) if t == time => Some((t, high.max(id))),
                _ => Some((time, id)),
            };
        }
    }
}

/// A TUN read of any shape is split or refused: a header that does not parse is never split,
/// and no segment of a split super-packet is longer than its headers plus `gso_size`; the GRO
/// coalescer takes any packets without failing, and the ACK thinner only drops whole packets.
pub fn vnet_offload(data: &[u8]) {
    use causeway_engine::offload::{ack_thinning::AckThinner, gro::Coalescer, gso, vnet::VnetHdr};
    let header = VnetHdr::parse(data);
    let mut buf = data.to_vec();
    let mut scratch = vec![0u8; 65535];
    let mut segments = Vec::new();
    let split = gso::split(&mut buf, &mut scratch, |p| segments.push(p.to_vec()));
    match header {
        Err(_) => assert!(split.is_err(), "a header that does not parse is not split"),
        Ok(h) if split.is_ok() && h.gso_type != 0 => {
            // Each segment repeats the headers: up to the transport header (`csum_start`, as the
            // kernel says) plus at most 60 bytes of TCP header with options, then gso_size bytes.
            for s in &segments {
                assert!(s.len() <= usize::from(h.csum_start) + 60 + usize::from(h.gso_size));
            }
        }
        Ok(_) => {}
    }
    let mut c = Coalescer::new();
    let mut write = |_: &[u8]| -> Result<(), ()> { Ok(()) };
    for s in segments.iter().map(Vec::as_slice).chain([data]) {
        c.push(s, &mut write)
            .expect("the coalescer takes any packet");
    }
    c.flush(&mut write).expect("the coalescer flushes");
    // The ACK thinner passes packets on whole and in order, or drops them; the last always
    // goes out.
    let inputs: Vec<&[u8]> = segments.iter().map(Vec::as_slice).chain([data]).collect();
    let mut thinner = AckThinner::new();
    let mut out = Vec::new();
    let mut pass = |p: &[u8]| -> Result<(), ()> {
        out.push(p.to_vec());
        Ok(())
    };
    for p in &inputs {
        thinner
            .push(p, &mut pass)
            .expect("the thinner takes any packet");
    }
    thinner.flush(&mut pass).expect("the thinner flushes");
    let mut rest = inputs.iter();
    for o in &out {
        assert!(
            rest.any(|i| *i == o.as_slice()),
            "written in order and unchanged"
        );
    }
    assert_eq!(out.last().map(Vec::as_slice), inputs.last().copied());
}

/// An HTTP proxy's answer to CONNECT: accepted only with a well-formed 2xx status line and a
/// header end within the bound, and the tunnel never starts past the bytes given.
pub fn http_connect_response(data: &[u8]) {
    if let Ok(Some(end)) = parse_connect_response(data) {
        assert!(end <= data.len() && data[..end].ends_with(b"\r\n\r\n"));
        assert!(data.starts_with(b"HTTP/1.0 2") || data.starts_with(b"HTTP/1.1 2"));
    }
    // Garbage is rejected, not waited on forever: a first byte other than 'H' never passes.
    if data.first().is_some_and(|&b| b != b'H') && data.windows(4).any(|w| w == b"\r\n\r\n") {
        assert!(parse_connect_response(data).is_err(), "garbage accepted");
    }
}

/// A SOCKS5 request's reply: accepted only as version 5, success, a zero reserved byte, and a
/// length exactly covered by the bytes given; every prefix of an accepted reply is incomplete.
pub fn socks5_reply(data: &[u8]) {
    match parse_socks_reply(data) {
        Ok(Some((_, n))) => {
            assert!(n <= data.len() && data[0] == 5 && data[1] == 0 && data[2] == 0);
            for cut in 0..n {
                assert!(matches!(parse_socks_reply(&data[..cut]), Ok(None)));
            }
        }
        Ok(None) => assert!(data.len() < 4 + 1 + 255 + 2),
        Err(_) => {}
    }
    if data.first().is_some_and(|&v| v != 5) {
        assert!(parse_socks_reply(data).is_err(), "garbage accepted");
    }
}

/// A datagram from a SOCKS5 UDP relay: taken only with zero reserved bytes, no fragment
/// number, and a header the datagram holds whole; a fragment is never taken, and every
/// datagram cut inside an accepted header is refused.
pub fn socks5_udp_header(data: &[u8]) {
    if let Ok((_, n)) = parse_socks_udp_header(data) {
        assert!(n <= data.len() && data[..3] == [0, 0, 0]);
        assert!(
            matches!(data[3], 1 | 3 | 4),
            "unknown address type accepted"
        );
        for cut in 0..n {
            assert!(
                parse_socks_udp_header(&data[..cut]).is_err(),
                "cut at {cut} accepted"
            );
        }
    }
    if data.len() >= 3 && data[..2] == [0, 0] && data[2] != 0 {
        assert!(parse_socks_udp_header(data).is_err(), "fragment accepted");
    }
    if data.first().is_some_and(|&b| b != 0) || data.get(1).is_some_and(|&b| b != 0) {
        assert!(parse_socks_udp_header(data).is_err(), "garbage accepted");
    }
}
