//! Addresses, MTU, metrics and routes through the IP Helper API: SetIpInterfaceEntry (MTU,
//! interface metric), CreateUnicastIpAddressEntry, GetBestRoute2 (how a destination is reached
//! before the tunnel's routes exist: the original gateway), CreateIpForwardEntry2 and
//! DeleteIpForwardEntry2; and GetUnicastIpAddressTable, the interfaces' addresses for the
//! firewall's LAN exemptions (`netguard::lan`). Field choices are in route_rows.rs.

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use windows::Win32::Foundation::{ERROR_OBJECT_ALREADY_EXISTS, NO_ERROR, WIN32_ERROR};
use windows::Win32::NetworkManagement::IpHelper::{
    CreateIpForwardEntry2, CreateUnicastIpAddressEntry, DeleteIpForwardEntry2, FreeMibTable,
    GetBestRoute2, GetIpInterfaceEntry, GetUnicastIpAddressTable, InitializeIpForwardEntry,
    InitializeIpInterfaceEntry, InitializeUnicastIpAddressEntry, SetIpInterfaceEntry,
    IF_TYPE_SOFTWARE_LOOPBACK, MIB_IPFORWARD_ROW2, MIB_IPINTERFACE_ROW, MIB_UNICASTIPADDRESS_ROW,
    MIB_UNICASTIPADDRESS_TABLE,
};
use windows::Win32::Networking::WinSock::{
    ADDRESS_FAMILY, AF_INET, AF_INET6, AF_UNSPEC, IN6_ADDR, IN6_ADDR_0, IN_ADDR, IN_ADDR_0,
    NL_ROUTE_PROTOCOL, SOCKADDR_IN, SOCKADDR_IN6, SOCKADDR_INET,
};

use super::route_rows::{self, TUNNEL_INTERFACE_METRIC};

/// MIB_IPFORWARD_ROW2.Protocol: MIB_IPPROTO_NETMGMT, a route set by management (static).
const PROTO_NETMGMT: i32 = 3;
use crate::platform::{NetControl, NextHop, Route};

fn check(rc: WIN32_ERROR, what: impl FnOnce() -> String) -> io::Result<()> {
    if rc == NO_ERROR {
        return Ok(());
    }
    let e = io::Error::from_raw_os_error(rc.0 as i32);
    let kind = if rc == ERROR_OBJECT_ALREADY_EXISTS {
        io::ErrorKind::AlreadyExists
    } else {
        e.kind()
    };
    Err(io::Error::new(kind, format!("{}: {e}", what())))
}

pub fn sockaddr(ip: IpAddr) -> SOCKADDR_INET {
    match ip {
        IpAddr::V4(a) => SOCKADDR_INET {
            Ipv4: SOCKADDR_IN {
                sin_family: AF_INET,
                sin_port: 0,
                sin_addr: IN_ADDR {
                    S_un: IN_ADDR_0 {
                        S_addr: u32::from_ne_bytes(a.octets()),
                    },
                },
                sin_zero: [0; 8],
            },
        },
        IpAddr::V6(a) => SOCKADDR_INET {
            Ipv6: SOCKADDR_IN6 {
                sin6_family: AF_INET6,
                sin6_addr: IN6_ADDR {
                    u: IN6_ADDR_0 { Byte: a.octets() },
                },
                ..Default::default()
            },
        },
    }
}

pub fn ip_of(sa: &SOCKADDR_INET) -> Option<IpAddr> {
    // SAFETY: si_family is the common first field of every member of the union.
    let family = unsafe { sa.si_family };
    if family == AF_INET {
        // SAFETY: the family says which member is valid.
        let v4 = unsafe { sa.Ipv4 };
        let bytes = unsafe { v4.sin_addr.S_un.S_addr }.to_ne_bytes();
        Some(Ipv4Addr::from(bytes).into())
    } else if family == AF_INET6 {
        let v6 = unsafe { sa.Ipv6 };
        let bytes = unsafe { v6.sin6_addr.u.Byte };
        Some(Ipv6Addr::from(bytes).into())
    } else {
        None
    }
}

