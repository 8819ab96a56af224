//! From what the server pushed to what the resolver gets: validation of untrusted input
//! (servers must be IP addresses, domains must be plain DNS names, nothing that could inject
//! a line into resolv.conf), and the choice between "all names through the tunnel" and split
//! DNS.

use std::net::IpAddr;

/// The DNS part of a session's pushed settings (`dhcp-option DNS/DNS6/DOMAIN/DOMAIN-SEARCH/
/// DOMAIN-ROUTE` and the 2.6 `dns` option, as the engine normalized them).
#[derive(Debug, Clone, Copy)]
pub struct DnsRequest<'a> {
    pub servers: &'a [String],
    pub search_domains: &'a [String],
    pub route_domains: &'a [String],
    /// The tunnel takes the default route (redirect-gateway): every name must go through it.
    pub tunnel_is_default_route: bool,
}

/// What to configure, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsPlan {
    pub servers: Vec<IpAddr>,
    /// Appended to single-label names.
    pub search: Vec<String>,
    /// Names (and their subdomains) that must be resolved by the tunnel's servers; "." means
    /// every name.
    pub routing: Vec<String>,
    /// The tunnel's servers take queries that match no routing domain of any link.
    pub default_route: bool,
}

impl DnsPlan {
    /// Split DNS: only some names go to the tunnel; other resolvers stay in use.
    pub fn is_split(&self) -> bool {
        !self.default_route
    }

    /// Every name goes through the tunnel ("~." in resolved's terms).
    pub fn is_exclusive(&self) -> bool {
        self.routing.iter().any(|d| d == ".")
    }
}

/// Validates the request and decides how to route names. None: the server pushed no DNS
/// server, so there is nothing to configure (domains alone cannot be resolved anywhere).
pub fn plan(req: &DnsRequest<'_>) -> Result<Option<DnsPlan>, String> {
    let mut servers = Vec::new();
    for s in req.servers {
        let ip = parse_server(s)?;
        if !servers.contains(&ip) {
            servers.push(ip);
        }
    }
    let search = domains(req.search_domains, "search domain", false)?;
    let mut routing = domains(req.route_domains, "DNS routing domain", true)?;
    if servers.is_empty() {
        return Ok(None);
    }
    let everything = req.tunnel_is_default_route || routing.iter().any(|d| d == ".");
    if everything {
        // With the default route in the tunnel, a name resolved elsewhere is a DNS leak.
        routing = vec![".".to_owned()];
    }
    // Without routing domains and without the default route, openvpn's behaviour: the
    // tunnel's servers join the others for every name.
    let default_route = everything || routing.is_empty();
    Ok(Some(DnsPlan {
        servers,
        search,
        routing,
        default_route,
    }))
}

/// A server address as pushed: "10.8.0.1", "fd00::53", or with the 2.6 `dns server n address`
/// port syntax "10.8.0.1:53" / "[fd00::53]:53". resolv.conf cannot name a port, so only 53 is
/// accepted.
fn parse_server(raw: &str) -> Result<IpAddr, String> {
    let text = raw.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(ip);
    }
    match text.parse::<std::net::SocketAddr>() {
        Ok(sa) if sa.port() == 53 => Ok(sa.ip()),
        Ok(sa) => Err(format!(
            "pushed DNS server {raw:?} uses port {}; only port 53 is supported",
            sa.port()
        )),
        Err(_) => Err(format!("pushed DNS server {raw:?} is not an IP address")),
    }
}

