//! Crash safety: every change the helper makes to the system's network configuration is
//! written to a state file *before* it is made, and removed once undone. A helper that starts
//! and finds files left by a dead helper (in the same network namespace) undoes them.

use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::platform::{NetControl, Platform, PolicyRule, Route};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteRecord {
    pub dst: IpAddr,
    pub prefix: u8,
    pub gateway: Option<IpAddr>,
    pub oif: u32,
}

impl From<&Route> for RouteRecord {
    fn from(r: &Route) -> Self {
        RouteRecord {
            dst: r.dst,
            prefix: r.prefix,
            gateway: r.gateway,
            oif: r.oif,
        }
    }
}

impl From<&RouteRecord> for Route {
    fn from(r: &RouteRecord) -> Self {
        Route {
            dst: r.dst,
            prefix: r.prefix,
            gateway: r.gateway,
            oif: r.oif,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionState {
    /// The helper process that made the changes; its files are left alone while it lives.
    pub pid: u32,
    /// Inode of that process's network namespace: routes only make sense in their namespace.
    pub netns: u64,
    pub device: Option<String>,
    /// In the order they were added; undone in reverse.
    pub routes: Vec<RouteRecord>,
    /// The policy routing rules that make the routes win, undone after them. Saved in a file
    /// of their own under `RULES_DIR` (`RuleState`): helpers from before rules existed read
    /// the route records too, and would delete as unreadable one with a field they do not know.
    #[serde(skip)]
    pub rules: Vec<PolicyRule>,
}

/// Where the rules of each state file are recorded, beside the route records.
const RULES_DIR: &str = "rules";

/// One session's policy routing rules, as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RuleState {
    pid: u32,
    netns: u64,
    rules: Vec<PolicyRule>,
}

/// One session's state file.
pub struct StateFile {
    path: PathBuf,
    rules_path: PathBuf,
    pub record: SessionState,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl StateFile {
    /// A new, empty record for a session of this process. File names come from the helper,
    /// never from the client's session id.
    pub fn create<P: Platform>(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir.join(RULES_DIR))?;
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let path = dir.join(format!("{pid}-{n}.json"));
        let rules_path = dir.join(RULES_DIR).join(format!("{pid}-{n}.json"));
        let state = SessionState {
            pid,
            netns: P::network_namespace(),
            device: None,
            routes: Vec::new(),
            rules: Vec::new(),
        };
        let file = StateFile {
            path,
            rules_path,
            record: state,
        };
        file.save()?;
        Ok(file)
    }

    /// Writes atomically (temp file + rename) so a crash never leaves a half-written record.
    pub fn save(&self) -> io::Result<()> {
        let rules = RuleState {
            pid: self.record.pid,
            netns: self.record.netns,
            rules: self.record.rules.clone(),
        };
        write_atomically(&self.rules_path, &serde_json::to_vec(&rules)?)?;
        write_atomically(&self.path, &serde_json::to_vec(&self.record)?)
    }

    pub fn remove(self) {
        let _ = fs::remove_file(&self.path);
        let _ = fs::remove_file(&self.rules_path);
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)
}

/// What recovery did, for the startup log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    pub files: usize,
    pub routes_removed: usize,
    pub rules_removed: usize,
}

/// Undoes the changes recorded by dead helpers in this network namespace.
pub fn recover<P: Platform>(dir: &Path, net: &mut impl NetControl) -> Recovery {
    let mut report = Recovery::default();
    let Ok(entries) = fs::read_dir(dir) else {
        return report;
    };
    let netns = P::network_namespace();
    let me = std::process::id();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Ok(bytes) = fs::read(&path) else { continue };
        let state: SessionState = match serde_json::from_slice(&bytes) {
            Ok(s) => s,
            Err(_) => {
                // Unreadable records cannot be undone; keeping them would only repeat this.
                let _ = fs::remove_file(&path);
                continue;
            }
        };
        // A recycled pid belonging to some other program does not protect a stale record.
        if state.netns != netns || state.pid == me || P::is_running_helper(state.pid) {
            continue;
        }
        for route in state.routes.iter().rev() {
            // Routes through the dead session's TUN device vanished with it; only the others
            // (such as the host route to the server) are really still there.
            if net.delete_route(&Route::from(route)).is_ok() {
                report.routes_removed += 1;
            }
        }
        let _ = fs::remove_file(&path);
        report.files += 1;
    }
    recover_rules::<P>(&dir.join(RULES_DIR), net, &mut report);
    report
}

