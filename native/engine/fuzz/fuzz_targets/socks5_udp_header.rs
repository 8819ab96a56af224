//! A datagram from a SOCKS5 UDP relay, as a hostile proxy (or anyone who can reach our socket)
//! could send it.
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::socks5_udp_header(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
