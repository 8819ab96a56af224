//! TUN offload parsing: virtio-net header + packet as a TUN read returns them (split into
//! segments), and the same bytes as packets offered to the GRO coalescer.
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::vnet_offload(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
