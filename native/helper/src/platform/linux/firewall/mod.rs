//! Leak protection with nftables: the IPv6 leak block and the kill switch.
//!
//! All guards of this helper process share one `inet` table, `causeway_<pid>`: in nftables a
//! drop in any base chain is final, so per-session tables with catch-all rules would block
//! each other's tunnels. The table is re-rendered from the registry of live guards on every
//! change and replaced atomically; it disappears with the last guard. Its name is its own
//! crash record: a table whose pid is no longer a running helper is removed at start-up.

mod ruleset;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use ruleset::{valid_ifname, Policy};
pub use ruleset::{Endpoint, Transport};

use super::owner;
use crate::netguard::{tools, Recovery};

const TABLE_PREFIX: &str = "causeway_";

fn table_name() -> String {
    format!("{TABLE_PREFIX}{}", std::process::id())
}

/// One guard's contribution to the table.
#[derive(Debug, Clone)]
enum Contribution {
    KillSwitch {
        tunnel: Option<String>,
        endpoints: Vec<Endpoint>,
    },
    Ipv6Block {
        tunnel: String,
        endpoints: Vec<Endpoint>,
    },
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    guards: BTreeMap<u64, Contribution>,
}

impl Registry {
    fn policy(&self) -> Policy {
        let mut p = Policy::default();
        for c in self.guards.values() {
            match c {
                Contribution::KillSwitch { tunnel, endpoints } => {
                    p.kill_switch = true;
                    p.tunnels.extend(tunnel.iter().cloned());
                    p.endpoints.extend(endpoints.iter().copied());
                }
                Contribution::Ipv6Block { tunnel, endpoints } => {
                    p.block_ipv6 = true;
                    p.tunnels.insert(tunnel.clone());
                    p.endpoints.extend(endpoints.iter().copied());
                }
            }
        }
        p
    }
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next_id: 0,
    guards: BTreeMap::new(),
});

fn nft() -> Result<PathBuf, String> {
    tools::find("nft").ok_or_else(|| "nft (nftables) is not installed; it is needed for the kill switch and the IPv6 leak block".to_owned())
}

fn install(policy: &Policy) -> Result<(), String> {
    tools::run(
        &nft()?,
        &["-f", "-"],
        &ruleset::replace_script(&table_name(), policy),
    )
    .map(|_| ())
}

/// Applies `change` to the registry and installs the resulting table; on failure the registry
/// is put back as it was, so it always describes what is installed.
fn transact(change: impl FnOnce(&mut Registry) -> Option<u64>) -> Result<Option<u64>, String> {
    let mut reg = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    let before = reg.guards.clone();
    let id = change(&mut reg);
    match install(&reg.policy()) {
        Ok(()) => Ok(id),
        Err(e) => {
            reg.guards = before;
            Err(e)
        }
    }
}

fn add(c: Contribution) -> Result<u64, String> {
    transact(|reg| {
        let id = reg.next_id;
        reg.next_id += 1;
        reg.guards.insert(id, c);
        Some(id)
    })
    .map(|id| id.expect("add returns an id"))
}

fn remove(id: u64) -> Result<(), String> {
    transact(|reg| {
        reg.guards.remove(&id);
        None
    })
    .map(|_| ())
}

fn check_tunnel(name: &str) -> Result<(), String> {
    if valid_ifname(name) {
        Ok(())
    } else {
        Err(format!("{name:?} is not a valid interface name"))
    }
}

/// The kill switch of one session: while it exists, nothing leaves or enters the machine
/// except over loopback, the session's tunnel and to/from its VPN servers (and DHCP).
/// Enable it before the first connection attempt and keep it through reconnects.
#[derive(Debug)]
pub struct KillSwitch {
    id: Option<u64>,
}

impl KillSwitch {
    /// `endpoints`: every address the engine may connect to (all resolved remotes).
    pub fn enable(endpoints: &[Endpoint], tunnel: Option<&str>) -> Result<KillSwitch, String> {
        if let Some(t) = tunnel {
            check_tunnel(t)?;
        }
        let id = add(Contribution::KillSwitch {
            tunnel: tunnel.map(str::to_owned),
            endpoints: endpoints.to_vec(),
        })?;
        Ok(KillSwitch { id: Some(id) })
    }

    /// New tunnel device (after a (re)connect) or new server addresses (after failover).
    pub fn update(&self, endpoints: &[Endpoint], tunnel: Option<&str>) -> Result<(), String> {
        if let Some(t) = tunnel {
            check_tunnel(t)?;
        }
        let Some(id) = self.id else { return Ok(()) };
        let c = Contribution::KillSwitch {
            tunnel: tunnel.map(str::to_owned),
            endpoints: endpoints.to_vec(),
        };
        transact(|reg| {
            reg.guards.insert(id, c);
            None
        })
        .map(|_| ())
    }
}

