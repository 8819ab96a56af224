//! Who is on the other end of a service connection, from the kernel: uid, gid and pid at
//! connect time (SO_PEERCRED) and the supplementary groups (SO_PEERGROUPS).

use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;

use tokio::net::UnixStream;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub uid: u32,
    pub pid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

impl Peer {
    /// root, or a member (primary or supplementary) of the service group.
    pub fn may_use_service(&self, service_gid: u32) -> bool {
        self.uid == 0 || self.gid == service_gid || self.groups.contains(&service_gid)
    }
}

pub fn credentials(stream: &UnixStream) -> io::Result<Peer> {
    let cred = stream.peer_cred()?;
    let pid = cred.pid().and_then(|p| u32::try_from(p).ok()).unwrap_or(0);
    Ok(Peer {
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

/// The gid of group `name`, with a message that says how to fix a missing group.
pub fn group_id(name: &str) -> Result<u32, String> {
    let cname = CString::new(name).map_err(|_| format!("invalid group name {name:?}"))?;
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the duration of the call; `buf` backs `grp`'s strings.
    let rc = unsafe {
        libc::getgrnam_r(
            cname.as_ptr(),
            &mut grp,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        return Err(format!(
            "cannot look up group {name:?}: {}",
            io::Error::from_raw_os_error(rc)
        ));
    }
    if result.is_null() {
        return Err(format!(
            "group {name:?} does not exist; create it with systemd-sysusers (the package installs causeway.conf) or groupadd --system {name}"
        ));
    }
    Ok(grp.gr_gid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_or_group_members_only() {
        let peer = |uid, gid, groups: &[u32]| Peer {
            uid,
            pid: 1,
            gid,
            groups: groups.to_vec(),
        };
        assert!(peer(0, 0, &[]).may_use_service(990));
        assert!(peer(1000, 990, &[]).may_use_service(990));
        assert!(peer(1000, 1000, &[27, 990]).may_use_service(990));
        assert!(!peer(1000, 1000, &[27]).may_use_service(990));
    }

    #[tokio::test]
    async fn credentials_of_a_socketpair_are_our_own() {
        let (a, _b) = UnixStream::pair().unwrap();
        let p = credentials(&a).unwrap();
        assert_eq!(p.uid, unsafe { libc::geteuid() });
        assert_eq!(p.pid, std::process::id());
    }

    #[test]
    fn a_missing_group_says_how_to_create_it() {
        let e = group_id("causeway-no-such-group").unwrap_err();
        assert!(
            e.contains("does not exist") && e.contains("groupadd"),
            "{e}"
        );
        assert_eq!(group_id("root").unwrap(), 0);
    }
}
