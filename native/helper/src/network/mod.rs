//! The engine's `NetworkSetup`, the same on every OS: one tunnel device per session, its
//! addresses, MTU and routes (planned here, carried out by the platform), each route recorded
//! in the session's state file before it is added so that a crash can be undone by the next
//! helper.

pub mod route_conflict;
pub mod route_state;

use std::io;
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use causeway_engine::config::{DnsSettings, RouteList};
use causeway_engine::{EngineConfig, NetworkSetup, PushedSettings, Tun};

use crate::log;
use crate::netguard::session_guards::SessionGuards;
use crate::platform::{NetControl, NextHop, Platform, PolicyRule, RemovedRoute, Route};
use route_conflict::TunnelRoutes;
use route_state::{RouteRecord, StateFile};

/// The name of the session's current device, shared with the session so `status` and the
/// `pushed` message can report it.
pub type DeviceSlot = Arc<Mutex<Option<String>>>;

/// Where a session hears of the routes its route watch removed, to tell its client.
pub type RouteNotices = tokio::sync::mpsc::UnboundedSender<RemovedRoute>;

/// Routing and DNS the profile itself asks for (`route`, `route-ipv6`, `redirect-gateway`,
/// `route … net_gateway`, `dhcp-option`/`dns`), applied on top of whatever the server pushes.
///
/// A copy of those fields rather than the `EngineConfig`, so the network layer, which lives as
/// long as the session, holds none of the config's keys and passwords.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileRouting {
    /// `redirect-gateway def1`: the IPv4 default route into the tunnel.
    pub redirect_gateway: bool,
    /// `redirect-gateway ipv6`: IPv6 into the tunnel too, when it has an IPv6 address.
    pub redirect_gateway_ipv6: bool,
    /// `route` and `route-ipv6` lines, added to the pushed ones.
    pub routes: RouteList,
    pub routes_ipv6: RouteList,
    /// Networks that keep using the path they had before the tunnel came up.
    pub excluded_routes: RouteList,
    /// Listed before the pushed DNS entries.
    pub dns: DnsSettings,
}

impl ProfileRouting {
    pub fn from_config(config: &EngineConfig) -> Self {
        ProfileRouting {
            redirect_gateway: config.redirect_gateway,
            redirect_gateway_ipv6: config.redirect_gateway_ipv6,
            routes: config.routes.clone(),
            routes_ipv6: config.routes_ipv6.clone(),
            excluded_routes: config.excluded_routes.clone(),
            dns: config.dns.clone(),
        }
    }

    /// The settings the OS is configured with: the pushed ones plus the profile's routing and
    /// DNS. DNS entries accumulate as in OpenVPN, where the client's own `dhcp-option`s are read
    /// before the pushed ones are appended: the profile's come first.
    fn apply_to(&self, pushed: &PushedSettings) -> PushedSettings {
        let mut effective = pushed.clone();
        for (mine, theirs) in [
            (&self.routes, &mut effective.routes),
            (&self.routes_ipv6, &mut effective.routes_ipv6),
        ] {
            append_missing(theirs, mine);
        }
        effective.redirect_gateway |= self.redirect_gateway;
        effective.redirect_gateway_ipv6 |= self.redirect_gateway_ipv6;
        for (mine, theirs) in [
            (&self.dns.servers, &mut effective.dns.servers),
            (&self.dns.search_domains, &mut effective.dns.search_domains),
            (&self.dns.route_domains, &mut effective.dns.route_domains),
        ] {
            let pushed_entries = std::mem::replace(theirs, mine.clone());
            append_missing(theirs, &pushed_entries);
        }
        effective
    }
}

/// OpenVPN's `redirect-gateway ipv6`: the unicast space in four routes that beat a default
/// route without replacing it, and leave link-local (`fe80::/10`) and multicast (`ff00::/8`)
/// on the link (`::/1` + `8000::/1` would swallow both).
pub const IPV6_REDIRECT_ROUTES: [(Ipv6Addr, u8); 4] = [
    (Ipv6Addr::UNSPECIFIED, 3),
    (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 4),
    (Ipv6Addr::new(0x3000, 0, 0, 0, 0, 0, 0, 0), 4),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
];

