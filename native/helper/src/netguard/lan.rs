//! The LAN a full tunnel's leak blocks may leave reachable, the same on every OS: the subnets
//! directly connected to the machine's interfaces (not loopback, not a tunnel), kept only
//! when private (RFC 1918 and IPv6 ULA, fc00::/7) or link-local. A public range the LAN
//! claims as its own is never exempt (TunnelCrack's LocalNet attack makes the victim's
//! traffic "local" that way). Each platform lists its interfaces' addresses (getifaddrs on
//! Linux and macOS, `platform/unix/ifaddrs.rs`; the IP Helper API on Windows) and this module
//! decides what of them is the LAN.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::firewall::Policy;

/// A subnet as (network address, prefix length).
pub type Subnet = (Ipv4Addr, u8);
/// An IPv6 subnet as (network address, prefix length).
pub type Subnet6 = (Ipv6Addr, u8);

/// IPv6 link-local, on-link by definition: always part of the IPv6 LAN.
pub const LINK_LOCAL_6: Subnet6 = (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10);

fn is_lan(net: Ipv4Addr) -> bool {
    net.is_private() || net.is_link_local()
}

/// The connected subnet of an address with prefix length `prefix`, if it is one the LAN may
/// keep. Both ends must be in the LAN ranges: a prefix shorter than the private block it lies
/// in (10.0.0.0/7) would reach public addresses.
pub fn lan_subnet(addr: Ipv4Addr, prefix: u8) -> Option<Subnet> {
    let mask = mask4(prefix);
    let net = u32::from(addr) & mask;
    let last = net | !mask;
    (is_lan(net.into()) && is_lan(last.into())).then_some((net.into(), prefix))
}

/// The IPv4 netmask of a prefix length, as a number (WFP's subnet conditions take it so).
pub fn mask4(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0)
}

/// The connected IPv6 subnet of an address with prefix length `prefix`, if the LAN may keep it:
/// a ULA subnet (both ends in fc00::/7). Link-local is `LINK_LOCAL_6` as a whole.
pub fn lan_subnet6(addr: Ipv6Addr, prefix: u8) -> Option<Subnet6> {
    let ula = |a: u128| a >> 121 == 0xfc >> 1;
    let mask = u128::MAX
        .checked_shl(128 - u32::from(prefix.min(128)))
        .unwrap_or(0);
    let net = u128::from(addr) & mask;
    (ula(net) && ula(net | !mask)).then_some((net.into(), prefix))
}

/// The prefix length of a netmask (getifaddrs reports masks, the IP Helper API lengths, so
/// Windows needs none).
#[cfg(any(unix, test))]
pub fn prefix_of(mask: IpAddr) -> u8 {
    match mask {
        IpAddr::V4(m) => u32::from(m).leading_ones() as u8,
        IpAddr::V6(m) => u128::from(m).leading_ones() as u8,
    }
}

/// Subnets as nftables and pf write a set of them: `{ net/prefix, ... }` (WFP takes a filter
/// per subnet instead; the pf renderer's tests run everywhere).
#[cfg(any(unix, test))]
pub fn cidr_set<A: std::fmt::Display>(nets: &BTreeSet<(A, u8)>) -> String {
    let nets: Vec<String> = nets.iter().map(|(n, p)| format!("{n}/{p}")).collect();
    format!("{{ {} }}", nets.join(", "))
}

/// The connected LAN subnets of both families.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Lan {
    pub v4: BTreeSet<Subnet>,
    /// Link-local and the connected ULA subnets.
    pub v6: BTreeSet<Subnet6>,
}

impl Lan {
    /// The LAN of interface addresses (address, prefix length), those of loopback and the
    /// tunnels already left out by the caller.
    pub fn of_addresses(addresses: impl IntoIterator<Item = (IpAddr, u8)>) -> Lan {
        let mut lan = Lan {
            v4: BTreeSet::new(),
            v6: BTreeSet::from([LINK_LOCAL_6]),
        };
        for (addr, prefix) in addresses {
            match addr {
                IpAddr::V4(a) => lan.v4.extend(lan_subnet(a, prefix)),
                IpAddr::V6(a) => lan.v6.extend(lan_subnet6(a, prefix)),
            }
        }
        lan
    }

    /// What the firewall rules for `policy` leave reachable: the IPv4 LAN only when
    /// `allow_lan`, the IPv6 LAN only when `allow_lan_ipv6`. `addresses` lists the addresses of
    /// the interfaces that are neither loopback nor one of `policy.tunnels`; it is only asked
    /// when some LAN is allowed.
    pub fn exempt_by(
        policy: &Policy,
        addresses: impl FnOnce(&BTreeSet<String>) -> Result<Vec<(IpAddr, u8)>, String>,
    ) -> Result<Lan, String> {
        if !policy.allow_lan && !policy.allow_lan_ipv6 {
            return Ok(Lan::default());
        }
        let mut lan = Lan::of_addresses(addresses(&policy.tunnels)?);
        if !policy.allow_lan {
            lan.v4.clear();
        }
        if !policy.allow_lan_ipv6 {
            lan.v6.clear();
        }
        Ok(lan)
    }
}

