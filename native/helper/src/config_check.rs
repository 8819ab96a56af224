//! What the helper accepts from a client before it starts a session: every size within the
//! caps of `causeway_engine::limits` (the bounds main checks too), and every route, exclusion
//! and DNS server something the host can be given. A refusal names the field, never its value.

use std::net::IpAddr;

use causeway_engine::limits::check_sizes;
use causeway_engine::EngineConfig;

use crate::network::parse_cidr;

/// Why a config was refused, for the client: the field and what is wrong with it.
pub fn check_config(config: &EngineConfig) -> Result<(), String> {
    check_sizes(config).map_err(|e| e.to_string())?;
    let families = [
        ("config.routes", &config.routes, Some(true)),
        ("config.routesIpv6", &config.routes_ipv6, Some(false)),
        ("config.excludedRoutes", &config.excluded_routes, None),
    ];
    for (field, routes, ipv4) in families {
        for (i, route) in routes.iter().enumerate() {
            let (addr, _) =
                parse_cidr(route).map_err(|_| format!("{field}[{i}] is not an address/prefix"))?;
            if ipv4.is_some_and(|v4| v4 != addr.is_ipv4()) {
                let family = if ipv4 == Some(true) { "IPv4" } else { "IPv6" };
                return Err(format!("{field}[{i}] is not an {family} route"));
            }
        }
    }
    for (i, server) in config.dns.servers.iter().enumerate() {
        if server.parse::<IpAddr>().is_err() {
            return Err(format!("config.dns.servers[{i}] is not an IP address"));
        }
    }
    let domains = [
        ("config.dns.searchDomains", &config.dns.search_domains),
        ("config.dns.routeDomains", &config.dns.route_domains),
    ];
    for (field, names) in domains {
        if let Some(i) = names.iter().position(|n| !is_domain(n)) {
            return Err(format!("{field}[{i}] is not a domain name"));
        }
    }
    Ok(())
}

/// A DNS name as resolvers take it ("." is the root, for split DNS of every name): labels of
/// letters, digits, '-' and '_', so nothing a resolver configuration file would read as syntax.
fn is_domain(name: &str) -> bool {
    if name == "." {
        return true;
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_engine::limits::{MAX_DNS_SERVERS, MAX_ROUTES};

    fn typical() -> EngineConfig {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../test/vectors/helper-protocol/valid/to-connect-full.json");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        serde_json::from_value(v["message"]["config"].clone()).unwrap()
    }

    #[test]
    fn the_sample_configs_pass() {
        assert_eq!(check_config(&typical()), Ok(()));
    }

    #[test]
    fn routes_are_checked_for_form_and_family() {
        let mut c = typical();
        c.routes = ["10.0.0.0/8", "fd00::/8"].into();
        assert_eq!(
            check_config(&c).unwrap_err(),
            "config.routes[1] is not an IPv4 route"
        );
        c.routes = ["10.0.0.0/33"].into();
        assert_eq!(
            check_config(&c).unwrap_err(),
            "config.routes[0] is not an address/prefix"
        );
        c.routes.clear();
        c.routes_ipv6 = ["10.0.0.0/8"].into();
        assert_eq!(
            check_config(&c).unwrap_err(),
            "config.routesIpv6[0] is not an IPv6 route"
        );
        c.routes_ipv6.clear();
        c.excluded_routes = ["192.168.1.0/24", "2001:db8::/32", "nope"].into();
        assert_eq!(
            check_config(&c).unwrap_err(),
            "config.excludedRoutes[2] is not an address/prefix"
        );
    }

    #[test]
    fn caps_are_enforced_with_the_field_named() {
        let mut c = typical();
        *c.excluded_routes = vec!["192.168.1.0/24".into(); MAX_ROUTES];
        c.routes.clear();
        c.routes_ipv6.clear();
        assert_eq!(check_config(&c), Ok(()));
        c.routes.push("10.0.0.0/8".into());
        assert!(check_config(&c)
            .unwrap_err()
            .contains(&format!("at most {MAX_ROUTES}")));
        let mut c = typical();
        c.dns.servers = vec!["10.0.0.1".into(); MAX_DNS_SERVERS + 1];
        assert_eq!(
            check_config(&c).unwrap_err(),
            format!(
                "config.dns.servers has {} entries; at most {MAX_DNS_SERVERS} are allowed",
                MAX_DNS_SERVERS + 1
            )
        );
    }

    #[test]
    fn dns_servers_and_domains_must_be_what_they_say() {
        let mut c = typical();
        c.dns.servers = vec!["10.0.0.1".into(), "resolver.example".into()];
        assert_eq!(
            check_config(&c).unwrap_err(),
            "config.dns.servers[1] is not an IP address"
        );
        let mut c = typical();
        c.dns.search_domains = vec!["corp.example".into(), "evil\nnameserver 6.6.6.6".into()];
        let err = check_config(&c).unwrap_err();
        assert_eq!(err, "config.dns.searchDomains[1] is not a domain name");
        assert!(!err.contains("6.6.6.6"));
        let mut c = typical();
        c.dns.route_domains = vec![".".into(), "corp.example.".into(), "_msdcs.corp".into()];
        assert_eq!(check_config(&c), Ok(()));
        c.dns.route_domains.push("a..b".into());
        assert!(check_config(&c).is_err());
    }
}
