//! TUN offload parsing: virtio-net header + packet as a TUN read returns them (split into
//! segments), and the same bytes as packets offered to the GRO coalescer.
#![no_main]
use causeway_engine::offload::{gro::Coalescer, gso, vnet::VnetHdr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = VnetHdr::parse(data);
    let mut buf = data.to_vec();
    let mut scratch = vec![0u8; 65535];
    let mut segments = Vec::new();
    let _ = gso::split(&mut buf, &mut scratch, |p| segments.push(p.to_vec()));
    let mut c = Coalescer::new();
    let mut write = |_: &[u8]| -> Result<(), ()> { Ok(()) };
    for s in segments.iter().map(Vec::as_slice).chain([data]) {
        let _ = c.push(s, &mut write);
    }
    let _ = c.flush(&mut write);
});
