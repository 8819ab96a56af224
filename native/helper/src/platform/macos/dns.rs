//! DNS on macOS through the SystemConfiguration dynamic store, the way configd builds the
//! resolver configuration from it:
//! - split DNS: a `State:/Network/Service/<ours>/DNS` entry of our own with
//!   `SupplementalMatchDomains`, which makes the tunnel's servers the resolvers for those
//!   domains only; removed on restore;
//! - every name through the tunnel: the primary service's DNS entry (the one the default
//!   resolver comes from: `State:/Network/Global/IPv4` → `PrimaryService`) replaced by ours,
//!   in `State:` and, when the user set DNS by hand, in `Setup:` (which takes precedence). The
//!   originals are journaled and put back on restore, unless someone replaced ours meanwhile;
//! - the tunnel's servers joining the others (no routing domains, no default route): the
//!   primary entry gets the tunnel's servers first, then its own.

use serde::{Deserialize, Serialize};

use super::plist::Plist;
use crate::netguard::dns_plan::DnsPlan;

pub const GLOBAL_IPV4_KEY: &str = "State:/Network/Global/IPv4";

pub fn state_key(service: &str) -> String {
    format!("State:/Network/Service/{service}/DNS")
}

pub fn setup_key(service: &str) -> String {
    format!("Setup:/Network/Service/{service}/DNS")
}

/// Our own service id for a tunnel's supplemental entry: names the helper and its device
/// (name and index, as utun names are reused).
pub fn own_service_id(device: &str, index: u32) -> String {
    format!("org.causeway.helper.{device}.{index}")
}

/// The primary service's id in `State:/Network/Global/IPv4`.
pub fn primary_service(global_ipv4: &Plist) -> Option<String> {
    global_ipv4
        .get("PrimaryService")?
        .as_str()
        .filter(|s| !s.is_empty() && !s.contains('/'))
        .map(str::to_owned)
}

/// How a plan reaches the resolver configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Supplemental,
    /// Replace the primary service's DNS; `join` keeps its servers after ours.
    Override {
        join: bool,
    },
}

pub fn mode(plan: &DnsPlan) -> Mode {
    if plan.is_split() {
        Mode::Supplemental
    } else {
        Mode::Override {
            join: !plan.is_exclusive(),
        }
    }
}

/// The DNS dictionary for `plan`; `original` is the entry being replaced (its servers stay,
/// after ours, when the plan joins them).
pub fn dictionary(plan: &DnsPlan, original: Option<&Plist>) -> Plist {
    let mut servers: Vec<String> = plan.servers.iter().map(|s| s.to_string()).collect();
    let routing: Vec<String> = plan.routing.iter().filter(|d| *d != ".").cloned().collect();
    let mut d = std::collections::BTreeMap::new();
    match mode(plan) {
        Mode::Supplemental => {
            d.insert(
                "SupplementalMatchDomains".to_owned(),
                Plist::strings(&routing),
            );
            d.insert("SearchDomains".to_owned(), Plist::strings(&plan.search));
        }
        Mode::Override { join } => {
            if join {
                let theirs = original
                    .and_then(|o| o.get("ServerAddresses"))
                    .map(Plist::string_items)
                    .unwrap_or_default();
                for s in theirs {
                    if !servers.contains(&s) {
                        servers.push(s);
                    }
                }
            }
            let search: Vec<String> = plan.search.iter().chain(&routing).cloned().collect();
            d.insert("SearchDomains".to_owned(), Plist::strings(&search));
        }
    }
    d.insert("ServerAddresses".to_owned(), Plist::strings(&servers));
    Plist::Dict(d)
}

/// A dynamic-store entry as it was before the helper wrote its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replaced {
    pub key: String,
    pub original: Option<Plist>,
}

/// What was changed, in enough detail to undo it from another process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "camelCase", deny_unknown_fields)]
pub enum MacDnsRecord {
    #[serde(rename_all = "camelCase")]
    Supplemental { key: String },
    #[serde(rename_all = "camelCase")]
    Override {
        replaced: Vec<Replaced>,
        ours: Plist,
    },
}

/// What undoing an override does to one entry, given what the store holds now: restore the
/// original (None: remove the entry), or leave a value someone else wrote since.
pub fn restore_action<'a>(
    replaced: &'a Replaced,
    current: Option<&Plist>,
    ours: &Plist,
) -> Option<Option<&'a Plist>> {
    (current == Some(ours)).then_some(replaced.original.as_ref())
}

