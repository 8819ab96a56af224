//! DNS on Windows: the tunnel adapter's search list, and its servers unless DNS is split,
//! through SetInterfaceDnsSettings, and an NRPT rule (nrpt.rs) that sends the routed names —
//! every name when the tunnel is the default route — to the tunnel's servers whatever the
//! other adapters say. The adapter's settings go with the adapter; the rule is a registry key,
//! journaled before it is written: `restore` deletes it, and crash recovery deletes the rules
//! of helpers that died. After each change the DNS Client service is told to re-read its
//! parameters (SERVICE_CONTROL_PARAMCHANGE).

use windows::core::{GUID, HSTRING, PWSTR};
use windows::Win32::Foundation::{ERROR_FILE_NOT_FOUND, NO_ERROR, WIN32_ERROR};
use windows::Win32::NetworkManagement::IpHelper::{
    ConvertInterfaceIndexToLuid, ConvertInterfaceLuidToGuid, SetInterfaceDnsSettings,
    DNS_INTERFACE_SETTINGS, DNS_INTERFACE_SETTINGS_VERSION1, DNS_SETTING_IPV6,
    DNS_SETTING_NAMESERVER, DNS_SETTING_SEARCHLIST,
};
use windows::Win32::NetworkManagement::Ndis::NET_LUID_LH;
use windows::Win32::System::Registry::{
    RegCloseKey, RegCreateKeyExW, RegDeleteTreeW, RegSetValueExW, HKEY, HKEY_LOCAL_MACHINE,
    KEY_ALL_ACCESS, REG_DWORD, REG_MULTI_SZ, REG_OPTION_NON_VOLATILE, REG_SZ,
};
use windows::Win32::System::Services::{
    CloseServiceHandle, ControlService, OpenSCManagerW, OpenServiceW, SC_MANAGER_CONNECT,
    SERVICE_CONTROL_PARAMCHANGE, SERVICE_PAUSE_CONTINUE, SERVICE_STATUS,
};

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::nrpt::{self, RegValue};
use crate::netguard::dns_plan::DnsPlan;
use crate::netguard::journal;
use crate::netguard::journaled::{JournaledChange, Undo};
use crate::netguard::Recovery;
use crate::platform::{DnsChange, Link};

fn win(rc: WIN32_ERROR, what: impl FnOnce() -> String) -> Result<(), String> {
    if rc == NO_ERROR {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            what(),
            std::io::Error::from_raw_os_error(rc.0 as i32)
        ))
    }
}

/// The local (non-group-policy) NRPT; the DNS client reads it when no group policy NRPT exists.
const NRPT_KEY: &str = r"SYSTEM\CurrentControlSet\Services\Dnscache\Parameters\DnsPolicyConfig";

const JOURNAL_KIND: &str = "nrpt";

/// The journal's record of a rule: its key under the NRPT.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NrptRecord {
    key: String,
}

impl Undo for NrptRecord {
    fn undo(&self) -> Result<(), String> {
        delete_rule(&self.key)?;
        notify_dns_client();
        Ok(())
    }
}

/// The rule of one tunnel, journaled; dropping it deletes the rule too.
pub struct WindowsDns {
    rule: Option<JournaledChange<NrptRecord>>,
}

impl DnsChange for WindowsDns {
    fn backend(&self) -> &'static str {
        "SetInterfaceDnsSettings and the NRPT"
    }

    fn restore(mut self) -> Result<(), String> {
        self.rule.take().map_or(Ok(()), |mut rule| rule.undo())
    }
}

pub fn apply(journal_dir: &Path, link: &Link, plan: &DnsPlan) -> Result<WindowsDns, String> {
    let guid = interface_guid(link.index)?;
    let search = plan.search.join(",");
    for v6 in [false, true] {
        // Split DNS: the adapter gets no servers, or Windows would send it other names too;
        // the NRPT rule alone routes the tunnel's names to them.
        let servers: Vec<String> = plan
            .servers
            .iter()
            .filter(|s| s.is_ipv6() == v6 && !plan.is_split())
            .map(|s| s.to_string())
            .collect();
        if servers.is_empty() && v6 {
            continue;
        }
        set_interface_dns(guid, &servers.join(","), &search, v6)
            .map_err(|e| format!("cannot set the DNS servers of {}: {e}", link.name))?;
    }
    let Some(values) = nrpt::rule_values(plan.is_exclusive(), &plan.routing, &plan.servers) else {
        return Ok(WindowsDns { rule: None });
    };
    let key = nrpt::rule_key_name(&link.name);
    let record = NrptRecord { key: key.clone() };
    let rule = JournaledChange::make(journal_dir, JOURNAL_KIND, "the NRPT rule", record, || {
        write_rule(&key, &values)?;
        notify_dns_client();
        Ok(())
    })?;
    Ok(WindowsDns { rule: Some(rule) })
}

