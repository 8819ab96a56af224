//! Unwrapped control packets and the early-negotiation TLVs of a server reset.
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::control_packet(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
