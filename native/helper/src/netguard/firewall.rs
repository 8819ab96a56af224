//! Leak protection, the part that is the same on every OS: the firewall policy (what the
//! rules must allow and block) and the guards that make up a session's share of it, the leak
//! blocks (IPv6; IPv4 of a full tunnel) and the kill switch.
//!
//! All guards of this helper process share one rule set (an nftables table on Linux, a pf
//! anchor on macOS, WFP filters tagged with the helper's pid on Windows): a drop in any of
//! them would be final, so per-session rule sets with catch-all rules would block each
//! other's tunnels. The rule set is rendered by the platform from the union of the live
//! guards on every change and replaced atomically; it disappears with the last guard.
//!
//! A crash is not a disconnect, on every OS alike: a dead helper's rule set stays in force
//! ([`keep_orphans`], at start-up) until a session of the next helper changes the firewall
//! (`Platform::install_firewall` removes it then) or [`ORPHAN_GRACE`] passes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;

use super::Recovery;
use crate::platform::{Os, Platform};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

/// How long a dead helper's rules stay in force after the next helper starts when no session
/// of that helper takes over (main gave up): a crash is not a disconnect.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(120);

/// A VPN server the kill switch must still let the engine reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
    pub transport: Transport,
}

/// What the table must do: the union over all sessions.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Policy {
    pub tunnels: BTreeSet<String>,
    pub endpoints: BTreeSet<Endpoint>,
    pub block_ipv6: bool,
    /// A full tunnel is up (or reconnecting): IPv4 outside the tunnels is blocked too, so
    /// neither a reconnect nor a more specific route the LAN pushes (TunnelVision) lets it
    /// leave in plaintext.
    pub block_ipv4: bool,
    /// Every IPv4 block allows the directly connected private and link-local subnets, and no
    /// kill switch is on.
    pub allow_lan: bool,
    /// Every IPv6 block allows the directly connected link-local and ULA subnets, and no kill
    /// switch is on.
    pub allow_lan_ipv6: bool,
    pub kill_switch: bool,
}

impl Policy {
    pub fn is_empty(&self) -> bool {
        !self.block_ipv6 && !self.block_ipv4 && !self.kill_switch
    }

    /// IPv4 the machine sends outside the tunnels is blocked (a full tunnel's IPv4 block or
    /// the kill switch); DHCP then needs its exemption.
    pub fn blocks_ipv4_out(&self) -> bool {
        self.block_ipv4 || self.kill_switch
    }

    /// IPv6 outside the tunnels is blocked both ways (the IPv6 block or the kill switch);
    /// DHCPv6 and neighbour and router discovery then need their exemptions.
    pub fn blocks_ipv6(&self) -> bool {
        self.block_ipv6 || self.kill_switch
    }

    /// For the renderers' tests (nftables, pf, WFP): one tunnel and one UDP server,
    /// 192.0.2.10:1194.
    #[cfg(test)]
    pub fn sample(tunnel: &str, kill_switch: bool, block_ipv6: bool) -> Policy {
        Policy {
            tunnels: [tunnel.to_owned()].into(),
            endpoints: [Endpoint {
                addr: "192.0.2.10".parse().unwrap(),
                port: 1194,
                transport: Transport::Udp,
            }]
            .into(),
            block_ipv6,
            block_ipv4: false,
            allow_lan: false,
            allow_lan_ipv6: false,
            kill_switch,
        }
    }

    /// `sample` with the given flags, for the renderers' tables of every combination.
    #[cfg(test)]
    pub fn sample_with(tunnel: &str, flags: Flags) -> Policy {
        let (kill_switch, block_ipv6, block_ipv4, allow_lan, allow_lan_ipv6) = flags;
        Policy {
            block_ipv4,
            allow_lan,
            allow_lan_ipv6,
            ..Policy::sample(tunnel, kill_switch, block_ipv6)
        }
    }
}

/// A policy's flags for the renderers' tests: (kill_switch, block_ipv6, block_ipv4,
/// allow_lan, allow_lan_ipv6).
#[cfg(test)]
pub type Flags = (bool, bool, bool, bool, bool);

/// Interface names go into quoted strings of firewall rules (nft, pf): only what Linux
/// allows and nothing that could close the quote.
pub fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
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
        allow_lan: bool,
    },
    Ipv4Block {
        tunnel: String,
        endpoints: Vec<Endpoint>,
        allow_lan: bool,
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
        let mut lan_allowed = true;
        let mut lan6_allowed = true;
        for c in self.guards.values() {
            match c {
                Contribution::KillSwitch { tunnel, endpoints } => {
                    p.kill_switch = true;
                    p.tunnels.extend(tunnel.iter().cloned());
                    p.endpoints.extend(endpoints.iter().copied());
                }
                Contribution::Ipv6Block {
                    tunnel,
                    endpoints,
                    allow_lan,
                }
                | Contribution::Ipv4Block {
                    tunnel,
                    endpoints,
                    allow_lan,
                } => {
                    if matches!(c, Contribution::Ipv6Block { .. }) {
                        p.block_ipv6 = true;
                        lan6_allowed &= allow_lan;
                    } else {
                        p.block_ipv4 = true;
                        lan_allowed &= allow_lan;
                    }
                    p.tunnels.insert(tunnel.clone());
                    p.endpoints.extend(endpoints.iter().copied());
                }
            }
        }
        // One session refusing the LAN wins (the rule set is shared), and so does a kill
        // switch: it lets nothing but the tunnel and the servers through.
        p.allow_lan = p.block_ipv4 && lan_allowed && !p.kill_switch;
        p.allow_lan_ipv6 = p.block_ipv6 && lan6_allowed && !p.kill_switch;
        p
    }
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next_id: 0,
    guards: BTreeMap::new(),
});

