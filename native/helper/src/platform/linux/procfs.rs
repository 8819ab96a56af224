//! What /proc says about processes, the boot and namespaces: how crash records tell a live
//! helper from a dead one and whether a change is visible from here.

use std::fs;
use std::os::unix::fs::MetadataExt;

pub fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

pub fn namespace_inode(kind: &str) -> u64 {
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
    fn start_time_survives_a_command_name_with_spaces_and_parentheses() {
        // Our own stat line parses; the parser must not split inside "(name)".
        assert!(start_time(std::process::id()).is_some());
        assert_eq!(start_time(u32::MAX), None);
    }
}
