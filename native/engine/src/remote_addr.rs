//! Which address to dial for a remote: OpenVPN's `persist-remote-ip`, within one session.
//!
//! Once a remote's name has been resolved and a connection to that address was established,
//! reconnects to the remote dial that address again instead of resolving the name. A dropped
//! session's DNS usually points into the dead tunnel (and the kill switch blocks the LAN
//! resolver), so a fresh lookup would fail and the session would never come back. The name is
//! resolved again only after the remembered address failed to connect; if that lookup fails
//! too, the remembered address is dialed anyway. Pure logic, unit-tested without sockets.

use std::collections::HashMap;
use std::net::SocketAddr;

/// What to do before connecting to a remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dial {
    /// Dial this address, remembered from an earlier connection of this session.
    Remembered(SocketAddr),
    /// Resolve the name; if that fails, dial `fallback` (when there is one).
    Resolve { fallback: Option<SocketAddr> },
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    addr: SocketAddr,
    /// The remembered address failed its last attempt: give the resolver a chance next.
    resolve_next: bool,
}

/// Remembered addresses, keyed by the remote's index in the session's remote list.
#[derive(Debug, Default)]
pub struct AddressMemory {
    entries: HashMap<usize, Entry>,
}

impl AddressMemory {
    pub fn plan(&self, remote: usize) -> Dial {
        match self.entries.get(&remote) {
            None => Dial::Resolve { fallback: None },
            Some(e) if e.resolve_next => Dial::Resolve {
                fallback: Some(e.addr),
            },
            Some(e) => Dial::Remembered(e.addr),
        }
    }

    /// Records how an attempt to `addr` ended. An established connection makes `addr` the one
    /// to reuse. A failed remembered address lets the next attempt resolve; a failed freshly
    /// resolved address sends the next attempt back to the remembered one.
    pub fn attempted(&mut self, remote: usize, addr: SocketAddr, established: bool) {
        if established {
            self.entries.insert(
                remote,
                Entry {
                    addr,
                    resolve_next: false,
                },
            );
        } else if let Some(e) = self.entries.get_mut(&remote) {
            e.resolve_next = e.addr == addr;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn resolves_until_a_connection_is_established() {
        let mut m = AddressMemory::default();
        assert_eq!(m.plan(0), Dial::Resolve { fallback: None });
        m.attempted(0, a("192.0.2.1:1194"), false);
        assert_eq!(m.plan(0), Dial::Resolve { fallback: None });
        m.attempted(0, a("192.0.2.2:1194"), true);
        assert_eq!(m.plan(0), Dial::Remembered(a("192.0.2.2:1194")));
        // Other remotes are unaffected.
        assert_eq!(m.plan(1), Dial::Resolve { fallback: None });
    }

    #[test]
    fn reconnects_reuse_the_address_until_it_fails() {
        let mut m = AddressMemory::default();
        let first = a("192.0.2.1:1194");
        m.attempted(0, first, true);
        // A dropped session (established, then lost) comes back to the same address.
        m.attempted(0, first, true);
        assert_eq!(m.plan(0), Dial::Remembered(first));
        // The remembered address fails: resolve, keeping it as the fallback.
        m.attempted(0, first, false);
        assert_eq!(
            m.plan(0),
            Dial::Resolve {
                fallback: Some(first)
            }
        );
        // The fallback was dialed (lookup failed) and failed again: still resolve next.
        m.attempted(0, first, false);
        assert_eq!(
            m.plan(0),
            Dial::Resolve {
                fallback: Some(first)
            }
        );
    }

    #[test]
    fn a_failed_new_address_goes_back_to_the_remembered_one() {
        let mut m = AddressMemory::default();
        let first = a("192.0.2.1:1194");
        m.attempted(0, first, true);
        m.attempted(0, first, false);
        m.attempted(0, a("192.0.2.9:1194"), false);
        assert_eq!(m.plan(0), Dial::Remembered(first));
    }

    #[test]
    fn a_working_new_address_replaces_the_remembered_one() {
        let mut m = AddressMemory::default();
        let (first, moved) = (a("192.0.2.1:1194"), a("198.51.100.4:1194"));
        m.attempted(0, first, true);
        m.attempted(0, first, false);
        m.attempted(0, moved, true);
        assert_eq!(m.plan(0), Dial::Remembered(moved));
    }
}
