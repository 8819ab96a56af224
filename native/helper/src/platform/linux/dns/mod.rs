//! DNS for a tunnel: the pushed servers and domains go to systemd-resolved when it runs
//! (per-link settings over D-Bus), else to resolvconf, else into a managed /etc/resolv.conf.
//! The change is journaled before it is made and undone by [`DnsGuard::restore`], by dropping
//! the guard, or after a crash by [`recover_after_crash`].
//!
//! CAUSEWAY_DNS_BACKEND=resolved|resolvconf|file forces a backend (for administrators whose
//! resolver setup the detection gets wrong, and for tests).

mod resolv_conf;
pub mod resolv_file;
mod resolvconf;
mod resolved;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::netguard::dns_plan::DnsPlan;
use crate::netguard::journal;
use crate::netguard::journaled::{JournaledChange, Undo};
use crate::netguard::Recovery;
use crate::platform::{DnsChange, Link};
use resolvconf::Resolvconf;
use resolved::Resolved;

/// What was changed, in enough detail to undo it from another process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "camelCase", deny_unknown_fields)]
enum DnsRecord {
    #[serde(rename_all = "camelCase")]
    Resolved { ifindex: u32, ifname: String },
    #[serde(rename_all = "camelCase")]
    Resolvconf { record: String },
    /// `file`: device and inode of the file written, which identify it across mount
    /// namespaces (bind mounts show one file under several names, and one name may be
    /// different files in different namespaces).
    #[serde(rename_all = "camelCase")]
    File {
        path: PathBuf,
        file: Option<(u64, u64)>,
        original: String,
        ours: String,
    },
}

const JOURNAL_KIND: &str = "dns";

/// DNS settings in force for one tunnel; undone by `restore` or on drop.
#[derive(Debug)]
pub struct DnsGuard(JournaledChange<DnsRecord>);

impl DnsChange for DnsGuard {
    /// Which mechanism carries the settings ("systemd-resolved", "resolvconf", "/etc/resolv.conf").
    fn backend(&self) -> &'static str {
        match self.0.record() {
            Some(DnsRecord::Resolved { .. }) => "systemd-resolved",
            Some(DnsRecord::Resolvconf { .. }) => "resolvconf",
            Some(DnsRecord::File { .. }) | None => "/etc/resolv.conf",
        }
    }

    fn restore(mut self) -> Result<(), String> {
        self.0.undo()
    }
}

