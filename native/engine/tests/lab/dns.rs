//! A tiny authoritative DNS server for one zone, listening on 127.0.0.1:53 inside the client
//! namespace: `<zone>` and any `<label>.<zone>` resolve (A) to the lab's server; everything else
//! is NXDOMAIN. It records every query name, so tests can see what the engine asked for.

use std::net::{Ipv4Addr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct DnsServer {
    queries: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DnsServer {
    pub fn start(lab: &super::Lab, zone: &str) -> DnsServer {
        let answer: Ipv4Addr = lab.server_ip.parse().unwrap();
        let zone = zone.to_ascii_lowercase();
        let queries = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (q, s) = (queries.clone(), stop.clone());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let ns = lab.client_ns.clone();
        let thread = std::thread::spawn(move || {
            super::enter_ns(&ns);
            let sock = UdpSocket::bind("127.0.0.1:53").expect("bind 127.0.0.1:53 in the client ns");
            sock.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            ready_tx.send(()).unwrap();
            let mut buf = [0u8; 512];
            while !s.load(Ordering::SeqCst) {
                let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                if let Some((name, reply)) = answer_query(&buf[..n], &zone, answer) {
                    q.lock().unwrap().push(name);
                    let _ = sock.send_to(&reply, peer);
                }
            }
        });
        ready_rx.recv().expect("DNS server started");
        DnsServer {
            queries,
            stop,
            thread: Some(thread),
        }
    }

    /// Names queried so far (lowercase, without the trailing dot).
    pub fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }

    /// Stops answering: the port is closed, so lookups fail at once (ICMP port unreachable).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Parses a one-question query; returns the name and the reply (A answer for the zone's names,
/// empty NOERROR for other types there, NXDOMAIN elsewhere).
fn answer_query(q: &[u8], zone: &str, addr: Ipv4Addr) -> Option<(String, Vec<u8>)> {
    if q.len() < 12 || u16::from_be_bytes([q[4], q[5]]) != 1 {
        return None;
    }
    let mut labels = Vec::new();
    let mut i = 12;
    loop {
        let len = *q.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(q.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*q.get(i)?, *q.get(i + 1)?]);
    let question_end = i + 4;
    q.get(..question_end)?;
    let name = labels.join(".");
    let in_zone = name == zone || name.ends_with(&format!(".{zone}"));
    let answer_a = in_zone && qtype == 1;
    let mut r = q[..question_end].to_vec();
    r[2] = 0x84 | (q[2] & 0x01); // QR, AA, keep RD
    r[3] = if in_zone { 0x00 } else { 0x03 }; // NOERROR / NXDOMAIN
    r[6..12].copy_from_slice(&[0, answer_a as u8, 0, 0, 0, 0]);
    if answer_a {
        // Name pointer to the question, type A, class IN, TTL 60, 4 bytes of address.
        r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        r.extend_from_slice(&addr.octets());
    }
    Some((name, r))
}
