//! The LAN a full tunnel's leak blocks may leave reachable: the subnets directly connected
//! to the machine's interfaces (not loopback, not a tunnel), kept only when private (RFC 1918
//! and IPv6 ULA, fc00::/7) or link-local. A public range the LAN claims as its own is never
//! exempt (TunnelCrack's LocalNet attack makes the victim's traffic "local" that way).

use std::collections::BTreeSet;
use std::ffi::CStr;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A subnet as (network address, prefix length).
pub type Subnet = (Ipv4Addr, u8);
/// An IPv6 subnet as (network address, prefix length).
pub type Subnet6 = (Ipv6Addr, u8);

/// IPv6 link-local, on-link by definition: always part of the IPv6 LAN.
pub const LINK_LOCAL_6: Subnet6 = (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10);

fn is_lan(net: Ipv4Addr) -> bool {
    net.is_private() || net.is_link_local()
}

/// The connected subnet of an address with netmask `mask`, if it is one the LAN may keep.
/// Both ends must be in the LAN ranges: a prefix shorter than the private block it lies in
/// (10.0.0.0/7) would reach public addresses.
pub fn lan_subnet(addr: Ipv4Addr, mask: Ipv4Addr) -> Option<Subnet> {
    let mask = u32::from(mask);
    let net = u32::from(addr) & mask;
    let last = net | !mask;
    let prefix = mask.leading_ones() as u8;
    (is_lan(net.into()) && is_lan(last.into())).then_some((net.into(), prefix))
}

/// The connected IPv6 subnet of an address with prefix length `prefix`, if the LAN may keep it:
/// a ULA subnet (both ends in fc00::/7). Link-local is `LINK_LOCAL_6` as a whole.
pub fn lan_subnet6(addr: Ipv6Addr, prefix: u8) -> Option<Subnet6> {
    let ula = |a: u128| a >> 121 == 0xfc >> 1;
    let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    let net = u128::from(addr) & mask;
    (ula(net) && ula(net | !mask)).then_some((net.into(), prefix))
}

/// The IPv6 LAN of the interfaces whose names are not in `tunnels`: link-local and the
/// connected ULA subnets.
pub fn connected_subnets6(tunnels: &BTreeSet<String>) -> Result<BTreeSet<Subnet6>, String> {
    let mut found = BTreeSet::from([LINK_LOCAL_6]);
    walk_addresses(tunnels, |ifa| {
        // SAFETY: ifa_addr is non-null (checked by the walk); sa_family says which sockaddr it is.
        if i32::from(unsafe { (*ifa.ifa_addr).sa_family }) != libc::AF_INET6 {
            return;
        }
        // SAFETY: AF_INET6 addresses and their netmasks are sockaddr_in6.
        let (addr, mask) = unsafe {
            (
                (*ifa.ifa_addr.cast::<libc::sockaddr_in6>())
                    .sin6_addr
                    .s6_addr,
                (*ifa.ifa_netmask.cast::<libc::sockaddr_in6>())
                    .sin6_addr
                    .s6_addr,
            )
        };
        let prefix = u128::from_be_bytes(mask).leading_ones() as u8;
        found.extend(lan_subnet6(Ipv6Addr::from(addr), prefix));
    })?;
    Ok(found)
}

/// The LAN subnets of the interfaces whose names are not in `tunnels`.
pub fn connected_subnets(tunnels: &BTreeSet<String>) -> Result<BTreeSet<Subnet>, String> {
    let mut found = BTreeSet::new();
    walk_addresses(tunnels, |ifa| {
        // SAFETY: ifa_addr is non-null (checked by the walk); sa_family says which sockaddr it is.
        if i32::from(unsafe { (*ifa.ifa_addr).sa_family }) != libc::AF_INET {
            return;
        }
        // SAFETY: AF_INET addresses and their netmasks are sockaddr_in.
        let (addr, mask) = unsafe {
            (
                (*ifa.ifa_addr.cast::<libc::sockaddr_in>()).sin_addr.s_addr,
                (*ifa.ifa_netmask.cast::<libc::sockaddr_in>())
                    .sin_addr
                    .s_addr,
            )
        };
        let ip = |be: u32| Ipv4Addr::from(u32::from_be(be));
        found.extend(lan_subnet(ip(addr), ip(mask)));
    })?;
    Ok(found)
}

/// Calls `each` with every address of an interface that is not loopback and not in `tunnels`
/// (its `ifa_addr` and `ifa_netmask` non-null).
fn walk_addresses(
    tunnels: &BTreeSet<String>,
    mut each: impl FnMut(&libc::ifaddrs),
) -> Result<(), String> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(format!(
            "cannot list the network interfaces: {}",
            std::io::Error::last_os_error()
        ));
    }
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, alive until freeifaddrs.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_netmask.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: a non-null ifa_name is a NUL-terminated interface name.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }.to_string_lossy();
        if name != "lo" && !tunnels.contains(name.as_ref()) {
            each(ifa);
        }
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(addr: &str, mask: &str) -> Option<Subnet> {
        lan_subnet(addr.parse().unwrap(), mask.parse().unwrap())
    }

    #[test]
    fn private_and_link_local_subnets_are_the_lan() {
        assert_eq!(
            subnet("10.99.0.2", "255.255.255.0"),
            Some(("10.99.0.0".parse().unwrap(), 24))
        );
        assert_eq!(
            subnet("192.168.1.7", "255.255.0.0"),
            Some(("192.168.0.0".parse().unwrap(), 16))
        );
        assert_eq!(
            subnet("169.254.3.4", "255.255.0.0"),
            Some(("169.254.0.0".parse().unwrap(), 16))
        );
    }

    #[test]
    fn a_public_range_claimed_as_connected_is_never_the_lan() {
        assert_eq!(subnet("192.0.2.5", "255.255.255.0"), None);
        assert_eq!(subnet("8.8.8.9", "255.255.255.248"), None);
        // A netmask reaching beyond the private block covers public addresses too.
        assert_eq!(subnet("10.1.2.3", "254.0.0.0"), None);
        assert_eq!(subnet("192.168.1.1", "255.0.0.0"), None);
        assert_eq!(subnet("192.168.1.1", "255.254.0.0"), None);
    }

    fn subnet6(addr: &str, prefix: u8) -> Option<Subnet6> {
        lan_subnet6(addr.parse().unwrap(), prefix)
    }

    #[test]
    fn ula_subnets_are_the_ipv6_lan() {
        assert_eq!(
            subnet6("fd99::2", 64),
            Some(("fd99::".parse().unwrap(), 64))
        );
        assert_eq!(
            subnet6("fc00:1::5", 48),
            Some(("fc00:1::".parse().unwrap(), 48))
        );
        assert_eq!(
            subnet6("fd12:3456::1", 7),
            Some(("fc00::".parse().unwrap(), 7))
        );
    }

    #[test]
    fn a_public_ipv6_range_claimed_as_on_link_is_never_the_lan() {
        assert_eq!(subnet6("2001:db8:77::2", 64), None);
        assert_eq!(subnet6("2a00:1450::1", 128), None);
        // A prefix reaching beyond fc00::/7 covers public addresses too.
        assert_eq!(subnet6("fd99::2", 6), None);
        assert_eq!(subnet6("fd99::2", 0), None);
        // Link-local is the LAN as one fixed range, never from an address's own prefix.
        assert_eq!(subnet6("fe80::1", 64), None);
    }
}
