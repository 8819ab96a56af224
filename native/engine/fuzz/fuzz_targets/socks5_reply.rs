//! A SOCKS5 proxy reply, as a hostile proxy could send it.
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::socks5_reply(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
