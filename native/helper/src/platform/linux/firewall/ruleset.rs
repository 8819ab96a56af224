//! The nftables ruleset, rendered from the firewall policy (the union of what the live
//! sessions ask for, netguard/firewall.rs). Pure text generation, so every rule is
//! unit-tested; `nft` checks the syntax at apply time.
//!
//! One `inet` table owned by this helper process holds three base chains (output, input,
//! forward). Accepts come first (loopback, the tunnels, the helper's own marked sockets, IPv6
//! neighbour and router discovery, DHCP and DHCPv6, the allowed LAN), then the IPv6 block,
//! then a full tunnel's IPv4 block, then the kill switch's catch-all. The pf anchor (macOS)
//! and the WFP filters (Windows) follow the same list. Locally generated packets are *rejected*
//! (the application gets an immediate error instead of a hang, and nothing reaches the wire);
//! incoming and forwarded ones are dropped.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::net::IpAddr;

use crate::netguard::firewall::Policy;
use crate::netguard::lan::{cidr_set, Lan};
use crate::platform::linux::marked::FWMARK;

/// The script that atomically replaces the table with one for `policy` (or removes it when
/// nothing is guarded). `add` first makes `delete` valid even when the table does not exist;
/// nft runs the whole script as one transaction. `lan`: the connected LAN subnets the
/// policy leaves reachable (`Lan::exempt_by`).
pub fn replace_script(table: &str, policy: &Policy, lan: &Lan) -> String {
    let mut s = format!("add table inet {table}\ndelete table inet {table}\n");
    if !policy.is_empty() {
        s.push_str(&render_table(table, policy, lan));
    }
    s
}

/// The LAN the blocks leave reachable: IPv4 outgoing (the IPv4 block is outgoing only), IPv6
/// both ways (the block drops incoming IPv6 too); never a public range the LAN calls on-link.
fn lan_accepts(lan: &Lan, out: &mut String, input: &mut String) {
    if !lan.v4.is_empty() {
        let nets = cidr_set(&lan.v4);
        let _ = writeln!(out, "\t\tip daddr {nets} accept");
    }
    if !lan.v6.is_empty() {
        let nets = cidr_set(&lan.v6);
        let _ = writeln!(out, "\t\tip6 daddr {nets} accept");
        let _ = writeln!(input, "\t\tip6 saddr {nets} accept");
    }
}

fn ifname_set(names: &BTreeSet<String>) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    format!("{{ {} }}", quoted.join(", "))
}

fn family(addr: &IpAddr) -> &'static str {
    if addr.is_ipv4() {
        "ip"
    } else {
        "ip6"
    }
}

/// What leaves to the VPN servers, proxies and name servers through every block: the
/// helper's own sockets, recognised by their mark (SO_MARK), never by where they go. An
/// ordinary process sending to a server's address and port gets no exemption (TunnelCrack's
/// ServerIP attack points the server's name at the address it wants to see in plaintext).
fn own_sockets_out() -> String {
    // The connection remembers the mark (conntrack), so its replies are let in.
    format!("\t\tmeta mark {FWMARK:#x} ct mark set {FWMARK:#x} accept\n")
}

/// Replies to the helper's own sockets (a name server's answer, the server's packets).
fn own_sockets_in() -> String {
    format!("\t\tct mark {FWMARK:#x} accept\n")
}

