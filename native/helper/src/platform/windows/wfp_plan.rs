//! The firewall policy as Windows Filtering Platform filters: which filters, on which ALE
//! layers, with which conditions and weights. `wfp.rs` turns these into FWPM_FILTER0 values
//! in the helper's own sublayer; within a sublayer the highest weight that matches decides.
//!
//! The same rule set as the Linux table (platform/linux/firewall/ruleset.rs), one layer at a
//! time: each layer a policy blocks (IPv4 connect for a full tunnel's IPv4 block, IPv6 both
//! ways for the IPv6 block, everything for the kill switch) gets a catch-all block under
//! permits for loopback, the tunnel adapters, the helper's own connections to the VPN servers,
//! DHCP or DHCPv6, (IPv6) neighbour and router discovery, and the LAN the policy allows.

use std::net::IpAddr;

use crate::netguard::firewall::{Endpoint, Policy, Transport};
use crate::netguard::lan::Lan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    /// FWPM_LAYER_ALE_AUTH_CONNECT_V4: outbound connections and first packets.
    ConnectV4,
    ConnectV6,
    /// FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V4: inbound connections and first packets.
    AcceptV4,
    AcceptV6,
}

impl Layer {
    const ALL: [Layer; 4] = [
        Layer::ConnectV4,
        Layer::AcceptV4,
        Layer::ConnectV6,
        Layer::AcceptV6,
    ];

    fn is_v6(self) -> bool {
        matches!(self, Layer::ConnectV6 | Layer::AcceptV6)
    }

    fn is_connect(self) -> bool {
        matches!(self, Layer::ConnectV4 | Layer::ConnectV6)
    }

