//! Plaintext control messages: PUSH_REPLY options, AUTH_FAILED/CRV1, INFO, AUTH_PENDING.
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::control_messages(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
