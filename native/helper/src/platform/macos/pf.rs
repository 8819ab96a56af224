//! The firewall policy (netguard/firewall.rs) as pf rules in an anchor of this helper's own,
//! `com.apple/causeway.<pid>`: macOS's /etc/pf.conf evaluates every anchor under
//! `com.apple/*`, so no system file is edited. Rules are loaded with `pfctl -a <anchor> -f -`
//! (replacing the anchor's rules atomically) and flushed when the last guard goes. pf itself
//! is enabled with a reference-counted token (`pfctl -E`), released (`pfctl -X`) with the
//! anchor, so pf stays as enabled or disabled as others want it. Anchor and token are
//! journaled; the next helper removes what a crashed one left.
//!
//! The rules follow the Linux table's order: passes first (loopback, the tunnels, the VPN
//! servers, IPv6 neighbour discovery, DHCP), then the IPv6 block, then the kill switch's
//! catch-all. Outgoing packets are blocked with `return` (an immediate error for the
//! application, as the Linux reject); incoming ones are dropped. Every rule is `quick`: the
//! first match decides.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::netguard::firewall::{Policy, Transport};

pub const ANCHOR_PARENT: &str = "com.apple";

pub fn anchor_name(pid: u32) -> String {
    format!("{ANCHOR_PARENT}/causeway.{pid}")
}

fn proto(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "udp",
        Transport::Tcp => "tcp",
    }
}

/// The anchor's rules for `p` (valid pf.conf syntax, one rule a line).
pub fn render_rules(p: &Policy) -> String {
    let mut r = String::from("pass quick on lo0 all\n");
    if !p.tunnels.is_empty() {
        let names: Vec<&str> = p.tunnels.iter().map(String::as_str).collect();
        let _ = writeln!(r, "pass quick on {{ {} }} all", names.join(" "));
    }
    for e in &p.endpoints {
        let fam = if e.addr.is_ipv4() { "inet" } else { "inet6" };
        let _ = writeln!(
            r,
            "pass out quick {fam} proto {} to {} port {}",
            proto(e.transport),
            e.addr,
            e.port
        );
        // Everything from the server, ICMP included (path MTU discovery needs it).
        let _ = writeln!(r, "pass in quick {fam} from {}", e.addr);
    }
    // IPv6 neighbour discovery and router advertisements, as on Linux.
    r.push_str("pass out quick inet6 proto icmp6 icmp6-type { neighbrsol, neighbradv }\n");
    r.push_str(
        "pass in quick inet6 proto icmp6 icmp6-type { routeradv, neighbrsol, neighbradv, redir }\n",
    );
    if p.kill_switch {
        // Keep the machine's DHCP lease while the tunnel is down.
        r.push_str("pass out quick inet proto udp from port 68 to port 67\n");
        r.push_str("pass in quick inet proto udp from port 67 to port 68\n");
    }
    if p.block_ipv6 {
        r.push_str("block return out quick inet6 all\n");
        r.push_str("block drop in quick inet6 all\n");
    }
    if p.kill_switch {
        r.push_str("block return out quick all\n");
        r.push_str("block drop in quick all\n");
    }
    r
}

/// The token `pfctl -E` reports ("Token : 1234…" on stderr).
pub fn parse_enable_token(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Token")?.trim().strip_prefix(':'))
        .and_then(|t| t.trim().parse().ok())
}

/// The journal's record of the anchor: enough for another process to flush it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnchorRecord {
    pub anchor: String,
}

/// The journal's record of pf's enable reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnableRecord {
    pub token: u64,
}

#[cfg(target_os = "macos")]
pub use sys::{install, recover_after_crash};

#[cfg(target_os = "macos")]
mod sys {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    use serde::de::DeserializeOwned;

    use crate::netguard::journal;
    use crate::netguard::journaled::{JournaledChange, Undo};
    use crate::netguard::{tools, Recovery};
    use crate::platform::{Os, Platform};

    const ANCHOR_KIND: &str = "pf-anchor";
    const ENABLE_KIND: &str = "pf-enable";

    fn pfctl() -> Result<PathBuf, String> {
        tools::find("pfctl").ok_or_else(|| "pfctl is not installed".to_owned())
    }

    impl Undo for AnchorRecord {
        fn undo(&self) -> Result<(), String> {
            tools::run(&pfctl()?, &["-a", &self.anchor, "-F", "all"], "").map(|_| ())
        }
    }

    impl Undo for EnableRecord {
        fn undo(&self) -> Result<(), String> {
            tools::run(&pfctl()?, &["-X", &self.token.to_string()], "").map(|_| ())
        }
    }

    /// This process's anchor while it holds rules. Field order is drop order: the rules go
    /// before pf's reference is released.
    struct Installed {
        anchor: JournaledChange<AnchorRecord>,
        _enabled: JournaledChange<EnableRecord>,
    }

    static INSTALLED: Mutex<Option<Installed>> = Mutex::new(None);