#[cfg(target_os = "macos")]
pub use sys::{apply, recover_after_crash, MacDns};

#[cfg(target_os = "macos")]
mod sys {
    use super::*;
    use std::path::Path;

    use super::super::sc::DynamicStore;
    use crate::netguard::journal;
    use crate::netguard::journaled::{JournaledChange, Undo};
    use crate::netguard::Recovery;
    use crate::platform::{DnsChange, Link};

    const JOURNAL_KIND: &str = "dns";

    #[derive(Debug)]
    pub struct MacDns(JournaledChange<MacDnsRecord>);

    impl DnsChange for MacDns {
        fn backend(&self) -> &'static str {
            match self.0.record() {
                Some(MacDnsRecord::Supplemental { .. }) => {
                    "a supplemental resolver (SystemConfiguration)"
                }
                _ => "the primary service's DNS (SystemConfiguration)",
            }
        }

        fn restore(mut self) -> Result<(), String> {
            self.0.undo()
        }
    }

    impl Undo for MacDnsRecord {
        fn undo(&self) -> Result<(), String> {
            let store = DynamicStore::open()?;
            match self {
                MacDnsRecord::Supplemental { key } => store.remove(key),
                MacDnsRecord::Override { replaced, ours } => {
                    for r in replaced {
                        let current = store.get(&r.key)?;
                        match restore_action(r, current.as_ref(), ours) {
                            Some(Some(original)) => store.set(&r.key, original)?,
                            Some(None) => store.remove(&r.key)?,
                            None => crate::log::warn(&format!(
                                "{} was changed by another program while the tunnel was up; leaving its version",
                                r.key
                            )),
                        }
                    }
                    Ok(())
                }
            }
        }
    }

    pub fn apply(journal_dir: &Path, link: &Link, plan: &DnsPlan) -> Result<MacDns, String> {
        let store = DynamicStore::open()?;
        let (record, writes) = match mode(plan) {
            Mode::Supplemental => {
                let key = state_key(&own_service_id(&link.name, link.index));
                let value = dictionary(plan, None);
                (
                    MacDnsRecord::Supplemental { key: key.clone() },
                    vec![(key, value)],
                )
            }
            Mode::Override { .. } => {
                let global = store.get(GLOBAL_IPV4_KEY)?;
                let service = global.as_ref().and_then(primary_service).ok_or(
                    "there is no primary network service whose DNS the tunnel could take over",
                )?;
                let state = state_key(&service);
                let original = store.get(&state)?;
                let ours = dictionary(plan, original.as_ref());
                let mut replaced = vec![Replaced {
                    key: state,
                    original,
                }];
                let setup = setup_key(&service);
                if let Some(manual) = store.get(&setup)? {
                    replaced.push(Replaced {
                        key: setup,
                        original: Some(manual),
                    });
                }
                let writes = replaced
                    .iter()
                    .map(|r| (r.key.clone(), ours.clone()))
                    .collect();
                (MacDnsRecord::Override { replaced, ours }, writes)
            }
        };
        JournaledChange::make(journal_dir, JOURNAL_KIND, "DNS", record, || {
            writes
                .iter()
                .try_for_each(|(key, value)| store.set(key, value))
        })
        .map(MacDns)
    }

    /// Undoes DNS changes of helpers that died during this boot (the dynamic store does not
    /// survive a reboot; macOS has one network namespace, so same_netns is same_boot).
    pub fn recover_after_crash(journal_dir: &Path, recovery: &mut Recovery) {
        for orphan in
            journal::orphans::<MacDnsRecord>(journal_dir, JOURNAL_KIND, &mut recovery.problems)
        {
            if !orphan.entry.owner.same_netns() {
                orphan.retire();
                continue;
            }
            orphan.restore_dns(|record| record.undo(), recovery);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netguard::dns_plan::plan;
    use crate::netguard::dns_plan::tests::{req, s};
    use std::collections::BTreeMap;

    fn dict(pairs: &[(&str, Plist)]) -> Plist {
        Plist::Dict(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn split_dns_is_a_supplemental_entry_of_our_own() {
        let (sv, se, ro) = (
            s(&["10.8.0.1"]),
            s(&["corp.example"]),
            s(&["corp.example", "lab.example"]),
        );
        let p = plan(&req(&sv, &se, &ro, false)).unwrap().unwrap();
        assert_eq!(mode(&p), Mode::Supplemental);
        assert_eq!(
            dictionary(&p, None),
            dict(&[
                ("ServerAddresses", Plist::strings(&s(&["10.8.0.1"]))),
                (
                    "SupplementalMatchDomains",
                    Plist::strings(&s(&["corp.example", "lab.example"]))
                ),
                ("SearchDomains", Plist::strings(&s(&["corp.example"]))),
            ])
        );
        assert_eq!(
            state_key(&own_service_id("utun3", 12)),
            "State:/Network/Service/org.causeway.helper.utun3.12/DNS"
        );
    }

    #[test]
    fn a_default_route_tunnel_takes_over_the_primary_service_alone() {
        let (sv, se) = (s(&["10.8.0.1", "fd00::53"]), s(&["corp.example"]));
        let p = plan(&req(&sv, &se, &[], true)).unwrap().unwrap();
        assert_eq!(mode(&p), Mode::Override { join: false });
        let isp = dict(&[("ServerAddresses", Plist::strings(&s(&["192.0.2.53"])))]);
        assert_eq!(
            dictionary(&p, Some(&isp)),
            dict(&[
                (
                    "ServerAddresses",
                    Plist::strings(&s(&["10.8.0.1", "fd00::53"]))
                ),
                ("SearchDomains", Plist::strings(&s(&["corp.example"]))),
            ])
        );
    }

    #[test]
    fn plain_servers_join_the_primary_services_own() {
        let sv = s(&["10.8.0.1", "192.0.2.53"]);
        let p = plan(&req(&sv, &[], &[], false)).unwrap().unwrap();
        assert_eq!(mode(&p), Mode::Override { join: true });
        let isp = dict(&[(
            "ServerAddresses",
            Plist::strings(&s(&["192.0.2.53", "192.0.2.54"])),
        )]);
        assert_eq!(
            dictionary(&p, Some(&isp))
                .get("ServerAddresses")
                .unwrap()
                .string_items(),
            ["10.8.0.1", "192.0.2.53", "192.0.2.54"]
        );
    }

    #[test]
    fn the_primary_service_comes_from_the_global_ipv4_entry() {
        assert_eq!(GLOBAL_IPV4_KEY, "State:/Network/Global/IPv4");
        let g = dict(&[("PrimaryService", Plist::String("8E1B-44".into()))]);
        assert_eq!(primary_service(&g).as_deref(), Some("8E1B-44"));
        assert_eq!(state_key("8E1B-44"), "State:/Network/Service/8E1B-44/DNS");
        assert_eq!(setup_key("8E1B-44"), "Setup:/Network/Service/8E1B-44/DNS");
        for bad in ["", "a/b"] {
            let g = dict(&[("PrimaryService", Plist::String(bad.into()))]);
            assert_eq!(primary_service(&g), None);
        }
        assert_eq!(primary_service(&dict(&[])), None);
    }

    #[test]
    fn restoring_puts_originals_back_only_over_our_own_value() {
        let ours = dict(&[("ServerAddresses", Plist::strings(&s(&["10.8.0.1"])))]);
        let isp = dict(&[("ServerAddresses", Plist::strings(&s(&["192.0.2.53"])))]);
        let had = Replaced {
            key: "k".into(),
            original: Some(isp.clone()),
        };
        let fresh = Replaced {
            key: "k".into(),
            original: None,
        };
        assert_eq!(restore_action(&had, Some(&ours), &ours), Some(Some(&isp)));
        assert_eq!(restore_action(&fresh, Some(&ours), &ours), Some(None));
        assert_eq!(
            restore_action(&had, Some(&isp), &ours),
            None,
            "someone else's value was replaced"
        );
        assert_eq!(restore_action(&had, None, &ours), None);
        let rec = MacDnsRecord::Override {
            replaced: vec![had],
            ours,
        };
        let json = serde_json::to_string(&rec).unwrap();
        assert!(json.contains("\"mode\":\"override\""), "{json}");
        assert_eq!(serde_json::from_str::<MacDnsRecord>(&json).unwrap(), rec);
    }
}
