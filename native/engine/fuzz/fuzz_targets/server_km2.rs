//! The server's key-method-2 message (stock and AWS length-prefixed forms).
#![no_main]
use causeway_engine::km2;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = km2::parse_server(data);
});
