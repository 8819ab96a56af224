//! The firewall policy as Windows Filtering Platform filters: which filters, on which ALE
//! layers, with which conditions and weights. `wfp.rs` turns these into FWPM_FILTER0 values
//! in the helper's own sublayer; within a sublayer the highest weight that matches decides.
//!
//! - Kill switch: everything is blocked (connect and accept, IPv4 and IPv6) except loopback,
//!   the tunnel adapters, the helper's own connections to the VPN servers, DHCP and (IPv6)
//!   neighbour discovery.
//! - IPv6 block (an IPv4-only full tunnel): the same, for IPv6 only.

use std::net::IpAddr;

use crate::netguard::firewall::{Endpoint, Policy, Transport};

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
    fn of_family(v6: bool) -> [Layer; 2] {
        if v6 {
            [Layer::ConnectV6, Layer::AcceptV6]
        } else {
            [Layer::ConnectV4, Layer::AcceptV4]
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

/// Router solicitation (133) to redirect (137): router and neighbour discovery, nothing else
/// of ICMPv6 (no echo to the outside).
const ND_FIRST: u8 = 133;
const ND_LAST: u8 = 137;

const W_LOOPBACK: u8 = 15;
const W_TUNNEL: u8 = 14;
const W_SERVER: u8 = 13;
const W_DHCP_ND: u8 = 12;
const W_BLOCK: u8 = 0;

/// The filters for `policy`; `luid_of` maps a tunnel adapter's name to its LUID (a name
/// with no adapter gets no permit: it has no traffic to let through). Empty for an empty
/// policy.
pub fn filters(policy: &Policy, luid_of: impl Fn(&str) -> Option<u64>) -> Vec<Filter> {
    let mut out = Vec::new();
    let families: &[bool] = match (policy.kill_switch, policy.block_ipv6) {
        (true, _) => &[false, true],
        (false, true) => &[true],
        (false, false) => return out,
    };
    let tunnels: Vec<u64> = policy.tunnels.iter().filter_map(|t| luid_of(t)).collect();
    for &v6 in families {
        for layer in Layer::of_family(v6) {
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
            let connect = matches!(layer, Layer::ConnectV4 | Layer::ConnectV6);
            if connect {
                for e in policy.endpoints.iter().filter(|e| e.addr.is_ipv6() == v6) {
                    out.push(permit("VPN server", W_SERVER, server_conditions(e)));
                }
            }
            out.extend(dhcp_and_nd(layer, v6));
            out.push(Filter {
                name: "block",
                layer,
                action: Action::Block,
                weight: W_BLOCK,
                conditions: vec![],
            });
        }
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
fn dhcp_and_nd(layer: Layer, v6: bool) -> Vec<Filter> {
    let (local, remote) = if v6 { (546, 547) } else { (68, 67) };
    let mut out = vec![Filter {
        name: "DHCP",
        layer,
        action: Action::Permit,
        weight: W_DHCP_ND,
        conditions: vec![
            Condition::Protocol(IPPROTO_UDP),
            Condition::LocalPort(local),
            Condition::RemotePort(remote),
        ],
    }];
    if v6 {
        out.push(Filter {
            name: "neighbour discovery",
            layer,
            action: Action::Permit,
            weight: W_DHCP_ND,
            conditions: vec![
                Condition::Protocol(IPPROTO_ICMPV6),
                Condition::IcmpTypes(ND_FIRST, ND_LAST),
            ],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn luid(name: &str) -> Option<u64> {
        (name == "causeway-1").then_some(0x0006_0000_0100_0000)
    }

    #[test]
    fn an_empty_policy_has_no_filters() {
        assert!(filters(&policy(false, false), luid).is_empty());
    }

    #[test]
    fn the_kill_switch_blocks_everything_but_what_the_tunnel_needs() {
        let f = filters(&policy(true, false), luid);
        for layer in [
            Layer::ConnectV4,
            Layer::ConnectV6,
            Layer::AcceptV4,
            Layer::AcceptV6,
        ] {
            let on: Vec<&Filter> = f.iter().filter(|x| x.layer == layer).collect();
            let block: Vec<&&Filter> = on.iter().filter(|x| x.action == Action::Block).collect();
            assert_eq!(block.len(), 1, "{layer:?}");
            assert!(block[0].conditions.is_empty() && block[0].weight == 0);
            // Every permit outweighs the block.
            assert!(on
                .iter()
                .filter(|x| x.action == Action::Permit)
                .all(|x| x.weight > 0));
            assert!(on.iter().any(|x| x.conditions == [Condition::Loopback]));
            assert!(on
                .iter()
                .any(|x| x.conditions == [Condition::LocalInterface(0x0006_0000_0100_0000)]));
        }
        // The servers: only through the helper's own sockets, only on the connect layer of
        // their family, with their port and protocol.
        let servers: Vec<&Filter> = f.iter().filter(|x| x.name == "VPN server").collect();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].layer, Layer::ConnectV4);
        assert_eq!(
            servers[0].conditions,
            [
                Condition::RemoteAddress("192.0.2.10".parse().unwrap()),
                Condition::RemotePort(1194),
                Condition::Protocol(IPPROTO_UDP),
                Condition::HelperApp
            ]
        );
        assert_eq!(servers[1].layer, Layer::ConnectV6);
        assert!(servers[1]
            .conditions
            .contains(&Condition::Protocol(IPPROTO_TCP)));
    }

    #[test]
    fn the_ipv6_block_touches_ipv6_only() {
        let f = filters(&policy(false, true), luid);
        assert!(!f.is_empty());
        assert!(f
            .iter()
            .all(|x| matches!(x.layer, Layer::ConnectV6 | Layer::AcceptV6)));
        // IPv6 servers stay reachable; neighbour discovery and DHCPv6 keep the LAN working.
        assert!(f.iter().any(|x| x.name == "VPN server"));
        assert!(f.iter().any(|x| x.name == "neighbour discovery"
            && x.conditions
                == [
                    Condition::Protocol(IPPROTO_ICMPV6),
                    Condition::IcmpTypes(133, 137)
                ]));
        assert!(f.iter().any(|x| x.name == "DHCP"
            && x.conditions.contains(&Condition::LocalPort(546))
            && x.conditions.contains(&Condition::RemotePort(547))));
    }

    #[test]
    fn a_tunnel_without_an_adapter_gets_no_permit() {
        let f = filters(&policy(true, false), |_| None);
        assert!(!f
            .iter()
            .any(|x| matches!(x.conditions.first(), Some(Condition::LocalInterface(_)))));
    }
}