/// For the renderers' tests (nftables, pf, WFP): a machine on the private 10.99.0.0/24 and
/// the ULA fd99::/64, and on public ranges its LAN claims as on-link (192.0.2.0/24,
/// 2001:db8:77::/64, TunnelCrack LocalNet), which must never be exempt.
#[cfg(test)]
pub fn sample_addresses() -> Vec<(IpAddr, u8)> {
    [
        ("10.99.0.2", 24),
        ("192.0.2.7", 24),
        ("fd99::2", 64),
        ("2001:db8:77::2", 64),
        ("fe80::1", 64),
    ]
    .into_iter()
    .map(|(a, p)| (a.parse().unwrap(), p))
    .collect()
}

#[cfg(test)]
impl Lan {
    /// What `policy` exempts on the machine of `sample_addresses`.
    pub fn sample_for(policy: &Policy) -> Lan {
        Lan::exempt_by(policy, |_| Ok(sample_addresses())).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The LAN subnet of each `(address, prefix)`, as `net/prefix`, against what is expected.
    fn assert_lan_subnets(cases: &[(&str, u8, Option<&str>)]) {
        for &(addr, prefix, expected) in cases {
            let lan = match addr.parse().unwrap() {
                IpAddr::V4(a) => lan_subnet(a, prefix).map(|(n, p)| format!("{n}/{p}")),
                IpAddr::V6(a) => lan_subnet6(a, prefix).map(|(n, p)| format!("{n}/{p}")),
            };
            assert_eq!(lan.as_deref(), expected, "{addr}/{prefix}");
        }
    }

    #[test]
    fn private_and_link_local_subnets_are_the_lan() {
        assert_lan_subnets(&[
            ("10.99.0.2", 24, Some("10.99.0.0/24")),
            ("192.168.1.7", 16, Some("192.168.0.0/16")),
            ("169.254.3.4", 16, Some("169.254.0.0/16")),
            ("172.16.5.5", 32, Some("172.16.5.5/32")),
        ]);
    }

    #[test]
    fn a_public_range_claimed_as_connected_is_never_the_lan() {
        assert_lan_subnets(&[
            ("192.0.2.5", 24, None),
            ("8.8.8.9", 29, None),
            ("127.0.0.1", 8, None),
            // A prefix reaching beyond the private block covers public addresses too.
            ("10.1.2.3", 7, None),
            ("192.168.1.1", 8, None),
            ("192.168.1.1", 15, None),
            ("192.168.1.1", 0, None),
        ]);
    }

    #[test]
    fn ula_subnets_are_the_ipv6_lan() {
        assert_lan_subnets(&[
            ("fd99::2", 64, Some("fd99::/64")),
            ("fc00:1::5", 48, Some("fc00:1::/48")),
            ("fd12:3456::1", 7, Some("fc00::/7")),
        ]);
    }

    #[test]
    fn a_public_ipv6_range_claimed_as_on_link_is_never_the_lan() {
        assert_lan_subnets(&[
            ("2001:db8:77::2", 64, None),
            ("2a00:1450::1", 128, None),
            ("::1", 128, None),
            // A prefix reaching beyond fc00::/7 covers public addresses too.
            ("fd99::2", 6, None),
            ("fd99::2", 0, None),
            // Link-local is the LAN as one fixed range, never from an address's own prefix.
            ("fe80::1", 64, None),
        ]);
    }

    #[test]
    fn netmasks_are_prefix_lengths() {
        let p = |m: &str| prefix_of(m.parse().unwrap());
        assert_eq!(p("255.255.255.0"), 24);
        assert_eq!(p("0.0.0.0"), 0);
        assert_eq!(p("255.255.255.255"), 32);
        assert_eq!(p("ffff:ffff:ffff:ffff::"), 64);
    }

    #[test]
    fn the_policy_exempts_each_familys_lan_only_when_it_allows_it_and_never_a_public_range() {
        let v4: BTreeSet<Subnet> = [("10.99.0.0".parse().unwrap(), 24)].into();
        let v6: BTreeSet<Subnet6> = [LINK_LOCAL_6, ("fd99::".parse().unwrap(), 64)].into();
        // (allow_lan, allow_lan_ipv6) -> the exempt LAN.
        let table = [
            ((false, false), Lan::default()),
            (
                (true, false),
                Lan {
                    v4: v4.clone(),
                    v6: BTreeSet::new(),
                },
            ),
            (
                (false, true),
                Lan {
                    v4: BTreeSet::new(),
                    v6: v6.clone(),
                },
            ),
            ((true, true), Lan { v4, v6 }),
        ];
        for ((allow_lan, allow_lan_ipv6), want) in table {
            let policy = Policy {
                tunnels: ["cw0".to_owned()].into(),
                allow_lan,
                allow_lan_ipv6,
                ..Policy::default()
            };
            let mut asked = false;
            let lan = Lan::exempt_by(&policy, |tunnels| {
                asked = true;
                assert_eq!(tunnels, &policy.tunnels);
                Ok(sample_addresses())
            })
            .unwrap();
            assert_eq!(
                lan, want,
                "allow_lan {allow_lan}, allow_lan_ipv6 {allow_lan_ipv6}"
            );
            assert_eq!(
                asked,
                allow_lan || allow_lan_ipv6,
                "interfaces read for nothing"
            );
        }
        let refused = Policy {
            allow_lan: true,
            ..Policy::default()
        };
        assert_eq!(
            Lan::exempt_by(&refused, |_| Err("no interfaces".into())),
            Err("no interfaces".into())
        );
    }
}