/// Whether IPv6 goes into the tunnel as a full tunnel: `redirect-gateway ipv6` (profile or
/// pushed) and an IPv6 address on the tunnel to carry it (without one the routes would only
/// black-hole IPv6, as OpenVPN does not add them either).
pub fn redirects_ipv6(pushed: &PushedSettings) -> bool {
    pushed.redirect_gateway_ipv6 && pushed.ipv6.is_some()
}

/// Appends the entries of `extra` that `list` does not have yet, in order.
fn append_missing(list: &mut Vec<String>, extra: &[String]) {
    for entry in extra {
        if !list.contains(entry) {
            list.push(entry.clone());
        }
    }
}

/// One session's network setup on the platform `P`.
pub struct HostNetwork<P: Platform> {
    state_dir: PathBuf,
    device: DeviceSlot,
    profile: ProfileRouting,
    applied: Option<Applied<P>>,
    /// DNS, IPv6 leak block and kill switch (netguard); dropped with the session.
    guards: SessionGuards,
    notices: RouteNotices,
    platform: PhantomData<P>,
}

/// What one `configure` changed, and the record of it on disk.
struct Applied<P: Platform> {
    net: P::Net,
    state: StateFile,
    /// Client route enforcement while the tunnel's routes are in place.
    watch: Option<P::RouteWatch>,
}

impl<P: Platform> HostNetwork<P> {
    pub fn new(
        state_dir: PathBuf,
        device: DeviceSlot,
        profile: ProfileRouting,
        guards: SessionGuards,
        notices: RouteNotices,
    ) -> Self {
        HostNetwork {
            state_dir,
            device,
            profile,
            applied: None,
            guards,
            notices,
            platform: PhantomData,
        }
    }

    fn apply(&mut self, pushed: &PushedSettings, server: SocketAddr) -> Result<Tun, String> {
        let pushed = &self.profile.apply_to(pushed);
        let net = P::open_net()
            .map_err(|e| format!("cannot open the interface and route control: {e}"))?;
        let state = StateFile::create::<P>(&self.state_dir)
            .map_err(|e| format!("cannot record network state: {e}"))?;
        // From here on `applied` owns the record, so any failure below is undone by `undo`.
        let applied = self.applied.insert(Applied {
            net,
            state,
            watch: None,
        });
        let created = P::create_tun().map_err(|e| format!("cannot create TUN device: {e}"))?;
        let (name, index, tun) = (created.name, created.index, created.tun);
        applied.state.record.device = Some(name.clone());
        applied
            .state
            .save()
            .map_err(|e| format!("cannot record network state: {e}"))?;
        *self.device.lock().unwrap() = Some(name.clone());

        let net = &mut applied.net;
        net.set_link_up(index, pushed.mtu)
            .map_err(|e| format!("cannot bring {name} up with MTU {}: {e}", pushed.mtu))?;
        if let Some(v4) = &pushed.ipv4 {
            let addr: Ipv4Addr = v4
                .address
                .parse()
                .map_err(|_| format!("pushed IPv4 address {:?} is invalid", v4.address))?;
            net.add_address(index, addr.into(), v4.prefix)
                .map_err(|e| format!("cannot add {addr}/{} to {name}: {e}", v4.prefix))?;
        }
        if let Some(v6) = &pushed.ipv6 {
            let addr: Ipv6Addr = v6
                .address
                .parse()
                .map_err(|_| format!("pushed IPv6 address {:?} is invalid", v6.address))?;
            net.add_address(index, addr.into(), v6.prefix)
                .map_err(|e| format!("cannot add {addr}/{} to {name}: {e}", v6.prefix))?;
        }
        // The rules first: until the routes come, the tunnel's table sends everything on to
        // the main one.
        let rules = applied
            .net
            .policy_rules(&name)
            .map_err(|e| format!("cannot plan the routing rules for {name}: {e}"))?;
        for rule in rules {
            add_recorded_rule(applied, rule)?;
        }
        let excluded = &self.profile.excluded_routes;
        let planned = planned_routes(pushed, excluded, server, index, &mut applied.net)?;
        for route in &planned {
            add_recorded(applied, route)?;
        }
        applied.watch =
            start_route_watch::<P>(&self.notices, TunnelRoutes::from_planned(index, &planned));
        self.guards
            .tunnel_configured(&name, index, pushed, server)?;
        Ok(tun)
    }

