//! The seam between what a session plans and how one operating system carries it out.
//!
//! Everything the helper does to the host goes through [`Platform`] (the tunnel device,
//! addresses, MTU and routes, DNS, the firewall, crash recovery) and [`ServiceTransport`] (the
//! local socket or pipe of `--service` and who is on its other end). Each OS implements them
//! once, in its own folder; [`Os`] is the implementation this build targets. The planning
//! that is the same everywhere lives outside this folder: routes (`network`), the DNS plan,
//! the firewall policy and the journal of changes (`netguard`).

use std::io;
use std::net::IpAddr;
use std::path::Path;

use causeway_engine::Tun;

use crate::netguard::dns_plan::DnsPlan;
use crate::netguard::firewall::Policy;
use crate::netguard::Recovery;
use crate::network::route_conflict::TunnelRoutes;
use crate::session_quota::OwnerKey;

#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(target_os = "linux")]
pub use linux::Linux as Os;
// macOS: the pure parts (message encodings, rule text, dictionaries) build and are unit-tested
// on every OS; only its syscall layer is cfg(target_os = "macos").
#[cfg(any(target_os = "macos", test))]
pub mod macos;
#[cfg(target_os = "macos")]
pub use macos::MacOs as Os;
#[cfg(unix)]
pub mod unix;
#[cfg(unix)]
pub use unix::service::UnixService as Service;

#[cfg(any(windows, test))]
pub mod windows;
#[cfg(windows)]
pub use self::windows::service::PipeService as Service;
#[cfg(windows)]
pub use self::windows::Windows as Os;

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
compile_error!("causeway-helper has no platform implementation for this target OS");

/// A route as the helper adds and removes it (on Linux in the tunnel's own routing table,
/// elsewhere in the main one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub dst: IpAddr,
    pub prefix: u8,
    /// None: on-link through `oif` (a point-to-point tunnel needs no next hop).
    pub gateway: Option<IpAddr>,
    /// The interface index.
    pub oif: u32,
}

/// A policy routing rule (Linux `ip rule`): which table the packets it selects look up first.
/// The helper's rules make the tunnel's routing table beat the main one, where the local
/// network's routes land (TunnelVision: a more specific route handed out by DHCP).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyRule {
    pub ipv6: bool,
    pub priority: u32,
    /// Only packets to this network (address, prefix); None: all.
    pub to: Option<(IpAddr, u8)>,
    /// Only packets that do not carry this firewall mark.
    pub unless_mark: Option<u32>,
    pub table: u32,
}

/// How the OS reaches an address now: the interface and, if any, the next hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    pub oif: u32,
    pub gateway: Option<IpAddr>,
}

/// A new tunnel device: its name, its interface index, and the packet device the engine
/// reads and writes.
pub struct TunnelDevice {
    pub name: String,
    pub index: u32,
    pub tun: Tun,
}

/// The tunnel device the DNS settings belong to.
#[derive(Debug, Clone)]
pub struct Link {
    pub index: u32,
    pub name: String,
}

/// A route the route watch removed from the main table, for the user's notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedRoute {
    pub dst: IpAddr,
    pub prefix: u8,
    pub gateway: Option<IpAddr>,
    /// The device's name, when the kernel named one.
    pub device: Option<String>,
}

/// Where the route watch reports each route it removed (called on the watch's own thread).
pub type RemovedRouteSink = Box<dyn Fn(RemovedRoute) + Send>;

/// Addresses, MTU and routes: one handle per session configuration (a netlink socket, a
/// routing socket, the IP Helper API).
pub trait NetControl: Send {
    /// Sets the MTU and brings the interface up.
    fn set_link_up(&mut self, index: u32, mtu: u32) -> io::Result<()>;
    fn add_address(&mut self, index: u32, addr: IpAddr, prefix: u8) -> io::Result<()>;
    /// How `dst` is reached before the tunnel's routes exist.
    fn lookup_route(&mut self, dst: IpAddr) -> io::Result<NextHop>;
    /// Adds `route`; an error of kind `AlreadyExists` when the OS already has it.
    fn add_route(&mut self, route: &Route) -> io::Result<()>;
    fn delete_route(&mut self, route: &Route) -> io::Result<()>;
    /// The rules a session with the tunnel device `tunnel` needs so that its routes win over
    /// the main table's. By default none: an OS without policy routing (macOS, Windows) keeps
    /// the tunnel's routes in its one table, and the full tunnel's firewall (pf anchor, WFP
    /// filters) is what keeps a more specific LAN route from taking traffic out.
    fn policy_rules(&mut self, _tunnel: &str) -> io::Result<Vec<PolicyRule>> {
        Ok(Vec::new())
    }
    /// Adds `rule` (a duplicate of another session's rule is a second copy, removed on its own).
    fn add_rule(&mut self, _rule: &PolicyRule) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
    fn delete_rule(&mut self, _rule: &PolicyRule) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// DNS settings in force for one tunnel, journaled; undone by `restore` or on drop.
pub trait DnsChange: Send {
    /// Which mechanism carries the settings, for the log.
    fn backend(&self) -> &'static str;
    /// Puts the previous DNS configuration back.
    fn restore(self) -> Result<(), String>;
}

/// One operating system's way of carrying out a session's network setup.
pub trait Platform: Send + Sync + 'static {
    type Net: NetControl;
    type Dns: DnsChange;
    /// A running route watch; dropping it stops the watch.
    type RouteWatch: Send;