impl Undo for DnsRecord {
    fn undo(&self) -> Result<(), String> {
        undo_record(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Resolved,
    Resolvconf,
    File,
}

fn forced_backend() -> Result<Option<Backend>, String> {
    match std::env::var("CAUSEWAY_DNS_BACKEND").as_deref() {
        Err(_) | Ok("") => Ok(None),
        Ok("resolved") => Ok(Some(Backend::Resolved)),
        Ok("resolvconf") => Ok(Some(Backend::Resolvconf)),
        Ok("file") => Ok(Some(Backend::File)),
        Ok(other) => Err(format!(
            "CAUSEWAY_DNS_BACKEND={other:?} is not one of resolved, resolvconf, file"
        )),
    }
}

/// resolved is the system's resolver when /etc/resolv.conf points at its stub (or is its
/// generated file); a resolved that merely runs next to a static resolv.conf is not used by
/// glibc's resolver, so setting link DNS there would change nothing.
fn resolv_conf_uses_resolved(path: &Path) -> bool {
    if std::fs::read_link(path).is_ok_and(|t| {
        t.starts_with("/run/systemd/resolve") || t.starts_with("../run/systemd/resolve")
    }) {
        return true;
    }
    let rc = resolv_conf::parse_resolv_conf(&resolv_file::read(path).unwrap_or_default());
    rc.nameservers
        .iter()
        .any(|ip| ip.to_string() == "127.0.0.53" || ip.to_string() == "127.0.0.54")
}

/// Applies the DNS plan to `link`.
pub fn apply(journal_dir: &Path, link: &Link, plan: &DnsPlan) -> Result<DnsGuard, String> {
    let forced = forced_backend()?;
    let system = Path::new(resolv_file::SYSTEM_PATH);

    if forced.is_none_or(|b| b == Backend::Resolved) {
        match Resolved::running() {
            Some(r) if forced.is_some() || resolv_conf_uses_resolved(system) => {
                let record = DnsRecord::Resolved {
                    ifindex: link.index,
                    ifname: link.name.clone(),
                };
                return journaled(journal_dir, record, || r.apply(link.index, plan));
            }
            None if forced.is_some() => {
                return Err("systemd-resolved is not running on the system bus".into())
            }
            _ => {}
        }
    }
    let fallback = resolv_conf::parse_resolv_conf(&resolv_file::read(system).unwrap_or_default());
    let text = resolv_conf::render_resolv_conf(plan, &link.name, &fallback);
    if forced.is_none_or(|b| b == Backend::Resolvconf) {
        match Resolvconf::available() {
            // Debian's resolvconf always lists every record's servers, so the LAN's resolver
            // would stay next to the tunnel's and get queries whenever the tunnel's is slow: a
            // DNS leak when every name must go through the tunnel. The managed file is exact;
            // should resolvconf rewrite it meanwhile, restoring leaves resolvconf's version.
            Some(rc) if plan.is_exclusive() && !rc.can_be_exclusive() && forced.is_none() => {}
            Some(rc) => {
                let name = rc.record_for(&link.name);
                let record = DnsRecord::Resolvconf {
                    record: name.clone(),
                };
                return journaled(journal_dir, record, || {
                    rc.apply(&name, &text, plan.is_exclusive())
                });
            }
            None if forced.is_some() => return Err("resolvconf is not installed".into()),
            None => {}
        }
    }
    let original = resolv_file::read(system)?;
    let record = DnsRecord::File {
        path: system.to_owned(),
        file: resolv_file::identity(system),
        original,
        ours: text.clone(),
    };
    journaled(journal_dir, record, || resolv_file::write(system, &text))
}

fn journaled(
    dir: &Path,
    record: DnsRecord,
    change: impl FnOnce() -> Result<(), String>,
) -> Result<DnsGuard, String> {
    JournaledChange::make(dir, JOURNAL_KIND, "DNS", record, change).map(DnsGuard)
}

fn undo_record(record: &DnsRecord) -> Result<(), String> {
    match record {
        DnsRecord::Resolved { ifindex, ifname } => {
            // The link may be gone already (resolved then dropped its settings itself), or its
            // index may now belong to another device that must not be touched.
            if link_index(ifname) != Some(*ifindex) {
                return Ok(());
            }
            match Resolved::running() {
                Some(r) => r.revert(*ifindex),
                None => Ok(()),
            }
        }
        DnsRecord::Resolvconf { record } => match Resolvconf::available() {
            Some(rc) => rc.revert(record),
            None => Err("resolvconf is no longer installed".into()),
        },
        DnsRecord::File {
            path,
            original,
            ours,
            ..
        } => {
            if !resolv_file::restore(path, original, ours)? {
                crate::log::warn(&format!("{} was changed by another program while the tunnel was up; leaving its version", path.display()));
            }
            Ok(())
        }
    }
}

fn link_index(name: &str) -> Option<u32> {
    std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Undoes DNS changes of helpers that died. Only records that concern what this process
/// sees are undone: link settings in the same network namespace, resolvconf records of the
/// same boot, the very file that was rewritten (or, after a reboot, /etc/resolv.conf if it
/// still holds our text). Others are left for a helper in their own namespace.
pub fn recover_after_crash(journal_dir: &Path, recovery: &mut Recovery) {
    for orphan in journal::orphans::<DnsRecord>(journal_dir, JOURNAL_KIND, &mut recovery.problems) {
        let owner = &orphan.entry.owner;
        let visible = match &orphan.entry.record {
            DnsRecord::Resolved { .. } => owner.same_netns(),
            DnsRecord::Resolvconf { .. } => owner.same_boot(),
            DnsRecord::File { path, file, .. } => {
                !owner.same_boot() || (file.is_some() && resolv_file::identity(path) == *file)
            }
        };
        let stale = !owner.same_boot() && !matches!(orphan.entry.record, DnsRecord::File { .. });
        if stale {
            // Link and resolvconf state did not survive the reboot.
            orphan.retire();
        } else if visible {
            orphan.restore_dns(undo_record, recovery);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_the_journal_format() {
        let r = DnsRecord::File {
            path: "/etc/resolv.conf".into(),
            file: Some((1, 2)),
            original: "a".into(),
            ours: "b".into(),
        };
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"backend\":\"file\""), "{json}");
        assert_eq!(serde_json::from_str::<DnsRecord>(&json).unwrap(), r);
        let r = DnsRecord::Resolved {
            ifindex: 7,
            ifname: "cw0".into(),
        };
        assert_eq!(
            serde_json::from_str::<DnsRecord>(&serde_json::to_string(&r).unwrap()).unwrap(),
            r
        );
    }

    #[test]
    fn a_resolv_conf_pointing_at_the_stub_means_resolved_is_in_charge() {
        let dir = std::env::temp_dir().join(format!("causeway-dns-detect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("resolv.conf");
        std::fs::write(&file, "nameserver 127.0.0.53\noptions edns0\n").unwrap();
        assert!(resolv_conf_uses_resolved(&file));
        std::fs::write(&file, "nameserver 192.0.2.1\n").unwrap();
        assert!(!resolv_conf_uses_resolved(&file));
        let link = dir.join("link");
        std::os::unix::fs::symlink("/run/systemd/resolve/stub-resolv.conf", &link).unwrap();
        assert!(resolv_conf_uses_resolved(&link));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
