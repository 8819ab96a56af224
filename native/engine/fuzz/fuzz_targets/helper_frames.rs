//! The helper's frame reader: bytes from unprivileged peers into a root process.
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::helper_frames(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
