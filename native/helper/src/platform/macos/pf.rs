//! The firewall policy (netguard/firewall.rs) as pf rules in an anchor of this helper's own,
//! `com.apple/causeway.<pid>`: macOS's /etc/pf.conf evaluates every anchor under
//! `com.apple/*`, so no system file is edited. Rules are loaded with `pfctl -a <anchor> -f -`
//! (replacing the anchor's rules atomically) and flushed when the last guard goes. pf itself
//! is enabled with a reference-counted token (`pfctl -E`), released (`pfctl -X`) with the
//! anchor, so pf stays as enabled or disabled as others want it. Anchor and token are
//! journaled: after a crash the next helper keeps them in force (a crash is not a
//! disconnect) until one of its sessions loads its own anchor, or `ORPHAN_GRACE` passes
//! (`netguard::firewall::keep_orphans`, the rule of every OS).
//!
//! The rules follow the Linux table's order (platform/linux/firewall/ruleset.rs): passes
//! first (loopback, the tunnels, the VPN servers, IPv6 neighbour and router discovery, DHCP
//! and DHCPv6, the LAN the policy allows), then the IPv6 block, then a full tunnel's IPv4
//! block (outgoing only, as on Linux), then the kill switch's catch-all. Outgoing packets are
//! blocked with `return` (an immediate error for the application, as the Linux reject);
//! incoming ones are dropped. Every rule is `quick`: the first match decides. pf keeps state
//! for what it passes, so the replies of an allowed connection come back in.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::netguard::firewall::{Policy, Transport};
use crate::netguard::lan::{cidr_set, Lan};

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

