//! systemd-resolved over D-Bus (org.freedesktop.resolve1.Manager): per-link servers and
//! domains on the tunnel device, like NetworkManager and openvpn's dns-updown do. resolved
//! forgets a link's settings when the link disappears, so a crashed helper's TUN device takes
//! its DNS with it; RevertLink is the explicit undo.

use std::net::IpAddr;

use zbus::blocking::{Connection, Proxy};

use crate::netguard::dns_plan::DnsPlan;

const SERVICE: &str = "org.freedesktop.resolve1";
const PATH: &str = "/org/freedesktop/resolve1";
const MANAGER: &str = "org.freedesktop.resolve1.Manager";

const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;

/// A connection to resolved, when it is running on the system bus.
pub struct Resolved {
    connection: Connection,
}

impl Resolved {
    /// Connects when resolved owns its bus name now (no D-Bus activation: starting resolved
    /// would not make the system use it).
    pub fn running() -> Option<Resolved> {
        let connection = Connection::system().ok()?;
        let has_owner: bool = connection
            .call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                "NameHasOwner",
                &(SERVICE,),
            )
            .ok()?
            .body()
            .deserialize()
            .ok()?;
        has_owner.then_some(Resolved { connection })
    }

    fn manager(&self) -> Result<Proxy<'_>, String> {
        Proxy::new(&self.connection, SERVICE, PATH, MANAGER)
            .map_err(|e| format!("systemd-resolved: {e}"))
    }

    fn call<B>(&self, method: &str, body: &B) -> Result<(), String>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        self.manager()?
            .call_method(method, body)
            .map(|_| ())
            .map_err(|e| format!("systemd-resolved {method}: {e}"))
    }

    pub fn apply(&self, ifindex: u32, plan: &DnsPlan) -> Result<(), String> {
        let index = i32::try_from(ifindex)
            .map_err(|_| format!("interface index {ifindex} out of range"))?;
        self.call("SetLinkDNS", &(index, link_dns(&plan.servers)))?;
        self.call("SetLinkDomains", &(index, link_domains(plan)))?;
        self.call("SetLinkDefaultRoute", &(index, plan.default_route))?;
        // Answers cached from the previous resolvers must not outlive the switch.
        let _ = self.call("FlushCaches", &());
        Ok(())
    }

    pub fn revert(&self, ifindex: u32) -> Result<(), String> {
        let index = i32::try_from(ifindex)
            .map_err(|_| format!("interface index {ifindex} out of range"))?;
        self.call("RevertLink", &(index,))?;
        let _ = self.call("FlushCaches", &());
        Ok(())
    }
}

/// SetLinkDNS's a(iay): address family and raw address bytes.
fn link_dns(servers: &[IpAddr]) -> Vec<(i32, Vec<u8>)> {
    servers
        .iter()
        .map(|ip| match ip {
            IpAddr::V4(a) => (AF_INET, a.octets().to_vec()),
            IpAddr::V6(a) => (AF_INET6, a.octets().to_vec()),
        })
        .collect()
}

/// SetLinkDomains's a(sb): (domain, routing-only). Search domains also route their names to
/// this link; "." as a routing domain is resolved's "~.": every name goes to the tunnel.
fn link_domains(plan: &DnsPlan) -> Vec<(String, bool)> {
    let search = plan.search.iter().map(|d| (d.clone(), false));
    let routing = plan
        .routing
        .iter()
        .filter(|d| !plan.search.contains(d))
        .map(|d| (d.clone(), true));
    search.chain(routing).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms_match_resolved_signatures() {
        let plan = DnsPlan {
            servers: vec!["10.8.0.1".parse().unwrap(), "fd00::35".parse().unwrap()],
            search: vec!["corp.example".into()],
            routing: vec![".".into()],
            default_route: true,
        };
        let dns = link_dns(&plan.servers);
        assert_eq!(dns[0], (AF_INET, vec![10, 8, 0, 1]));
        assert_eq!(dns[1].0, AF_INET6);
        assert_eq!(dns[1].1.len(), 16);
        assert_eq!(
            link_domains(&plan),
            vec![("corp.example".into(), false), (".".into(), true)]
        );
    }
}
