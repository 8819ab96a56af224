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

    /// Whether a record can be made the only source of servers (openresolv's `-x`).
    pub fn can_be_exclusive(&self) -> bool {
        self.openresolv
    }

    /// The record name this flavour ranks first for `device`.
    pub fn record_for(&self, device: &str) -> String {
        record_name(device, self.openresolv)
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

/// The record name for a device, chosen so that each flavour ranks it above the LAN's records:
/// Debian's resolvconf orders by /etc/resolvconf/interface-order, where "tun*" comes before
/// physical interfaces; openresolv puts its `dynamic_order` ("vpn.*" among them) before every
/// other record.
fn record_name(device: &str, openresolv: bool) -> String {
    if openresolv {
        format!("vpn.causeway-{device}")
    } else {
        format!("tun-causeway-{device}")
    }
}

/// openresolv's `-x` makes the record exclusive: with the default route in the tunnel no
/// other resolver may see a query. Debian's resolvconf has no such flag.
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
        let record = "vpn.causeway-cw0";
        assert_eq!(add_args(record, true, true), ["-a", record, "-x"]);
        assert_eq!(add_args(record, true, false), ["-a", record]);
        assert_eq!(add_args(record, false, true), ["-a", record]);
    }

    #[test]
    fn record_names_rank_first_in_each_flavour() {
        assert_eq!(record_name("cw3", true), "vpn.causeway-cw3");
        assert_eq!(record_name("cw3", false), "tun-causeway-cw3");
    }
}
