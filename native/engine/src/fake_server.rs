//! A minimal in-memory OpenVPN *server* for deterministic tests of the client core: the same
//! reliability layer, a rustls ServerConnection, a stock server KM2, scripted control-message
//! replies, and EKM data keys. No sockets, no clock: the test decides what is delivered when.

use crate::config::{AuthDigest, DataCipher};
use crate::data::{DataKeys, Encapsulation};
use crate::reliable::{ReliableRecv, ReliableSend};
use crate::wire;
use crate::wrap::Wrap;
use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Pki {
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

/// A CA and a server certificate (EKU serverAuth, CN "server.test") made in memory.
pub fn pki() -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name.push(DnType::CommonName, "Fake CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, "server.test");
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = p.signed_by(&key, &ca_cert, &ca_key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        server: Arc::new(server),
    }
}

pub struct FakeServer {
    sid: wire::SessionId,
    client_sid: Option<wire::SessionId>,
    send: ReliableSend,
    recv: ReliableRecv,
    tls: rustls::ServerConnection,
    tls_out: Vec<u8>,
    plain: Vec<u8>,
    got_client_km2: bool,
    /// Messages sent in answer to PUSH_REQUEST (each one TLS record), then cleared.
    pub on_push_request: Vec<String>,
    pub push_requests: usize,
    pub received_messages: Vec<String>,
    pub client_password: Option<String>,
    pub cipher: DataCipher,
    /// The HMAC digest of a CBC cipher (the server's `auth`).
    pub auth: AuthDigest,
    /// The server's options string in its key method 2 message (its OCC `cipher`).
    pub options_string: String,
    pub keys: Option<DataKeys>,
    pub out: VecDeque<Vec<u8>>,
    /// Control-channel protection (server side); none by default.
    pub wrap: Wrap,
}

impl FakeServer {
    pub fn new(pki: &Pki, cipher: DataCipher) -> Self {
        Self {
            sid: [0x5e; 8],
            client_sid: None,
            send: ReliableSend::new(Duration::from_secs(2)),
            recv: ReliableRecv::new(),
            tls: rustls::ServerConnection::new(pki.server.clone()).unwrap(),
            tls_out: Vec::new(),
            plain: Vec::new(),
            got_client_km2: false,
            on_push_request: Vec::new(),
            push_requests: 0,
            received_messages: Vec::new(),
            client_password: None,
            cipher,
            auth: AuthDigest::Sha1,
            options_string: "V4,dev-type tun,cipher AES-256-GCM,tls-server".into(),
            keys: None,
            out: VecDeque::new(),
            wrap: Wrap::none(),
        }
    }

    /// Sends one control message now (e.g. HALT, AUTH_PENDING, INFO_PRE).
    pub fn send_message(&mut self, msg: &str, now: Instant) {
        let mut rec = msg.as_bytes().to_vec();
        rec.push(0);
        self.tls.writer().write_all(&rec).unwrap();
        self.flush(now);
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.send.next_deadline()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.flush(now);
    }

    /// A data packet from the client: returns the decrypted payload.
    pub fn decrypt(&mut self, pkt: &mut [u8]) -> Option<Vec<u8>> {
        let (_, hdr) = crate::data::data_header(pkt)?;
        let r = self.keys.as_mut()?.open(pkt, hdr).ok()?;
        Some(pkt[r].to_vec())
    }

    /// Encrypts a payload for the client (P_DATA_V2, peer-id 7, key id 0).
    pub fn encrypt(&mut self, payload: &[u8]) -> Vec<u8> {
        let enc = Encapsulation {
            peer_id: Some(7),
            compression: crate::config::Compression::None,
        };
        let mut out = Vec::new();
        let hdr = enc.begin(0, payload, &mut out);
        self.keys.as_mut().unwrap().seal(&mut out, hdr).unwrap();
        out
    }

    pub fn handle(&mut self, pkt: &[u8], now: Instant) {
        let op = wire::opcode(pkt[0]);
        if op == wire::P_DATA_V1 || op == wire::P_DATA_V2 {
            return;
        }
        let plain = self.wrap.unwrap(pkt).expect("client packets authenticate");
        let p = wire::parse_control(&plain).expect("client sends valid control packets");
        if self.client_sid.is_none() {
            assert_eq!(
                p.opcode,
                wire::P_CONTROL_HARD_RESET_CLIENT_V2,
                "first packet is the client reset"
            );
            self.client_sid = Some(p.sid);
            self.send
                .push(wire::P_CONTROL_HARD_RESET_SERVER_V2, Vec::new(), now);
        }
        for id in p.ack_ids() {
            self.send.ack(id);
        }
        if let Some(mpid) = p.mpid {
            self.recv.receive(mpid, p.opcode, p.payload);
        }
        while let Some((op, payload)) = self.recv.pop_ordered() {
            if op == wire::P_CONTROL_V1 {
                let mut rd = &payload[..];
                while !rd.is_empty() {
                    self.tls.read_tls(&mut rd).unwrap();
                    self.tls.process_new_packets().expect("server TLS ok");
                }
                let mut buf = [0u8; 4096];
                while let Ok(n) = std::io::Read::read(&mut self.tls.reader(), &mut buf) {
                    if n == 0 {
                        break;
                    }
                    self.plain.extend_from_slice(&buf[..n]);
                }
                self.process_plain(now);
            }
        }
        self.flush(now);
    }

    fn process_plain(&mut self, now: Instant) {
        if !self.got_client_km2 {
            // u32 0, u8 2, pre_master + randoms (112), then 4 u16-length strings.
            let mut pos = 5 + 112;
            let mut strings = Vec::new();
            for _ in 0..4 {
                let Some(l) = self.plain.get(pos..pos + 2) else {
                    return;
                };
                let len = u16::from_be_bytes([l[0], l[1]]) as usize;
                let Some(s) = self.plain.get(pos + 2..pos + 2 + len) else {
                    return;
                };
                strings
                    .push(String::from_utf8_lossy(s.strip_suffix(&[0]).unwrap_or(s)).into_owned());
                pos += 2 + len;
            }
            self.client_password = Some(strings[2].clone());
            self.plain.drain(..pos);
            self.got_client_km2 = true;
            let mut km = vec![0, 0, 0, 0, 2];
            km.extend_from_slice(&[0x11; 64]);
            let opts = format!("{}\0", self.options_string);
            km.extend_from_slice(&(opts.len() as u16).to_be_bytes());
            km.extend_from_slice(opts.as_bytes());
            km.extend_from_slice(&[0; 6]);
            self.tls.writer().write_all(&km).unwrap();
        }
        while let Some(nul) = self.plain.iter().position(|b| *b == 0) {
            let msg: Vec<u8> = self.plain.drain(..=nul).collect();
            let msg = String::from_utf8_lossy(&msg[..msg.len() - 1]).into_owned();
            if msg == "PUSH_REQUEST" {
                self.push_requests += 1;
                for reply in std::mem::take(&mut self.on_push_request) {
                    if reply.contains("tls-ekm") {
                        let mut key2 = [0u8; 256];
                        self.tls
                            .export_keying_material(
                                &mut key2[..],
                                b"EXPORTER-OpenVPN-datakeys",
                                None,
                            )
                            .unwrap();
                        self.keys = Some(DataKeys::server_from_key2(self.cipher, self.auth, &key2));
                    }
                    self.send_message(&reply, now);
                }
            } else {
                self.received_messages.push(msg);
            }
        }
    }

    fn flush(&mut self, now: Instant) {
        let Some(client) = self.client_sid else {
            return;
        };
        while self.tls.wants_write() {
            self.tls.write_tls(&mut self.tls_out).unwrap();
        }
        while !self.tls_out.is_empty() && self.send.can_send() {
            let n = self.tls_out.len().min(1000);
            let chunk: Vec<u8> = self.tls_out.drain(..n).collect();
            self.send.push(wire::P_CONTROL_V1, chunk, now);
        }
        let mut pkt = Vec::new();
        loop {
            let acks = self.recv.take_acks(4);
            match self.send.next_due(now) {
                Some(d) => {
                    wire::write_control(
                        &mut pkt,
                        d.opcode,
                        0,
                        &self.sid,
                        &acks,
                        &client,
                        Some(d.mpid),
                        d.payload,
                    );
                    let mut wrapped = Vec::new();
                    self.wrap.wrap(&pkt, false, &mut wrapped);
                    self.out.push_back(wrapped);
                }
                None if !acks.is_empty() => {
                    wire::write_control(
                        &mut pkt,
                        wire::P_ACK_V1,
                        0,
                        &self.sid,
                        &acks,
                        &client,
                        None,
                        &[],
                    );
                    let mut wrapped = Vec::new();
                    self.wrap.wrap(&pkt, false, &mut wrapped);
                    self.out.push_back(wrapped);
                }
                None => break,
            }
        }
    }
}
