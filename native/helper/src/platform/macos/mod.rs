//! macOS: utun devices through the kernel control socket, addresses through the address
//! ioctls, routes through the PF_ROUTE routing socket, DNS through the SystemConfiguration
//! dynamic store, the firewall as a pf anchor, process facts from proc_pidinfo and sysctl.
//!
//! Each module keeps its pure part (structures, message encodings, rule text, dictionaries)
//! apart from its syscall layer, which alone is `cfg(target_os = "macos")`: the pure parts
//! build and are unit-tested on every OS.

pub mod dns;
pub mod ifconfig;
pub mod ioctl;
pub mod peer;
pub mod pf;
pub mod plist;
pub mod process;
pub mod routing;
#[cfg(target_os = "macos")]
pub mod sc;
pub mod sockaddr;
pub mod utun;

#[cfg(target_os = "macos")]
pub use sys::MacOs;

#[cfg(target_os = "macos")]
mod sys {
    use std::io;
    use std::net::IpAddr;
    use std::path::Path;

    use causeway_engine::{Tun, TunDevice, TunFraming};

    use super::{dns, ifconfig::Ifconfig, pf, process, routing, utun};
    use crate::netguard::dns_plan::DnsPlan;
    use crate::netguard::firewall::Policy;
    use crate::netguard::Recovery;
    use crate::platform::{Link, NetControl, NextHop, Platform, Route, TunnelDevice};

    pub struct MacOs;

    /// The handles one configuration goes through.
    pub struct MacNet {
        routes: routing::RoutingSocket,
        ifconfig: Ifconfig,
    }

    fn interface_name(index: u32) -> io::Result<String> {
        let mut buf = [0u8; libc::IF_NAMESIZE];
        // SAFETY: `buf` has IF_NAMESIZE bytes, as if_indextoname requires.
        let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr().cast()) };
        if p.is_null() {
            return Err(io::Error::last_os_error());
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
    }

    fn interface_index(name: &str) -> Option<u32> {
        let c = std::ffi::CString::new(name).ok()?;
        // SAFETY: a valid NUL-terminated string.
        let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
        (i != 0).then_some(i)
    }

    impl NetControl for MacNet {
        fn set_link_up(&mut self, index: u32, mtu: u32) -> io::Result<()> {
            self.ifconfig.set_mtu_and_up(&interface_name(index)?, mtu)
        }

        /// A utun address is point-to-point to itself; its subnet is a route through the
        /// interface (gone with the interface, so it needs no record).
        fn add_address(&mut self, index: u32, addr: IpAddr, prefix: u8) -> io::Result<()> {
            self.ifconfig
                .add_address(&interface_name(index)?, addr, prefix)?;
            let full = if addr.is_ipv4() { 32 } else { 128 };
            if addr.is_ipv4() && prefix < full {
                let (dst, prefix) = crate::network::parse_cidr(&format!("{addr}/{prefix}"))
                    .map_err(io::Error::other)?;
                let subnet = Route {
                    dst,
                    prefix,
                    gateway: None,
                    oif: index,
                };
                match self.routes.change(routing::RTM_ADD, &subnet) {
                    Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                    _ => {}
                }
            }
            Ok(())
        }

        fn lookup_route(&mut self, dst: IpAddr) -> io::Result<NextHop> {
            self.routes.lookup(dst)
        }

        fn add_route(&mut self, route: &Route) -> io::Result<()> {
            self.routes.change(routing::RTM_ADD, route)
        }

        fn delete_route(&mut self, route: &Route) -> io::Result<()> {
            self.routes.change(routing::RTM_DELETE, route)
        }
    }

    impl Platform for MacOs {
        type Net = MacNet;
        type Dns = dns::MacDns;
        /// Route changes are not watched here (`watch_routes` keeps its default): nothing ever runs.
        type RouteWatch = ();

        const ROUTE_STATE_DIR: &'static str = "/var/run/causeway/state";
        const JOURNAL_DIR: &'static str = "/var/db/causeway/netguard";

        fn open_net() -> io::Result<MacNet> {
            Ok(MacNet {
                routes: routing::RoutingSocket::open()?,
                ifconfig: Ifconfig::open()?,
            })
        }

        fn create_tun() -> io::Result<TunnelDevice> {
            let (name, fd) = utun::create()?;
            let index = interface_index(&name)
                .ok_or_else(|| io::Error::other(format!("utun device {name} vanished")))?;
            Ok(TunnelDevice {
                tun: Tun {
                    name: name.clone(),
                    device: TunDevice::Fd {
                        fd,
                        framing: TunFraming::AfHeader,
                    },
                },
                name,
                index,
            })
        }

        fn apply_dns(
            journal_dir: &Path,
            link: &Link,
            plan: &DnsPlan,
        ) -> Result<dns::MacDns, String> {
            dns::apply(journal_dir, link, plan)
        }

        fn install_firewall(policy: &Policy) -> Result<(), String> {
            pf::install(policy)
        }

        fn firewall_orphans() -> Result<usize, String> {
            pf::orphan_count()
        }

        fn remove_firewall_orphans() -> Result<usize, String> {
            pf::remove_orphans()
        }

        fn recover_after_crash(journal_dir: &Path, recovery: &mut Recovery) {
            dns::recover_after_crash(journal_dir, recovery);
        }

        fn boot_id() -> String {
            process::boot_id()
        }

        fn process_start_time(pid: u32) -> Option<u64> {
            process::start_time(pid)
        }

        /// macOS has no network namespaces: every process sees the one network.
        fn network_namespace() -> u64 {
            0
        }

        fn is_running_helper(pid: u32) -> bool {
            process::is_running_helper(pid)
        }
    }
}