    /// Removes what `apply` added (newest first) and retires the record. Routes through the
    /// TUN device may already be gone with it; that is fine.
    fn undo(&mut self) {
        self.guards.tunnel_closing();
        if let Some(mut applied) = self.applied.take() {
            // Before the routes go: their removal is not the network's doing.
            drop(applied.watch.take());
            for record in applied.state.record.routes.iter().rev() {
                let _ = applied.net.delete_route(&Route::from(record));
            }
            for rule in applied.state.record.rules.iter().rev() {
                if let Err(e) = applied.net.delete_rule(rule) {
                    log::warn(&format!("cannot remove a routing rule ({rule:?}): {e}"));
                }
            }
            applied.state.remove();
        }
        *self.device.lock().unwrap() = None;
    }
}

/// Starts the route watch for a session that routes anything into the tunnel; where the
/// OS cannot watch, says why in the log and goes on without.
fn start_route_watch<P: Platform>(
    notices: &RouteNotices,
    tunnel: TunnelRoutes,
) -> Option<P::RouteWatch> {
    if tunnel.is_empty() {
        return None;
    }
    let notices = notices.clone();
    let removed = Box::new(move |route: RemovedRoute| {
        let _ = notices.send(route);
    });
    match P::watch_routes(tunnel, removed) {
        Ok(watch) => Some(watch),
        Err(reason) => {
            log::warn(&reason);
            None
        }
    }
}

/// Records a route and adds it. A route the kernel already has is not ours to remove later:
/// its record is dropped, and it is accepted only when it is exactly the one wanted (same next
/// hop and device); any other would keep the traffic it covers outside the tunnel, so the
/// session fails naming it.
fn add_recorded<P: Platform>(applied: &mut Applied<P>, route: &Route) -> Result<(), String> {
    applied.state.record.routes.push(RouteRecord::from(route));
    applied
        .state
        .save()
        .map_err(|e| format!("cannot record network state: {e}"))?;
    let added = applied.net.add_route(route);
    if added.is_err() {
        applied.state.record.routes.pop();
        applied
            .state
            .save()
            .map_err(|e| format!("cannot record network state: {e}"))?;
    }
    match added {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let existing = applied.net.lookup_route(inside(route)).map_err(|e| {
                format!(
                    "route {}/{} already exists and cannot be looked up: {e}",
                    route.dst, route.prefix
                )
            })?;
            existing_route_is_the_wanted_one(route, &existing)
        }
        Err(e) => Err(format!(
            "cannot add route {}/{}: {e}",
            route.dst, route.prefix
        )),
    }
}

/// Records a policy routing rule, then adds it.
fn add_recorded_rule<P: Platform>(
    applied: &mut Applied<P>,
    rule: PolicyRule,
) -> Result<(), String> {
    let record = |state: &StateFile| {
        state
            .save()
            .map_err(|e| format!("cannot record network state: {e}"))
    };
    applied.state.record.rules.push(rule.clone());
    record(&applied.state)?;
    if let Err(e) = applied.net.add_rule(&rule) {
        applied.state.record.rules.pop();
        record(&applied.state)?;
        return Err(format!("cannot add the routing rule {rule:?}: {e}"));
    }
    Ok(())
}

/// An address in the middle of `route`'s network, where the kernel's choice is the route for
/// that network (its first address can be special: 0.0.0.0 is "this host").
fn inside(route: &Route) -> IpAddr {
    let middle = |width: u32| match u32::from(route.prefix) {
        p if p >= width => 0,
        p => 1u128 << (width - p - 1),
    };
    match route.dst {
        IpAddr::V4(a) => Ipv4Addr::from(u32::from(a) | middle(32) as u32).into(),
        IpAddr::V6(a) => Ipv6Addr::from(u128::from(a) | middle(128)).into(),
    }
}

