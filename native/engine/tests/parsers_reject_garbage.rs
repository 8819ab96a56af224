//! Property tests: every parser that reads bytes from the network (or from a profile) gets
//! random and truncated input, must not panic, and must reject what is not valid: garbage does
//! not authenticate, truncated packets do not parse, unframed key files are refused.

use causeway_engine::config::{AuthDigest, Compression, DataCipher, KeyDirection};
use causeway_engine::data::{self, DataKeys, Encapsulation};
use causeway_engine::keys::{self, Key2};
use causeway_engine::wrap::Wrap;
use causeway_engine::{ctrl_msg, km2, push, wire};
use proptest::prelude::*;

fn key2() -> Key2 {
    let mut k = [0u8; 256];
    for (i, b) in k.iter_mut().enumerate() {
        *b = i as u8;
    }
    Key2(k)
}

/// Two 32-byte randoms after the u32 lead and the method byte.
const KM2_MIN: usize = 4 + 1 + 64;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn control_packet_parser(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = wire::parse_control(&bytes) {
            prop_assert!(wire::is_control(p.opcode));
            prop_assert!(p.ack_ids().count() <= wire::MAX_ACKS);
        }
        if let Some(b0) = bytes.first() {
            if !wire::is_control(wire::opcode(*b0)) {
                prop_assert!(wire::parse_control(&bytes).is_err(), "a data opcode parsed as control");
            }
        }
        let _ = wire::parse_early_negotiation(&bytes);
    }

    #[test]
    fn wraps_reject_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let k = key2();
        for mut w in [
            Wrap::tls_auth(&k, Some(KeyDirection::Inverse), AuthDigest::Sha1, 1),
            Wrap::tls_auth(&k, None, AuthDigest::Sha512, 1),
            Wrap::tls_crypt(&k, 1),
            Wrap::tls_crypt_v2(&k, vec![1, 2, 3, 0, 5], 1),
        ] {
            prop_assert!(w.unwrap(&bytes).is_err(), "unauthenticated bytes were accepted");
        }
        if let Ok(plain) = Wrap::none().unwrap(&bytes) {
            prop_assert_eq!(plain, bytes);
        }
    }

    #[test]
    fn truncated_valid_packets(cut in 0usize..80) {
        let mut plain = Vec::new();
        wire::write_control(&mut plain, wire::P_CONTROL_V1, 0, &[1; 8], &[1, 2], &[2; 8], Some(3), b"payload");
        // What a server sends (key direction 0) and our client (direction 1) unwraps.
        let client = || Wrap::tls_auth(&key2(), Some(KeyDirection::Inverse), AuthDigest::Sha256, 5);
        let mut wrapped = Vec::new();
        Wrap::tls_auth(&key2(), Some(KeyDirection::Normal), AuthDigest::Sha256, 5).wrap(&plain, false, &mut wrapped);
        prop_assert_eq!(client().unwrap(&wrapped).ok(), Some(plain.clone()));
        if cut < wrapped.len() {
            prop_assert!(client().unwrap(&wrapped[..cut]).is_err());
        }
        // Header, acks, remote session id and packet id: 1 + 8 + 1 + 2*4 + 8 + 4 bytes.
        if cut < 30 {
            prop_assert!(wire::parse_control(&plain[..cut]).is_err());
        }
    }

    #[test]
    fn server_key_method_2(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        for input in [bytes.clone(), [&[0u8, 0, 0, 0, 2][..], &bytes].concat()] {
            if let Ok((_, used)) = km2::parse_server(&input) {
                prop_assert!((KM2_MIN..=input.len()).contains(&used));
            }
            if input.len() < KM2_MIN + 2 {
                prop_assert!(km2::parse_server(&input).is_err(), "a message too short to be KM2 parsed");
            }
        }
    }

    #[test]
    fn push_reply_and_control_messages(text in "\\PC{0,300}") {
        let mut acc = push::PushAccumulator::default();
        if let Ok(Some(lines)) = acc.feed(&text) {
            let _ = push::parse_options(&lines);
        }
        let _ = push::tokenize(&text);
        let _ = ctrl_msg::classify(&text);
        if ctrl_msg::parse_crv1(&text).is_some() {
            prop_assert!(text.starts_with("CRV1:"));
        }
        let _ = ctrl_msg::parse_info(&text);
        let _ = ctrl_msg::auth_pending_timeout(&text);
        let _ = ctrl_msg::temp_backoff(&text);
        if let Some(clean) = ctrl_msg::sanitize(text.as_bytes()) {
            let control = clean.chars().any(|c| (c as u32) < 0x20 || c == '\u{7f}');
            prop_assert!(!control, "a control character passed sanitize");
        }
    }

    #[test]
    fn push_options_with_structure(name in prop::sample::select(vec!["ifconfig", "ifconfig-ipv6", "route", "route-ipv6", "peer-id", "dhcp-option", "dns", "compress", "comp-lzo", "topology", "route-gateway", "auth-token-user", "tun-mtu", "protocol-flags"]), args in proptest::collection::vec("[0-9a-zA-Z./:-]{0,20}", 0..5)) {
        let line = format!("{name} {}", args.join(" "));
        let parsed = push::parse_options(&[line]);
        let first_is_ipv4 = args.first().is_some_and(|a| a.parse::<std::net::Ipv4Addr>().is_ok());
        let needs_ipv4 = matches!(name, "ifconfig" | "route")
            || (name == "route-gateway" && args.first().map(String::as_str) != Some("dhcp"));
        if needs_ipv4 && !first_is_ipv4 {
            prop_assert!(parsed.is_err(), "{name} without an IPv4 address was accepted");
        }
        if let Ok((opts, _)) = parsed {
            let s = opts.to_settings(DataCipher::Aes256Gcm, 1500, false);
            for r in &s.routes {
                let (net, bits) = r.split_once('/').expect("CIDR");
                prop_assert!(net.parse::<std::net::Ipv4Addr>().is_ok() && bits.parse::<u8>().is_ok_and(|b| b <= 32));
            }
        }
    }

    #[test]
    fn data_packets(mut bytes in proptest::collection::vec(any::<u8>(), 0..200), comp in 0usize..4) {
        let compression = [Compression::None, Compression::CompLzoNo, Compression::CompressStub, Compression::CompressStubV2][comp];
        for (cipher, auth) in [
            (DataCipher::Chacha20Poly1305, AuthDigest::Sha1),
            (DataCipher::Aes256Cbc, AuthDigest::Sha256),
            (DataCipher::Aes128Cbc, AuthDigest::Sha1),
        ] {
            let mut keys = DataKeys::from_key2(cipher, auth, &[7u8; 256]);
            let mut pkt = bytes.clone();
            if let Some((_, hdr)) = data::data_header(&pkt) {
                prop_assert!(keys.open(&mut pkt, hdr).is_err(), "a forged {cipher:?} data packet decrypted");
            }
        }
        let enc = Encapsulation { peer_id: None, compression };
        let len = bytes.len();
        let _ = enc.unframe(&mut bytes, 0..len);
    }

    #[test]
    fn cbc_packets_changed_or_cut_are_refused(
        payload in proptest::collection::vec(any::<u8>(), 1..100),
        at in any::<prop::sample::Index>(),
        bit in 0u8..8,
        cut in any::<prop::sample::Index>(),
        which in 0usize..3,
    ) {
        let (cipher, auth) = [
            (DataCipher::Aes256Cbc, AuthDigest::Sha1),
            (DataCipher::Aes128Cbc, AuthDigest::Sha256),
            (DataCipher::Aes256Cbc, AuthDigest::Sha512),
        ][which];
        let k = key2().0;
        let mut server_view = [0u8; 256];
        server_view[..128].copy_from_slice(&k[128..]);
        server_view[128..].copy_from_slice(&k[..128]);
        let mut client = DataKeys::from_key2(cipher, auth, &k);
        let mut server = DataKeys::from_key2(cipher, auth, &server_view);
        let enc = Encapsulation { peer_id: Some(3), compression: Compression::None };
        let mut pkt = Vec::new();
        let hdr = enc.begin(0, &payload, &mut pkt);
        client.seal(&mut pkt, hdr).unwrap();
        // Any bit after the (unauthenticated) header changed: refused.
        let mut changed = pkt.clone();
        changed[hdr + at.index(pkt.len() - hdr)] ^= 1 << bit;
        prop_assert!(server.open(&mut changed, hdr).is_err());
        // Any shorter packet: refused.
        let mut short = pkt[..cut.index(pkt.len())].to_vec();
        prop_assert!(server.open(&mut short, hdr).is_err());
        // The untouched packet still opens, once.
        let mut opened = pkt.clone();
        let r = server.open(&mut opened, hdr).unwrap();
        prop_assert_eq!(&opened[r], &payload[..]);
        prop_assert!(server.open(&mut pkt, hdr).is_err(), "a replay was accepted");
    }

    #[test]
    fn key_files(text in "\\PC{0,400}") {
        // Without its BEGIN/END lines nothing is a key.
        if !text.contains("-----BEGIN") {
            prop_assert!(keys::parse_static_key(&text).is_err());
            prop_assert!(keys::parse_tls_crypt_v2_client_key(&text).is_err());
        }
        // A static key is 512 hex digits; 400 characters cannot hold one.
        let framed = format!("-----BEGIN OpenVPN Static key V1-----\n{text}\n-----END OpenVPN Static key V1-----\n");
        prop_assert!(keys::parse_static_key(&framed).is_err());
        let framed = format!("-----BEGIN OpenVPN tls-crypt-v2 client key-----\n{text}\n-----END OpenVPN tls-crypt-v2 client key-----\n");
        let base64ish = text.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c) || c.is_whitespace());
        if !base64ish {
            prop_assert!(keys::parse_tls_crypt_v2_client_key(&framed).is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// TUN offloads (the `vnet_offload` fuzz target's property): a TUN read of any shape is
    /// split or refused, never a panic, and every segment is at most header + gso_size; GRO
    /// takes any packets.
    #[test]
    fn tun_offload_split_and_coalesce(
        gso_type in prop_oneof![Just(0u8), Just(1), Just(4), Just(5), Just(0x81), any::<u8>()],
        flags in 0u8..4,
        gso_size in 0u16..2000,
        csum_start in 0u16..80,
        csum_offset in prop_oneof![Just(6u16), Just(16), 0u16..40],
        version in prop_oneof![Just(0x45u8), Just(0x60), any::<u8>()],
        body in proptest::collection::vec(any::<u8>(), 0..4000),
    ) {
        use causeway_engine::offload::{gro::Coalescer, gso, vnet::VnetHdr};
        let mut buf = vec![0u8; 10];
        VnetHdr { flags, gso_type, hdr_len: 0, gso_size, csum_start, csum_offset }.write(&mut buf);
        buf.push(version);
        buf.extend_from_slice(&body);
        let mut scratch = vec![0u8; 65535];
        let mut segments = Vec::new();
        if gso::split(&mut buf.clone(), &mut scratch, |p| segments.push(p.to_vec())).is_ok() && gso_type != 0 {
            for s in &segments {
                prop_assert!(s.len() <= 60 + 80 + usize::from(gso_size));
            }
        }
        let mut c = Coalescer::new();
        let mut written = 0usize;
        let mut write = |b: &[u8]| -> Result<(), ()> { written += b.len(); Ok(()) };
        for s in segments.iter().chain([&buf[10..].to_vec()]) {
            c.push(s, &mut write).unwrap();
        }
        c.flush(&mut write).unwrap();
        prop_assert!(written >= buf.len() - 10);
    }
}