    pub fn install(policy: &Policy) -> Result<(), String> {
        let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
        if policy.is_empty() {
            return match installed.take() {
                Some(mut i) => i.anchor.undo(),
                None => Ok(()),
            };
        }
        let pfctl = pfctl()?;
        let rules = render_rules(policy);
        let name = anchor_name(std::process::id());
        let load = || tools::run(&pfctl, &["-a", &name, "-f", "-"], &rules).map(|_| ());
        if installed.is_some() {
            return load();
        }
        let dir = Path::new(<Os as Platform>::JOURNAL_DIR);
        let record = AnchorRecord {
            anchor: name.clone(),
        };
        let anchor = JournaledChange::make(dir, ANCHOR_KIND, "the pf anchor", record, load)?;
        let (_, stderr) = tools::run_output(&pfctl, &["-E"], "")?;
        let token = parse_enable_token(&stderr)
            .ok_or_else(|| format!("pfctl -E reported no token: {}", stderr.trim()))?;
        let enabled = JournaledChange::make(
            dir,
            ENABLE_KIND,
            "pf's enable reference",
            EnableRecord { token },
            || Ok(()),
        )?;
        *installed = Some(Installed {
            anchor,
            _enabled: enabled,
        });
        Ok(())
    }

    fn recover<R: Undo + DeserializeOwned>(dir: &Path, kind: &str, recovery: &mut Recovery) {
        for orphan in journal::orphans::<R>(dir, kind, &mut recovery.problems) {
            // macOS has one network namespace: same_netns is "same boot". pf's rules and
            // references did not survive a reboot.
            if !orphan.entry.owner.same_netns() {
                orphan.retire();
                continue;
            }
            match orphan.entry.record.undo() {
                Ok(()) => {
                    recovery.firewall_tables_removed += 1;
                    orphan.retire();
                }
                Err(e) => recovery.problems.push(e),
            }
        }
    }

    /// Flushes anchors and releases pf references of helpers that died.
    pub fn recover_after_crash(journal_dir: &Path, recovery: &mut Recovery) {
        recover::<AnchorRecord>(journal_dir, ANCHOR_KIND, recovery);
        recover::<EnableRecord>(journal_dir, ENABLE_KIND, recovery);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netguard::firewall::Endpoint;

    fn policy(kill: bool, v6: bool) -> Policy {
        Policy::sample("utun3", kill, v6)
    }

    #[test]
    fn kill_switch_passes_loopback_tunnel_and_server_then_blocks() {
        let r = render_rules(&policy(true, false));
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(
            lines,
            [
                "pass quick on lo0 all",
                "pass quick on { utun3 } all",
                "pass out quick inet proto udp to 192.0.2.10 port 1194",
                "pass in quick inet from 192.0.2.10",
                "pass out quick inet6 proto icmp6 icmp6-type { neighbrsol, neighbradv }",
                "pass in quick inet6 proto icmp6 icmp6-type { routeradv, neighbrsol, neighbradv, redir }",
                "pass out quick inet proto udp from port 68 to port 67",
                "pass in quick inet proto udp from port 67 to port 68",
                "block return out quick all",
                "block drop in quick all",
            ]
        );
    }

    #[test]
    fn ipv6_block_alone_blocks_only_ipv6_and_keeps_an_ipv6_server() {
        let mut p = policy(false, true);
        p.endpoints.insert(Endpoint {
            addr: "2001:db8::10".parse().unwrap(),
            port: 443,
            transport: Transport::Tcp,
        });
        let r = render_rules(&p);
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines.last(), Some(&"block drop in quick inet6 all"));
        let allow = lines
            .iter()
            .position(|l| *l == "pass out quick inet6 proto tcp to 2001:db8::10 port 443")
            .unwrap();
        let block = lines
            .iter()
            .position(|l| l.starts_with("block return out quick inet6"))
            .unwrap();
        assert!(allow < block, "{r}");
        assert!(
            !r.contains("port 67"),
            "DHCP is the kill switch's business: {r}"
        );
        assert!(!r.contains("block return out quick all"), "{r}");
    }

    #[test]
    fn anchors_live_under_the_system_wildcard_and_tokens_are_parsed() {
        assert_eq!(anchor_name(321), "com.apple/causeway.321");
        assert_eq!(
            parse_enable_token(
                "No ALTQ support in kernel\npf enabled\nToken : 12867418427883386219\n"
            ),
            Some(12867418427883386219)
        );
        assert_eq!(parse_enable_token("pf enabled\n"), None);
        let rec = AnchorRecord {
            anchor: anchor_name(5),
        };
        let json = serde_json::to_string(&rec).unwrap();
        assert_eq!(json, r#"{"anchor":"com.apple/causeway.5"}"#);
        assert_eq!(serde_json::from_str::<AnchorRecord>(&json).unwrap(), rec);
        let json = serde_json::to_string(&EnableRecord { token: 9 }).unwrap();
        assert_eq!(json, r#"{"token":9}"#);
    }
}
