//! The data loop allocates nothing per packet: the real `Driver` moves packets both ways
//! between a UDP socket and a TUN stand-in (a datagram socketpair keeps packet boundaries like
//! a TUN fd) for an established connection, under a counting global allocator. Every batch
//! goes through the crypto pipeline's worker thread, whose allocations count too.

use crate::api::{Tun, TunDevice, TunFraming};
use crate::config::Proto;
use crate::connection_tests::{established_pair, ip_packet};
use crate::driver::Driver;
use crate::pipeline::Fanout;
use crate::transport::Link;
use crate::tun_io::TunIo;
use crate::worker::TEST_FLAG as COUNTING;
use std::alloc::{GlobalAlloc, Layout, System};
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Allocations on threads whose `COUNTING` flag is set: the test's own, and the crypto
/// worker while it runs a job for it (the worker takes the flag over with the job).
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// Counts allocations made on the current thread while `COUNTING` is set.
struct CountingAllocator;

fn note_allocation() {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
    });
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const BURST: usize = 32;
const ROUNDS: usize = 20;

#[test]
fn data_loop_allocates_nothing_per_packet() {
    data_loop_without_allocation(TunFraming::Bare);
}

/// The same through the offload path (virtio-net headers: split on read, GRO on write).
#[test]
fn offload_data_loop_allocates_nothing_per_packet() {
    data_loop_without_allocation(TunFraming::VnetHdr);
}

fn data_loop_without_allocation(framing: TunFraming) {
    let header: &[u8] = match framing {
        TunFraming::VnetHdr => &[0u8; crate::offload::vnet::LEN],
        _ => &[],
    };
    let (mut client, mut server) = established_pair();
    // Everything the server will send, encrypted up front (the fake server allocates).
    let down: Vec<Vec<u8>> = (0..(ROUNDS + 1) * BURST)
        .map(|i| server.encrypt(&ip_packet(i as u8)))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_nonblocking(true).unwrap();
        let mut link = Link::connect(
            peer.local_addr().unwrap(),
            Proto::Udp,
            None,
            Duration::from_secs(5),
            &crate::transport::SystemSockets,
        )
        .await
        .unwrap();
        let (kernel, tun_end) = UnixDatagram::pair().unwrap();
        kernel.set_nonblocking(true).unwrap();
        let mut tun = TunIo::new(Tun {
            name: "test".into(),
            device: TunDevice::Fd {
                fd: tun_end.into(),
                framing,
            },
        })
        .unwrap();
        let up_packets: Vec<Vec<u8>> = (0..BURST)
            .map(|i| [header, &ip_packet(i as u8)].concat())
            .collect();
        let (_keep_open, mut commands) = tokio::sync::mpsc::channel(1);
        let mut driver = Driver::new(&mut client, &mut link);
        driver.fan = Fanout::always();
        let mut buf = vec![0u8; 65536];
        let mut client_addr = None;
        let mut counted = 0;
        let mut parallel_before = 0;
        for round in 0..=ROUNDS {
            for p in &up_packets {
                kernel.send(p).unwrap();
            }
            let (mut up, mut down_got) = (0, 0);
            let mut down_sent = false;
            for _ in 0..10_000 {
                // The server's burst goes out once we know the client's address (round 0
                // learns it from the first packet up).
                if let (false, Some(addr)) = (down_sent, client_addr) {
                    for p in &down[round * BURST..(round + 1) * BURST] {
                        peer.send_to(p, addr).unwrap();
                    }
                    down_sent = true;
                }
                // Round 0 warms up (buffers reach their working size); then count.
                COUNTING.with(|c| c.set(round > 0));
                let _ = driver.step(Some(&mut tun), &mut commands).await;
                COUNTING.with(|c| c.set(false));
                while let Ok((n, from)) = peer.recv_from(&mut buf) {
                    client_addr = Some(from);
                    // Data packets only (a control ACK may still be due from the handshake).
                    if crate::data::data_header(&buf[..n]).is_some() {
                        up += 1;
                    }
                }
                while kernel.recv(&mut buf).is_ok() {
                    down_got += 1;
                }
                if up >= BURST && down_got >= BURST {
                    break;
                }
            }
            assert_eq!(
                up, BURST,
                "round {round}: every TUN packet reached the server"
            );
            assert_eq!(
                down_got, BURST,
                "round {round}: every server packet reached the TUN"
            );
            if round > 0 {
                counted += up + down_got;
            } else {
                parallel_before = driver.fan.parallel_batches;
            }
        }
        assert_eq!(counted, 2 * ROUNDS * BURST);
        let parallel = driver.fan.parallel_batches - parallel_before;
        assert!(
            parallel >= 2 * ROUNDS as u64,
            "only {parallel} batches went through the worker"
        );
        let n = ALLOCATIONS.load(Ordering::Relaxed);
        assert_eq!(n, 0, "{n} allocations while moving {counted} packets");
    });
}
