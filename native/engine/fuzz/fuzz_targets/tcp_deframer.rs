//! The u16-length deframer of the TCP link, fed in arbitrary chunks.
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::tcp_deframer(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
