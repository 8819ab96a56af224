//! The service's readiness notification to systemd.

use std::path::Path;

use crate::log;

/// Tells systemd (Type=notify) that the socket is ready; a no-op when not run by systemd.
pub fn notify_ready() {
    let Some(addr) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let bytes = addr.as_encoded_bytes();
    let sent = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|a| sock.send_to_addr(b"READY=1", &a))
    } else {
        sock.send_to(b"READY=1", Path::new(&addr))
    };
    if let Err(e) = sent {
        log::warn(&format!("cannot notify systemd: {e}"));
    }
}
