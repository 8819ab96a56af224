//! causeway-engine: an OpenVPN 2.x client protocol engine.
//!
//! Layers, bottom up:
//! - parsers and crypto with no state machine: `wire`, `wrap`, `keys`, `km2`, `prf`, `data`,
//!   `push`, `ctrl_msg`, `replay`, `reliable`, `tls`;
//! - `connection`: the sans-IO core of one connection (packets, TUN packets and time in;
//!   packets, decrypted TUN packets, timers and events out);
//! - `session`: a whole session as a sans-IO state machine (remote list, credentials,
//!   re-auth, failover, backoff; `policy`, `remote_addr`) and the tokio loop that drives it;
//! - `driver`, `transport`, `tun_io`: the tokio I/O for UDP, TCP and the TUN device.
//!
//! The helper starts each session with `spawn_session` (on a thread of its own) and its
//! `NetworkSetup`; see `api`.

pub mod api;
pub mod cbc;
pub mod config;
pub mod connection;
#[cfg(test)]
mod connection_tests;
pub mod ctrl_msg;
pub mod data;
mod driver;
#[cfg(all(test, unix))]
mod driver_alloc_tests;
#[cfg(test)]
mod fake_server;
pub mod keys;
pub mod km2;
pub mod limits;
pub mod mss;
pub mod offload;
pub mod params;
mod pipeline;
pub mod policy;
pub mod prf;
pub mod push;
pub mod reliable;
mod remote_addr;
pub mod replay;
pub mod secret;
mod session;
mod suspend_clock;
pub mod tls;
mod transport;
mod tun_io;
pub mod wire;
mod worker;
pub mod wrap;

#[cfg(unix)]
pub use api::TunFraming;
pub use api::{
    Command, CredentialKind, EngineError, Event, LogLevel, NetworkSetup, PacketQueue,
    PendingMethod, RemoteInfo, Tun, TunDevice,
};
pub use config::{
    Compression, DataCipher, EngineConfig, ErrorCode, Proto, PushedSettings, Remote, SessionPhase,
    VerifyX509Name,
};
pub use session::{run_session, spawn_session, SessionAbort, SessionEnd, SessionThread};
/// For the fuzz targets: the TCP link's deframer is a parser of untrusted bytes.
pub use transport::Deframer;
/// For the helper: how the engine's own sockets are made and names looked up.
pub use transport::{own_tcp, own_udp, Lookup, OwnSockets, RawSocket, Sockets, SystemSockets};
/// For the fuzz targets: the proxies' replies are untrusted bytes.
pub use transport::{parse_connect_response, parse_socks_reply, parse_socks_udp_header};