pub fn render_table(table: &str, p: &Policy, lan: &Lan) -> String {
    let mut out = String::new();
    let mut input = String::new();
    let mut forward = String::new();
    let tunnels = (!p.tunnels.is_empty()).then(|| ifname_set(&p.tunnels));

    out.push_str("\t\toifname \"lo\" accept\n");
    input.push_str("\t\tiifname \"lo\" accept\n");
    if let Some(t) = &tunnels {
        let _ = writeln!(out, "\t\toifname {t} accept");
        let _ = writeln!(input, "\t\tiifname {t} accept");
        let _ = writeln!(forward, "\t\toifname {t} accept");
        let _ = writeln!(forward, "\t\tiifname {t} accept");
    }
    out.push_str(&own_sockets_out());
    input.push_str(&own_sockets_in());
    for e in &p.endpoints {
        // Everything from the server, ICMP included (path MTU discovery needs it).
        let _ = writeln!(input, "\t\t{} saddr {} accept", family(&e.addr), e.addr);
    }
    // IPv6 neighbour and router discovery on the link (hop limit 255: it cannot have been
    // routed): without them an IPv6 server's gateway cannot be found and addresses expire. A
    // neighbour solicitation only goes out for traffic that is itself allowed; a router
    // solicitation asks the link for its advertisements when it comes up.
    out.push_str(
        "\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept\n",
    );
    input.push_str("\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } ip6 hoplimit 255 accept\n");
    if p.blocks_ipv4_out() {
        // Keep the machine's DHCP lease while the tunnel is down.
        out.push_str("\t\tudp sport 68 udp dport 67 accept\n");
        input.push_str("\t\tudp sport 67 udp dport 68 accept\n");
    }
    if p.blocks_ipv6() {
        // And its DHCPv6 lease.
        out.push_str("\t\tmeta nfproto ipv6 udp sport 546 udp dport 547 accept\n");
        input.push_str("\t\tmeta nfproto ipv6 udp sport 547 udp dport 546 accept\n");
    }
    lan_accepts(lan, &mut out, &mut input);
    if p.block_ipv6 {
        out.push_str("\t\tmeta nfproto ipv6 reject with icmpv6 type admin-prohibited\n");
        input.push_str("\t\tmeta nfproto ipv6 drop\n");
        forward.push_str("\t\tmeta nfproto ipv6 drop\n");
    }
    if p.block_ipv4 {
        // Outgoing only: what leaks is what the machine sends.
        out.push_str("\t\tmeta nfproto ipv4 reject with icmp type admin-prohibited\n");
    }
    if p.kill_switch {
        out.push_str("\t\treject with icmpx type admin-prohibited\n");
        input.push_str("\t\tdrop\n");
        forward.push_str("\t\tdrop\n");
    }
    let chain = |name: &str, hook: &str, rules: &str| {
        format!("\tchain {name} {{\n\t\ttype filter hook {hook} priority filter; policy accept;\n{rules}\t}}\n")
    };
    format!(
        "table inet {table} {{\n{}{}{}}}\n",
        chain("output", "output", &out),
        chain("input", "input", &input),
        chain("forward", "forward", &forward)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netguard::firewall::{Endpoint, Transport};

    fn policy(kill: bool, v6: bool) -> Policy {
        Policy::sample("cw0", kill, v6)
    }

    /// The table for `p` on a machine with the sample LAN (`Lan::sample_for`).
    fn render(p: &Policy) -> String {
        render_table("causeway_1", p, &Lan::sample_for(p))
    }

    fn rules_of<'a>(table: &'a str, chain: &str) -> Vec<&'a str> {
        let start = table.find(&format!("chain {chain} {{")).unwrap();
        let body = &table[start..table[start..].find("\t}").unwrap() + start];
        body.lines().skip(2).map(str::trim).collect()
    }

    #[test]
    fn kill_switch_allows_loopback_tunnel_and_server_then_rejects() {
        let t = render(&policy(true, false));
        assert_eq!(
            rules_of(&t, "output"),
            [
                "oifname \"lo\" accept",
                "oifname { \"cw0\" } accept",
                "meta mark 0x63776179 ct mark set 0x63776179 accept",
                "icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept",
                "udp sport 68 udp dport 67 accept",
                "meta nfproto ipv6 udp sport 546 udp dport 547 accept",
                "reject with icmpx type admin-prohibited"
            ]
        );
        assert_eq!(rules_of(&t, "input").last(), Some(&"drop"));
        assert!(rules_of(&t, "input").contains(&"ct mark 0x63776179 accept"));
        assert!(rules_of(&t, "input").contains(&"ip saddr 192.0.2.10 accept"));
        assert_eq!(rules_of(&t, "forward").last(), Some(&"drop"));
    }

    #[test]
    fn ipv6_block_alone_rejects_only_ipv6_and_keeps_the_server_and_the_link_working() {
        let t = render(&policy(false, true));
        let out = rules_of(&t, "output");
        assert_eq!(
            out.last(),
            Some(&"meta nfproto ipv6 reject with icmpv6 type admin-prohibited")
        );
        assert!(
            out.contains(&"meta mark 0x63776179 ct mark set 0x63776179 accept"),
            "{t}"
        );
        assert!(
            out.iter()
                .any(|r| r.starts_with("icmpv6 type { nd-router-solicit, nd-neighbor-solicit")),
            "{t}"
        );
        assert!(
            out.contains(&"meta nfproto ipv6 udp sport 546 udp dport 547 accept"),
            "{t}"
        );
        assert!(
            !t.contains("udp sport 68"),
            "DHCP is IPv4's block's business: {t}"
        );
        assert!(
            !out.iter().any(|r| r.starts_with("reject with icmpx")),
            "{t}"
        );
    }

    #[test]
    fn only_the_helpers_own_sockets_pass_to_a_server_not_its_address() {
        let mut p = policy(true, true);
        p.endpoints = [Endpoint {
            addr: "2001:db8::10".parse().unwrap(),
            port: 443,
            transport: Transport::Tcp,
        }]
        .into();
        let t = render(&p);
        let out = rules_of(&t, "output");
        assert!(!t.contains("daddr 2001:db8::10"), "{t}");
        let allow = out
            .iter()
            .position(|r| *r == "meta mark 0x63776179 ct mark set 0x63776179 accept")
            .unwrap();
        let block = out
            .iter()
            .position(|r| r.starts_with("meta nfproto ipv6 reject"))
            .unwrap();
        assert!(allow < block, "{t}");
        assert!(rules_of(&t, "input").contains(&"ip6 saddr 2001:db8::10 accept"));
    }

    #[test]
    fn a_full_tunnel_rejects_ipv4_outside_it_but_the_server_dhcp_and_the_allowed_lan() {
        let mut p = policy(false, false);
        p.block_ipv4 = true;
        p.allow_lan = true;
        let t = render(&p);
        let out = rules_of(&t, "output");
        // The sample LAN's public range (TunnelCrack LocalNet) is not among them.
        assert_eq!(
            out[out.len() - 3..],
            [
                "udp sport 68 udp dport 67 accept",
                "ip daddr { 10.99.0.0/24 } accept",
                "meta nfproto ipv4 reject with icmp type admin-prohibited"
            ]
        );
        assert!(
            out.contains(&"meta mark 0x63776179 ct mark set 0x63776179 accept"),
            "{t}"
        );
        assert_eq!(
            rules_of(&t, "input").last(),
            Some(&"udp sport 67 udp dport 68 accept")
        );
        p.allow_lan = false;
        let t = render(&p);
        assert!(!t.contains("10.99.0.0/24"), "{t}");
    }

    #[test]
    fn an_ipv6_block_that_allows_the_lan_lets_only_the_ipv6_lan_through_both_ways() {
        let mut p = policy(false, true);
        p.allow_lan_ipv6 = true;
        let t = render(&p);
        let out = rules_of(&t, "output");
        assert_eq!(
            out[out.len() - 2..],
            [
                "ip6 daddr { fd99::/64, fe80::/10 } accept",
                "meta nfproto ipv6 reject with icmpv6 type admin-prohibited"
            ]
        );
        let input = rules_of(&t, "input");
        assert_eq!(
            input[input.len() - 2..],
            [
                "ip6 saddr { fd99::/64, fe80::/10 } accept",
                "meta nfproto ipv6 drop"
            ]
        );
        // Not allowed (block-ipv6, block-local, a kill switch): no exemption at all.
        p.allow_lan_ipv6 = false;
        let t = render(&p);
        assert!(!t.contains("fd99::/64") && !t.contains("fe80::/10"), "{t}");
    }

    #[test]
    fn an_empty_policy_only_removes_the_table() {
        assert_eq!(
            replace_script("causeway_9", &Policy::default(), &Lan::default()),
            "add table inet causeway_9\ndelete table inet causeway_9\n"
        );
        let s = replace_script("causeway_9", &policy(true, false), &Lan::default());
        assert!(s.starts_with("add table inet causeway_9\ndelete table inet causeway_9\ntable inet causeway_9 {\n"), "{s}");
    }
}
