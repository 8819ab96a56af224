//! The service socket: created owner-only, then handed to the service group with mode 0660,
//! so there is no moment when anyone else could connect.

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use tokio::net::UnixListener;

pub const MODE: u32 = 0o660;

pub fn bind(path: &Path, gid: u32) -> Result<UnixListener, String> {
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

pub fn remove(path: &Path) {
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = fs::remove_file(path);
    }
}
