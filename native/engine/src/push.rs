//! PUSH_REPLY options (wire-protocol §7.2, §8): tokenizing, accumulating push-continuation
//! parts, and normalizing what a client must apply into `PushedSettings` + protocol parameters.

use crate::config::{
    Compression, DataCipher, DnsSettings, Ipv4Settings, Ipv6Settings, PushedSettings, RouteList,
};
use crate::limits::{
    MAX_ADDRESS_CHARS, MAX_DNS_DOMAINS, MAX_DNS_SERVERS, MAX_NAME_CHARS, MAX_PUSH_BYTES,
    MAX_PUSH_MESSAGES, MAX_PUSH_OPTIONS, MAX_ROUTES,
};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Splits one option line like the config file: whitespace-separated, double quotes group,
/// backslash escapes inside quotes.
pub fn tokenize(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_token = false;
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                in_token = true;
            }
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() && !quoted => {
                if in_token {
                    out.push(std::mem::take(&mut cur));
                    in_token = false;
                }
            }
            c => {
                cur.push(c);
                in_token = true;
            }
        }
    }
    if in_token {
        out.push(cur);
    }
    out
}

/// Everything the client takes from a (complete) PUSH_REPLY.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct PushedOptions {
    pub ifconfig: Option<(Ipv4Addr, Ipv4Addr)>,
    pub ifconfig_ipv6: Option<(Ipv6Addr, u8)>,
    pub topology_subnet: bool,
    pub topology_p2p: bool,
    pub route_gateway: Option<Ipv4Addr>,
    pub routes: Vec<String>,
    pub routes_ipv6: Vec<String>,
    pub redirect_gateway: bool,
    pub redirect_gateway_ipv6: bool,
    pub block_local: bool,
    pub block_ipv6: bool,
    pub dns: DnsSettings,
    pub peer_id: Option<u32>,
    pub cipher: Option<String>,
    pub tls_ekm: bool,
    pub cc_exit: bool,
    /// Renegotiations use tls-crypt with a key derived from the first TLS session (§2.6).
    pub dyn_tls_crypt: bool,
    pub ping: Option<u32>,
    pub ping_restart: Option<u32>,
    pub tun_mtu: Option<u32>,
    pub session_timeout: Option<u32>,
    pub auth_token: Option<String>,
    pub auth_token_user: Option<String>,
    pub compression: Option<Compression>,
    /// Option names that were not understood (logged; never contain values).
    pub ignored: Vec<String>,
}

impl std::fmt::Debug for PushedOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushedOptions")
            .field("ifconfig", &self.ifconfig)
            .field("routes", &self.routes)
            .field("peer_id", &self.peer_id)
            .field("cipher", &self.cipher)
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

fn mask_to_prefix(mask: Ipv4Addr) -> Option<u8> {
    let m = u32::from(mask);
    let p = m.leading_ones();
    (m.checked_shl(p).unwrap_or(0) == 0).then_some(p as u8)
}

