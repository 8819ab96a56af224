//! The helper's own sockets on Linux: every socket the engine opens (to the server, to a
//! proxy, to a name server for their names) carries `FWMARK` (SO_MARK, which needs the
//! CAP_NET_ADMIN the helper has anyway). The firewall accepts exactly these outside the
//! tunnel, and the routing rules send them to the main table, past the tunnel's own.

use std::io;

use causeway_engine::{Lookup, OwnSockets, RawSocket};

use super::resolver;

/// "cway": what the firewall and the routing rules recognise the helper's sockets by.
pub const FWMARK: u32 = 0x6377_6179;

pub struct MarkedSockets;

/// Sets SO_MARK on `fd`.
pub fn mark(fd: RawSocket) -> io::Result<()> {
    let value: libc::c_int = FWMARK as libc::c_int;
    // SAFETY: a socket descriptor the caller owns and a c_int option of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_MARK,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        let e = io::Error::last_os_error();
        Err(io::Error::new(
            e.kind(),
            format!("cannot mark the helper's socket (SO_MARK): {e}"),
        ))
    }
}

impl OwnSockets for MarkedSockets {
    fn prepare(&self, socket: RawSocket) -> io::Result<()> {
        mark(socket)
    }

    fn resolve<'a>(&'a self, host: &'a str, port: u16) -> Lookup<'a> {
        Box::pin(resolver::lookup(host, port))
    }
}
