//! The replay window: no id is accepted twice, old epochs stay closed.
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::replay_window(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