/// Applies one option line to the accumulator. Errors describe an unusable value.
fn apply(opts: &mut PushedOptions, tokens: &[String]) -> Result<(), String> {
    let Some(name) = tokens.first() else {
        return Ok(());
    };
    let arg = |i: usize| tokens.get(i).map(String::as_str);
    let ip4 = |i: usize| -> Result<Ipv4Addr, String> {
        arg(i)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("{name}: bad IPv4 address"))
    };
    match name.as_str() {
        "ifconfig" => opts.ifconfig = Some((ip4(1)?, ip4(2)?)),
        "ifconfig-ipv6" => {
            let (addr, bits) = arg(1)
                .and_then(|s| s.split_once('/'))
                .ok_or("ifconfig-ipv6: expected addr/bits")?;
            let addr: Ipv6Addr = addr.parse().map_err(|_| "ifconfig-ipv6: bad address")?;
            let bits: u8 = bits
                .parse()
                .ok()
                .filter(|b| *b <= 128)
                .ok_or("ifconfig-ipv6: bad prefix")?;
            opts.ifconfig_ipv6 = Some((addr, bits));
        }
        "topology" => {
            opts.topology_subnet = arg(1) == Some("subnet");
            opts.topology_p2p = arg(1) == Some("p2p");
        }
        "route-gateway" => {
            if arg(1) != Some("dhcp") {
                opts.route_gateway = Some(ip4(1)?);
            }
        }
        "route" => {
            let net = ip4(1)?;
            let mask = match arg(2) {
                Some(m) if m != "default" => m.parse().map_err(|_| "route: bad netmask")?,
                _ => Ipv4Addr::BROADCAST,
            };
            let prefix = mask_to_prefix(mask).ok_or("route: netmask is not contiguous")?;
            // Routes via net_gateway deliberately bypass the tunnel; the helper only installs
            // routes into the tunnel, so they are not ours to apply.
            if arg(3) != Some("net_gateway") {
                opts.routes.push(format!("{net}/{prefix}"));
            }
        }
        "route-ipv6" => {
            let net = arg(1).ok_or("route-ipv6: missing network")?;
            let (a, b) = net.split_once('/').unwrap_or((net, "128"));
            let a: Ipv6Addr = a.parse().map_err(|_| "route-ipv6: bad network")?;
            let b: u8 = b
                .parse()
                .ok()
                .filter(|b| *b <= 128)
                .ok_or("route-ipv6: bad prefix")?;
            if arg(2) != Some("net_gateway") {
                opts.routes_ipv6.push(format!("{a}/{b}"));
            }
        }
        "redirect-gateway" => {
            let flag = |f: &str| tokens[1..].iter().any(|t| t == f);
            opts.redirect_gateway = !flag("!ipv4");
            opts.redirect_gateway_ipv6 = flag("ipv6");
            opts.block_local = flag("block-local");
        }
        "block-ipv6" => opts.block_ipv6 = true,
        "dhcp-option" => match (arg(1), arg(2)) {
            (Some("DNS" | "DNS6"), Some(ip)) => opts.dns.servers.push(ip.to_string()),
            (Some("DOMAIN" | "DOMAIN-SEARCH" | "ADAPTER_DOMAIN_SUFFIX"), Some(d)) => {
                opts.dns.search_domains.push(d.to_string())
            }
            (Some("DOMAIN-ROUTE"), Some(d)) => opts.dns.route_domains.push(d.to_string()),
            _ => {}
        },
        "dns" => match arg(1) {
            Some("search-domains") => opts.dns.search_domains.extend(tokens[2..].iter().cloned()),
            Some("server") => match arg(3) {
                Some("address") => opts.dns.servers.extend(tokens[4..].iter().cloned()),
                Some("resolve-domains") => {
                    opts.dns.route_domains.extend(tokens[4..].iter().cloned())
                }
                _ => {}
            },
            _ => {}
        },
        "peer-id" => {
            let id: u32 = arg(1)
                .and_then(|s| s.parse().ok())
                .filter(|v| *v <= 0xFF_FFFE)
                .ok_or("peer-id: bad value")?;
            opts.peer_id = Some(id);
        }
        "cipher" => opts.cipher = arg(1).map(str::to_string),
        "key-derivation" => opts.tls_ekm |= arg(1) == Some("tls-ekm"),
        "protocol-flags" => {
            for f in &tokens[1..] {
                match f.as_str() {
                    "tls-ekm" => opts.tls_ekm = true,
                    "cc-exit" => opts.cc_exit = true,
                    "dyn-tls-crypt" => opts.dyn_tls_crypt = true,
                    _ => opts.ignored.push(format!("protocol-flags {f}")),
                }
            }
        }
        "ping" => opts.ping = arg(1).and_then(|s| s.parse().ok()),
        "ping-restart" => opts.ping_restart = arg(1).and_then(|s| s.parse().ok()),
        "tun-mtu" => {
            opts.tun_mtu = arg(1)
                .and_then(|s| s.parse().ok())
                .filter(|m| (576..=9000).contains(m))
        }
        "session-timeout" => opts.session_timeout = arg(1).and_then(|s| s.parse().ok()),
        "auth-token" => opts.auth_token = arg(1).map(str::to_string),
        "auth-token-user" => {
            use base64::Engine as _;
            let decoded =
                arg(1).and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
            opts.auth_token_user = decoded.and_then(|d| String::from_utf8(d).ok());
        }
        "comp-lzo" => {
            if !matches!(arg(1), None | Some("no")) {
                return Err(
                    "the server pushed real LZO compression, which Causeway does not support"
                        .into(),
                );
            }
            opts.compression = Some(Compression::CompLzoNo);
        }
        "compress" => {
            opts.compression = Some(match arg(1) {
                None | Some("stub") => Compression::CompressStub,
                Some("stub-v2") => Compression::CompressStubV2,
                // A server with real compression only compresses if its allow-compression says so;
                // we apply the framing, never compress, and drop compressed packets.
                Some("lz4") | Some("lzo") => Compression::CompressStub,
                Some("lz4-v2") => Compression::CompressStubV2,
                Some(_) => return Err("the server pushed an unknown compression algorithm".into()),
            })
        }
        "push-continuation"
        | "echo"
        | "ping-exit"
        | "inactive"
        | "explicit-exit-notify"
        | "block-outside-dns"
        | "register-dns"
        | "setenv"
        | "setenv-safe"
        | "route-metric"
        | "route-delay"
        | "sndbuf"
        | "rcvbuf"
        | "socket-flags"
        | "tcp-nodelay"
        | "ip-win32"
        | "dhcp-renew"
        | "dhcp-pre-release"
        | "persist-key"
        | "persist-tun"
        | "redirect-private" => {}
        other => opts.ignored.push(other.to_string()),
    }
    Ok(())
}

