//! Who is on the other end of a service connection, from the Linux kernel: uid, gid and pid
//! at connect time (SO_PEERCRED) and the supplementary groups (SO_PEERGROUPS).

use std::io;
use std::os::fd::AsRawFd;

use tokio::net::UnixStream;

use crate::platform::unix::service::UnixPeer;

pub fn credentials(stream: &UnixStream) -> io::Result<UnixPeer> {
    let cred = stream.peer_cred()?;
    let pid = cred.pid().and_then(|p| u32::try_from(p).ok()).unwrap_or(0);
    Ok(UnixPeer {
        uid: cred.uid(),
        gid: cred.gid(),
        pid,
        groups: peer_groups(stream)?,
    })
}

fn peer_groups(stream: &UnixStream) -> io::Result<Vec<u32>> {
    let fd = stream.as_raw_fd();
    let mut groups: Vec<libc::gid_t> = vec![0; 64];
    loop {
        let mut len = (groups.len() * std::mem::size_of::<libc::gid_t>()) as libc::socklen_t;
        // SAFETY: `groups` is a valid buffer of `len` bytes for the kernel to fill.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_PEERGROUPS,
                groups.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if rc == 0 {
            groups.truncate(len as usize / std::mem::size_of::<libc::gid_t>());
            return Ok(groups);
        }
        let err = io::Error::last_os_error();
        // ERANGE: the buffer was too small and `len` now says how large it must be.
        if err.raw_os_error() == Some(libc::ERANGE)
            && (len as usize) > groups.len() * std::mem::size_of::<libc::gid_t>()
        {
            groups.resize(len as usize / std::mem::size_of::<libc::gid_t>() + 1, 0);
            continue;
        }
        return Err(err);
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_pid_of_a_socketpair_peer_is_our_own() {
        let (a, _b) = tokio::net::UnixStream::pair().unwrap();
        assert_eq!(super::credentials(&a).unwrap().pid, std::process::id());
    }
}
