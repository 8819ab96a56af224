//! Who is on the other end of a service connection on macOS: uid and gid (getpeereid) and pid
//! (LOCAL_PEERPID), as tokio reads them, and the supplementary groups from LOCAL_PEERCRED's
//! struct xucred (sys/ucred.h), mirrored here and checked against the SDK's layout.

/// sys/un.h: the socket option level and options of local sockets.
pub const SOL_LOCAL: i32 = 0;
pub const LOCAL_PEERCRED: i32 = 0x001;
/// sys/ucred.h.
pub const XUCRED_VERSION: u32 = 0;
pub const NGROUPS: usize = 16;

/// struct xucred.
#[repr(C)]
pub struct XuCred {
    pub cr_version: u32,
    pub cr_uid: u32,
    pub cr_ngroups: i16,
    pub cr_groups: [u32; NGROUPS],
}

/// The groups in a xucred the kernel filled in; None for a version this code does not know.
pub fn groups(cred: &XuCred) -> Option<Vec<u32>> {
    if cred.cr_version != XUCRED_VERSION {
        return None;
    }
    let n = (cred.cr_ngroups.max(0) as usize).min(NGROUPS);
    Some(cred.cr_groups[..n].to_vec())
}

#[cfg(target_os = "macos")]
pub use sys::credentials;

#[cfg(target_os = "macos")]
mod sys {
    use super::*;
    use std::io;
    use std::os::fd::AsRawFd;

    use tokio::net::UnixStream;

    use crate::platform::unix::service::UnixPeer;

    const _: () = assert!(std::mem::size_of::<XuCred>() == std::mem::size_of::<libc::xucred>());
    const _: () = assert!(LOCAL_PEERCRED == libc::LOCAL_PEERCRED);

    pub fn credentials(stream: &UnixStream) -> io::Result<UnixPeer> {
        let cred = stream.peer_cred()?;
        let mut x = XuCred {
            cr_version: XUCRED_VERSION,
            cr_uid: 0,
            cr_ngroups: 0,
            cr_groups: [0; NGROUPS],
        };
        let mut len = std::mem::size_of::<XuCred>() as libc::socklen_t;
        // SAFETY: `x` is a writable struct xucred of `len` bytes.
        let rc = unsafe {
            libc::getsockopt(
                stream.as_raw_fd(),
                SOL_LOCAL,
                LOCAL_PEERCRED,
                (&mut x as *mut XuCred).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let groups = groups(&x)
            .ok_or_else(|| io::Error::other("LOCAL_PEERCRED returned an unknown xucred version"))?;
        Ok(UnixPeer {
            uid: cred.uid(),
            gid: cred.gid(),
            pid: cred.pid().and_then(|p| u32::try_from(p).ok()).unwrap_or(0),
            groups,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn xucred_has_the_sdk_layout() {
        // sys/un.h and sys/ucred.h.
        assert_eq!(
            (SOL_LOCAL, LOCAL_PEERCRED, XUCRED_VERSION, NGROUPS),
            (0, 1, 0, 16)
        );
        assert_eq!(size_of::<XuCred>(), 76);
        assert_eq!(offset_of!(XuCred, cr_ngroups), 8);
        assert_eq!(offset_of!(XuCred, cr_groups), 12);
    }

    #[test]
    fn groups_are_read_within_bounds() {
        let mut x = XuCred {
            cr_version: 0,
            cr_uid: 501,
            cr_ngroups: 3,
            cr_groups: [0; NGROUPS],
        };
        x.cr_groups[..3].copy_from_slice(&[20, 12, 990]);
        assert_eq!(groups(&x).unwrap(), [20, 12, 990]);
        x.cr_ngroups = 99;
        assert_eq!(groups(&x).unwrap().len(), NGROUPS);
        x.cr_ngroups = -1;
        assert_eq!(groups(&x).unwrap(), Vec::<u32>::new());
        x.cr_version = 1;
        assert_eq!(groups(&x), None);
    }
}
