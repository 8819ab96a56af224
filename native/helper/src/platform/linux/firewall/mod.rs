//! The firewall policy (netguard/firewall.rs) as nftables: one `inet` table per helper
//! process, `causeway_<pid>`, replaced atomically on every change. Its name is its own crash
//! record: a table whose pid is no longer a running helper is removed at start-up.

mod ruleset;

use std::path::PathBuf;

use super::procfs as owner;
use crate::netguard::firewall::Policy;
use crate::netguard::{tools, Recovery};

const TABLE_PREFIX: &str = "causeway_";

fn table_name() -> String {
    format!("{TABLE_PREFIX}{}", std::process::id())
}

fn nft() -> Result<PathBuf, String> {
    tools::find("nft").ok_or_else(|| "nft (nftables) is not installed; it is needed for the kill switch and the IPv6 leak block".to_owned())
}

pub fn install(policy: &Policy) -> Result<(), String> {
    tools::run(
        &nft()?,
        &["-f", "-"],
        &ruleset::replace_script(&table_name(), policy),
    )
    .map(|_| ())
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

/// Removes tables of helpers that are no longer running, in this network namespace.
pub fn recover_after_crash(recovery: &mut Recovery) {
    let Ok(nft) = nft() else { return };
    let listing = match tools::run(&nft, &["list", "tables"], "") {
        Ok(l) => l,
        Err(e) => {
            recovery
                .problems
                .push(format!("cannot list nftables tables: {e}"));
            return;
        }
    };
    for pid in helper_tables(&listing) {
        if pid == std::process::id() || owner::is_running_helper(pid) {
            continue;
        }
        match tools::run(
            &nft,
            &["delete", "table", "inet", &format!("{TABLE_PREFIX}{pid}")],
            "",
        ) {
            Ok(_) => recovery.firewall_tables_removed += 1,
            Err(e) => recovery.problems.push(e),
        }
    }
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
