//! tls-auth / tls-crypt / tls-crypt-v2 unwrapping of attacker-controlled datagrams.
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::control_wrap(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
