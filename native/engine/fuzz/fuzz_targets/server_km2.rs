//! The server's key-method-2 message (stock and AWS length-prefixed forms).
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::server_km2(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
