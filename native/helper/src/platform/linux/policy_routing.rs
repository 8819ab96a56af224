//! The tunnel's own routing table (as wg-quick and Mullvad do it): every route a session adds
//! goes into `TUNNEL_TABLE`, and rules that come before the main table send every packet
//! there first, except the helper's own marked sockets (which must reach the server the
//! ordinary way) and packets to the directly connected LAN. A route the local network adds
//! to the main table, however specific (DHCP option 121, TunnelVision), is only consulted
//! for what the tunnel's table does not route. Needs no sysctl: the marked sockets use the
//! main table, so no reply is judged by a table it did not leave through (rp_filter), and
//! the host route to the server in the tunnel's table keeps the server's own replies valid.

use std::collections::BTreeSet;
use std::io;
use std::net::IpAddr;

use super::marked::FWMARK;
use crate::netguard::lan::Lan;
use crate::platform::unix::ifaddrs;
use crate::platform::PolicyRule;

/// The same number as the mark, so `ip rule` output reads as one design.
pub const TUNNEL_TABLE: u32 = FWMARK;
/// Before the main table's rule (32766), after the local one (0) and what others use low.
const LAN_PRIORITY: u32 = 32_000;
const TUNNEL_PRIORITY: u32 = 32_001;
const MAIN_TABLE: u32 = 254;

/// The rules for a session whose tunnel device is `tunnel`: the directly connected private
/// and link-local subnets of both families (the LAN; a ULA LAN lies inside the `fc00::/7` that
/// `redirect-gateway ipv6` routes into the tunnel) through the main table, then everything
/// unmarked through the tunnel's table. Whether the LAN may be reached is the firewall's call
/// (allowLan, block-local); these rules only keep it on its link. A public range the LAN
/// claims as connected (TunnelCrack LocalNet) gets no rule: the tunnel takes it.
pub fn rules(tunnel: &str) -> io::Result<Vec<PolicyRule>> {
    let tunnels = BTreeSet::from([tunnel.to_owned()]);
    let addresses = ifaddrs::interface_addresses(&tunnels).map_err(io::Error::other)?;
    Ok(render(&Lan::of_addresses(addresses)))
}

fn render(lan: &Lan) -> Vec<PolicyRule> {
    let to_main = |ipv6: bool, net: IpAddr, prefix: u8| PolicyRule {
        ipv6,
        priority: LAN_PRIORITY,
        to: Some((net, prefix)),
        unless_mark: None,
        table: MAIN_TABLE,
    };
    let mut rules: Vec<PolicyRule> = lan
        .v4
        .iter()
        .map(|&(net, prefix)| to_main(false, IpAddr::V4(net), prefix))
        .chain(
            lan.v6
                .iter()
                .map(|&(net, prefix)| to_main(true, IpAddr::V6(net), prefix)),
        )
        .collect();
    for ipv6 in [false, true] {
        rules.push(PolicyRule {
            ipv6,
            priority: TUNNEL_PRIORITY,
            to: None,
            unless_mark: Some(FWMARK),
            table: TUNNEL_TABLE,
        });
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lan_goes_to_main_and_everything_unmarked_to_the_tunnel_table_first() {
        let lan = Lan {
            v4: BTreeSet::from([("10.99.0.0".parse().unwrap(), 24)]),
            v6: BTreeSet::from([("fd99::".parse().unwrap(), 64)]),
        };
        let rules = render(&lan);
        assert_eq!(rules.len(), 4);
        assert_eq!(
            rules[0],
            PolicyRule {
                ipv6: false,
                priority: LAN_PRIORITY,
                to: Some(("10.99.0.0".parse().unwrap(), 24)),
                unless_mark: None,
                table: MAIN_TABLE,
            }
        );
        assert_eq!(
            (rules[1].ipv6, rules[1].to, rules[1].table),
            (true, Some(("fd99::".parse().unwrap(), 64)), MAIN_TABLE)
        );
        for (rule, ipv6) in rules[2..].iter().zip([false, true]) {
            assert_eq!(rule.ipv6, ipv6);
            assert_eq!(
                (rule.to, rule.unless_mark, rule.table),
                (None, Some(FWMARK), TUNNEL_TABLE)
            );
            assert!(rule.priority > LAN_PRIORITY && rule.priority < 32_766);
        }
    }
}
