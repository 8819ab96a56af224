//! Process facts for crash records on macOS: the boot session (sysctl kern.bootsessionuuid),
//! a process's start time and command name (proc_pidinfo PROC_PIDTBSDINFO).

/// The helper's command name as the kernel stores it (p_comm, at most MAXCOMLEN = 16 bytes,
/// NUL-terminated when shorter).
const HELPER_COMM: &[u8] = b"causeway-helper";

/// Whether a p_comm buffer names the helper.
pub fn comm_is_helper(comm: &[u8]) -> bool {
    let end = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
    &comm[..end] == HELPER_COMM
}

/// A start time as one number: microseconds since the epoch.
pub fn start_time_micros(seconds: u64, micros: u64) -> u64 {
    seconds * 1_000_000 + micros
}

#[cfg(target_os = "macos")]
pub use sys::{boot_id, is_running_helper, start_time};

#[cfg(target_os = "macos")]
mod sys {
    use super::{comm_is_helper, start_time_micros};

    fn bsd_info(pid: u32) -> Option<libc::proc_bsdinfo> {
        let mut info: libc::proc_bsdinfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
        // SAFETY: `info` is a writable buffer of `size` bytes for the kernel to fill.
        let n = unsafe {
            libc::proc_pidinfo(
                pid as libc::c_int,
                libc::PROC_PIDTBSDINFO,
                0,
                (&mut info as *mut libc::proc_bsdinfo).cast(),
                size,
            )
        };
        (n == size).then_some(info)
    }

    pub fn start_time(pid: u32) -> Option<u64> {
        let info = bsd_info(pid)?;
        Some(start_time_micros(
            info.pbi_start_tvsec,
            info.pbi_start_tvusec,
        ))
    }

    pub fn is_running_helper(pid: u32) -> bool {
        bsd_info(pid).is_some_and(|info| {
            let comm: Vec<u8> = info.pbi_comm.iter().map(|&c| c as u8).collect();
            comm_is_helper(&comm)
        })
    }

    /// A UUID the kernel draws at each boot.
    pub fn boot_id() -> String {
        let mut buf = [0u8; 64];
        let mut len = buf.len();
        // SAFETY: the name is NUL-terminated; `buf` is writable for `len` bytes.
        let rc = unsafe {
            libc::sysctlbyname(
                c"kern.bootsessionuuid".as_ptr(),
                buf.as_mut_ptr().cast(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc != 0 {
            return String::new();
        }
        let end = buf[..len].iter().position(|&b| b == 0).unwrap_or(len);
        String::from_utf8_lossy(&buf[..end]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helper_is_recognized_by_its_kernel_command_name() {
        assert!(comm_is_helper(b"causeway-helper\0"));
        assert!(comm_is_helper(b"causeway-helper"));
        assert!(!comm_is_helper(b"causeway-helpe\0\0"));
        assert!(!comm_is_helper(b"causeway-helperX"));
        assert!(!comm_is_helper(b"\0"));
    }

    #[test]
    fn start_times_order_by_seconds_then_microseconds() {
        assert_eq!(start_time_micros(2, 5), 2_000_005);
        assert!(start_time_micros(1, 999_999) < start_time_micros(2, 0));
    }
}
