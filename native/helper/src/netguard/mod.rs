//! Network guards: what a session changes on the host beyond its TUN device and routes, each
//! undone when the session ends, on SIGTERM (through the session teardown) and, after a crash,
//! by the next helper that starts.
//!
//! - [`dns`]: pushed DNS servers and domains, through systemd-resolved (D-Bus), else
//!   resolvconf, else a managed /etc/resolv.conf with a backup.
//! - [`firewall`]: the IPv6 leak block and the kill switch, as one nftables table owned by
//!   this helper process.
//!
//! [`SessionGuards`] ties them to a session's network setup (linux/network.rs).
//!
//! Every guard is an RAII value: `restore()` undoes it and reports errors; dropping it undoes
//! it too (best effort), so a session task that panics or is aborted leaves nothing behind.

pub mod dns_plan;
pub mod journal;
pub mod session_guards;
pub mod tools;

use std::path::Path;

use crate::platform::linux::{dns, firewall};

pub use journal::DEFAULT_DIR;

/// What crash recovery undid, for one log line at start-up.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    pub dns_restored: usize,
    pub firewall_tables_removed: usize,
    pub problems: Vec<String>,
}

/// Undoes what helpers that died without cleaning up left behind: DNS changes recorded in
/// `journal_dir` (those that concern what this process sees, see [`dns::recover_after_crash`])
/// and their nftables tables in this network namespace. Live helpers' records are left alone.
pub fn recover_after_crash(journal_dir: &Path) -> Recovery {
    let mut recovery = Recovery::default();
    dns::recover_after_crash(journal_dir, &mut recovery);
    firewall::recover_after_crash(&mut recovery);
    recovery
}
