//! resolvconf (Debian's resolvconf or openresolv): the tunnel's resolv.conf fragment is
//! registered under a record name and deleted again on restore.

use std::path::PathBuf;

use crate::netguard::tools;

pub struct Resolvconf {
    tool: PathBuf,
    openresolv: bool,
}

impl Resolvconf {
    /// The system's resolvconf, unless it is systemd's compatibility link to resolvectl
    /// (which only works when resolved runs, and then the D-Bus path is used instead).
    pub fn available() -> Option<Resolvconf> {
        let tool = tools::find("resolvconf")?;
        let real = std::fs::canonicalize(&tool).ok()?;
        if real
            .file_name()
            .is_some_and(|n| n == "resolvectl" || n == "systemctl")
        {
            return None;
        }
        let openresolv = tools::run(&tool, &["--version"], "")
            .map(|v| v.starts_with("openresolv"))
            .unwrap_or(false);
        Some(Resolvconf { tool, openresolv })
    }

    pub fn apply(&self, record: &str, text: &str, exclusive: bool) -> Result<(), String> {
        tools::run(
            &self.tool,
            &add_args(record, self.openresolv, exclusive),
            text,
        )
        .map(|_| ())
    }

    pub fn revert(&self, record: &str) -> Result<(), String> {
        tools::run(&self.tool, &["-d", record], "").map(|_| ())
    }
}

/// The record name for a device. Debian's resolvconf orders records by name patterns in
/// /etc/resolvconf/interface-order, where "tun*" ranks above physical interfaces.
pub fn record_name(device: &str) -> String {
    format!("tun-causeway-{device}")
}

/// openresolv's `-x` makes the record exclusive: with the default route in the tunnel no
/// other resolver may see a query. Debian's resolvconf has no such flag; the tunnel's
/// record is ordered first there.
fn add_args(record: &str, openresolv: bool, exclusive: bool) -> Vec<&str> {
    let mut args = vec!["-a", record];
    if openresolv && exclusive {
        args.push("-x");
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_openresolv_gets_the_exclusive_flag() {
        assert_eq!(
            add_args("tun-causeway-cw0", true, true),
            ["-a", "tun-causeway-cw0", "-x"]
        );
        assert_eq!(
            add_args("tun-causeway-cw0", true, false),
            ["-a", "tun-causeway-cw0"]
        );
        assert_eq!(
            add_args("tun-causeway-cw0", false, true),
            ["-a", "tun-causeway-cw0"]
        );
        assert_eq!(record_name("cw3"), "tun-causeway-cw3");
    }
}