/// Collects PUSH_REPLY parts until the last one (no `push-continuation 2`), within the caps
/// of `limits`: a server that keeps sending continuations is refused, not buffered.
#[derive(Default)]
pub struct PushAccumulator {
    parts: Vec<String>,
    messages: usize,
    bytes: usize,
}

impl PushAccumulator {
    /// Feeds the text after `PUSH_REPLY`. Returns the complete option list when done, or an
    /// error (and forgets the parts) when the push exceeds a cap.
    pub fn feed(&mut self, body: &str) -> Result<Option<Vec<String>>, String> {
        self.messages += 1;
        self.bytes += body.len();
        let over = if self.messages > MAX_PUSH_MESSAGES {
            Some(format!("more than {MAX_PUSH_MESSAGES} PUSH_REPLY messages"))
        } else if self.bytes > MAX_PUSH_BYTES {
            Some(format!("more than {MAX_PUSH_BYTES} bytes of options"))
        } else {
            None
        };
        if let Some(why) = over {
            *self = Self::default();
            return Err(format!("the server pushed {why}"));
        }
        let body = body.strip_prefix(',').unwrap_or(body);
        let mut more = false;
        for opt in body.split(',').filter(|s| !s.trim().is_empty()) {
            if opt.trim() == "push-continuation 2" {
                more = true;
            }
            self.parts.push(opt.trim().to_string());
        }
        if self.parts.len() > MAX_PUSH_OPTIONS {
            *self = Self::default();
            return Err(format!(
                "the server pushed more than {MAX_PUSH_OPTIONS} options"
            ));
        }
        if more {
            return Ok(None);
        }
        let parts = std::mem::take(&mut self.parts);
        *self = Self::default();
        Ok(Some(parts))
    }
}

