//! Who made a change, precisely enough to tell after a crash whether that process is still
//! alive (pids are reused, so the process start time and the boot id are part of it) and
//! whether the change is visible from here (network and mount namespaces).

use serde::{Deserialize, Serialize};

use crate::platform::{Os, Platform};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Owner {
    pub boot_id: String,
    pub pid: u32,
    /// When the process started, in the platform's units (clock ticks since boot on Linux).
    pub start_time: u64,
    /// The network namespace (Linux: inode of /proc/self/ns/net; link DNS settings and
    /// nftables tables live in it); 0 where the OS has none.
    pub netns: u64,
}

impl Owner {
    pub fn current() -> Owner {
        let pid = std::process::id();
        Owner {
            boot_id: Os::boot_id(),
            pid,
            start_time: Os::process_start_time(pid).unwrap_or(0),
            netns: Os::network_namespace(),
        }
    }

    /// The recording process is still running (same boot, same pid, same start time).
    pub fn is_alive(&self) -> bool {
        self.boot_id == Os::boot_id() && Os::process_start_time(self.pid) == Some(self.start_time)
    }

    /// Recorded during the current boot (namespace inodes only mean something within one).
    /// Used by the Unix DNS backends' recovery; Windows' NRPT rules are removed whatever the boot.
    #[cfg(unix)]
    pub fn same_boot(&self) -> bool {
        self.boot_id == Os::boot_id()
    }

    #[cfg(unix)]
    pub fn same_netns(&self) -> bool {
        self.same_boot() && self.netns == Os::network_namespace()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_process_is_alive_and_a_forged_start_time_is_not() {
        let me = Owner::current();
        assert!(me.is_alive());
        #[cfg(unix)]
        assert!(me.same_netns());
        let mut reused_pid = me.clone();
        reused_pid.start_time += 1;
        assert!(!reused_pid.is_alive());
        let mut other_boot = me;
        other_boot.boot_id = "00000000-0000-0000-0000-000000000000".into();
        assert!(!other_boot.is_alive());
        #[cfg(unix)]
        assert!(!other_boot.same_netns());
    }
}
