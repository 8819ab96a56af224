//! Name Resolution Policy Table rules: which names Windows' DNS client sends to the tunnel's
//! servers, whatever other adapters say. One rule per session, a registry key under
//! [`NRPT_KEY`] named [`rule_key_name`]; its values are what `Add-DnsClientNrptRule` writes.
//!
//! - Split DNS: the routing domains, each as itself and as a suffix (`.corp.example` matches
//!   every name below it), go to the tunnel's servers; other names keep the other resolvers.
//! - The tunnel takes every name (the default route): the rule's namespace is `.`, which
//!   matches any name, so no query reaches another adapter's resolvers (OpenVPN's
//!   `block-outside-dns` semantics, done by the DNS client instead of dropping packets).

use std::net::IpAddr;

/// Every key this helper creates starts with this, so crash recovery finds them.
pub const RULE_PREFIX: &str = "Causeway-";

/// The NRPT rule format version the DNS client expects.
const RULE_VERSION: u32 = 2;
/// ConfigOptions: the rule carries generic DNS servers (no DirectAccess, no DNSSEC).
const CONFIG_GENERIC_DNS_SERVERS: u32 = 0x8;

/// A registry value of a rule key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegValue {
    Dword(u32),
    Sz(String),
    MultiSz(Vec<String>),
}

/// The key of the rule for the tunnel adapter `interface` (its alias, unique while it exists).
pub fn rule_key_name(interface: &str) -> String {
    format!("{RULE_PREFIX}{interface}")
}

/// The namespaces the rule covers, in NRPT syntax: every name when the tunnel takes them all
/// (`exclusive`), else each routed domain and its subdomains.
pub fn namespaces(exclusive: bool, routing: &[String]) -> Vec<String> {
    if exclusive {
        return vec![".".to_owned()];
    }
    let mut out = Vec::new();
    for domain in routing.iter().filter(|d| d.as_str() != ".") {
        let domain = domain.trim_end_matches('.');
        for ns in [domain.to_owned(), format!(".{domain}")] {
            if !out.contains(&ns) {
                out.push(ns);
            }
        }
    }
    out
}

/// The values of the rule key; None when there is nothing to route (no domains or no
/// servers), in which case no rule is written.
pub fn rule_values(
    exclusive: bool,
    routing: &[String],
    servers: &[IpAddr],
) -> Option<Vec<(&'static str, RegValue)>> {
    let names = namespaces(exclusive, routing);
    if names.is_empty() || servers.is_empty() {
        return None;
    }
    let servers = servers
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(";");
    Some(vec![
        ("Version", RegValue::Dword(RULE_VERSION)),
        ("Name", RegValue::MultiSz(names)),
        ("ConfigOptions", RegValue::Dword(CONFIG_GENERIC_DNS_SERVERS)),
        ("GenericDNSServers", RegValue::Sz(servers)),
        ("IPSECCARestriction", RegValue::Sz(String::new())),
    ])
}

/// UTF-16 as the registry stores it: REG_SZ NUL-terminated, REG_MULTI_SZ each string
/// NUL-terminated plus a final NUL; REG_DWORD little-endian.
pub fn encode(value: &RegValue) -> Vec<u8> {
    let utf16 = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
    let units: Vec<u16> = match value {
        RegValue::Dword(v) => return v.to_le_bytes().to_vec(),
        RegValue::Sz(s) => utf16(s),
        RegValue::MultiSz(list) => list.iter().flat_map(|s| utf16(s)).chain([0]).collect(),
    };
    units.iter().flat_map(|u| u.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn split_dns_routes_each_domain_and_its_subdomains() {
        let routing = vec!["corp.example".to_owned(), "lab.example.".to_owned()];
        assert_eq!(
            namespaces(false, &routing),
            [
                "corp.example",
                ".corp.example",
                "lab.example",
                ".lab.example"
            ]
        );
        let values = rule_values(false, &routing, &ips(&["10.8.0.1", "fd00::53"])).unwrap();
        assert_eq!(
            values,
            vec![
                ("Version", RegValue::Dword(2)),
                (
                    "Name",
                    RegValue::MultiSz(vec![
                        "corp.example".into(),
                        ".corp.example".into(),
                        "lab.example".into(),
                        ".lab.example".into()
                    ])
                ),
                ("ConfigOptions", RegValue::Dword(8)),
                (
                    "GenericDNSServers",
                    RegValue::Sz("10.8.0.1;fd00::53".into())
                ),
                ("IPSECCARestriction", RegValue::Sz(String::new())),
            ]
        );
    }

    #[test]
    fn the_default_route_takes_every_name() {
        let routing = vec!["corp.example".to_owned(), ".".to_owned()];
        assert_eq!(namespaces(true, &routing), ["."]);
        let values = rule_values(true, &routing, &ips(&["10.8.0.1"])).unwrap();
        assert!(values.contains(&("Name", RegValue::MultiSz(vec![".".into()]))));
    }

    #[test]
    fn nothing_to_route_writes_no_rule() {
        assert_eq!(rule_values(false, &[], &ips(&["10.8.0.1"])), None);
        assert_eq!(rule_values(false, &[".".into()], &ips(&["10.8.0.1"])), None);
        assert_eq!(rule_values(true, &[".".into()], &[]), None);
    }

    #[test]
    fn registry_encodings() {
        assert_eq!(encode(&RegValue::Dword(8)), [8, 0, 0, 0]);
        assert_eq!(encode(&RegValue::Sz("a".into())), [b'a', 0, 0, 0]);
        assert_eq!(encode(&RegValue::Sz(String::new())), [0, 0]);
        assert_eq!(
            encode(&RegValue::MultiSz(vec!["a".into(), ".b".into()])),
            [b'a', 0, 0, 0, b'.', 0, b'b', 0, 0, 0, 0, 0]
        );
        assert_eq!(rule_key_name("causeway-1"), "Causeway-causeway-1");
    }
}