fn interface_guid(index: u32) -> Result<GUID, String> {
    let mut luid = NET_LUID_LH::default();
    win(
        unsafe { ConvertInterfaceIndexToLuid(index, &mut luid) },
        || format!("interface {index} not found"),
    )?;
    let mut guid = GUID::zeroed();
    win(
        unsafe { ConvertInterfaceLuidToGuid(&luid, &mut guid) },
        || format!("interface {index} has no GUID"),
    )?;
    Ok(guid)
}

fn set_interface_dns(guid: GUID, servers: &str, search: &str, v6: bool) -> Result<(), String> {
    let mut servers: Vec<u16> = servers.encode_utf16().chain([0]).collect();
    let mut search: Vec<u16> = search.encode_utf16().chain([0]).collect();
    let mut flags = u64::from(DNS_SETTING_NAMESERVER | DNS_SETTING_SEARCHLIST);
    if v6 {
        flags |= u64::from(DNS_SETTING_IPV6);
    }
    let settings = DNS_INTERFACE_SETTINGS {
        Version: DNS_INTERFACE_SETTINGS_VERSION1,
        Flags: flags,
        NameServer: PWSTR(servers.as_mut_ptr()),
        SearchList: PWSTR(search.as_mut_ptr()),
        ..Default::default()
    };
    win(unsafe { SetInterfaceDnsSettings(guid, &settings) }, || {
        "SetInterfaceDnsSettings".to_owned()
    })
}

struct Key(HKEY);

impl Drop for Key {
    fn drop(&mut self) {
        unsafe {
            let _ = RegCloseKey(self.0);
        }
    }
}

fn write_rule(name: &str, values: &[(&'static str, RegValue)]) -> Result<(), String> {
    let path = HSTRING::from(format!(r"{}\{name}", NRPT_KEY));
    let mut key = HKEY::default();
    win(
        unsafe {
            RegCreateKeyExW(
                HKEY_LOCAL_MACHINE,
                &path,
                None,
                None,
                REG_OPTION_NON_VOLATILE,
                KEY_ALL_ACCESS,
                None,
                &mut key,
                None,
            )
        },
        || format!("cannot create the NRPT rule {name}"),
    )?;
    let key = Key(key);
    for (value, data) in values {
        let kind = match data {
            RegValue::Dword(_) => REG_DWORD,
            RegValue::Sz(_) => REG_SZ,
            RegValue::MultiSz(_) => REG_MULTI_SZ,
        };
        let bytes = nrpt::encode(data);
        win(
            unsafe { RegSetValueExW(key.0, &HSTRING::from(*value), None, kind, Some(&bytes)) },
            || format!("cannot write {value} of the NRPT rule {name}"),
        )?;
    }
    Ok(())
}

fn delete_rule(name: &str) -> Result<(), String> {
    let path = HSTRING::from(format!(r"{}\{name}", NRPT_KEY));
    let rc = unsafe { RegDeleteTreeW(HKEY_LOCAL_MACHINE, &path) };
    if rc == ERROR_FILE_NOT_FOUND {
        return Ok(());
    }
    win(rc, || format!("cannot delete the NRPT rule {name}"))
}

/// Asks the DNS Client service to re-read its parameters (the NRPT among them); it does so
/// on its own within minutes otherwise, so a failure is only logged.
fn notify_dns_client() {
    unsafe {
        let Ok(scm) = OpenSCManagerW(None, None, SC_MANAGER_CONNECT) else {
            crate::log::warn("cannot reach the service manager to refresh DNS");
            return;
        };
        if let Ok(svc) = OpenServiceW(scm, &HSTRING::from("Dnscache"), SERVICE_PAUSE_CONTINUE) {
            let mut status = SERVICE_STATUS::default();
            if let Err(e) = ControlService(svc, SERVICE_CONTROL_PARAMCHANGE, &mut status) {
                crate::log::warn(&format!(
                    "the DNS Client did not take the new rules yet: {e}"
                ));
            }
            let _ = CloseServiceHandle(svc);
        }
        let _ = CloseServiceHandle(scm);
    }
}

/// Deletes the NRPT rules that helpers which died had journaled.
pub fn recover_after_crash(journal_dir: &Path, recovery: &mut Recovery) {
    for orphan in journal::orphans::<NrptRecord>(journal_dir, JOURNAL_KIND, &mut recovery.problems)
    {
        orphan.restore_dns(|record| record.undo(), recovery);
    }
}