    /// Where route records for crash recovery live (runtime storage: routes do not survive
    /// a reboot).
    const ROUTE_STATE_DIR: &'static str;
    /// Where the netguard journal lives (persistent storage: some DNS changes survive a
    /// reboot).
    const JOURNAL_DIR: &'static str;

    fn open_net() -> io::Result<Self::Net>;
    /// How the engine makes its sockets to the servers and proxies and looks their names up,
    /// so that this OS's firewall lets exactly those out while it blocks everything else. By
    /// default as the OS makes them: where the firewall knows the helper otherwise (WFP by its
    /// application id; pf by the servers' addresses and ports from root's sockets), and names
    /// are looked up by another process (mDNSResponder, the DNS Client service) whatever socket
    /// the helper would use.
    fn own_sockets() -> causeway_engine::Sockets {
        std::sync::Arc::new(causeway_engine::SystemSockets)
    }
    /// Watches route changes while a session is connected and removes each route added to
    /// the main table that conflicts with `tunnel`'s (`route_conflict::conflicts`), telling
    /// `removed`. Err: why routes are not watched here (logged; the session goes on); by
    /// default they are not.
    fn watch_routes(
        _tunnel: TunnelRoutes,
        _removed: RemovedRouteSink,
    ) -> Result<Self::RouteWatch, String> {
        Err(format!(
            "route changes are not watched on {}: a route the local network adds while connected stays",
            std::env::consts::OS
        ))
    }
    /// Creates a tunnel device that disappears when the returned packet device is dropped.
    fn create_tun() -> io::Result<TunnelDevice>;
    /// Applies the DNS plan to `link`, journaled in `journal_dir` before it is changed.
    fn apply_dns(journal_dir: &Path, link: &Link, plan: &DnsPlan) -> Result<Self::Dns, String>;
    /// Replaces this helper's firewall rules with those for `policy` (none when it is
    /// empty), atomically, and removes the rules of helpers that died: a session of this
    /// helper has taken over (`firewall::keep_orphans`). The LAN a policy exempts is read
    /// here, from the interfaces (`netguard::lan::Lan::exempt_by`).
    fn install_firewall(policy: &Policy) -> Result<(), String>;
    /// How many helpers that died have firewall rules in force here; crash recovery keeps
    /// them (`firewall::keep_orphans`).
    fn firewall_orphans() -> Result<usize, String>;
    /// Removes the firewall rules of helpers that died (never a live helper's, never ours);
    /// of how many.
    fn remove_firewall_orphans() -> Result<usize, String>;
    /// Undoes DNS changes left by helpers that died (their firewall rules are
    /// `firewall_orphans`).
    fn recover_after_crash(journal_dir: &Path, recovery: &mut Recovery);
    /// Identifies this boot: records of another boot describe changes that are gone.
    fn boot_id() -> String;
    /// When `pid` started (any monotonic unit): with the pid it identifies a process, as
    /// pids are reused.
    fn process_start_time(pid: u32) -> Option<u64>;
    /// An identifier of the network namespace this process sees (0 where the OS has none);
    /// route records and DNS link settings only mean something in the one they were made in.
    fn network_namespace() -> u64;
    /// Whether `pid` is a running causeway-helper (so its records are not touched).
    fn is_running_helper(pid: u32) -> bool;
}

/// Who is on the other end of a service connection, as the OS vouches for it.
pub trait PeerIdentity: Send {
    type Group;
    /// The uid `status` reports for this peer's sessions (on Windows the SID's last part).
    fn uid(&self) -> u32;
    /// Whom this peer's sessions belong to for the per-user session cap: the uid on Unix,
    /// the full SID on Windows.
    fn owner(&self) -> OwnerKey;
    /// Whether the peer may use the service at all (root, or a member of the service group).
    fn may_use_service(&self, service_group: &Self::Group) -> bool;
    /// For the log: who connected.
    fn describe(&self) -> String;
}

/// The local transport of `--service`.
pub trait ServiceTransport: Sized + Send + Sync {
    type Conn: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static;
    type Peer: PeerIdentity<Group = Self::Group>;
    /// Who besides root/administrators may connect: a gid on Unix, a group SID on Windows.
    type Group: Clone + Send + Sync + 'static;
    /// Where the installed service listens.
    const DEFAULT_PATH: &'static str;

    /// The id of the group whose members may connect.
    fn group_id(name: &str) -> Result<Self::Group, String>;
    /// Listens at `path`, reachable only by root and `group`.
    fn bind(path: &Path, group: &Self::Group) -> Result<Self, String>;
    fn accept(&self) -> impl std::future::Future<Output = io::Result<Self::Conn>> + Send;
    fn peer(conn: &Self::Conn) -> io::Result<Self::Peer>;
    /// Stops listening and removes the endpoint.
    fn close(self, path: &Path);
    /// Tells the service manager the service is ready (a no-op where there is none).
    fn notify_ready();
}
