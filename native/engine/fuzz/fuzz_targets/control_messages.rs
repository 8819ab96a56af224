//! Plaintext control messages: PUSH_REPLY options, AUTH_FAILED/CRV1, INFO, AUTH_PENDING.
#![no_main]
use causeway_engine::config::DataCipher;
use causeway_engine::{ctrl_msg, push};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = ctrl_msg::sanitize(data) else { return };
    let _ = ctrl_msg::classify(text);
    let _ = ctrl_msg::parse_crv1(text);
    let _ = ctrl_msg::parse_info(text);
    let _ = ctrl_msg::auth_pending_timeout(text);
    let _ = ctrl_msg::temp_backoff(text);
    let mut acc = push::PushAccumulator::default();
    if let Some(lines) = acc.feed(text) {
        if let Ok((opts, _)) = push::parse_options(&lines) {
            let _ = opts.to_settings(DataCipher::Aes256Gcm, 1500, false);
        }
    }
});
