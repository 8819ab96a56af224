//! The guards of one session, driven by its network setup: DNS follows the tunnel device
//! (applied when it is configured, restored before it goes away); the IPv6 leak block and the
//! kill switch follow the session (enabled when the tunnel first comes up, kept through
//! reconnects and reconfigurations, removed when the session ends, i.e. on drop).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use causeway_engine::{EngineConfig, Proto, PushedSettings};

use super::dns_plan::{self, DnsRequest};
use super::firewall::{ipv6_block_needed, Endpoint, Ipv6Block, KillSwitch, Transport};
use crate::platform::{DnsChange, Link, Os, Platform};

pub struct SessionGuards {
    journal_dir: PathBuf,
    block_ipv6: bool,
    kill_switch_wanted: bool,
    /// Transports the profile's remotes use: the kill switch lets exactly these through to
    /// the servers.
    transports: Vec<Transport>,
    /// Every server address the session has used, plus literal-IP remotes of the profile
    /// (so a reconnect may fail over to them with the kill switch on).
    endpoints: Vec<Endpoint>,
    // Declaration order is drop order: DNS first, then the IPv6 block, the kill switch last.
    dns: Option<<Os as Platform>::Dns>,
    ipv6: Option<Ipv6Block>,
    kill: Option<KillSwitch>,
}

fn transport(p: Proto) -> Transport {
    match p {
        Proto::Udp => Transport::Udp,
        Proto::Tcp => Transport::Tcp,
    }
}

/// Whether the tunnel carries IPv6 and routes the global unicast range (2000::/3) into itself.
fn tunnel_takes_ipv6_default(pushed: &PushedSettings) -> bool {
    let global = u128::from(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0));
    let covers_global = |cidr: &String| match crate::network::parse_cidr(cidr) {
        Ok((IpAddr::V6(dst), prefix)) if prefix <= 3 => {
            prefix == 0 || (u128::from(dst) ^ global) >> (128 - u32::from(prefix)) == 0
        }
        _ => false,
    };
    pushed.ipv6.is_some() && pushed.routes_ipv6.iter().any(covers_global)
}

impl SessionGuards {
    pub fn new(config: &EngineConfig) -> SessionGuards {
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
            transports,
            endpoints,
            dns: None,
            ipv6: None,
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
        if ipv6_block_needed(
            self.block_ipv6,
            pushed.redirect_gateway,
            tunnel_takes_ipv6_default(pushed),
        ) {
            // Re-enabled for the current device name (a reconfiguration may bring a new one).
            let block = Ipv6Block::enable(device, &self.endpoints)
                .map_err(|e| format!("cannot block IPv6 outside the tunnel: {e}"))?;
            self.ipv6 = Some(block);
        } else if let Some(old) = self.ipv6.take() {
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