/// The anchor's rules for `p` (valid pf.conf syntax, one rule a line); `lan`: the connected
/// LAN subnets the policy leaves reachable (`Lan::exempt_by`).
pub fn render_rules(p: &Policy, lan: &Lan) -> String {
    let mut r = String::from("pass quick on lo0 all\n");
    if !p.tunnels.is_empty() {
        let names: Vec<&str> = p.tunnels.iter().map(String::as_str).collect();
        let _ = writeln!(r, "pass quick on {{ {} }} all", names.join(" "));
    }
    for e in &p.endpoints {
        let fam = if e.addr.is_ipv4() { "inet" } else { "inet6" };
        // macOS has no socket mark (Linux's exemption) and pf no per-process match, so the
        // servers are passed by address, port and protocol, and only from sockets of root
        // (`user root`): an ordinary process sending to the server's address and port is
        // blocked like any other (TunnelCrack's ServerIP), and the helper's sockets, root's,
        // pass. The next helper's do too, through a dead helper's anchor kept after a crash.
        let _ = writeln!(
            r,
            "pass out quick {fam} proto {} to {} port {} user root",
            proto(e.transport),
            e.addr,
            e.port
        );
        // Everything from the server, ICMP included (path MTU discovery needs it).
        let _ = writeln!(r, "pass in quick {fam} from {}", e.addr);
    }
    // IPv6 neighbour and router discovery, as on Linux (pf cannot match the hop limit).
    r.push_str(
        "pass out quick inet6 proto icmp6 icmp6-type { routersol, neighbrsol, neighbradv }\n",
    );
    r.push_str(
        "pass in quick inet6 proto icmp6 icmp6-type { routeradv, neighbrsol, neighbradv, redir }\n",
    );
    if p.blocks_ipv4_out() {
        // Keep the machine's DHCP lease while the tunnel is down.
        r.push_str("pass out quick inet proto udp from port 68 to port 67\n");
        r.push_str("pass in quick inet proto udp from port 67 to port 68\n");
    }
    if p.blocks_ipv6() {
        // And its DHCPv6 lease.
        r.push_str("pass out quick inet6 proto udp from port 546 to port 547\n");
        r.push_str("pass in quick inet6 proto udp from port 547 to port 546\n");
    }
    // The LAN: IPv4 outgoing (the IPv4 block is outgoing only), IPv6 both ways.
    if !lan.v4.is_empty() {
        let nets = cidr_set(&lan.v4);
        let _ = writeln!(r, "pass out quick inet to {nets}");
    }
    if !lan.v6.is_empty() {
        let nets = cidr_set(&lan.v6);
        let _ = writeln!(r, "pass out quick inet6 to {nets}");
        let _ = writeln!(r, "pass in quick inet6 from {nets}");
    }
    if p.block_ipv6 {
        r.push_str("block return out quick inet6 all\n");
        r.push_str("block drop in quick inet6 all\n");
    }
    if p.block_ipv4 {
        r.push_str("block return out quick inet all\n");
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

/// The anchors and pf references of helpers that died, from their journal records: the part
/// of the crash rule (`netguard::firewall::keep_orphans`) that is pf's, generic over the
/// records' undo so that it is tested on Linux too.
#[cfg(unix)]
mod dead {
    use std::collections::BTreeSet;
    use std::path::Path;

    use serde::de::DeserializeOwned;

    use crate::netguard::journal::{self, Orphan};
    use crate::netguard::journaled::Undo;

    pub const ANCHOR_KIND: &str = "pf-anchor";
    pub const ENABLE_KIND: &str = "pf-enable";

    /// The records of `kind` of dead helpers that are still in force. macOS has one network
    /// namespace, so same_netns is "same boot": pf forgot those of another boot, whose records
    /// are retired here. Unreadable records are logged (and discarded).
    fn orphans<R: DeserializeOwned>(dir: &Path, kind: &str) -> Vec<Orphan<R>> {
        let mut problems = Vec::new();
        let found = journal::orphans::<R>(dir, kind, &mut problems);
        for p in problems {
            crate::log::warn(&p);
        }
        found
            .into_iter()
            .filter_map(|o| {
                if o.entry.owner.same_netns() {
                    Some(o)
                } else {
                    o.retire();
                    None
                }
            })
            .collect()
    }

    /// How many dead helpers left an anchor or a pf reference (a crash between flushing the
    /// anchor and releasing the reference leaves only the latter).
    pub fn count<A: DeserializeOwned, E: DeserializeOwned>(dir: &Path) -> usize {
        let anchors = orphans::<A>(dir, ANCHOR_KIND);
        let references = orphans::<E>(dir, ENABLE_KIND);
        let owners: BTreeSet<u32> = anchors
            .iter()
            .map(|o| o.entry.owner.pid)
            .chain(references.iter().map(|o| o.entry.owner.pid))
            .collect();
        owners.len()
    }

    /// Flushes the anchors of dead helpers, then releases their pf references (only once
    /// every anchor is gone: a reference keeps pf, and so an anchor, working); how many
    /// anchors went.
    pub fn remove<A, E>(dir: &Path) -> Result<usize, String>
    where
        A: Undo + DeserializeOwned,
        E: Undo + DeserializeOwned,
    {
        let mut problems = Vec::new();
        let mut removed = 0;
        for orphan in orphans::<A>(dir, ANCHOR_KIND) {
            match orphan.entry.record.undo() {
                Ok(()) => {
                    removed += 1;
                    orphan.retire();
                }
                Err(e) => problems.push(e),
            }
        }
        if problems.is_empty() {
            for orphan in orphans::<E>(dir, ENABLE_KIND) {
                match orphan.entry.record.undo() {
                    Ok(()) => orphan.retire(),
                    Err(e) => problems.push(e),
                }
            }
        }
        if problems.is_empty() {
            Ok(removed)
        } else {
            Err(problems.join("; "))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::netguard::journal::{Entry, JournalFile};
        use crate::netguard::owner::Owner;
        use serde::{Deserialize, Serialize};
        use std::sync::Mutex;

        /// What the fake records undid, in order.
        static UNDONE: Mutex<Vec<String>> = Mutex::new(Vec::new());

        #[derive(Serialize, Deserialize)]
        struct Fake {
            name: String,
        }

        impl Undo for Fake {
            fn undo(&self) -> Result<(), String> {
                UNDONE.lock().unwrap().push(self.name.clone());
                if self.name.contains("stuck") {
                    Err(format!("cannot undo {}", self.name))
                } else {
                    Ok(())
                }
            }
        }

        /// A record of `kind` as the helper `owner` would have left it.
        fn record(dir: &Path, kind: &str, owner: &Owner, name: &str) {
            let entry = Entry {
                owner: owner.clone(),
                record: Fake { name: name.into() },
            };
            let path = dir.join(format!("{kind}-{}-0.json", owner.pid));
            std::fs::write(path, serde_json::to_vec(&entry).unwrap()).unwrap();
        }

        fn files(dir: &Path) -> usize {
            std::fs::read_dir(dir).unwrap().count()
        }

        #[test]
        fn dead_helpers_anchors_go_before_their_references_and_live_ones_stay() {
            let dir = std::env::temp_dir().join(format!("causeway-pf-dead-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            // A live helper's (this process's) anchor, two dead helpers of this boot (one left
            // only its reference), one of another boot.
            let live = JournalFile::create(
                &dir,
                ANCHOR_KIND,
                &Fake {
                    name: "live".into(),
                },
            )
            .unwrap();
            let dead = |pid| Owner {
                pid,
                start_time: Owner::current().start_time + 1,
                ..Owner::current()
            };
            record(&dir, ANCHOR_KIND, &dead(101), "anchor-101");
            record(&dir, ENABLE_KIND, &dead(101), "token-101");
            record(&dir, ENABLE_KIND, &dead(102), "token-102");
            let rebooted = Owner {
                boot_id: "another-boot".into(),
                ..dead(103)
            };
            record(&dir, ANCHOR_KIND, &rebooted, "anchor-103");
            assert_eq!(count::<Fake, Fake>(&dir), 2);
            assert_eq!(
                files(&dir),
                4,
                "another boot's record is retired, the rest kept"
            );
            assert!(
                UNDONE.lock().unwrap().is_empty(),
                "counting undid something"
            );

            assert_eq!(remove::<Fake, Fake>(&dir), Ok(1));
            let mut undone = std::mem::take(&mut *UNDONE.lock().unwrap());
            assert_eq!(undone[0], "anchor-101");
            undone[1..].sort();
            assert_eq!(undone, ["anchor-101", "token-101", "token-102"]);
            assert_eq!(files(&dir), 1, "only the live anchor is left");
            assert_eq!(count::<Fake, Fake>(&dir), 0);

            // An anchor that cannot be flushed keeps its record and every reference.
            record(&dir, ANCHOR_KIND, &dead(104), "anchor-104-stuck");
            record(&dir, ENABLE_KIND, &dead(104), "token-104");
            assert_eq!(
                remove::<Fake, Fake>(&dir),
                Err("cannot undo anchor-104-stuck".into())
            );
            assert_eq!(*UNDONE.lock().unwrap(), ["anchor-104-stuck"]);
            assert_eq!(count::<Fake, Fake>(&dir), 1);
            live.retire();
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

#[cfg(target_os = "macos")]
pub use sys::{install, orphan_count, remove_orphans};

#[cfg(target_os = "macos")]
mod sys {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    use super::dead::{self, ANCHOR_KIND, ENABLE_KIND};
    use crate::netguard::journaled::{JournaledChange, Undo};
    use crate::netguard::tools;
    use crate::platform::unix::ifaddrs;
    use crate::platform::{Os, Platform};

    fn pfctl() -> Result<PathBuf, String> {
        tools::find("pfctl").ok_or_else(|| "pfctl is not installed".to_owned())
    }

    fn journal_dir() -> &'static Path {
        Path::new(<Os as Platform>::JOURNAL_DIR)
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

    /// Loads this helper's anchor for `policy` (flushes it when empty), then removes the
    /// anchors of helpers that died: a session of this helper has taken over, and its rules
    /// are in force before theirs go.
    pub fn install(policy: &Policy) -> Result<(), String> {
        install_own(policy)?;
        if let Err(e) = remove_orphans() {
            crate::log::warn(&format!(
                "cannot remove the pf anchors of helpers that died: {e}"
            ));
        }
        Ok(())
    }

    fn install_own(policy: &Policy) -> Result<(), String> {
        let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
        if policy.is_empty() {
            return match installed.take() {
                Some(mut i) => i.anchor.undo(),
                None => Ok(()),
            };
        }
        let pfctl = pfctl()?;
        let rules = render_rules(
            policy,
            &Lan::exempt_by(policy, ifaddrs::interface_addresses)?,
        );
        let name = anchor_name(std::process::id());
        let load = || tools::run(&pfctl, &["-a", &name, "-f", "-"], &rules).map(|_| ());
        if installed.is_some() {
            return load();
        }
        let dir = journal_dir();
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

    /// How many dead helpers' anchors or pf references are in force.
    pub fn orphan_count() -> Result<usize, String> {
        Ok(dead::count::<AnchorRecord, EnableRecord>(journal_dir()))
    }

    /// Flushes dead helpers' anchors and releases their pf references.
    pub fn remove_orphans() -> Result<usize, String> {
        dead::remove::<AnchorRecord, EnableRecord>(journal_dir())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netguard::firewall::{Endpoint, Flags};

    fn policy(kill: bool, v6: bool) -> Policy {
        Policy::sample("utun3", kill, v6)
    }

    /// The anchor for `p` on a machine with the sample LAN (`Lan::sample_for`).
    fn render(p: &Policy) -> String {
        render_rules(p, &Lan::sample_for(p))
    }

    const BASE: &[&str] = &[
        "pass quick on lo0 all",
        "pass quick on { utun3 } all",
        "pass out quick inet proto udp to 192.0.2.10 port 1194 user root",
        "pass in quick inet from 192.0.2.10",
        "pass out quick inet6 proto icmp6 icmp6-type { routersol, neighbrsol, neighbradv }",
        "pass in quick inet6 proto icmp6 icmp6-type { routeradv, neighbrsol, neighbradv, redir }",
    ];
    const DHCP: &[&str] = &[
        "pass out quick inet proto udp from port 68 to port 67",
        "pass in quick inet proto udp from port 67 to port 68",
    ];
    const DHCP6: &[&str] = &[
        "pass out quick inet6 proto udp from port 546 to port 547",
        "pass in quick inet6 proto udp from port 547 to port 546",
    ];
    // The sample LAN's public ranges (TunnelCrack LocalNet) are never among them.
    const LAN: &[&str] = &["pass out quick inet to { 10.99.0.0/24 }"];
    const LAN6: &[&str] = &[
        "pass out quick inet6 to { fd99::/64, fe80::/10 }",
        "pass in quick inet6 from { fd99::/64, fe80::/10 }",
    ];
    const BLOCK6: &[&str] = &[
        "block return out quick inet6 all",
        "block drop in quick inet6 all",
    ];
    const BLOCK4: &[&str] = &["block return out quick inet all"];
    const KILL: &[&str] = &["block return out quick all", "block drop in quick all"];

    #[test]
    fn every_policy_renders_exactly_its_passes_and_blocks() {
        // (kill_switch, block_ipv6, block_ipv4, allow_lan, allow_lan_ipv6) and the whole
        // anchor: every combination the registry makes (the LAN only beside its family's
        // block, never with the kill switch).
        let table: &[(Flags, &[&[&str]])] = &[
            ((false, true, false, false, false), &[DHCP6, BLOCK6]),
            ((false, true, false, false, true), &[DHCP6, LAN6, BLOCK6]),
            ((false, false, true, false, false), &[DHCP, BLOCK4]),
            ((false, false, true, true, false), &[DHCP, LAN, BLOCK4]),
            (
                (false, true, true, false, false),
                &[DHCP, DHCP6, BLOCK6, BLOCK4],
            ),
            (
                (false, true, true, true, false),
                &[DHCP, DHCP6, LAN, BLOCK6, BLOCK4],
            ),
            (
                (false, true, true, false, true),
                &[DHCP, DHCP6, LAN6, BLOCK6, BLOCK4],
            ),
            (
                (false, true, true, true, true),
                &[DHCP, DHCP6, LAN, LAN6, BLOCK6, BLOCK4],
            ),
            ((true, false, false, false, false), &[DHCP, DHCP6, KILL]),
            (
                (true, true, false, false, false),
                &[DHCP, DHCP6, BLOCK6, KILL],
            ),
            (
                (true, false, true, false, false),
                &[DHCP, DHCP6, BLOCK4, KILL],
            ),
            (
                (true, true, true, false, false),
                &[DHCP, DHCP6, BLOCK6, BLOCK4, KILL],
            ),
        ];
        for &(flags, groups) in table {
            let p = Policy::sample_with("utun3", flags);
            let want: Vec<&str> = BASE
                .iter()
                .chain(groups.iter().copied().flatten())
                .copied()
                .collect();
            let r = render(&p);
            assert_eq!(r.lines().collect::<Vec<_>>(), want, "{p:?}");
        }
    }

    #[test]
    fn ipv6_block_alone_blocks_only_ipv6_and_keeps_an_ipv6_server() {
        let mut p = policy(false, true);
        p.endpoints.insert(Endpoint {
            addr: "2001:db8::10".parse().unwrap(),
            port: 443,
            transport: Transport::Tcp,
        });
        let r = render(&p);
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines.last(), Some(&"block drop in quick inet6 all"));
        let allow = lines
            .iter()
            .position(|l| *l == "pass out quick inet6 proto tcp to 2001:db8::10 port 443 user root")
            .unwrap();
        let block = lines
            .iter()
            .position(|l| l.starts_with("block return out quick inet6"))
            .unwrap();
        assert!(allow < block, "{r}");
        assert!(
            !r.contains("port 67"),
            "DHCP is IPv4's block's business: {r}"
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