/// Undoes the rules of dead helpers, after their routes. The dead helper's firewall table, if
/// any, stays in force meanwhile (netguard): it, not these rules, is what keeps traffic from
/// leaving outside the tunnel.
fn recover_rules<P: Platform>(dir: &Path, net: &mut impl NetControl, report: &mut Recovery) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let netns = P::network_namespace();
    let me = std::process::id();
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Ok(bytes) = fs::read(&path) else { continue };
        let Ok(state) = serde_json::from_slice::<RuleState>(&bytes) else {
            let _ = fs::remove_file(&path);
            continue;
        };
        if state.netns != netns || state.pid == me || P::is_running_helper(state.pid) {
            continue;
        }
        for rule in state.rules.iter().rev() {
            if net.delete_rule(rule).is_ok() {
                report.rules_removed += 1;
            }
        }
        let _ = fs::remove_file(&path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Os;

    fn temp_dir(tag: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("causeway-state-test-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn records_are_saved_and_removed() {
        let dir = temp_dir("save");
        let mut f = StateFile::create::<Os>(&dir).unwrap();
        f.record.routes.push(RouteRecord {
            dst: "10.0.0.0".parse().unwrap(),
            prefix: 8,
            gateway: None,
            oif: 3,
        });
        f.record.rules.push(rule());
        f.save().unwrap();
        let back: SessionState = serde_json::from_slice(&fs::read(&f.path).unwrap()).unwrap();
        assert_eq!(back.routes, f.record.routes);
        // The rules are in a file of their own: the route record stays readable by helpers
        // that know no rules.
        assert!(back.rules.is_empty());
        assert!(!String::from_utf8(fs::read(&f.path).unwrap())
            .unwrap()
            .contains("rules"));
        let rules: RuleState = serde_json::from_slice(&fs::read(&f.rules_path).unwrap()).unwrap();
        assert_eq!(rules.rules, [rule()]);
        f.remove();
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "only the rules folder"
        );
        assert_eq!(fs::read_dir(dir.join(RULES_DIR)).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }

    fn rule() -> PolicyRule {
        PolicyRule {
            ipv6: false,
            priority: 32_001,
            to: None,
            unless_mark: Some(7),
            table: 7,
        }
    }

    #[test]
    fn recovery_skips_live_and_foreign_records_and_drops_dead_ones() {
        let dir = temp_dir("recover");
        fs::create_dir_all(&dir).unwrap();
        let netns = Os::network_namespace();
        // pid 0 is never a live helper; the route is already gone (the net below refuses to
        // delete it, as the OS would), and the record is still retired.
        let dead = SessionState {
            pid: 0,
            netns,
            device: Some("cw9".into()),
            routes: vec![RouteRecord {
                dst: "198.51.100.0".parse().unwrap(),
                prefix: 24,
                gateway: None,
                oif: 999_999,
            }],
            rules: Vec::new(),
        };
        let foreign = SessionState {
            netns: netns.wrapping_add(1),
            ..dead.clone()
        };
        fs::write(dir.join("dead.json"), serde_json::to_vec(&dead).unwrap()).unwrap();
        fs::write(
            dir.join("foreign.json"),
            serde_json::to_vec(&foreign).unwrap(),
        )
        .unwrap();
        fs::write(dir.join("garbage.json"), b"{not json").unwrap();
        fs::create_dir_all(dir.join(RULES_DIR)).unwrap();
        for (name, netns) in [("dead", netns), ("foreign", netns.wrapping_add(1))] {
            let rules = RuleState {
                pid: 0,
                netns,
                rules: vec![rule()],
            };
            let path = dir.join(RULES_DIR).join(format!("{name}.json"));
            fs::write(path, serde_json::to_vec(&rules).unwrap()).unwrap();
        }
        let mut net = RoutesGone::default();
        let r = recover::<Os>(&dir, &mut net);
        assert_eq!(net.deletes, 1, "the dead helper's route is asked to go");
        assert_eq!(
            r,
            Recovery {
                files: 1,
                routes_removed: 0,
                rules_removed: 1
            }
        );
        let left = |d: &Path| -> Vec<_> {
            let mut names: Vec<_> = fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            names.sort();
            names
        };
        assert_eq!(left(&dir), ["foreign.json", RULES_DIR]);
        assert_eq!(left(&dir.join(RULES_DIR)), ["foreign.json"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A routing table where every route a record names is already gone and every rule still
    /// there: the tests never touch the host's real ones.
    #[derive(Default)]
    struct RoutesGone {
        deletes: usize,
    }

    impl NetControl for RoutesGone {
        fn set_link_up(&mut self, _: u32, _: u32) -> io::Result<()> {
            unreachable!("recovery only deletes routes")
        }
        fn add_address(&mut self, _: u32, _: IpAddr, _: u8) -> io::Result<()> {
            unreachable!("recovery only deletes routes")
        }
        fn lookup_route(&mut self, _: IpAddr) -> io::Result<crate::platform::NextHop> {
            unreachable!("recovery only deletes routes")
        }
        fn add_route(&mut self, _: &Route) -> io::Result<()> {
            unreachable!("recovery only deletes routes")
        }
        fn delete_route(&mut self, _: &Route) -> io::Result<()> {
            self.deletes += 1;
            Err(io::ErrorKind::NotFound.into())
        }
        fn policy_rules(&mut self, _: &str) -> io::Result<Vec<PolicyRule>> {
            unreachable!("recovery only deletes rules")
        }
        fn add_rule(&mut self, _: &PolicyRule) -> io::Result<()> {
            unreachable!("recovery only deletes rules")
        }
        /// Rules stay until deleted (they do not go with a device).
        fn delete_rule(&mut self, _: &PolicyRule) -> io::Result<()> {
            Ok(())
        }
    }
}