/// `Ok` when the route the kernel already has to `wanted.dst` goes where `wanted` would.
fn existing_route_is_the_wanted_one(wanted: &Route, existing: &NextHop) -> Result<(), String> {
    if existing.oif == wanted.oif && existing.gateway == wanted.gateway {
        return Ok(());
    }
    let via = |gateway: Option<IpAddr>, oif: u32| match gateway {
        Some(g) => format!("via {g} on interface {oif}"),
        None => format!("on interface {oif}"),
    };
    Err(format!(
        "cannot add route {}/{} {}: the system already has a route there {}, which would keep that traffic outside the tunnel; remove that route and connect again",
        wanted.dst,
        wanted.prefix,
        via(wanted.gateway, wanted.oif),
        via(existing.gateway, existing.oif),
    ))
}

/// The routes a session needs, in the order they must be added: the host route that keeps
/// the server reachable outside the tunnel and the profile's excluded networks (both via the
/// path the kernel uses before any tunnel route exists) come before the routes that would
/// capture them.
fn planned_routes(
    pushed: &PushedSettings,
    excluded: &[String],
    server: SocketAddr,
    tun_index: u32,
    net: &mut impl NetControl,
) -> Result<Vec<Route>, String> {
    let gw4 = match &pushed.ipv4 {
        Some(v4) => v4
            .gateway
            .as_deref()
            .map(|g| {
                g.parse::<IpAddr>()
                    .map_err(|_| format!("pushed gateway {g:?} is invalid"))
            })
            .transpose()?,
        None => None,
    };
    let via_tun = |dst: IpAddr, prefix: u8| {
        let gateway = if dst.is_ipv4() { gw4 } else { None };
        Route {
            dst,
            prefix,
            gateway,
            oif: tun_index,
        }
    };
    let mut routes = Vec::new();
    let redirect_ipv6 = redirects_ipv6(pushed);
    if pushed.redirect_gateway || redirect_ipv6 {
        let original = net
            .lookup_route(server.ip())
            .map_err(|e| format!("cannot find the route to the server {}: {e}", server.ip()))?;
        let full = if server.is_ipv4() { 32 } else { 128 };
        routes.push(Route {
            dst: server.ip(),
            prefix: full,
            gateway: original.gateway,
            oif: original.oif,
        });
        routes.extend(excluded_routes(excluded, net)?);
        if pushed.redirect_gateway {
            // def1: two halves that beat the default route without replacing it.
            routes.push(via_tun(Ipv4Addr::new(0, 0, 0, 0).into(), 1));
            routes.push(via_tun(Ipv4Addr::new(128, 0, 0, 0).into(), 1));
        }
        if redirect_ipv6 {
            routes.extend(IPV6_REDIRECT_ROUTES.map(|(dst, prefix)| via_tun(dst.into(), prefix)));
        }
    } else {
        routes.extend(excluded_routes(excluded, net)?);
    }
    for cidr in pushed.routes.iter().chain(&pushed.routes_ipv6) {
        let (dst, prefix) = parse_cidr(cidr)?;
        routes.push(via_tun(dst, prefix));
    }
    Ok(routes)
}

/// `route … net_gateway`: each network through the device and next hop the kernel uses for it
/// now, before the tunnel's routes exist. A network the host cannot reach at all (say, IPv6 on
/// an IPv4-only LAN) cannot leak into the tunnel either, so it is skipped with a warning.
fn excluded_routes(excluded: &[String], net: &mut impl NetControl) -> Result<Vec<Route>, String> {
    let mut routes = Vec::new();
    for cidr in excluded {
        let (dst, prefix) = parse_cidr(cidr)?;
        match net.lookup_route(dst) {
            Ok(original) => routes.push(Route {
                dst,
                prefix,
                gateway: original.gateway,
                oif: original.oif,
            }),
            Err(e) => log::warn(&format!(
                "excluded route {dst}/{prefix} skipped: no route to it outside the tunnel ({e})"
            )),
        }
    }
    Ok(routes)
}