/// Applies `change` to the registry and installs the resulting rules; on failure the registry
/// is put back as it was, so it always describes what is installed.
fn transact(change: impl FnOnce(&mut Registry) -> Option<u64>) -> Result<Option<u64>, String> {
    let mut reg = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    let before = reg.guards.clone();
    let id = change(&mut reg);
    match Os::install_firewall(&reg.policy()) {
        Ok(()) => Ok(id),
        Err(e) => {
            reg.guards = before;
            Err(e)
        }
    }
}

/// Crash recovery's part of the firewall (at start-up, before any session): the rule sets
/// of helpers that died stay in force, fail closed while main brings their sessions back
/// with this helper; the first change of this helper's firewall removes them
/// (`Platform::install_firewall`), and if none comes within `ORPHAN_GRACE` (main gave up) they
/// are removed then.
pub fn keep_orphans(recovery: &mut Recovery) {
    keep_orphans_for(
        Os::firewall_orphans(),
        ORPHAN_GRACE,
        Os::remove_firewall_orphans,
        recovery,
    );
}

/// `keep_orphans` with the platform's answers and the grace as arguments, for the tests; the
/// removal thread, if one was started.
fn keep_orphans_for(
    orphans: Result<usize, String>,
    grace: Duration,
    remove: fn() -> Result<usize, String>,
    recovery: &mut Recovery,
) -> Option<JoinHandle<()>> {
    match orphans {
        Ok(0) => None,
        Ok(n) => {
            crate::log::info(&format!(
                "keeping the firewall rules of {n} helper(s) that died until a session takes over (at most {grace:?})"
            ));
            Some(std::thread::spawn(move || {
                std::thread::sleep(grace);
                // Under the registry's lock: an install going on now removes them itself
                // (`transact` holds the lock), and must not find them half gone.
                let _registry = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
                match remove() {
                    Ok(0) => {}
                    Ok(n) => crate::log::info(&format!(
                        "removed the firewall rules of {n} helper(s) that died: no session took over"
                    )),
                    Err(e) => crate::log::warn(&e),
                }
            }))
        }
        Err(e) => {
            recovery.problems.push(e);
            None
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

/// Whether a session needs the IPv6 leak block: the tunnel takes the IPv4 default route but
/// not the IPv6 one, so IPv6 would bypass it (AWS "IPv6 considerations"); the profile's
/// `block-ipv6` keeps IPv6 outside the tunnel blocked even when the tunnel carries it; a
/// tunnel that takes IPv6 with `redirect-gateway ipv6` is a full tunnel for IPv6 (its block
/// lets the tunnel through, and keeps IPv6 in it while reconnecting or against a more
/// specific route of the LAN, as the IPv4 block does).
pub fn ipv6_block_needed(
    block_ipv6_setting: bool,
    redirect_gateway: bool,
    redirect_gateway_ipv6: bool,
    tunnel_takes_ipv6_default: bool,
) -> bool {
    redirect_gateway_ipv6
        || (redirect_gateway && (block_ipv6_setting || !tunnel_takes_ipv6_default))
}

/// The address family of a leak block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpFamily {
    V4,
    V6,
}

impl std::fmt::Display for IpFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        })
    }
}

/// A leak block of one session: while it exists, everything of one address family except
/// loopback, the tunnels and the VPN servers (IPv4: also DHCP and, if allowed, the LAN) is
/// rejected.
#[derive(Debug)]
pub struct LeakBlock {
    id: Option<u64>,
}

impl LeakBlock {
    /// All of one family outside the tunnel; `allow_lan` keeps the directly connected LAN
    /// reachable (IPv4: private and link-local subnets; IPv6: link-local and ULA). The error
    /// names the family.
    pub fn outside(
        family: IpFamily,
        tunnel: &str,
        endpoints: &[Endpoint],
        allow_lan: bool,
    ) -> Result<LeakBlock, String> {
        let (name, endpoints) = (tunnel.to_owned(), endpoints.to_vec());
        let c = match family {
            IpFamily::V4 => Contribution::Ipv4Block {
                tunnel: name,
                endpoints,
                allow_lan,
            },
            IpFamily::V6 => Contribution::Ipv6Block {
                tunnel: name,
                endpoints,
                allow_lan,
            },
        };
        LeakBlock::enable(tunnel, c)
            .map_err(|e| format!("cannot block {family} outside the tunnel: {e}"))
    }

