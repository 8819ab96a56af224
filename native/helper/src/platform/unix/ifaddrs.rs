//! The addresses of the machine's interfaces through getifaddrs (Linux and macOS), for the
//! firewall's LAN exemptions and Linux's LAN routing rules (`netguard::lan` decides which
//! of them are the LAN).

use std::collections::BTreeSet;
use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::netguard::lan::prefix_of;

/// The address of a sockaddr of either family; None for other families.
///
/// # Safety
/// `sa` is non-null and points to a sockaddr whose `sa_family` tells its real type.
unsafe fn ip_of(sa: *const libc::sockaddr) -> Option<IpAddr> {
    // SAFETY: the caller's contract; sa_family says which sockaddr it is.
    unsafe {
        match i32::from((*sa).sa_family) {
            libc::AF_INET => {
                let be = (*sa.cast::<libc::sockaddr_in>()).sin_addr.s_addr;
                Some(Ipv4Addr::from(u32::from_be(be)).into())
            }
            libc::AF_INET6 => {
                Some(Ipv6Addr::from((*sa.cast::<libc::sockaddr_in6>()).sin6_addr.s6_addr).into())
            }
            _ => None,
        }
    }
}

/// (address, prefix length) of every IPv4 and IPv6 address of an interface that is not
/// loopback and whose name is not in `tunnels`.
pub fn interface_addresses(tunnels: &BTreeSet<String>) -> Result<Vec<(IpAddr, u8)>, String> {
    let mut found = Vec::new();
    for_each_address(|ifa, name| {
        let loopback = ifa.ifa_flags & libc::IFF_LOOPBACK as libc::c_uint != 0;
        if loopback || ifa.ifa_netmask.is_null() || tunnels.contains(name) {
            return;
        }
        // SAFETY: non-null sockaddrs of the list; an address and its netmask share a family.
        if let (Some(addr), Some(mask)) = unsafe { (ip_of(ifa.ifa_addr), ip_of(ifa.ifa_netmask)) } {
            found.push((addr, prefix_of(mask)));
        }
    })?;
    Ok(found)
}

/// Calls `each` with every entry of getifaddrs that has an address and a name.
fn for_each_address(mut each: impl FnMut(&libc::ifaddrs, &str)) -> Result<(), String> {
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
        if ifa.ifa_addr.is_null() || ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: a non-null ifa_name is a NUL-terminated interface name.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }.to_string_lossy();
        each(ifa, &name);
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_the_tunnels_are_left_out() {
        let all = interface_addresses(&BTreeSet::new()).unwrap();
        assert!(
            all.iter().all(|(a, _)| !a.is_loopback()),
            "loopback listed: {all:?}"
        );
        // Leaving out every interface by name leaves nothing.
        let mut names = BTreeSet::new();
        for_each_address(|_, name| {
            names.insert(name.to_owned());
        })
        .unwrap();
        assert!(!names.is_empty());
        assert_eq!(interface_addresses(&names).unwrap(), []);
    }
}