fn family(ip: IpAddr) -> ADDRESS_FAMILY {
    if ip.is_ipv4() {
        AF_INET
    } else {
        AF_INET6
    }
}

/// Whether a LUID is a loopback interface's: its type is bits 48..63 (NET_LUID_LH.Info.IfType).
fn is_loopback_luid(luid: u64) -> bool {
    (luid >> 48) as u32 == IF_TYPE_SOFTWARE_LOOPBACK
}

/// (address, on-link prefix length) of every unicast address of an interface that is not
/// loopback and not one of the tunnel adapters named in `tunnels`.
pub fn interface_addresses(tunnels: &BTreeSet<String>) -> Result<Vec<(IpAddr, u8)>, String> {
    let skip: Vec<u64> = tunnels
        .iter()
        .filter_map(|t| super::adapter_luid(t))
        .collect();
    let mut table: *mut MIB_UNICASTIPADDRESS_TABLE = std::ptr::null_mut();
    // SAFETY: on success `table` points to a table we free below with FreeMibTable.
    let rc = unsafe { GetUnicastIpAddressTable(AF_UNSPEC, &mut table) };
    check(rc, || "cannot list the interfaces' addresses".to_owned()).map_err(|e| e.to_string())?;
    // SAFETY: the table holds NumEntries rows from its Table field on (a raw pointer into
    // the allocation: the field's own type names one row only).
    let rows = unsafe {
        let first = std::ptr::addr_of!((*table).Table).cast::<MIB_UNICASTIPADDRESS_ROW>();
        std::slice::from_raw_parts(first, (*table).NumEntries as usize)
    };
    let found = rows
        .iter()
        .filter(|row| {
            // SAFETY: every bit pattern of the LUID union is a valid u64.
            let luid = unsafe { row.InterfaceLuid.Value };
            !is_loopback_luid(luid) && !skip.contains(&luid)
        })
        .filter_map(|row| Some((ip_of(&row.Address)?, row.OnLinkPrefixLength)))
        .collect();
    // SAFETY: allocated by GetUnicastIpAddressTable, freed once.
    unsafe { FreeMibTable(table.cast()) };
    Ok(found)
}

/// The IP Helper API needs no open handle; this is the seam's per-configuration handle.
pub struct IpHelper;

impl NetControl for IpHelper {
    fn set_link_up(&mut self, index: u32, mtu: u32) -> io::Result<()> {
        // Wintun adapters are up once their session runs; what is left is MTU and metric,
        // per address family.
        for fam in [AF_INET, AF_INET6] {
            let mut row = MIB_IPINTERFACE_ROW::default();
            // SAFETY: initialises the row in place.
            unsafe { InitializeIpInterfaceEntry(&mut row) };
            row.Family = fam;
            row.InterfaceIndex = index;
            // SAFETY: `row` names the interface by index and family.
            let rc = unsafe { GetIpInterfaceEntry(&mut row) };
            if fam == AF_INET6 && rc != NO_ERROR {
                continue; // IPv6 disabled on the adapter: nothing to set
            }
            check(rc, || format!("interface {index} not found"))?;
            row.NlMtu = mtu;
            row.UseAutomaticMetric = false;
            row.Metric = TUNNEL_INTERFACE_METRIC;
            // Documented quirk: SitePrefixLength must be 0 for IPv4 in a Set call.
            if fam == AF_INET {
                row.SitePrefixLength = 0;
            }
            let rc = unsafe { SetIpInterfaceEntry(&mut row) };
            check(rc, || {
                format!("cannot set MTU {mtu} and metric on interface {index}")
            })?;
        }
        Ok(())
    }

    fn add_address(&mut self, index: u32, addr: IpAddr, prefix: u8) -> io::Result<()> {
        let mut row = MIB_UNICASTIPADDRESS_ROW::default();
        // SAFETY: initialises the row in place (infinite lifetimes, DAD on).
        unsafe { InitializeUnicastIpAddressEntry(&mut row) };
        row.InterfaceIndex = index;
        row.Address = sockaddr(addr);
        row.OnLinkPrefixLength = prefix;
        let rc = unsafe { CreateUnicastIpAddressEntry(&row) };
        check(rc, || {
            format!("cannot add {addr}/{prefix} to interface {index}")
        })
    }

