//! What the IP Helper API is given for a route and for the tunnel interface: the fields of
//! MIB_IPFORWARD_ROW2 and MIB_IPINTERFACE_ROW the helper sets, decided here (pure) and
//! written by `iphelper.rs`.
//!
//! Metrics: Windows adds the route metric to the interface metric and, for equal prefixes,
//! takes the lowest sum. The tunnel interface gets metric 1 with automatic metric off (a
//! physical adapter's automatic metric is 5 or more), so its routes and its DNS servers are
//! preferred over every other adapter's; routes get metric 0 (the interface's alone counts).
//! The host route to the VPN server and `net_gateway` exclusions go through the original
//! interface with that interface's own metric, like any route the helper adds there.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::platform::Route;

/// The tunnel interface's metric (MIB_IPINTERFACE_ROW.Metric, UseAutomaticMetric = FALSE).
pub const TUNNEL_INTERFACE_METRIC: u32 = 1;
/// MIB_IPFORWARD_ROW2.Metric of every route the helper adds.
pub const ROUTE_METRIC: u32 = 0;

// Windows' automatic interface metrics start at 5 (links faster than 2 Gb/s): the tunnel
// outranks every physical adapter.
const _: () = assert!(TUNNEL_INTERFACE_METRIC + ROUTE_METRIC < 5);

/// The fields of a forward row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRow {
    pub interface_index: u32,
    pub destination: IpAddr,
    pub prefix: u8,
    /// The unspecified address of the destination's family for an on-link route.
    pub next_hop: IpAddr,
    pub metric: u32,
}

pub fn route_row(route: &Route) -> Result<RouteRow, String> {
    let max = if route.dst.is_ipv4() { 32 } else { 128 };
    if route.prefix > max {
        return Err(format!(
            "route {}/{}: prefix too long",
            route.dst, route.prefix
        ));
    }
    let next_hop = match route.gateway {
        Some(gw) if gw.is_ipv4() != route.dst.is_ipv4() => {
            return Err(format!(
                "route {}/{}: next hop {gw} is of the other address family",
                route.dst, route.prefix
            ))
        }
        Some(gw) => gw,
        None if route.dst.is_ipv4() => Ipv4Addr::UNSPECIFIED.into(),
        None => Ipv6Addr::UNSPECIFIED.into(),
    };
    Ok(RouteRow {
        interface_index: route.oif,
        destination: route.dst,
        prefix: route.prefix,
        next_hop,
        metric: ROUTE_METRIC,
    })
}

/// The IP Helper API reports "no next hop" as the unspecified address; the seam says None.
pub fn gateway_of(next_hop: IpAddr) -> Option<IpAddr> {
    (!next_hop.is_unspecified()).then_some(next_hop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(dst: &str, prefix: u8, gateway: Option<&str>, oif: u32) -> Route {
        Route {
            dst: dst.parse().unwrap(),
            prefix,
            gateway: gateway.map(|g| g.parse().unwrap()),
            oif,
        }
    }

    #[test]
    fn tunnel_routes_are_on_link_and_server_routes_keep_their_gateway() {
        let def1 = route_row(&route("0.0.0.0", 1, None, 17)).unwrap();
        assert_eq!(def1.next_hop, IpAddr::from(Ipv4Addr::UNSPECIFIED));
        assert_eq!((def1.interface_index, def1.prefix, def1.metric), (17, 1, 0));
        let v6 = route_row(&route("2000::", 3, None, 17)).unwrap();
        assert_eq!(v6.next_hop, IpAddr::from(Ipv6Addr::UNSPECIFIED));
        let server = route_row(&route("192.0.2.10", 32, Some("192.168.1.1"), 4)).unwrap();
        assert_eq!(server.next_hop, "192.168.1.1".parse::<IpAddr>().unwrap());
        assert_eq!(server.interface_index, 4);
    }

    #[test]
    fn malformed_routes_are_refused() {
        assert!(route_row(&route("10.0.0.0", 33, None, 1)).is_err());
        assert!(route_row(&route("10.0.0.0", 8, Some("fe80::1"), 1))
            .unwrap_err()
            .contains("other address family"));
    }

    #[test]
    fn no_next_hop_is_the_unspecified_address() {
        assert_eq!(gateway_of("0.0.0.0".parse().unwrap()), None);
        assert_eq!(gateway_of("::".parse().unwrap()), None);
        assert_eq!(
            gateway_of("192.168.1.1".parse().unwrap()),
            Some("192.168.1.1".parse().unwrap())
        );
    }
}