/// Parses "10.0.0.0/8", "fd00::/64" or a bare address (a host route), clearing host bits so
/// the kernel accepts it.
pub fn parse_cidr(text: &str) -> Result<(IpAddr, u8), String> {
    let bad = || format!("route {text:?} is not an address/prefix");
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (
            a.parse::<IpAddr>().map_err(|_| bad())?,
            Some(p.parse::<u8>().map_err(|_| bad())?),
        ),
        None => (text.parse::<IpAddr>().map_err(|_| bad())?, None),
    };
    match addr {
        IpAddr::V4(a) => {
            let p = prefix.unwrap_or(32);
            if p > 32 {
                return Err(bad());
            }
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            Ok((Ipv4Addr::from(u32::from(a) & mask).into(), p))
        }
        IpAddr::V6(a) => {
            let p = prefix.unwrap_or(128);
            if p > 128 {
                return Err(bad());
            }
            let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            Ok((Ipv6Addr::from(u128::from(a) & mask).into(), p))
        }
    }
}

impl<P: Platform> NetworkSetup for HostNetwork<P> {
    fn own_sockets(&self) -> causeway_engine::Sockets {
        P::own_sockets()
    }

    async fn configure(
        &mut self,
        pushed: &PushedSettings,
        server: SocketAddr,
    ) -> Result<Tun, String> {
        // A reconfiguration after a reconnect replaces the previous device and routes.
        self.undo();
        let result = self.apply(pushed, server);
        if result.is_err() {
            self.undo();
        }
        result
    }

    async fn teardown(&mut self) {
        self.undo();
    }
}

