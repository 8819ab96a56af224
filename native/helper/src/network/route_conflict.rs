//! Client route enforcement (what the AWS VPN Client calls it): which route the local network
//! adds to the main routing table while a session is connected conflicts with the tunnel's
//! routes and is removed. The tunnel's own table already wins over the main one, so such a
//! route cannot pull tunnel traffic out; removing it keeps it from doing so once the session
//! ends or for anything the rules let through, and tells the user the network tried.

use std::net::IpAddr;

use crate::platform::Route;

/// What a session's routes send into the tunnel and what they keep outside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TunnelRoutes {
    /// The tunnel device's interface index.
    pub device: u32,
    /// Networks routed into the tunnel.
    pub captured: Vec<(IpAddr, u8)>,
    /// The host route to the server and the `net_gateway` exclusions: networks that keep
    /// their path outside the tunnel, so a route the network adds for them is theirs.
    pub kept_outside: Vec<(IpAddr, u8)>,
}

impl TunnelRoutes {
    /// Sorts a session's planned routes: those through `device` are captured, the rest (the
    /// server's host route, the exclusions) are kept outside.
    pub fn from_planned(device: u32, planned: &[Route]) -> Self {
        let (captured, kept): (Vec<&Route>, Vec<&Route>) =
            planned.iter().partition(|r| r.oif == device);
        let net = |r: &&Route| (r.dst, r.prefix);
        TunnelRoutes {
            device,
            captured: captured.iter().map(net).collect(),
            kept_outside: kept.iter().map(net).collect(),
        }
    }

    /// Whether anything goes into the tunnel (a session that pushes no route has nothing
    /// to enforce).
    pub fn is_empty(&self) -> bool {
        self.captured.is_empty()
    }
}

/// A route the kernel reports, as far as the decision needs it. (Only Linux watches routes so
/// far; the decision stays platform-neutral for the others to reuse.)
#[cfg(any(target_os = "linux", test))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedRoute {
    pub dst: IpAddr,
    pub prefix: u8,
    pub gateway: Option<IpAddr>,
    /// None for a multipath route.
    pub oif: Option<u32>,
    /// In the main table, where the local network's routes land (the helper adds none there).
    pub in_main_table: bool,
    /// The kernel's own route for an address on an interface (the connected LAN).
    pub made_by_kernel: bool,
}

/// Whether `route` takes part of what `tunnel` captures elsewhere: a route the local network
/// added to the main table, not through the tunnel device, for a network at least as specific
/// as one of the tunnel's and inside it. Routes for the networks kept outside the tunnel
/// (overlapping them either way: the helper reaches the server through the main table) and
/// the kernel's connected routes are left alone; a less specific route (the LAN's default)
/// never wins against the tunnel's and is left alone too.
#[cfg(any(target_os = "linux", test))]
pub fn conflicts(route: &ObservedRoute, tunnel: &TunnelRoutes) -> bool {
    if !route.in_main_table || route.made_by_kernel || route.oif == Some(tunnel.device) {
        return false;
    }
    let this = (route.dst, route.prefix);
    let inside_tunnel = tunnel.captured.iter().any(|&net| contains(net, this));
    let touches_kept = tunnel
        .kept_outside
        .iter()
        .any(|&net| contains(net, this) || contains(this, net));
    inside_tunnel && !touches_kept
}

