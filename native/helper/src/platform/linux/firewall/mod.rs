//! The firewall policy (netguard/firewall.rs) as nftables: one `inet` table per helper
//! process, `causeway_<pid>`, replaced atomically on every change. Its name is its own crash
//! record. A crash is not a disconnect: a dead helper's table stays in force after the next
//! helper starts, until a session of that helper changes the firewall (it has taken over, so
//! the dead table goes in the same transaction) or, with none, until `ORPHAN_GRACE` passes
//! (main gave up; `netguard::firewall::keep_orphans`).

mod ruleset;

use std::path::{Path, PathBuf};

use super::procfs as owner;
use crate::netguard::firewall::Policy;
use crate::netguard::lan::Lan;
use crate::netguard::tools;
use crate::platform::unix::ifaddrs;

const TABLE_PREFIX: &str = "causeway_";

fn table_of(pid: u32) -> String {
    format!("{TABLE_PREFIX}{pid}")
}

fn nft() -> Result<PathBuf, String> {
    tools::find("nft").ok_or_else(|| {
        "nft (nftables) is not installed; it is needed for the kill switch and the leak blocks"
            .to_owned()
    })
}

/// Replaces this helper's table with one for `policy` and removes dead helpers' tables, in
/// one nft transaction: the new rules are in force before the old ones go.
pub fn install(policy: &Policy) -> Result<(), String> {
    let nft = nft()?;
    let lan = Lan::exempt_by(policy, ifaddrs::interface_addresses)?;
    let mut script = ruleset::replace_script(&table_of(std::process::id()), policy, &lan);
    for pid in orphans(&nft)? {
        script.push_str(&format!("delete table inet {}\n", table_of(pid)));
    }
    tools::run(&nft, &["-f", "-"], &script).map(|_| ())
}

/// The pids of helper tables in `nft list tables` output.
fn helper_tables(listing: &str) -> Vec<u32> {
    listing
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("table inet ")?
                .strip_prefix(TABLE_PREFIX)?
                .parse()
                .ok()
        })
        .collect()
}

/// The pids of tables of helpers that are no longer running, in this network namespace.
fn orphans(nft: &Path) -> Result<Vec<u32>, String> {
    let listing = tools::run(nft, &["list", "tables"], "")
        .map_err(|e| format!("cannot list nftables tables: {e}"))?;
    Ok(helper_tables(&listing)
        .into_iter()
        .filter(|&pid| pid != std::process::id() && !owner::is_running_helper(pid))
        .collect())
}

/// How many dead helpers' tables are in force (none without nft: no table can exist).
pub fn orphan_count() -> Result<usize, String> {
    match nft() {
        Ok(nft) => orphans(&nft).map(|dead| dead.len()),
        Err(_) => Ok(0),
    }
}

/// Removes the tables of dead helpers (never a live helper's, never ours).
pub fn remove_orphans() -> Result<usize, String> {
    let nft = nft()?;
    let dead = orphans(&nft)?;
    for &pid in &dead {
        tools::run(&nft, &["delete", "table", "inet", &table_of(pid)], "")?;
    }
    Ok(dead.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_recovery_finds_only_helper_tables() {
        let listing = "table inet filter\ntable inet causeway_123\ntable ip causeway_7\ntable inet causeway_x\ntable inet causeway_456\n";
        assert_eq!(helper_tables(listing), [123, 456]);
    }
}