impl<P: Platform> Drop for HostNetwork<P> {
    /// A session task that ends without teardown (a panic, a cancelled task) still cleans up.
    fn drop(&mut self) {
        self.undo();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pushed() -> PushedSettings {
        serde_json::from_value(serde_json::json!({
            "ipv4": {"address": "10.8.0.2", "prefix": 24, "gateway": "10.8.0.1"}, "ipv6": null,
            "routes": ["10.20.0.0/16"], "routesIpv6": [], "redirectGateway": false, "redirectGatewayIpv6": false, "blockLocal": false, "blockIpv6": false,
            "dns": {"servers": [], "searchDomains": [], "routeDomains": []},
            "mtu": 1500, "peerId": null, "cipher": "AES-256-GCM", "sessionTimeoutSec": null
        }))
        .unwrap()
    }

    #[test]
    fn profile_routing_adds_to_what_the_server_pushed() {
        let profile = ProfileRouting {
            routes: ["10.20.0.0/16", "192.168.50.0/24"].into(),
            routes_ipv6: ["fd00:50::/64"].into(),
            redirect_gateway: true,
            ..ProfileRouting::default()
        };
        let e = profile.apply_to(&pushed());
        assert_eq!(*e.routes, vec!["10.20.0.0/16", "192.168.50.0/24"]);
        assert_eq!(*e.routes_ipv6, vec!["fd00:50::/64"]);
        assert!(e.redirect_gateway);
        assert_eq!(ProfileRouting::default().apply_to(&pushed()), pushed());
    }

    #[test]
    fn ipv6_goes_into_the_tunnel_only_when_asked_and_the_tunnel_has_an_ipv6_address() {
        let mut p = pushed();
        assert!(!redirects_ipv6(&p));
        let profile = ProfileRouting {
            redirect_gateway_ipv6: true,
            ..ProfileRouting::default()
        };
        // The profile asks, but the server gave the tunnel no IPv6 address.
        assert!(!redirects_ipv6(&profile.apply_to(&p)));
        p.ipv6 = Some(causeway_engine::config::Ipv6Settings {
            address: "fd00:8::2".into(),
            prefix: 64,
        });
        assert!(redirects_ipv6(&profile.apply_to(&p)));
        assert!(!redirects_ipv6(&p));
        p.redirect_gateway_ipv6 = true; // pushed
        assert!(redirects_ipv6(&p));
    }

    #[test]
    fn the_ipv6_redirect_covers_unicast_but_never_link_local_or_multicast() {
        let covered = |a: &str| {
            let a = u128::from(a.parse::<Ipv6Addr>().unwrap());
            IPV6_REDIRECT_ROUTES
                .iter()
                .any(|(net, prefix)| (a ^ u128::from(*net)) >> (128 - u32::from(*prefix)) == 0)
        };
        for a in [
            "2001:db8::1",
            "2a00:1450::1",
            "3fff::1",
            "fd00::1",
            "fc00::1",
            "::ffff:192.0.2.1",
            "1fff::1",
        ] {
            assert!(covered(a), "{a}");
        }
        for a in [
            "fe80::1", "ff02::1", "ff05::2", "febf::1", "4000::1", "8000::1",
        ] {
            assert!(!covered(a), "{a}");
        }
    }

    #[test]
    fn profile_dns_comes_first_and_accumulates_with_the_pushed_dns() {
        let mut from_server = pushed();
        from_server.dns = DnsSettings {
            servers: vec!["10.8.0.1".into(), "10.8.0.53".into()],
            search_domains: vec!["corp.example".into()],
            route_domains: vec![],
        };
        let profile = ProfileRouting {
            dns: DnsSettings {
                servers: vec!["10.8.0.53".into(), "fd00::53".into()],
                search_domains: vec![],
                route_domains: vec!["intranet.example".into()],
            },
            excluded_routes: ["192.168.1.0/24"].into(),
            ..ProfileRouting::default()
        };
        let e = profile.apply_to(&from_server);
        assert_eq!(e.dns.servers, vec!["10.8.0.53", "fd00::53", "10.8.0.1"]);
        assert_eq!(e.dns.search_domains, vec!["corp.example"]);
        assert_eq!(e.dns.route_domains, vec!["intranet.example"]);
        // Exclusions are routes of their own, never tunnel routes.
        assert_eq!(e.routes, from_server.routes);
    }

    #[test]
    fn an_existing_route_is_accepted_only_when_it_is_the_wanted_one() {
        let wanted = Route {
            dst: "0.0.0.0".parse().unwrap(),
            prefix: 1,
            gateway: Some("10.8.0.1".parse().unwrap()),
            oif: 7,
        };
        let same = NextHop {
            oif: 7,
            gateway: wanted.gateway,
        };
        assert!(existing_route_is_the_wanted_one(&wanted, &same).is_ok());
        let lan = NextHop {
            oif: 2,
            gateway: Some("192.168.1.1".parse().unwrap()),
        };
        let e = existing_route_is_the_wanted_one(&wanted, &lan).unwrap_err();
        assert_eq!(inside(&wanted), "64.0.0.0".parse::<IpAddr>().unwrap());
        let host = Route {
            dst: "2001:db8::1".parse().unwrap(),
            prefix: 128,
            ..wanted
        };
        assert_eq!(inside(&host), host.dst);
        assert!(
            e.contains("0.0.0.0/1") && e.contains("via 192.168.1.1 on interface 2"),
            "{e}"
        );
    }

    #[test]
    fn cidr_parsing_normalizes_and_rejects() {
        assert_eq!(
            parse_cidr("10.1.2.3/8").unwrap(),
            ("10.0.0.0".parse().unwrap(), 8)
        );
        assert_eq!(
            parse_cidr("192.0.2.7").unwrap(),
            ("192.0.2.7".parse().unwrap(), 32)
        );
        assert_eq!(
            parse_cidr("0.0.0.0/0").unwrap(),
            ("0.0.0.0".parse().unwrap(), 0)
        );
        assert_eq!(
            parse_cidr("fd00:1::5/64").unwrap(),
            ("fd00:1::".parse().unwrap(), 64)
        );
        assert_eq!(
            parse_cidr("2001:db8::1").unwrap(),
            ("2001:db8::1".parse().unwrap(), 128)
        );
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "nonsense",
            "10.0.0.0/x",
            "10.0.0/8",
            "",
        ] {
            assert!(parse_cidr(bad).is_err(), "{bad} accepted");
        }
    }
}
