//! The guards of one session, driven by its network setup: DNS follows the tunnel device
//! (applied when it is configured, restored before it goes away); the kill switch follows the
//! session (enabled before its first attempt, kept through reconnects and reconfigurations,
//! removed when the session ends, i.e. on drop); the IPv6 leak block and the IPv4 block of a
//! full tunnel too, from the moment the tunnel first comes up.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use causeway_engine::{EngineConfig, Proto, PushedSettings};

use super::dns_plan::{self, DnsRequest};
use super::firewall::{ipv6_block_needed, Endpoint, IpFamily, KillSwitch, LeakBlock, Transport};
use crate::network::redirects_ipv6;
use crate::platform::{DnsChange, Link, Os, Platform};

pub struct SessionGuards {
    journal_dir: PathBuf,
    block_ipv6: bool,
    kill_switch_wanted: bool,
    allow_lan: bool,
    /// Transports the profile's remotes use: the kill switch lets exactly these through to
    /// the servers.
    transports: Vec<Transport>,
    /// Every server address the session has used, plus literal-IP remotes of the profile
    /// (so a reconnect may fail over to them with the kill switch on).
    endpoints: Vec<Endpoint>,
    // Declaration order is drop order: DNS first, then the leak blocks, the kill switch last.
    dns: Option<<Os as Platform>::Dns>,
    ipv6: Option<LeakBlock>,
    ipv4: Option<LeakBlock>,
    kill: Option<KillSwitch>,
}

fn transport(p: Proto) -> Transport {
    match p {
        Proto::Udp => Transport::Udp,
        Proto::Tcp => Transport::Tcp,
    }
}

/// Whether the tunnel carries IPv6 and routes the global unicast range (2000::/3) into itself
/// (`redirect-gateway ipv6`, or routes the server pushed).
fn tunnel_takes_ipv6_default(pushed: &PushedSettings) -> bool {
    let global = u128::from(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0));
    let covers_global = |cidr: &String| match crate::network::parse_cidr(cidr) {
        Ok((IpAddr::V6(dst), prefix)) if prefix <= 3 => {
            prefix == 0 || (u128::from(dst) ^ global) >> (128 - u32::from(prefix)) == 0
        }
        _ => false,
    };
    redirects_ipv6(pushed)
        || (pushed.ipv6.is_some() && pushed.routes_ipv6.iter().any(covers_global))
}

impl SessionGuards {
    /// The guards of a session about to make its first attempt: with the kill switch wanted
    /// it is enabled now, before anything is pushed (with no tunnel yet, nothing but the
    /// helper's own sockets gets out).
    pub fn start(config: &EngineConfig) -> Result<SessionGuards, String> {
        let mut guards = SessionGuards::new(config);
        if guards.kill_switch_wanted {
            guards.kill = Some(
                KillSwitch::enable(&guards.endpoints, None)
                    .map_err(|e| format!("cannot enable the kill switch: {e}"))?,
            );
        }
        Ok(guards)
    }

    fn new(config: &EngineConfig) -> SessionGuards {
        let mut transports: Vec<Transport> =
            config.remotes.iter().map(|r| transport(r.proto)).collect();
        transports.sort();
        transports.dedup();
        let endpoints = config
            .remotes
            .iter()
            .filter_map(|r| {
                Some(Endpoint {
                    addr: r.host.parse::<IpAddr>().ok()?,
                    port: r.port,
                    transport: transport(r.proto),
                })
            })
            .collect();
        SessionGuards {
            journal_dir: PathBuf::from(Os::JOURNAL_DIR),
            block_ipv6: config.block_ipv6,
            kill_switch_wanted: config.kill_switch,
            allow_lan: config.allow_lan,
            transports,
            endpoints,
            dns: None,
            ipv6: None,
            ipv4: None,
            kill: None,
        }
    }

