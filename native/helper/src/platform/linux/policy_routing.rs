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

use super::firewall::lan;
use super::marked::FWMARK;
use crate::platform::PolicyRule;

/// The same number as the mark, so `ip rule` output reads as one design.
pub const TUNNEL_TABLE: u32 = FWMARK;
/// Before the main table's rule (32766), after the local one (0) and what others use low.
const LAN_PRIORITY: u32 = 32_000;
const TUNNEL_PRIORITY: u32 = 32_001;
const MAIN_TABLE: u32 = 254;

/// The rules for a session whose tunnel device is `tunnel`: the directly connected private
/// and link-local IPv4 subnets (the LAN) through the main table, then everything unmarked of
/// both families through the tunnel's table. A public range the LAN claims as connected
/// (TunnelCrack LocalNet) gets no rule: the tunnel takes it.
pub fn rules(tunnel: &str) -> io::Result<Vec<PolicyRule>> {
    let lan =
        lan::connected_subnets(&BTreeSet::from([tunnel.to_owned()])).map_err(io::Error::other)?;
    Ok(render(&lan))
}

fn render(lan: &BTreeSet<lan::Subnet>) -> Vec<PolicyRule> {
    let mut rules: Vec<PolicyRule> = lan
        .iter()
        .map(|&(net, prefix)| PolicyRule {
            ipv6: false,
            priority: LAN_PRIORITY,
            to: Some((IpAddr::V4(net), prefix)),
            unless_mark: None,
            table: MAIN_TABLE,
        })
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
        let lan = BTreeSet::from([("10.99.0.0".parse().unwrap(), 24)]);
        let rules = render(&lan);
        assert_eq!(rules.len(), 3);
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
        for (rule, ipv6) in rules[1..].iter().zip([false, true]) {
            assert_eq!(rule.ipv6, ipv6);
            assert_eq!(
                (rule.to, rule.unless_mark, rule.table),
                (None, Some(FWMARK), TUNNEL_TABLE)
            );
            assert!(rule.priority > LAN_PRIORITY && rule.priority < 32_766);
        }
    }
}