    /// Whether `p` blocks what this layer sees (the Linux table's semantics).
    fn blocked_by(self, p: &Policy) -> bool {
        match self {
            Layer::ConnectV4 => p.blocks_ipv4_out(),
            // The IPv4 block is outgoing only (what leaks is what the machine sends).
            Layer::AcceptV4 => p.kill_switch,
            Layer::ConnectV6 | Layer::AcceptV6 => p.blocks_ipv6(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Permit,
    Block,
}

/// One filter condition; the conditions of a filter must all hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// FWPM_CONDITION_FLAGS has FWP_CONDITION_FLAG_IS_LOOPBACK.
    Loopback,
    /// FWPM_CONDITION_IP_LOCAL_INTERFACE: the interface's LUID.
    LocalInterface(u64),
    RemoteAddress(IpAddr),
    /// FWPM_CONDITION_IP_REMOTE_ADDRESS within a subnet (FWP_V4_ADDR_MASK, FWP_V6_ADDR_MASK).
    RemoteSubnet(IpAddr, u8),
    RemotePort(u16),
    LocalPort(u16),
    /// FWPM_CONDITION_IP_PROTOCOL (IPPROTO_*).
    Protocol(u8),
    /// FWPM_CONDITION_ICMP_TYPE within an inclusive range (FWP_MATCH_RANGE).
    IcmpTypes(u8, u8),
    /// FWPM_CONDITION_ALE_APP_ID of this helper's executable: its own sockets only.
    HelperApp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub name: &'static str,
    pub layer: Layer,
    pub action: Action,
    /// 0..=15 within the sublayer (FWP_UINT8).
    pub weight: u8,
    pub conditions: Vec<Condition>,
}

pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;

/// The ICMPv6 of neighbour and router discovery, nothing else (no echo to the outside), as
/// inclusive ranges of types: out router solicitation (133), neighbour solicitation and
/// advertisement (135, 136); in router advertisement (134) to redirect (137).
const ND_OUT: [(u8, u8); 2] = [(133, 133), (135, 136)];
const ND_IN: [(u8, u8); 1] = [(134, 137)];

const W_LOOPBACK: u8 = 15;
const W_TUNNEL: u8 = 14;
const W_SERVER: u8 = 13;
const W_DHCP_ND: u8 = 12;
const W_LAN: u8 = 11;
const W_BLOCK: u8 = 0;

/// The filters for `policy`; `lan`: the connected LAN subnets it leaves reachable
/// (`Lan::exempt_by`); `luid_of` maps a tunnel adapter's name to its LUID (a name with no
/// adapter gets no permit: it has no traffic to let through). Empty for an empty policy.
pub fn filters(policy: &Policy, lan: &Lan, luid_of: impl Fn(&str) -> Option<u64>) -> Vec<Filter> {
    let tunnels: Vec<u64> = policy.tunnels.iter().filter_map(|t| luid_of(t)).collect();
    let mut out = Vec::new();
    for layer in Layer::ALL.into_iter().filter(|l| l.blocked_by(policy)) {
        let permit = |name, weight, conditions| Filter {
            name,
            layer,
            action: Action::Permit,
            weight,
            conditions,
        };
        out.push(permit("loopback", W_LOOPBACK, vec![Condition::Loopback]));
        for &luid in &tunnels {
            out.push(permit(
                "tunnel adapter",
                W_TUNNEL,
                vec![Condition::LocalInterface(luid)],
            ));
        }
        if layer.is_connect() {
            for e in policy
                .endpoints
                .iter()
                .filter(|e| e.addr.is_ipv6() == layer.is_v6())
            {
                out.push(permit("VPN server", W_SERVER, server_conditions(e)));
            }
        }
        out.extend(dhcp_and_nd(layer));
        let subnets: Vec<(IpAddr, u8)> = if layer.is_v6() {
            lan.v6.iter().map(|&(n, p)| (n.into(), p)).collect()
        } else {
            lan.v4.iter().map(|&(n, p)| (n.into(), p)).collect()
        };
        for (net, prefix) in subnets {
            out.push(permit(
                "LAN",
                W_LAN,
                vec![Condition::RemoteSubnet(net, prefix)],
            ));
        }
        out.push(Filter {
            name: "block",
            layer,
            action: Action::Block,
            weight: W_BLOCK,
            conditions: vec![],
        });
    }
    out
}

fn server_conditions(e: &Endpoint) -> Vec<Condition> {
    let proto = match e.transport {
        Transport::Udp => IPPROTO_UDP,
        Transport::Tcp => IPPROTO_TCP,
    };
    vec![
        Condition::RemoteAddress(e.addr),
        Condition::RemotePort(e.port),
        Condition::Protocol(proto),
        Condition::HelperApp,
    ]
}

/// DHCP (v4: client port 68 with server port 67; v6: 546 with 547; the same tuple seen from
/// this host both ways), and for IPv6 the ICMPv6 that neighbour and router discovery need
/// (address configuration stops otherwise).
fn dhcp_and_nd(layer: Layer) -> Vec<Filter> {
    let (local, remote) = if layer.is_v6() { (546, 547) } else { (68, 67) };
    let filter = |name, conditions| Filter {
        name,
        layer,
        action: Action::Permit,
        weight: W_DHCP_ND,
        conditions,
    };
    let mut out = vec![filter(
        "DHCP",
        vec![
            Condition::Protocol(IPPROTO_UDP),
            Condition::LocalPort(local),
            Condition::RemotePort(remote),
        ],
    )];
    if layer.is_v6() {
        let types: &[(u8, u8)] = if layer.is_connect() { &ND_OUT } else { &ND_IN };
        for &(first, last) in types {
            out.push(filter(
                "neighbour discovery",
                vec![
                    Condition::Protocol(IPPROTO_ICMPV6),
                    Condition::IcmpTypes(first, last),
                ],
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netguard::firewall::Flags;
    use std::collections::BTreeSet;

    fn endpoint(addr: &str, port: u16, transport: Transport) -> Endpoint {
        Endpoint {
            addr: addr.parse().unwrap(),
            port,
            transport,
        }
    }

    fn policy(kill_switch: bool, block_ipv6: bool) -> Policy {
        Policy {
            tunnels: BTreeSet::from(["causeway-1".to_owned()]),
            endpoints: BTreeSet::from([
                endpoint("192.0.2.10", 1194, Transport::Udp),
                endpoint("2001:db8::10", 443, Transport::Tcp),
            ]),
            block_ipv6,
            kill_switch,
            ..Policy::default()
        }
    }

    const LUID: u64 = 0x0006_0000_0100_0000;

    fn luid(name: &str) -> Option<u64> {
        (name == "causeway-1").then_some(LUID)
    }

    /// The filters for `p` on a machine with the sample LAN (`Lan::sample_for`).
    fn plan(p: &Policy) -> Vec<Filter> {
        filters(p, &Lan::sample_for(p), luid)
    }

    /// One filter as a line: layer, action, weight, name and conditions.
    fn line(f: &Filter) -> String {
        format!(
            "{:?} {:?} {} {}: {:?}",
            f.layer, f.action, f.weight, f.name, f.conditions
        )
    }

    /// The filters of one blocked layer: the permits every layer has, `own` (the layer's
    /// servers, DHCP, discovery and LAN), the block.
    fn layer(name: &str, own: &[&str]) -> Vec<String> {
        let mut lines = vec![
            format!("{name} Permit 15 loopback: [Loopback]"),
            format!("{name} Permit 14 tunnel adapter: [LocalInterface({LUID})]"),
        ];
        lines.extend(own.iter().map(|l| format!("{name} {l}")));
        lines.push(format!("{name} Block 0 block: []"));
        lines
    }

    #[test]
    fn every_policy_gets_exactly_its_filters_on_each_layer() {
        const SERVER4: &str = "Permit 13 VPN server: [RemoteAddress(192.0.2.10), RemotePort(1194), Protocol(17), HelperApp]";
        const SERVER6: &str = "Permit 13 VPN server: [RemoteAddress(2001:db8::10), RemotePort(443), Protocol(6), HelperApp]";
        const DHCP: &str = "Permit 12 DHCP: [Protocol(17), LocalPort(68), RemotePort(67)]";
        const DHCP6: &str = "Permit 12 DHCP: [Protocol(17), LocalPort(546), RemotePort(547)]";
        const ND_RS: &str = "Permit 12 neighbour discovery: [Protocol(58), IcmpTypes(133, 133)]";
        const ND_NS_NA: &str = "Permit 12 neighbour discovery: [Protocol(58), IcmpTypes(135, 136)]";
        const ND_IN: &str = "Permit 12 neighbour discovery: [Protocol(58), IcmpTypes(134, 137)]";
        // The sample LAN's public ranges (TunnelCrack LocalNet) are never among them.
        const LAN: &str = "Permit 11 LAN: [RemoteSubnet(10.99.0.0, 24)]";
        const LAN6: [&str; 2] = [
            "Permit 11 LAN: [RemoteSubnet(fd99::, 64)]",
            "Permit 11 LAN: [RemoteSubnet(fe80::, 10)]",
        ];
        let c4 = layer("ConnectV4", &[SERVER4, DHCP]);
        let c4_lan = layer("ConnectV4", &[SERVER4, DHCP, LAN]);
        let a4 = layer("AcceptV4", &[DHCP]);
        let c6 = layer("ConnectV6", &[SERVER6, DHCP6, ND_RS, ND_NS_NA]);
        let c6_lan = layer(
            "ConnectV6",
            &[SERVER6, DHCP6, ND_RS, ND_NS_NA, LAN6[0], LAN6[1]],
        );
        let a6 = layer("AcceptV6", &[DHCP6, ND_IN]);
        let a6_lan = layer("AcceptV6", &[DHCP6, ND_IN, LAN6[0], LAN6[1]]);
        let everything = [&c4, &a4, &c6, &a6];
        // (kill_switch, block_ipv6, block_ipv4, allow_lan, allow_lan_ipv6) and every filter:
        // every combination the registry makes (the LAN only beside its family's block,
        // never with the kill switch).
        let table: Vec<(Flags, Vec<&Vec<String>>)> = vec![
            ((false, false, false, false, false), vec![]),
            ((false, true, false, false, false), vec![&c6, &a6]),
            ((false, true, false, false, true), vec![&c6_lan, &a6_lan]),
            ((false, false, true, false, false), vec![&c4]),
            ((false, false, true, true, false), vec![&c4_lan]),
            ((false, true, true, false, false), vec![&c4, &c6, &a6]),
            ((false, true, true, true, false), vec![&c4_lan, &c6, &a6]),
            (
                (false, true, true, false, true),
                vec![&c4, &c6_lan, &a6_lan],
            ),
            (
                (false, true, true, true, true),
                vec![&c4_lan, &c6_lan, &a6_lan],
            ),
            ((true, false, false, false, false), everything.to_vec()),
            ((true, true, false, false, false), everything.to_vec()),
            ((true, false, true, false, false), everything.to_vec()),
            ((true, true, true, false, false), everything.to_vec()),
        ];
        for ((kill, v6, v4, lan, lan6), layers) in table {
            let p = Policy {
                block_ipv4: v4,
                allow_lan: lan,
                allow_lan_ipv6: lan6,
                ..policy(kill, v6)
            };
            let want: Vec<&String> = layers.into_iter().flatten().collect();
            let got: Vec<String> = plan(&p).iter().map(line).collect();
            assert_eq!(got.iter().collect::<Vec<_>>(), want, "{p:?}");
        }
    }

    #[test]
    fn every_permit_outweighs_the_block_and_the_servers_pass_only_the_helpers_sockets() {
        let f = plan(&policy(true, false));
        for x in &f {
            assert_eq!(x.action == Action::Block, x.weight == W_BLOCK, "{x:?}");
            // A server's permit names this helper's executable: an ordinary process sending to
            // the server's address and port is blocked (TunnelCrack's ServerIP).
            if x.conditions
                .iter()
                .any(|c| matches!(c, Condition::RemotePort(p) if *p == 1194 || *p == 443))
            {
                assert!(x.conditions.contains(&Condition::HelperApp), "{x:?}");
            }
        }
    }

    #[test]
    fn a_tunnel_without_an_adapter_gets_no_permit() {
        let f = filters(&policy(true, false), &Lan::default(), |_| None);
        assert!(!f.is_empty());
        assert!(!f
            .iter()
            .any(|x| matches!(x.conditions.first(), Some(Condition::LocalInterface(_)))));
    }
}