    /// The tunnel device `device` (index `index`) is up with its addresses and routes.
    pub fn tunnel_configured(
        &mut self,
        device: &str,
        index: u32,
        pushed: &PushedSettings,
        server: SocketAddr,
    ) -> Result<(), String> {
        for t in &self.transports {
            let e = Endpoint {
                addr: server.ip(),
                port: server.port(),
                transport: *t,
            };
            if !self.endpoints.contains(&e) {
                self.endpoints.push(e);
            }
        }
        if self.kill_switch_wanted {
            match &self.kill {
                Some(k) => k.update(&self.endpoints, Some(device))?,
                None => {
                    self.kill = Some(
                        KillSwitch::enable(&self.endpoints, Some(device))
                            .map_err(|e| format!("cannot enable the kill switch: {e}"))?,
                    )
                }
            }
        }
        // The server's `redirect-gateway block-local` takes the LAN away for this session.
        let allow_lan = self.allow_lan && !pushed.block_local;
        let block_ipv6_setting = self.block_ipv6 || pushed.block_ipv6;
        if ipv6_block_needed(
            block_ipv6_setting,
            pushed.redirect_gateway,
            redirects_ipv6(pushed),
            tunnel_takes_ipv6_default(pushed),
        ) {
            // Re-enabled for the current device name (a reconfiguration may bring a new one).
            // `block-ipv6` means all of IPv6 outside the tunnel, the LAN's too.
            self.ipv6 = Some(LeakBlock::outside(
                IpFamily::V6,
                device,
                &self.endpoints,
                allow_lan && !block_ipv6_setting,
            )?);
        } else if let Some(old) = self.ipv6.take() {
            old.disable()?;
        }
        if pushed.redirect_gateway {
            // Kept while the engine reconnects (no tunnel, the routes gone) and whatever the
            // LAN routes: only routes protected IPv4 before, and both fail open.
            self.ipv4 = Some(LeakBlock::outside(
                IpFamily::V4,
                device,
                &self.endpoints,
                allow_lan,
            )?);
        } else if let Some(old) = self.ipv4.take() {
            old.disable()?;
        }
        let request = DnsRequest {
            servers: &pushed.dns.servers,
            search_domains: &pushed.dns.search_domains,
            route_domains: &pushed.dns.route_domains,
            tunnel_is_default_route: pushed.redirect_gateway,
        };
        let link = Link {
            index,
            name: device.to_owned(),
        };
        // No DNS server pushed: nothing to configure (domains alone resolve nowhere).
        self.dns = match dns_plan::plan(&request)? {
            Some(plan) => Some(
                Os::apply_dns(&self.journal_dir, &link, &plan)
                    .map_err(|e| format!("cannot apply the pushed DNS settings: {e}"))?,
            ),
            None => None,
        };
        if let Some(d) = &self.dns {
            crate::log::info(&format!("DNS for {device} set through {}", d.backend()));
        }
        Ok(())
    }

    /// The tunnel device is about to go away (session end or reconfiguration).
    pub fn tunnel_closing(&mut self) {
        if let Some(d) = self.dns.take() {
            if let Err(e) = d.restore() {
                crate::log::warn(&format!("cannot restore DNS: {e}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pushed(ipv6: bool, routes_ipv6: &[&str]) -> PushedSettings {
        serde_json::from_value(serde_json::json!({
            "ipv4": {"address": "10.8.0.2", "prefix": 24, "gateway": "10.8.0.1"},
            "ipv6": if ipv6 { serde_json::json!({"address": "fd00:8::2", "prefix": 64}) } else { serde_json::Value::Null },
            "routes": [], "routesIpv6": routes_ipv6, "redirectGateway": true, "redirectGatewayIpv6": false, "blockLocal": false, "blockIpv6": false,
            "dns": {"servers": [], "searchDomains": [], "routeDomains": []},
            "mtu": 1500, "peerId": null, "cipher": "AES-256-GCM", "sessionTimeoutSec": null
        }))
        .unwrap()
    }

    #[test]
    fn only_a_tunnel_routing_global_ipv6_into_itself_takes_the_ipv6_default() {
        for routes in [&["::/0"][..], &["2000::/3"], &["::/1", "8000::/1"]] {
            assert!(
                tunnel_takes_ipv6_default(&pushed(true, routes)),
                "{routes:?}"
            );
        }
        for routes in [
            &[][..],
            &["fd00:50::/64"],
            &["2001:db8::/32"],
            &["3000::/4"],
        ] {
            assert!(
                !tunnel_takes_ipv6_default(&pushed(true, routes)),
                "{routes:?}"
            );
        }
        // Routes without an IPv6 address on the tunnel carry nothing.
        assert!(!tunnel_takes_ipv6_default(&pushed(false, &["::/0"])));
        // redirect-gateway ipv6 takes it with its own routes, once there is an address.
        let mut redirect = pushed(true, &[]);
        redirect.redirect_gateway_ipv6 = true;
        assert!(tunnel_takes_ipv6_default(&redirect));
        redirect.ipv6 = None;
        assert!(!tunnel_takes_ipv6_default(&redirect));
    }
}
