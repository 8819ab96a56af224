//! Who made a change, precisely enough to tell after a crash whether that process is still
//! alive (pids are reused, so the process start time and the boot id are part of it) and
//! whether the change is visible from here (network and mount namespaces).

use std::fs;
use std::os::unix::fs::MetadataExt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Owner {
    pub boot_id: String,
    pub pid: u32,
    /// Clock ticks since boot when the process started (/proc/<pid>/stat field 22).
    pub start_time: u64,
    /// Inode of /proc/self/ns/net: link DNS settings and nftables tables live in it.
    pub netns: u64,
}

impl Owner {
    pub fn current() -> Owner {
        let pid = std::process::id();
        Owner {
            boot_id: boot_id(),
            pid,
            start_time: start_time(pid).unwrap_or(0),
            netns: namespace_inode("net"),
        }
    }

    /// The recording process is still running (same boot, same pid, same start time).
    pub fn is_alive(&self) -> bool {
        self.boot_id == boot_id() && start_time(self.pid) == Some(self.start_time)
    }

    /// Recorded during the current boot (namespace inodes only mean something within one).
    pub fn same_boot(&self) -> bool {
        self.boot_id == boot_id()
    }

    pub fn same_netns(&self) -> bool {
        self.same_boot() && self.netns == namespace_inode("net")
    }
}

fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn namespace_inode(kind: &str) -> u64 {
    fs::metadata(format!("/proc/self/ns/{kind}"))
        .map(|m| m.ino())
        .unwrap_or(0)
}

/// Field 22 of /proc/<pid>/stat. The command name (field 2) may contain spaces and
/// parentheses, so fields are counted from the last ')'.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // after_comm starts at field 3 (state); field 22 is the 20th from there.
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `pid` is a running causeway-helper (the kernel truncates comm to 15 bytes, which
/// is exactly "causeway-helper").
pub fn is_running_helper(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim_end() == "causeway-helper")
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_process_is_alive_and_a_forged_start_time_is_not() {
        let me = Owner::current();
        assert!(me.is_alive());
        assert!(me.same_netns());
        let mut reused_pid = me.clone();
        reused_pid.start_time += 1;
        assert!(!reused_pid.is_alive());
        let mut other_boot = me;
        other_boot.boot_id = "00000000-0000-0000-0000-000000000000".into();
        assert!(!other_boot.is_alive());
        assert!(!other_boot.same_netns());
    }

    #[test]
    fn start_time_survives_a_command_name_with_spaces_and_parentheses() {
        // Our own stat line parses; the parser must not split inside "(name)".
        assert!(start_time(std::process::id()).is_some());
        assert_eq!(start_time(u32::MAX), None);
    }
}
