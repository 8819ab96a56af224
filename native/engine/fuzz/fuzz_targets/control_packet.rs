//! Unwrapped control packets and the early-negotiation TLVs of a server reset.
#![no_main]
use causeway_engine::wire;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = wire::parse_control(data) {
        let _ = p.ack_ids().count();
    }
    let _ = wire::parse_early_negotiation(data);
});