/// Dropping the kill switch (when the session ends) removes it.
impl Drop for KillSwitch {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            if let Err(e) = remove(id) {
                crate::log::warn(&format!("cannot remove the kill switch: {e}"));
            }
        }
    }
}

/// Whether a session needs the IPv6 leak block: the tunnel takes the default route but
/// carries no IPv6, so IPv6 would bypass it (AWS "IPv6 considerations").
pub fn ipv6_block_needed(
    block_ipv6_setting: bool,
    redirect_gateway: bool,
    tunnel_has_ipv6: bool,
) -> bool {
    block_ipv6_setting && redirect_gateway && !tunnel_has_ipv6
}

/// The IPv6 leak block of one session: all IPv6 except loopback, the tunnels and the VPN
/// server (which may itself be reached over IPv6) is rejected while it exists.
#[derive(Debug)]
pub struct Ipv6Block {
    id: Option<u64>,
}

impl Ipv6Block {
    pub fn enable(tunnel: &str, endpoints: &[Endpoint]) -> Result<Ipv6Block, String> {
        check_tunnel(tunnel)?;
        Ok(Ipv6Block {
            id: Some(add(Contribution::Ipv6Block {
                tunnel: tunnel.to_owned(),
                endpoints: endpoints.to_vec(),
            })?),
        })
    }

    pub fn disable(mut self) -> Result<(), String> {
        self.id.take().map_or(Ok(()), remove)
    }
}

impl Drop for Ipv6Block {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            if let Err(e) = remove(id) {
                crate::log::warn(&format!("cannot remove the IPv6 leak block: {e}"));
            }
        }
    }
}

/// The pids of helper tables in `nft list tables` output.
fn helper_tables(listing: &str) -> Vec<u32> {
    listing
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("table inet ")?
                .strip_prefix(TABLE_PREFIX)?
                .parse()
                .ok()
        })
        .collect()
}

/// Removes tables of helpers that are no longer running, in this network namespace.
pub fn recover_after_crash(recovery: &mut Recovery) {
    let Ok(nft) = nft() else { return };
    let listing = match tools::run(&nft, &["list", "tables"], "") {
        Ok(l) => l,
        Err(e) => {
            recovery
                .problems
                .push(format!("cannot list nftables tables: {e}"));
            return;
        }
    };
    for pid in helper_tables(&listing) {
        if pid == std::process::id() || owner::is_running_helper(pid) {
            continue;
        }
        match tools::run(
            &nft,
            &["delete", "table", "inet", &format!("{TABLE_PREFIX}{pid}")],
            "",
        ) {
            Ok(_) => recovery.firewall_tables_removed += 1,
            Err(e) => recovery.problems.push(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_the_union_of_all_guards() {
        let e = |port| Endpoint {
            addr: "192.0.2.1".parse().unwrap(),
            port,
            transport: Transport::Udp,
        };
        let mut reg = Registry::default();
        reg.guards.insert(
            0,
            Contribution::KillSwitch {
                tunnel: None,
                endpoints: vec![e(1194)],
            },
        );
        reg.guards.insert(
            1,
            Contribution::Ipv6Block {
                tunnel: "cw1".into(),
                endpoints: vec![e(1195)],
            },
        );
        reg.guards.insert(
            2,
            Contribution::KillSwitch {
                tunnel: Some("cw2".into()),
                endpoints: vec![e(443), e(1194)],
            },
        );
        let p = reg.policy();
        assert!(p.kill_switch && p.block_ipv6);
        assert_eq!(
            p.tunnels.iter().map(String::as_str).collect::<Vec<_>>(),
            ["cw1", "cw2"]
        );
        assert_eq!(p.endpoints.len(), 3);
        assert!(Registry::default().policy().is_empty());
    }

    #[test]
    fn ipv6_block_only_when_the_default_route_is_tunnelled_without_ipv6() {
        assert!(ipv6_block_needed(true, true, false));
        assert!(!ipv6_block_needed(true, true, true));
        assert!(!ipv6_block_needed(true, false, false));
        assert!(!ipv6_block_needed(false, true, false));
    }

    #[test]
    fn crash_recovery_finds_only_helper_tables() {
        let listing = "table inet filter\ntable inet causeway_123\ntable ip causeway_7\ntable inet causeway_x\ntable inet causeway_456\n";
        assert_eq!(helper_tables(listing), [123, 456]);
    }
}