    fn enable(tunnel: &str, c: Contribution) -> Result<LeakBlock, String> {
        check_tunnel(tunnel)?;
        Ok(LeakBlock { id: Some(add(c)?) })
    }

    pub fn disable(mut self) -> Result<(), String> {
        self.id.take().map_or(Ok(()), remove)
    }
}

impl Drop for LeakBlock {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            if let Err(e) = remove(id) {
                crate::log::warn(&format!("cannot remove a leak block: {e}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session's IPv4 or IPv6 block on `cw1`, with or without the LAN.
    fn v4(allow_lan: bool) -> Contribution {
        Contribution::Ipv4Block {
            tunnel: "cw1".into(),
            endpoints: vec![],
            allow_lan,
        }
    }

    fn v6(allow_lan: bool) -> Contribution {
        Contribution::Ipv6Block {
            tunnel: "cw1".into(),
            endpoints: vec![],
            allow_lan,
        }
    }

    fn kill_switch() -> Contribution {
        Contribution::KillSwitch {
            tunnel: None,
            endpoints: vec![],
        }
    }

    #[test]
    fn the_lan_stays_reachable_only_when_every_ipv4_block_allows_it_and_no_kill_switch_is_on() {
        let mut reg = Registry::default();
        reg.guards.insert(0, v4(true));
        assert!(reg.policy().block_ipv4 && reg.policy().allow_lan);
        reg.guards.insert(1, v4(false));
        assert!(!reg.policy().allow_lan);
        reg.guards.insert(1, v4(true));
        reg.guards.insert(2, kill_switch());
        assert!(!reg.policy().allow_lan);
        assert!(!Registry::default().policy().allow_lan);
    }

    #[test]
    fn the_ipv6_lan_follows_the_ipv6_blocks_alone() {
        let mut reg = Registry::default();
        reg.guards.insert(0, v6(true));
        assert!(reg.policy().allow_lan_ipv6 && !reg.policy().allow_lan);
        // A profile's block-ipv6 (an IPv6 block without the LAN) leaves the IPv4 LAN alone.
        reg.guards.insert(0, v6(false));
        reg.guards.insert(1, v4(true));
        assert!(!reg.policy().allow_lan_ipv6 && reg.policy().allow_lan);
        reg.guards.insert(0, v6(true));
        reg.guards.insert(2, kill_switch());
        assert!(!reg.policy().allow_lan_ipv6 && !reg.policy().allow_lan);
    }

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
                allow_lan: true,
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
    fn ipv6_is_blocked_outside_every_full_tunnel_that_does_not_take_the_ipv6_default() {
        // By default, not only with the profile's block-ipv6.
        assert!(ipv6_block_needed(false, true, false, false));
        assert!(ipv6_block_needed(true, true, false, false));
        assert!(!ipv6_block_needed(false, true, false, true));
        assert!(ipv6_block_needed(true, true, false, true));
        // A split tunnel leaves the host's IPv6 alone.
        assert!(!ipv6_block_needed(true, false, false, false));
        assert!(!ipv6_block_needed(false, false, false, false));
        // redirect-gateway ipv6 is a full tunnel for IPv6, with or without IPv4.
        assert!(ipv6_block_needed(false, true, true, true));
        assert!(ipv6_block_needed(false, false, true, true));
    }

    #[test]
    fn a_dead_helpers_rules_are_kept_and_removed_once_the_grace_has_passed() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::Instant;
        static REMOVALS: AtomicUsize = AtomicUsize::new(0);
        fn remove() -> Result<usize, String> {
            REMOVALS.fetch_add(1, Ordering::SeqCst);
            Ok(1)
        }
        let mut recovery = Recovery::default();
        let grace = Duration::from_millis(200);
        let start = Instant::now();
        let thread = keep_orphans_for(Ok(2), grace, remove, &mut recovery).unwrap();
        assert_eq!(REMOVALS.load(Ordering::SeqCst), 0, "removed at once");
        thread.join().unwrap();
        assert!(start.elapsed() >= grace);
        assert_eq!(REMOVALS.load(Ordering::SeqCst), 1);
        // None left: nothing waits. The platform cannot tell: a problem, nothing removed.
        assert!(keep_orphans_for(Ok(0), grace, remove, &mut recovery).is_none());
        assert!(recovery.problems.is_empty());
        assert!(keep_orphans_for(Err("no pf".into()), grace, remove, &mut recovery).is_none());
        assert_eq!(recovery.problems, ["no pf"]);
        assert_eq!(REMOVALS.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn interface_names_that_could_break_out_of_quotes_are_invalid() {
        assert!(valid_ifname("cw0") && valid_ifname("tun-1.x"));
        for bad in ["", "a\"b", "a b", "a;b", "abcdefghijklmnop", "a\nb"] {
            assert!(!valid_ifname(bad), "{bad:?}");
        }
    }
}