/// Whether the network `inner` lies within `outer` (same family, at least as long a prefix,
/// same leading bits).
#[cfg(any(target_os = "linux", test))]
fn contains(outer: (IpAddr, u8), inner: (IpAddr, u8)) -> bool {
    let (o, op) = outer;
    let (i, ip) = inner;
    if ip < op {
        return false;
    }
    let same_prefix = |a: u128, b: u128, width: u32| {
        let p = u32::from(op);
        p == 0 || (a ^ b) >> (width - p.min(width)) == 0
    };
    match (o, i) {
        (IpAddr::V4(o), IpAddr::V4(i)) => same_prefix(u32::from(o).into(), u32::from(i).into(), 32),
        (IpAddr::V6(o), IpAddr::V6(i)) => same_prefix(u128::from(o), u128::from(i), 128),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> (IpAddr, u8) {
        super::super::parse_cidr(text).unwrap()
    }

    /// A full tunnel (def1 and the IPv6 redirect) on device 9, the server at 203.0.113.5
    /// and 198.51.100.0/24 excluded (net_gateway).
    fn full_tunnel() -> TunnelRoutes {
        TunnelRoutes {
            device: 9,
            captured: ["0.0.0.0/1", "128.0.0.0/1", "2000::/4", "10.99.0.0/16"]
                .map(net)
                .to_vec(),
            kept_outside: ["203.0.113.5/32", "198.51.100.0/24"].map(net).to_vec(),
        }
    }

    fn lan_route(cidr: &str) -> ObservedRoute {
        let (dst, prefix) = net(cidr);
        ObservedRoute {
            dst,
            prefix,
            gateway: Some("192.168.1.1".parse().unwrap()),
            oif: Some(2),
            in_main_table: true,
            made_by_kernel: false,
        }
    }

    #[test]
    fn a_more_specific_route_inside_the_tunnel_conflicts() {
        let tunnel = full_tunnel();
        assert!(conflicts(&lan_route("192.0.2.0/24"), &tunnel));
        assert!(conflicts(&lan_route("10.99.1.0/24"), &tunnel));
        assert!(conflicts(&lan_route("2001:db8::/32"), &tunnel));
        // The same prefix as a tunnel route is a conflict too.
        assert!(conflicts(&lan_route("0.0.0.0/1"), &tunnel));
        assert!(conflicts(&lan_route("8.8.8.8/32"), &tunnel));
    }

    #[test]
    fn a_less_specific_or_unrelated_route_does_not() {
        let tunnel = full_tunnel();
        assert!(!conflicts(&lan_route("0.0.0.0/0"), &tunnel));
        assert!(!conflicts(&lan_route("::/0"), &tunnel));
        assert!(!conflicts(&lan_route("fe80::/64"), &tunnel));
        let split = TunnelRoutes {
            device: 9,
            captured: vec![net("10.99.0.0/16")],
            kept_outside: vec![],
        };
        assert!(!conflicts(&lan_route("192.0.2.0/24"), &split));
        assert!(!conflicts(&lan_route("10.0.0.0/8"), &split));
        assert!(conflicts(&lan_route("10.99.7.0/24"), &split));
    }

    #[test]
    fn the_server_route_and_the_exclusions_are_kept() {
        let tunnel = full_tunnel();
        assert!(!conflicts(&lan_route("203.0.113.5/32"), &tunnel));
        // Covering the server: the helper's own path to it.
        assert!(!conflicts(&lan_route("203.0.113.0/24"), &tunnel));
        assert!(!conflicts(&lan_route("198.51.100.0/25"), &tunnel));
        assert!(!conflicts(&lan_route("198.51.0.0/16"), &tunnel));
    }

    #[test]
    fn the_tunnels_own_the_kernels_and_other_tables_routes_are_kept() {
        let tunnel = full_tunnel();
        let on_tunnel = ObservedRoute {
            oif: Some(9),
            ..lan_route("192.0.2.0/24")
        };
        assert!(!conflicts(&on_tunnel, &tunnel));
        let connected = ObservedRoute {
            made_by_kernel: true,
            gateway: None,
            ..lan_route("192.168.1.0/24")
        };
        assert!(!conflicts(&connected, &tunnel));
        let elsewhere = ObservedRoute {
            in_main_table: false,
            ..lan_route("192.0.2.0/24")
        };
        assert!(!conflicts(&elsewhere, &tunnel));
        let multipath = ObservedRoute {
            oif: None,
            ..lan_route("192.0.2.0/24")
        };
        assert!(conflicts(&multipath, &tunnel));
    }

    #[test]
    fn planned_routes_are_sorted_by_device() {
        let planned = [
            Route {
                dst: "203.0.113.5".parse().unwrap(),
                prefix: 32,
                gateway: Some("192.168.1.1".parse().unwrap()),
                oif: 2,
            },
            Route {
                dst: "0.0.0.0".parse().unwrap(),
                prefix: 1,
                gateway: Some("10.99.0.1".parse().unwrap()),
                oif: 9,
            },
        ];
        let tunnel = TunnelRoutes::from_planned(9, &planned);
        assert_eq!(tunnel.captured, vec![net("0.0.0.0/1")]);
        assert_eq!(tunnel.kept_outside, vec![net("203.0.113.5/32")]);
        assert!(!tunnel.is_empty());
        assert!(TunnelRoutes::from_planned(9, &planned[..1]).is_empty());
    }
}
