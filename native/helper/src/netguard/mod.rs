//! Network guards: what a session changes on the host beyond its TUN device and routes, each
//! undone when the session ends, on SIGTERM (through the session teardown) and, after a crash,
//! by the next helper that starts.
//!
//! This module holds what is the same on every OS; the platform (platform/) carries it out:
//! - [`dns_plan`]: pushed DNS servers and domains, validated, and the choice between "every
//!   name through the tunnel" and split DNS;
//! - [`firewall`]: the policy of the leak blocks and the kill switch, and how long a dead
//!   helper's rules stay in force;
//! - [`lan`]: which connected subnets the leak blocks may leave reachable;
//! - [`journal`] and [`owner`]: the record of each change, written before it is made, and
//!   who made it, so the next helper can undo what a crashed one left.
//!
//! [`session_guards::SessionGuards`] ties them to a session's network setup (network/).
//!
//! Every guard is an RAII value: `restore()` undoes it and reports errors; dropping it undoes
//! it too (best effort), so a session task that panics or is aborted leaves nothing behind.

pub mod dns_plan;
pub mod firewall;
pub mod journal;
pub mod journaled;
pub mod lan;
pub mod owner;
pub mod session_guards;
// The command-line tools Unix backends drive (nft, pfctl, resolvconf).
#[cfg(unix)]
pub mod tools;

use std::path::Path;

use crate::platform::{Os, Platform};

/// What crash recovery undid, for one log line at start-up.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    pub dns_restored: usize,
    pub problems: Vec<String>,
}

/// Undoes what helpers that died without cleaning up left behind: DNS changes recorded in
/// `journal_dir` (those that concern what this process sees). Their firewall rules stay in
/// force until a session takes over or the grace passes, on every OS
/// ([`firewall::keep_orphans`]). Live helpers' records are left alone.
pub fn recover_after_crash(journal_dir: &Path) -> Recovery {
    let mut recovery = Recovery::default();
    Os::recover_after_crash(journal_dir, &mut recovery);
    firewall::keep_orphans(&mut recovery);
    recovery
}
