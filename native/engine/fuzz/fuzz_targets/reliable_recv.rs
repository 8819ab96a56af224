//! The reliability layer's receive side: ids, duplicates, window, in-order delivery.
#![cfg_attr(target_os = "linux", no_main)]

#[cfg(target_os = "linux")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| causeway_engine_fuzz::reliable_recv(data));

#[cfg(not(target_os = "linux"))]
fn main() {}
