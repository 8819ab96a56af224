//! Data-channel packets: header parsing, AEAD open, compression unframing.
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::data_packet(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
