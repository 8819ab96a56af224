//! tls-auth / tls-crypt / tls-crypt-v2 unwrapping of attacker-controlled datagrams.
#![no_main]
use causeway_engine::config::{AuthDigest, KeyDirection};
use causeway_engine::keys::Key2;
use causeway_engine::wrap::Wrap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let k = Key2([0x42; 256]);
    for mut w in [
        Wrap::none(),
        Wrap::tls_auth(&k, Some(KeyDirection::Inverse), AuthDigest::Sha256, 1),
        Wrap::tls_crypt(&k, 1),
        Wrap::tls_crypt_v2(&k, vec![0, 4, 0, 4], 1),
    ] {
        let _ = w.unwrap(data);
    }
});
