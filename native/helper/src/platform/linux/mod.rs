//! Linux: TUN through /dev/net/tun, addresses and routes through rtnetlink, DNS through
//! systemd-resolved, resolvconf or /etc/resolv.conf, the firewall through nftables, process
//! facts from /proc, readiness through systemd.

pub mod dns;
pub mod firewall;
pub mod marked;
pub mod netlink;
pub mod peer;
mod policy_routing;
pub mod procfs;
mod resolver;
mod route_watch;
pub mod systemd;
pub mod tun;

use std::io;
use std::net::IpAddr;
use std::path::Path;

use causeway_engine::api::{TunDevice, TunFraming};
use causeway_engine::Tun;

use crate::netguard::dns_plan::DnsPlan;
use crate::netguard::firewall::Policy;
use crate::netguard::Recovery;
use crate::network::route_conflict::TunnelRoutes;
use crate::platform::{
    Link, NetControl, NextHop, Platform, PolicyRule, RemovedRouteSink, Route, TunnelDevice,
};

pub struct Linux;

impl NetControl for netlink::Netlink {
    fn set_link_up(&mut self, index: u32, mtu: u32) -> io::Result<()> {
        netlink::Netlink::set_link_up(self, index, mtu)
    }
    fn add_address(&mut self, index: u32, addr: IpAddr, prefix: u8) -> io::Result<()> {
        netlink::Netlink::add_address(self, index, addr, prefix)
    }
    fn lookup_route(&mut self, dst: IpAddr) -> io::Result<NextHop> {
        netlink::Netlink::lookup_route(self, dst)
    }
    fn add_route(&mut self, route: &Route) -> io::Result<()> {
        netlink::Netlink::add_route(self, route)
    }
    fn delete_route(&mut self, route: &Route) -> io::Result<()> {
        netlink::Netlink::delete_route(self, route)
    }
    fn policy_rules(&mut self, tunnel: &str) -> io::Result<Vec<PolicyRule>> {
        policy_routing::rules(tunnel)
    }
    fn add_rule(&mut self, rule: &PolicyRule) -> io::Result<()> {
        netlink::Netlink::add_rule(self, rule)
    }
    fn delete_rule(&mut self, rule: &PolicyRule) -> io::Result<()> {
        netlink::Netlink::delete_rule(self, rule)
    }
}

impl Platform for Linux {
    type Net = netlink::Netlink;
    type Dns = dns::DnsGuard;
    type RouteWatch = route_watch::RouteWatch;

    const ROUTE_STATE_DIR: &'static str = "/run/causeway/state";
    /// systemd's StateDirectory=causeway for the unit; created on demand otherwise.
    const JOURNAL_DIR: &'static str = "/var/lib/causeway/netguard";

    fn open_net() -> io::Result<netlink::Netlink> {
        netlink::Netlink::open()
    }

    /// Marked with SO_MARK (marked.rs), names through the marked resolver.
    fn own_sockets() -> causeway_engine::Sockets {
        std::sync::Arc::new(marked::MarkedSockets)
    }

    fn watch_routes(
        tunnel: TunnelRoutes,
        removed: RemovedRouteSink,
    ) -> Result<route_watch::RouteWatch, String> {
        route_watch::start(tunnel, removed)
    }

    fn create_tun() -> io::Result<TunnelDevice> {
        let tun::Created { name, fd, offloads } = tun::create()?;
        let index = netlink::link_index(&name)
            .ok_or_else(|| io::Error::other(format!("TUN device {name} vanished")))?;
        if !offloads {
            crate::log::warn(&format!(
                "{name}: the kernel refused TUN offloads; one packet per read and write"
            ));
        }
        Ok(TunnelDevice {
            tun: Tun {
                name: name.clone(),
                device: TunDevice::Fd {
                    fd,
                    framing: TunFraming::VnetHdr,
                },
            },
            name,
            index,
        })
    }

    fn apply_dns(journal_dir: &Path, link: &Link, plan: &DnsPlan) -> Result<dns::DnsGuard, String> {
        dns::apply(journal_dir, link, plan)
    }

    fn install_firewall(policy: &Policy) -> Result<(), String> {
        firewall::install(policy)
    }

    fn firewall_orphans() -> Result<usize, String> {
        firewall::orphan_count()
    }

    fn remove_firewall_orphans() -> Result<usize, String> {
        firewall::remove_orphans()
    }

    fn recover_after_crash(journal_dir: &Path, recovery: &mut Recovery) {
        dns::recover_after_crash(journal_dir, recovery);
    }

    fn boot_id() -> String {
        procfs::boot_id()
    }

    fn process_start_time(pid: u32) -> Option<u64> {
        procfs::start_time(pid)
    }

    /// The inode of the current network namespace (what `ip netns identify` compares).
    fn network_namespace() -> u64 {
        procfs::namespace_inode("net")
    }

    fn is_running_helper(pid: u32) -> bool {
        procfs::is_running_helper(pid)
    }
}