/// Refuses a push over the caps the helper and main hold every config to (`limits`).
fn check_pushed_sizes(opts: &PushedOptions) -> Result<(), String> {
    let counts = [
        ("IPv4 routes", opts.routes.len(), MAX_ROUTES),
        ("IPv6 routes", opts.routes_ipv6.len(), MAX_ROUTES),
        ("DNS servers", opts.dns.servers.len(), MAX_DNS_SERVERS),
        (
            "search domains",
            opts.dns.search_domains.len(),
            MAX_DNS_DOMAINS,
        ),
        (
            "DNS route domains",
            opts.dns.route_domains.len(),
            MAX_DNS_DOMAINS,
        ),
    ];
    for (what, n, max) in counts {
        if n > max {
            return Err(format!("{n} {what}; at most {max} are accepted"));
        }
    }
    if opts.dns.servers.iter().any(|a| a.len() > MAX_ADDRESS_CHARS) {
        return Err(format!(
            "a DNS server longer than {MAX_ADDRESS_CHARS} characters"
        ));
    }
    let domains = opts
        .dns
        .search_domains
        .iter()
        .chain(&opts.dns.route_domains);
    if domains.into_iter().any(|d| d.len() > MAX_NAME_CHARS) {
        return Err(format!("a domain longer than {MAX_NAME_CHARS} characters"));
    }
    Ok(())
}

/// Parses a complete option list. `echo` lines are returned separately (banner text).
pub fn parse_options(lines: &[String]) -> Result<(PushedOptions, Vec<String>), String> {
    let mut opts = PushedOptions::default();
    let mut echoes = Vec::new();
    for line in lines {
        if line == "echo" || line.starts_with("echo ") {
            echoes.push(line.strip_prefix("echo").unwrap_or("").trim().to_string());
            continue;
        }
        apply(&mut opts, &tokenize(line))?;
    }
    check_pushed_sizes(&opts)?;
    Ok((opts, echoes))
}

