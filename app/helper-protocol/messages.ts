// The main <-> causeway-helper protocol, version 1. The types are generated from the helper's
// Rust serde types (native/helper/src/protocol.rs, native/engine/src/config.rs); change those and
// run `npm run gen:protocol`, never generated/. test/vectors/helper-protocol/ holds messages
// both sides must accept (and reject).
//
// Framing (codec.ts): each message is a u32 big-endian byte length followed by that many bytes
// of UTF-8 JSON (one object). Frames over MAX_FRAME_BYTES are a protocol error and close the
// channel. Every object carries `type`; unknown types and unknown fields are rejected.
// Secrets (keys, passwords, SAML responses, tokens) travel only in `connect.config`,
// `credentials` and `crResponse`, and are never echoed back in any helper message.
export * from './generated/types.js';