fn domains(list: &[String], what: &str, root_allowed: bool) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for raw in list {
        let d = normalize_domain(raw, root_allowed)
            .ok_or_else(|| format!("pushed {what} {raw:?} is not a valid DNS name"))?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// Lower-cases and strips the trailing dot; "." (the root) only where allowed. Labels are
/// letters, digits, '-' and '_' (used by SRV-style names), 1..=63 bytes, 253 in total.
fn normalize_domain(raw: &str, root_allowed: bool) -> Option<String> {
    let d = raw.trim();
    // DOMAIN-ROUTE "~." and "~corp" appear in the wild (resolved's syntax); accept them.
    let d = d.strip_prefix('~').unwrap_or(d);
    if d == "." {
        return root_allowed.then(|| ".".to_owned());
    }
    let d = d.strip_suffix('.').unwrap_or(d).to_ascii_lowercase();
    if d.is_empty() || d.len() > 253 {
        return None;
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    d.split('.').all(label_ok).then_some(d)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    pub(crate) fn req<'a>(
        servers: &'a [String],
        search: &'a [String],
        route: &'a [String],
        default: bool,
    ) -> DnsRequest<'a> {
        DnsRequest {
            servers,
            search_domains: search,
            route_domains: route,
            tunnel_is_default_route: default,
        }
    }

    #[test]
    fn default_route_tunnel_takes_every_name() {
        let (sv, se, ro) = (
            s(&["10.8.0.1", "fd00::53", "10.8.0.1"]),
            s(&["Corp.Example."]),
            s(&["internal.example"]),
        );
        let p = plan(&req(&sv, &se, &ro, true)).unwrap().unwrap();
        assert_eq!(
            p.servers,
            vec![
                "10.8.0.1".parse::<IpAddr>().unwrap(),
                "fd00::53".parse().unwrap()
            ]
        );
        assert_eq!(p.search, s(&["corp.example"]));
        assert_eq!(p.routing, s(&["."]));
        assert!(p.default_route && p.is_exclusive());
    }

    #[test]
    fn domain_route_without_default_route_is_split_dns() {
        let (sv, ro) = (s(&["10.8.0.1"]), s(&["corp.example", "~lab.example"]));
        let p = plan(&req(&sv, &[], &ro, false)).unwrap().unwrap();
        assert_eq!(p.routing, s(&["corp.example", "lab.example"]));
        assert!(p.is_split() && !p.is_exclusive());
    }

    #[test]
    fn domain_route_dot_routes_everything_like_aws_recommends() {
        let (sv, ro) = (s(&["10.8.0.1"]), s(&["."]));
        let p = plan(&req(&sv, &[], &ro, false)).unwrap().unwrap();
        assert!(p.is_exclusive() && p.default_route);
    }

    #[test]
    fn plain_servers_join_the_others() {
        let sv = s(&["10.8.0.1"]);
        let p = plan(&req(&sv, &[], &[], false)).unwrap().unwrap();
        assert!(p.default_route && !p.is_exclusive() && p.routing.is_empty());
    }

    #[test]
    fn servers_with_the_dns_option_port_syntax() {
        let sv = s(&["10.8.0.1:53", "[fd00::53]:53", "10.8.0.1"]);
        let p = plan(&req(&sv, &[], &[], true)).unwrap().unwrap();
        assert_eq!(
            p.servers,
            vec![
                "10.8.0.1".parse::<IpAddr>().unwrap(),
                "fd00::53".parse().unwrap()
            ]
        );
        let odd = s(&["10.8.0.1:5353"]);
        let e = plan(&req(&odd, &[], &[], true)).unwrap_err();
        assert!(e.contains("only port 53"), "{e}");
    }

    #[test]
    fn no_server_means_nothing_to_do() {
        let se = s(&["corp.example"]);
        assert_eq!(plan(&req(&[], &se, &[], true)).unwrap(), None);
    }

    #[test]
    fn hostile_input_gets_a_clear_error() {
        let bad_server = s(&["10.0.0.1\nnameserver 6.6.6.6"]);
        let e = plan(&req(&bad_server, &[], &[], true)).unwrap_err();
        assert!(e.contains("is not an IP address"), "{e}");
        let sv = s(&["10.8.0.1"]);
        for d in [
            "corp\nnameserver 6.6.6.6",
            "a b",
            "",
            "-x.example",
            "a..b",
            &"a".repeat(64),
            ".",
        ] {
            let dom = s(&[d]);
            let e = plan(&req(&sv, &dom, &[], true)).unwrap_err();
            assert!(e.contains("not a valid DNS name"), "{d:?}: {e}");
        }
    }
}
