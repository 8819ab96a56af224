//! The service on a Unix socket (Linux and macOS): created owner-only, then handed to the
//! service group with mode 0660, so there is no moment when anyone else could connect. Each
//! peer's credentials come from the kernel (the OS's `peer` module).

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use tokio::net::{UnixListener, UnixStream};

#[cfg(target_os = "linux")]
use crate::platform::linux::{peer, systemd};
#[cfg(target_os = "macos")]
use crate::platform::macos::peer;
use crate::platform::{PeerIdentity, ServiceTransport};
use crate::session_quota::OwnerKey;

pub const MODE: u32 = 0o660;

/// Who is on the other end of a Unix socket, from the kernel at connect time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixPeer {
    pub uid: u32,
    /// 0 where the OS does not say.
    pub pid: u32,
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

impl PeerIdentity for UnixPeer {
    type Group = u32;

    fn uid(&self) -> u32 {
        self.uid
    }

    fn owner(&self) -> OwnerKey {
        OwnerKey::new(format!("uid {}", self.uid))
    }

    /// root, or a member (primary or supplementary) of the service group.
    fn may_use_service(&self, service_gid: &u32) -> bool {
        self.uid == 0 || self.gid == *service_gid || self.groups.contains(service_gid)
    }

    fn describe(&self) -> String {
        format!("uid {} pid {}", self.uid, self.pid)
    }
}

pub struct UnixService {
    listener: UnixListener,
}

impl ServiceTransport for UnixService {
    type Group = u32;
    type Conn = UnixStream;
    type Peer = UnixPeer;
    #[cfg(target_os = "linux")]
    const DEFAULT_PATH: &'static str = "/run/causeway/helper.sock";
    /// macOS has no /run; resources/macos/org.causeway.helper.plist passes this path too.
    #[cfg(target_os = "macos")]
    const DEFAULT_PATH: &'static str = "/var/run/causeway/helper.sock";

    fn group_id(name: &str) -> Result<u32, String> {
        group_id(name)
    }

    fn bind(path: &Path, group: &u32) -> Result<Self, String> {
        bind(path, *group).map(|listener| UnixService { listener })
    }

    async fn accept(&self) -> io::Result<UnixStream> {
        self.listener.accept().await.map(|(stream, _)| stream)
    }

    fn peer(conn: &UnixStream) -> io::Result<UnixPeer> {
        peer::credentials(conn)
    }

    fn close(self, path: &Path) {
        drop(self.listener);
        remove(path);
    }

    /// systemd (Type=notify) is told; launchd has no readiness protocol (a daemon is
    /// ready when it accepts on its socket), so on macOS there is nothing to send.
    fn notify_ready() {
        #[cfg(target_os = "linux")]
        systemd::notify_ready();
    }
}

/// The gid of group `name`, with a message that says how to fix a missing group.
fn group_id(name: &str) -> Result<u32, String> {
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
            "group {name:?} does not exist; create it with systemd-sysusers (the package installs causeway.conf) or groupadd --system {name} (on macOS: dseditgroup -o create {name})"
        ));
    }
    Ok(grp.gr_gid)
}

fn bind(path: &Path, gid: u32) -> Result<UnixListener, String> {
    let shown = path.display();
    if let Some(dir) = path.parent() {
        // systemd's RuntimeDirectory= creates it; created here otherwise (root, 0755).
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    match fs::symlink_metadata(path) {
        // A socket left by a previous run; nothing else is ever removed.
        Ok(m) if m.file_type().is_socket() => {
            fs::remove_file(path).map_err(|e| format!("cannot remove stale {shown}: {e}"))?
        }
        Ok(_) => {
            return Err(format!(
                "{shown} exists and is not a socket; refusing to replace it"
            ))
        }
        Err(_) => {}
    }
    // SAFETY: umask is process-wide; the service binds once, before any other thread creates files.
    let old = unsafe { libc::umask(0o177) };
    let bound = UnixListener::bind(path);
    unsafe { libc::umask(old) };
    let listener = bound.map_err(|e| format!("cannot listen on {shown}: {e}"))?;
    std::os::unix::fs::chown(path, Some(0), Some(gid))
        .map_err(|e| format!("cannot give {shown} to group {gid}: {e}"))?;
    fs::set_permissions(path, fs::Permissions::from_mode(MODE))
        .map_err(|e| format!("cannot set the mode of {shown}: {e}"))?;
    Ok(listener)
}

fn remove(path: &Path) {
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_or_group_members_only() {
        let peer = |uid, gid, groups: &[u32]| UnixPeer {
            uid,
            pid: 1,
            gid,
            groups: groups.to_vec(),
        };
        assert!(peer(0, 0, &[]).may_use_service(&990));
        assert!(peer(1000, 990, &[]).may_use_service(&990));
        assert!(peer(1000, 1000, &[27, 990]).may_use_service(&990));
        assert!(!peer(1000, 1000, &[27]).may_use_service(&990));
    }

    #[tokio::test]
    async fn credentials_of_a_socketpair_are_our_own() {
        let (a, _b) = UnixStream::pair().unwrap();
        let p = UnixService::peer(&a).unwrap();
        assert_eq!(p.uid, unsafe { libc::geteuid() });
        assert_eq!(p.gid, unsafe { libc::getegid() });
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
