//! One VPN session from first connect to final disconnect, in two layers (the shape of
//! quinn-proto and rustls):
//!
//! - `machine`: the sans-IO `SessionMachine`. It owns the remote list, credentials (auth-token
//!   reuse and fallback, CRV1 answers pinned to the issuing address, static-challenge re-asks),
//!   failover and backoff. Events in (a name resolved, a dial failed, a connection event, an
//!   answer to a prompt, a timer, a command), actions out (resolve, dial, ask, emit, sleep until,
//!   configure or tear down the network, end the connection). It never touches a socket or a
//!   clock, so `tests` drives it deterministically on a virtual clock.
//! - `runner`: `run_session`, the thin tokio loop that carries the actions out: name lookups,
//!   the connection's `Driver` (the packet path between TUN and socket stays there), the
//!   helper's `NetworkSetup`, timers and the command/event channels.
//! - `thread`: `spawn_session`, a session on a thread and runtime of its own (the data loop
//!   naps that thread while bulk traffic gathers).

mod credentials;
mod machine;
mod runner;
#[cfg(test)]
mod tests;
mod thread;

pub use runner::run_session;
pub use thread::{spawn_session, SessionAbort, SessionEnd, SessionThread};