impl PushedOptions {
    /// What the server pushed, normalized. With `route-nopull` the pushed routes and
    /// redirect-gateway are dropped; the profile's own routing is applied by the helper.
    pub fn to_settings(
        &self,
        cipher: DataCipher,
        default_mtu: u32,
        route_no_pull: bool,
    ) -> PushedSettings {
        let ipv4 = self.ifconfig.map(|(local, arg2)| {
            if self.topology_subnet {
                Ipv4Settings {
                    address: local.to_string(),
                    prefix: mask_to_prefix(arg2).unwrap_or(32),
                    gateway: self.route_gateway.map(|g| g.to_string()),
                }
            } else {
                // net30 / p2p: arg2 is the peer address; on net30 both share a /30.
                let same30 = u32::from(local) & !3 == u32::from(arg2) & !3;
                Ipv4Settings {
                    address: local.to_string(),
                    prefix: if same30 && !self.topology_p2p { 30 } else { 32 },
                    gateway: Some(self.route_gateway.unwrap_or(arg2).to_string()),
                }
            }
        });
        PushedSettings {
            ipv4,
            ipv6: self.ifconfig_ipv6.map(|(a, p)| Ipv6Settings {
                address: a.to_string(),
                prefix: p,
            }),
            routes: RouteList(if route_no_pull {
                Vec::new()
            } else {
                self.routes.clone()
            }),
            routes_ipv6: RouteList(if route_no_pull {
                Vec::new()
            } else {
                self.routes_ipv6.clone()
            }),
            redirect_gateway: self.redirect_gateway && !route_no_pull,
            redirect_gateway_ipv6: self.redirect_gateway_ipv6 && !route_no_pull,
            // A restriction, honoured with route-nopull too.
            block_local: self.block_local,
            block_ipv6: self.block_ipv6,
            dns: self.dns.clone(),
            mtu: self.tun_mtu.unwrap_or(default_mtu),
            peer_id: self.peer_id,
            cipher,
            session_timeout_sec: self.session_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_handles_quotes() {
        assert_eq!(
            tokenize(r#"a "b c" d\e "x\"y""#),
            vec!["a", "b c", "d\\e", "x\"y"]
        );
        assert_eq!(tokenize("  "), Vec::<String>::new());
    }

    #[test]
    fn aws_push_reply() {
        let body = ",dhcp-option DNS 10.0.0.2,route 10.0.0.0 255.255.0.0,route 172.16.8.0 255.255.248.0,route-gateway 10.8.0.129,topology subnet,ping 1,ping-restart 20,echo,echo,echo,ifconfig 10.8.0.133 255.255.255.224,peer-id 1,cipher AES-256-GCM,protocol-flags cc-exit tls-ekm dyn-tls-crypt,tun-mtu 1500";
        let mut acc = PushAccumulator::default();
        let lines = acc.feed(body).unwrap().unwrap();
        let (o, echoes) = parse_options(&lines).unwrap();
        assert_eq!(echoes, vec!["", "", ""]);
        assert!(o.tls_ekm && o.cc_exit);
        assert_eq!(o.peer_id, Some(1));
        assert_eq!(o.ping, Some(1));
        assert_eq!(o.ping_restart, Some(20));
        let s = o.to_settings(DataCipher::Aes256Gcm, 1500, false);
        let v4 = s.ipv4.unwrap();
        assert_eq!(
            (v4.address.as_str(), v4.prefix, v4.gateway.as_deref()),
            ("10.8.0.133", 27, Some("10.8.0.129"))
        );
        assert_eq!(*s.routes, vec!["10.0.0.0/16", "172.16.8.0/21"]);
        assert_eq!(s.dns.servers, vec!["10.0.0.2"]);
    }

    #[test]
    fn continuation_and_net30() {
        let mut acc = PushAccumulator::default();
        assert!(acc
            .feed(",route 10.1.0.0 255.255.0.0,push-continuation 2")
            .unwrap()
            .is_none());
        let lines = acc.feed(",ifconfig 10.8.0.6 10.8.0.5,ifconfig-ipv6 fd00::1000/64 fd00::1,push-continuation 1").unwrap().unwrap();
        let (o, _) = parse_options(&lines).unwrap();
        let s = o.to_settings(DataCipher::Aes128Gcm, 1400, false);
        let v4 = s.ipv4.unwrap();
        assert_eq!((v4.prefix, v4.gateway.as_deref()), (30, Some("10.8.0.5")));
        assert_eq!(s.ipv6.unwrap().prefix, 64);
        assert_eq!(*s.routes, vec!["10.1.0.0/16"]);
        assert_eq!(s.mtu, 1400);
    }

    #[test]
    fn route_nopull_drops_pushed_routing() {
        let (o, _) = parse_options(&[
            "route 10.1.0.0 255.255.0.0".into(),
            "redirect-gateway def1".into(),
        ])
        .unwrap();
        let s = o.to_settings(DataCipher::Aes256Gcm, 1500, false);
        assert_eq!(*s.routes, vec!["10.1.0.0/16"]);
        assert!(s.redirect_gateway);
        let s = o.to_settings(DataCipher::Aes256Gcm, 1500, true);
        assert!(s.routes.is_empty());
        assert!(!s.redirect_gateway);
    }

    #[test]
    fn redirect_gateway_flags_ipv6_and_block_local_are_reported() {
        let settings = |line: &str, no_pull| {
            let (o, _) = parse_options(&[line.to_owned()]).unwrap();
            o.to_settings(DataCipher::Aes256Gcm, 1500, no_pull)
        };
        let s = settings("redirect-gateway def1 ipv6 block-local", false);
        assert!(s.redirect_gateway && s.redirect_gateway_ipv6 && s.block_local);
        let s = settings("redirect-gateway ipv6 !ipv4", false);
        assert!(!s.redirect_gateway && s.redirect_gateway_ipv6 && !s.block_local);
        let s = settings("redirect-gateway def1", false);
        assert!(s.redirect_gateway && !s.redirect_gateway_ipv6 && !s.block_local);
        // route-nopull drops the routing, never the restriction.
        let s = settings("redirect-gateway def1 ipv6 block-local", true);
        assert!(!s.redirect_gateway && !s.redirect_gateway_ipv6 && s.block_local);
    }

    #[test]
    fn a_pushed_block_ipv6_is_reported() {
        let settings = |opts: &[&str]| {
            let opts: Vec<String> = opts.iter().map(|o| (*o).to_owned()).collect();
            let (o, _) = parse_options(&opts).unwrap();
            o.to_settings(DataCipher::Aes256Gcm, 1500, false)
        };
        assert!(settings(&["redirect-gateway def1", "block-ipv6"]).block_ipv6);
        assert!(!settings(&["redirect-gateway def1"]).block_ipv6);
    }

    #[test]
    fn bad_values_and_compression() {
        assert!(parse_options(&["route 10.0.0.0 255.0.255.0".into()]).is_err());
        assert!(parse_options(&["comp-lzo yes".into()]).is_err());
        let (o, _) = parse_options(&["comp-lzo no".into(), "frobnicate 1".into()]).unwrap();
        assert_eq!(o.compression, Some(Compression::CompLzoNo));
        assert_eq!(o.ignored, vec!["frobnicate"]);
    }

    #[test]
    fn endless_continuations_are_refused_and_forgotten() {
        let mut acc = PushAccumulator::default();
        for _ in 0..MAX_PUSH_MESSAGES {
            assert_eq!(acc.feed(",ping 10,push-continuation 2"), Ok(None));
        }
        let err = acc.feed(",ping 10,push-continuation 2").unwrap_err();
        assert!(
            err.contains(&format!("more than {MAX_PUSH_MESSAGES} PUSH_REPLY")),
            "{err}"
        );
        assert!(acc.parts.is_empty());
        // A fresh push after the refusal starts from nothing.
        assert_eq!(acc.feed(",ping 10"), Ok(Some(vec!["ping 10".to_string()])));
    }

    #[test]
    fn a_push_over_the_byte_or_option_cap_is_refused() {
        let mut acc = PushAccumulator::default();
        let big = format!(",echo {},push-continuation 2", "x".repeat(200 * 1024));
        let mut result = Ok(None);
        for _ in 0..6 {
            result = acc.feed(&big);
            if result.is_err() {
                break;
            }
        }
        assert!(result.unwrap_err().contains("bytes of options"));
        let many = ",".to_string() + &vec!["ping 1"; MAX_PUSH_OPTIONS + 1].join(",");
        let err = PushAccumulator::default().feed(&many).unwrap_err();
        assert!(
            err.contains(&format!("more than {MAX_PUSH_OPTIONS} options")),
            "{err}"
        );
    }

    #[test]
    fn pushed_routes_and_dns_are_capped() {
        let routes = |n: usize| -> Vec<String> {
            (0..n)
                .map(|i| format!("route 10.{}.{}.0 255.255.255.0", i / 256, i % 256))
                .collect()
        };
        let (o, _) = parse_options(&routes(MAX_ROUTES)).unwrap();
        assert_eq!(o.routes.len(), MAX_ROUTES);
        let err = parse_options(&routes(MAX_ROUTES + 1)).unwrap_err();
        assert_eq!(
            err,
            format!(
                "{} IPv4 routes; at most {MAX_ROUTES} are accepted",
                MAX_ROUTES + 1
            )
        );
        let dns: Vec<String> = (0..=MAX_DNS_SERVERS)
            .map(|i| format!("dhcp-option DNS 10.0.0.{i}"))
            .collect();
        assert!(parse_options(&dns[..MAX_DNS_SERVERS]).is_ok());
        assert!(parse_options(&dns).unwrap_err().contains("DNS servers"));
        let long = format!("dhcp-option DOMAIN {}", "a".repeat(MAX_NAME_CHARS + 1));
        assert!(parse_options(&[long])
            .unwrap_err()
            .contains("domain longer"));
    }

    proptest::proptest! {
        /// Whatever a server sends, the accumulator never holds more than the byte cap and
        /// every push ends, complete or refused, within the message cap.
        #[test]
        fn the_accumulator_stays_within_its_caps(
            bodies in proptest::collection::vec("(,[a-z ]{0,40}){0,8}(,push-continuation 2)?", 1..40),
            repeat in 1usize..40,
        ) {
            let mut acc = PushAccumulator::default();
            for body in bodies.iter().cycle().take(bodies.len() * repeat) {
                let _ = acc.feed(body);
                let held: usize = acc.parts.iter().map(String::len).sum();
                proptest::prop_assert!(held <= MAX_PUSH_BYTES);
                proptest::prop_assert!(acc.messages <= MAX_PUSH_MESSAGES);
                proptest::prop_assert!(acc.parts.len() <= MAX_PUSH_OPTIONS);
            }
        }
    }
}
