//! Windows platform: Wintun adapters, the IP Helper API, SetInterfaceDnsSettings and the NRPT,
//! WFP filters, and the `CausewayHelper` service on a named pipe.
//!
//! The pure planning (NRPT rule contents, pipe DACLs, WFP filter lists, route rows and
//! metrics) is compiled on every OS for the unit tests, so it is checked on Linux as well as
//! under wine; the modules that call Windows are compiled for Windows only.

pub mod nrpt;
pub mod pipe_acl;
pub mod route_rows;
pub mod wfp_plan;

#[cfg(windows)]
mod dns;
#[cfg(windows)]
mod iphelper;
#[cfg(windows)]
mod pipe;
#[cfg(windows)]
pub mod scm;
#[cfg(windows)]
pub mod service;
#[cfg(windows)]
mod wfp;
#[cfg(windows)]
mod wintun_device;

#[cfg(windows)]
pub use os::Windows;

#[cfg(windows)]
mod os {
    use std::io;
    use std::path::Path;

    use windows::core::{HSTRING, PWSTR};
    use windows::Win32::Foundation::{CloseHandle, FILETIME, NO_ERROR};
    use windows::Win32::NetworkManagement::IpHelper::ConvertInterfaceAliasToLuid;
    use windows::Win32::NetworkManagement::Ndis::NET_LUID_LH;
    use windows::Win32::System::Registry::{RegGetValueW, HKEY_LOCAL_MACHINE, RRF_RT_REG_DWORD};
    use windows::Win32::System::Threading::{
        GetProcessTimes, OpenProcess, QueryFullProcessImageNameW, PROCESS_NAME_WIN32,
        PROCESS_QUERY_LIMITED_INFORMATION,
    };

    use super::{dns, iphelper, wfp, wintun_device};
    use crate::netguard::dns_plan::DnsPlan;
    use crate::netguard::firewall::Policy;
    use crate::netguard::Recovery;
    use crate::platform::{Link, Platform, TunnelDevice};

    pub struct Windows;

    const BOOT_ID_KEY: &str =
        r"SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management\PrefetchParameters";

    impl Platform for Windows {
        type Net = iphelper::IpHelper;
        type Dns = dns::WindowsDns;
        /// Route changes are not watched here (`watch_routes` keeps its default): nothing ever runs.
        type RouteWatch = ();

        const ROUTE_STATE_DIR: &'static str = r"C:\ProgramData\Causeway\routes";
        const JOURNAL_DIR: &'static str = r"C:\ProgramData\Causeway\journal";

        fn open_net() -> io::Result<Self::Net> {
            Ok(iphelper::IpHelper)
        }

        fn create_tun() -> io::Result<TunnelDevice> {
            wintun_device::create()
        }

        fn apply_dns(journal_dir: &Path, link: &Link, plan: &DnsPlan) -> Result<Self::Dns, String> {
            dns::apply(journal_dir, link, plan)
        }

        fn install_firewall(policy: &Policy) -> Result<(), String> {
            wfp::install(policy, Self::is_running_helper)
        }

        fn firewall_orphans() -> Result<usize, String> {
            wfp::orphans(Self::is_running_helper)
        }

        fn remove_firewall_orphans() -> Result<usize, String> {
            wfp::remove_orphans(Self::is_running_helper)
        }

        /// A dead helper's NRPT rules are removed now (its adapters went with it); its WFP
        /// filters are `firewall_orphans`.
        fn recover_after_crash(journal_dir: &Path, recovery: &mut Recovery) {
            dns::recover_after_crash(journal_dir, recovery);
        }

        /// The kernel's boot counter (incremented at every boot since Windows 8).
        fn boot_id() -> String {
            let mut id = 0u32;
            let mut len = 4u32;
            let rc = unsafe {
                RegGetValueW(
                    HKEY_LOCAL_MACHINE,
                    &HSTRING::from(BOOT_ID_KEY),
                    &HSTRING::from("BootId"),
                    RRF_RT_REG_DWORD,
                    None,
                    Some((&mut id as *mut u32).cast()),
                    Some(&mut len),
                )
            };
            if rc == NO_ERROR {
                format!("boot-{id}")
            } else {
                String::from("boot-unknown")
            }
        }

        /// The process's creation time (FILETIME, 100 ns since 1601).
        fn process_start_time(pid: u32) -> Option<u64> {
            let process =
                unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, pid) }.ok()?;
            let (mut created, mut exited, mut kernel, mut user) = Default::default();
            let times = unsafe {
                GetProcessTimes(process, &mut created, &mut exited, &mut kernel, &mut user)
            };
            unsafe {
                let _ = CloseHandle(process);
            }
            times.ok()?;
            let created: FILETIME = created;
            Some(u64::from(created.dwHighDateTime) << 32 | u64::from(created.dwLowDateTime))
        }

        /// The helper works in the default routing compartment only.
        fn network_namespace() -> u64 {
            1
        }

        fn is_running_helper(pid: u32) -> bool {
            let Ok(process) =
                (unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, pid) })
            else {
                return false;
            };
            let mut buf = [0u16; 1024];
            let mut len = buf.len() as u32;
            let named = unsafe {
                QueryFullProcessImageNameW(
                    process,
                    PROCESS_NAME_WIN32,
                    PWSTR(buf.as_mut_ptr()),
                    &mut len,
                )
            };
            unsafe {
                let _ = CloseHandle(process);
            }
            named.is_ok() && is_helper_image(&String::from_utf16_lossy(&buf[..len as usize]))
        }
    }

    pub(super) fn is_helper_image(path: &str) -> bool {
        path.rsplit(['\\', '/'])
            .next()
            .is_some_and(|f| f.eq_ignore_ascii_case("causeway-helper.exe"))
    }

    /// The LUID of the adapter called `alias`, as WFP's interface condition wants it.
    pub fn adapter_luid(alias: &str) -> Option<u64> {
        let mut luid = NET_LUID_LH::default();
        let rc = unsafe { ConvertInterfaceAliasToLuid(&HSTRING::from(alias), &mut luid) };
        (rc == NO_ERROR).then_some(unsafe { luid.Value })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn helpers_are_recognised_by_their_image_name() {
            assert!(is_helper_image(
                r"C:\Program Files\Causeway\resources\causeway-helper.exe"
            ));
            assert!(is_helper_image(r"C:\x\CAUSEWAY-HELPER.EXE"));
            assert!(!is_helper_image(r"C:\x\causeway-helper.exe.bak"));
            assert!(!is_helper_image(r"C:\Windows\notepad.exe"));
            // This test binary is not a helper; a pid that does not exist is not either.
            assert!(!Windows::is_running_helper(std::process::id()));
            assert!(!Windows::is_running_helper(0xFFFF_FFF0));
            // A process is identified by pid and start time; a boot by its id.
            let me = Windows::process_start_time(std::process::id());
            assert!(me.is_some_and(|t| t > 0));
            assert_eq!(Windows::process_start_time(std::process::id()), me);
            assert!(Windows::boot_id().starts_with("boot-"));
        }
    }
}

#[cfg(windows)]
use os::adapter_luid;