    fn lookup_route(&mut self, dst: IpAddr) -> io::Result<NextHop> {
        let mut best = MIB_IPFORWARD_ROW2::default();
        let mut source = SOCKADDR_INET::default();
        let target = sockaddr(dst);
        // SAFETY: all pointers are to valid locals.
        let rc = unsafe { GetBestRoute2(None, 0, None, &target, 0, &mut best, &mut source) };
        check(rc, || format!("no route to {dst}"))?;
        Ok(NextHop {
            oif: best.InterfaceIndex,
            gateway: ip_of(&best.NextHop).and_then(route_rows::gateway_of),
        })
    }

    fn add_route(&mut self, route: &Route) -> io::Result<()> {
        let row = forward_row(route)?;
        let rc = unsafe { CreateIpForwardEntry2(&row) };
        check(rc, || {
            format!("cannot add route {}/{}", route.dst, route.prefix)
        })
    }

    fn delete_route(&mut self, route: &Route) -> io::Result<()> {
        let row = forward_row(route)?;
        let rc = unsafe { DeleteIpForwardEntry2(&row) };
        check(rc, || {
            format!("cannot delete route {}/{}", route.dst, route.prefix)
        })
    }
}

fn forward_row(route: &Route) -> io::Result<MIB_IPFORWARD_ROW2> {
    let plan =
        route_rows::route_row(route).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut row = MIB_IPFORWARD_ROW2::default();
    // SAFETY: initialises the row in place (infinite lifetimes, metric defaults).
    unsafe { InitializeIpForwardEntry(&mut row) };
    row.InterfaceIndex = plan.interface_index;
    row.DestinationPrefix.Prefix = sockaddr(plan.destination);
    row.DestinationPrefix.PrefixLength = plan.prefix;
    row.NextHop = sockaddr(plan.next_hop);
    row.Metric = plan.metric;
    row.Protocol = NL_ROUTE_PROTOCOL(PROTO_NETMGMT);
    debug_assert_eq!(family(plan.destination), unsafe {
        row.DestinationPrefix.Prefix.si_family
    });
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;
    use windows::Win32::NetworkManagement::IpHelper::IP_ADDRESS_PREFIX;
    use windows::Win32::NetworkManagement::Ndis::NET_LUID_LH;

    #[test]
    fn struct_sizes_match_the_windows_headers() {
        // netioapi.h / ws2ipdef.h / ifdef.h on x64
        assert_eq!(std::mem::size_of::<SOCKADDR_INET>(), 28);
        assert_eq!(std::mem::size_of::<IP_ADDRESS_PREFIX>(), 32);
        assert_eq!(std::mem::size_of::<MIB_IPFORWARD_ROW2>(), 104);
        assert_eq!(std::mem::size_of::<MIB_UNICASTIPADDRESS_ROW>(), 80);
        assert_eq!(std::mem::size_of::<NET_LUID_LH>(), 8);
        assert_eq!(
            std::mem::offset_of!(MIB_IPFORWARD_ROW2, DestinationPrefix),
            12
        );
        assert_eq!(std::mem::offset_of!(MIB_IPFORWARD_ROW2, NextHop), 44);
    }

    #[test]
    fn the_lan_is_read_from_every_interface_but_loopback() {
        let all = interface_addresses(&BTreeSet::new()).unwrap();
        assert!(
            all.iter().all(|(a, _)| !a.is_loopback()),
            "loopback listed: {all:?}"
        );
        assert!(is_loopback_luid(0x0018_0000_0000_0001));
        assert!(!is_loopback_luid(0x0006_0000_0100_0000));
    }

    #[test]
    fn addresses_round_trip_through_sockaddr_inet() {
        for ip in ["192.0.2.7", "0.0.0.0", "2001:db8::1", "::"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_of(&sockaddr(ip)), Some(ip));
        }
        let v4 = sockaddr("10.1.2.3".parse().unwrap());
        // Network byte order in memory, as in_addr holds it.
        let bytes: [u8; 28] = unsafe { std::mem::transmute(v4) };
        assert_eq!(&bytes[4..8], &[10, 1, 2, 3]);
    }
}
