//! Data-channel packets: header parsing, AEAD open, compression unframing.
#![no_main]
use causeway_engine::config::{Compression, DataCipher};
use causeway_engine::data::{self, DataKeys, Encapsulation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut pkt = data.to_vec();
    let mut keys = DataKeys::from_key2(DataCipher::Aes128Gcm, &[9u8; 256]);
    if let Some((_, hdr)) = data::data_header(&pkt) {
        let _ = keys.open(&mut pkt, hdr);
    }
    for compression in [Compression::None, Compression::CompLzoNo, Compression::CompressStub, Compression::CompressStubV2] {
        let mut buf = data.to_vec();
        let len = buf.len();
        let _ = Encapsulation { peer_id: Some(1), compression }.unframe(&mut buf, 0..len);
    }
});
