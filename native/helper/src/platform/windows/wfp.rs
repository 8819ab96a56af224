//! The firewall on Windows: the filters of wfp_plan.rs in a WFP sublayer of our own, under a
//! provider of our own, both persistent (they outlive any process and reboots, and carry no
//! rules by themselves). The filters are neither dynamic nor persistent: they stay in force
//! when the helper that added them dies (a crash is not a disconnect) and are gone after a
//! reboot. Each filter carries its helper's pid in its provider data, so that:
//!
//! - `install` replaces this helper's filters atomically (one transaction) with the current
//!   policy, and drops those of helpers that are no longer running (a session of this helper
//!   has now taken over, or has ended);
//! - crash recovery at start-up keeps a dead helper's filters until a session of the new
//!   helper installs its own, or until `ORPHAN_GRACE` passes with none (main gave up): the
//!   rule every OS follows (`netguard::firewall::keep_orphans`). The filters are not in a
//!   dynamic session on purpose: those vanish with the process that opened it.

use std::ffi::c_void;
use std::net::IpAddr;

use windows::core::{GUID, HSTRING, PCWSTR, PWSTR};
use windows::Win32::Foundation::HANDLE;
use windows::Win32::NetworkManagement::WindowsFilteringPlatform::*;
use windows::Win32::System::Rpc::RPC_C_AUTHN_WINNT;

use super::wfp_plan::{Action, Condition, Filter, Layer};
use crate::netguard::firewall::Policy;
use crate::netguard::lan::{mask4, Lan};

const PROVIDER: GUID = GUID::from_u128(0x6c1f3b2e_8a4d_4f57_9d0e_2b7c5a91e3f4);
const SUBLAYER: GUID = GUID::from_u128(0x9e2d7a41_3c6b_4e18_a5f2_71d04b8c6e29);
/// Above the default sublayers (whose weights are small), below nothing we know of.
const SUBLAYER_WEIGHT: u16 = 0xFFFF;
const FWP_E_ALREADY_EXISTS: u32 = 0x8032_0009;

const LAYERS: [(Layer, GUID); 4] = [
    (Layer::ConnectV4, FWPM_LAYER_ALE_AUTH_CONNECT_V4),
    (Layer::ConnectV6, FWPM_LAYER_ALE_AUTH_CONNECT_V6),
    (Layer::AcceptV4, FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V4),
    (Layer::AcceptV6, FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V6),
];

fn layer_key(layer: Layer) -> GUID {
    LAYERS
        .iter()
        .find(|(l, _)| *l == layer)
        .map(|(_, g)| *g)
        .unwrap_or_default()
}

fn fwp(rc: u32, what: &str) -> Result<(), String> {
    if rc == 0 {
        Ok(())
    } else {
        Err(wfp_error(rc, what))
    }
}

fn wfp_error(rc: u32, what: &str) -> String {
    format!("{what}: WFP error {rc:#010x}")
}

/// An open engine handle with a transaction in progress; aborted unless committed.
struct Txn {
    engine: HANDLE,
    committed: bool,
}

impl Txn {
    fn begin() -> Result<Txn, String> {
        let mut engine = HANDLE::default();
        // A plain (not dynamic) session: what it adds outlives this handle and this process.
        let rc =
            unsafe { FwpmEngineOpen0(PCWSTR::null(), RPC_C_AUTHN_WINNT, None, None, &mut engine) };
        fwp(rc, "cannot open the filtering engine")?;
        let rc = unsafe { FwpmTransactionBegin0(engine, 0) };
        if rc != 0 {
            unsafe { FwpmEngineClose0(engine) };
            return Err(wfp_error(rc, "cannot begin a WFP transaction"));
        }
        Ok(Txn {
            engine,
            committed: false,
        })
    }

    fn commit(mut self) -> Result<(), String> {
        self.committed = true;
        fwp(
            unsafe { FwpmTransactionCommit0(self.engine) },
            "cannot commit the WFP transaction",
        )
    }
}

impl Drop for Txn {
    fn drop(&mut self) {
        unsafe {
            if !self.committed {
                FwpmTransactionAbort0(self.engine);
            }
            FwpmEngineClose0(self.engine);
        }
    }
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain([0]).collect()
}

/// Adds our provider and sublayer (once; they persist).
fn ensure_sublayer(txn: &Txn) -> Result<(), String> {
    let mut name = wide("Causeway");
    let mut desc = wide("Causeway VPN leak protection (kill switch, IPv4 and IPv6 blocks)");
    let display = FWPM_DISPLAY_DATA0 {
        name: PWSTR(name.as_mut_ptr()),
        description: PWSTR(desc.as_mut_ptr()),
    };
    let provider = FWPM_PROVIDER0 {
        providerKey: PROVIDER,
        displayData: display,
        flags: FWPM_PROVIDER_FLAG_PERSISTENT,
        ..Default::default()
    };
    let rc = unsafe { FwpmProviderAdd0(txn.engine, &provider, None) };
    if rc != FWP_E_ALREADY_EXISTS {
        fwp(rc, "cannot add the WFP provider")?;
    }
    let mut provider_key = PROVIDER;
    let sublayer = FWPM_SUBLAYER0 {
        subLayerKey: SUBLAYER,
        displayData: display,
        flags: FWPM_SUBLAYER_FLAG_PERSISTENT,
        providerKey: &mut provider_key,
        weight: SUBLAYER_WEIGHT,
        ..Default::default()
    };
    let rc = unsafe { FwpmSubLayerAdd0(txn.engine, &sublayer, None) };
    if rc != FWP_E_ALREADY_EXISTS {
        fwp(rc, "cannot add the WFP sublayer")?;
    }
    Ok(())
}

/// A filter of ours found in the engine: its id and the pid of the helper that added it.
struct Found {
    id: u64,
    pid: Option<u32>,
}

fn our_filters(txn: &Txn) -> Result<Vec<Found>, String> {
    let mut found = Vec::new();
    for (_, layer) in LAYERS {
        let mut provider = PROVIDER;
        let template = FWPM_FILTER_ENUM_TEMPLATE0 {
            providerKey: &mut provider,
            layerKey: layer,
            enumType: FWP_FILTER_ENUM_OVERLAPPING,
            actionMask: 0xFFFF_FFFF,
            ..Default::default()
        };
        let mut handle = HANDLE::default();
        fwp(
            unsafe { FwpmFilterCreateEnumHandle0(txn.engine, Some(&template), &mut handle) },
            "cannot list WFP filters",
        )?;
        loop {
            let mut entries: *mut *mut FWPM_FILTER0 = std::ptr::null_mut();
            let mut n = 0u32;
            let rc = unsafe { FwpmFilterEnum0(txn.engine, handle, 64, &mut entries, &mut n) };
            if rc != 0 {
                unsafe { FwpmFilterDestroyEnumHandle0(txn.engine, handle) };
                return Err(wfp_error(rc, "cannot list WFP filters"));
            }
            for i in 0..n as usize {
                // SAFETY: the engine returned `n` valid filter pointers.
                let f = unsafe { &**entries.add(i) };
                let data = f.providerData;
                let pid = (data.size == 4).then(|| {
                    // SAFETY: a 4-byte blob we wrote ourselves.
                    let b = unsafe { std::slice::from_raw_parts(data.data, 4) };
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
                });
                found.push(Found {
                    id: f.filterId,
                    pid,
                });
            }
            if !entries.is_null() {
                unsafe { FwpmFreeMemory0(&mut entries as *mut _ as *mut *mut c_void) };
            }
            if n < 64 {
                break;
            }
        }
        unsafe { FwpmFilterDestroyEnumHandle0(txn.engine, handle) };
    }
    Ok(found)
}

/// The helper's own executable as WFP identifies applications.
fn helper_app_id() -> Result<*mut FWP_BYTE_BLOB, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the helper's path: {e}"))?;
    let path = HSTRING::from(exe.as_os_str());
    let mut blob: *mut FWP_BYTE_BLOB = std::ptr::null_mut();
    fwp(
        unsafe { FwpmGetAppIdFromFileName0(&path, &mut blob) },
        "cannot get the helper's WFP application id",
    )?;
    Ok(blob)
}

/// A condition value WFP takes by pointer, owned while FwpmFilterAdd0 runs.
enum Owned {
    Inline,
    U64(u64),
    V6(FWP_BYTE_ARRAY16),
    Range(FWP_RANGE0),
    V4Mask(FWP_V4_ADDR_AND_MASK),
    V6Mask(FWP_V6_ADDR_AND_MASK),
}

fn owned(c: &Condition) -> Owned {
    let u16_value = |v: u8| {
        let mut x = FWP_VALUE0 {
            r#type: FWP_UINT16,
            ..Default::default()
        };
        x.Anonymous.uint16 = u16::from(v);
        x
    };
    match *c {
        Condition::LocalInterface(luid) => Owned::U64(luid),
        Condition::RemoteAddress(IpAddr::V6(a)) => Owned::V6(FWP_BYTE_ARRAY16 {
            byteArray16: a.octets(),
        }),
        Condition::RemoteSubnet(IpAddr::V4(a), prefix) => Owned::V4Mask(FWP_V4_ADDR_AND_MASK {
            addr: u32::from(a), // host order, as WFP wants
            mask: mask4(prefix),
        }),
        Condition::RemoteSubnet(IpAddr::V6(a), prefix) => Owned::V6Mask(FWP_V6_ADDR_AND_MASK {
            addr: a.octets(),
            prefixLength: prefix,
        }),
        Condition::IcmpTypes(lo, hi) => Owned::Range(FWP_RANGE0 {
            valueLow: u16_value(lo),
            valueHigh: u16_value(hi),
        }),
        _ => Owned::Inline,
    }
}

/// The WFP form of `c`; pointer-valued conditions point into `store`, which must not move
/// until the filter is added.
fn condition(
    c: &Condition,
    store: &mut Owned,
    app_id: *mut FWP_BYTE_BLOB,
) -> FWPM_FILTER_CONDITION0 {
    let mut out = FWPM_FILTER_CONDITION0 {
        matchType: FWP_MATCH_EQUAL,
        ..Default::default()
    };
    let v = &mut out.conditionValue;
    match (*c, store) {
        (Condition::Loopback, _) => {
            out.fieldKey = FWPM_CONDITION_FLAGS;
            out.matchType = FWP_MATCH_FLAGS_ALL_SET;
            v.r#type = FWP_UINT32;
            v.Anonymous.uint32 = FWP_CONDITION_FLAG_IS_LOOPBACK;
        }
        (Condition::LocalInterface(_), Owned::U64(luid)) => {
            out.fieldKey = FWPM_CONDITION_IP_LOCAL_INTERFACE;
            v.r#type = FWP_UINT64;
            v.Anonymous.uint64 = luid;
        }
        (Condition::RemoteAddress(IpAddr::V4(a)), _) => {
            out.fieldKey = FWPM_CONDITION_IP_REMOTE_ADDRESS;
            v.r#type = FWP_UINT32;
            v.Anonymous.uint32 = u32::from(a); // host order, as WFP wants
        }
        (Condition::RemoteAddress(IpAddr::V6(_)), Owned::V6(bytes)) => {
            out.fieldKey = FWPM_CONDITION_IP_REMOTE_ADDRESS;
            v.r#type = FWP_BYTE_ARRAY16_TYPE;
            v.Anonymous.byteArray16 = bytes;
        }
        (Condition::RemoteSubnet(..), Owned::V4Mask(mask)) => {
            out.fieldKey = FWPM_CONDITION_IP_REMOTE_ADDRESS;
            v.r#type = FWP_V4_ADDR_MASK;
            v.Anonymous.v4AddrMask = mask;
        }
        (Condition::RemoteSubnet(..), Owned::V6Mask(mask)) => {
            out.fieldKey = FWPM_CONDITION_IP_REMOTE_ADDRESS;
            v.r#type = FWP_V6_ADDR_MASK;
            v.Anonymous.v6AddrMask = mask;
        }
        (Condition::RemotePort(p) | Condition::LocalPort(p), _) => {
            out.fieldKey = match c {
                Condition::RemotePort(_) => FWPM_CONDITION_IP_REMOTE_PORT,
                _ => FWPM_CONDITION_IP_LOCAL_PORT,
            };
            v.r#type = FWP_UINT16;
            v.Anonymous.uint16 = p;
        }
        (Condition::Protocol(p), _) => {
            out.fieldKey = FWPM_CONDITION_IP_PROTOCOL;
            v.r#type = FWP_UINT8;
            v.Anonymous.uint8 = p;
        }
        (Condition::IcmpTypes(..), Owned::Range(range)) => {
            // fwpmu.h: FWPM_CONDITION_ICMP_TYPE is FWPM_CONDITION_IP_LOCAL_PORT.
            out.fieldKey = FWPM_CONDITION_IP_LOCAL_PORT;
            out.matchType = FWP_MATCH_RANGE;
            v.r#type = FWP_RANGE_TYPE;
            v.Anonymous.rangeValue = range;
        }
        (Condition::HelperApp, _) => {
            out.fieldKey = FWPM_CONDITION_ALE_APP_ID;
            v.r#type = FWP_BYTE_BLOB_TYPE;
            v.Anonymous.byteBlob = app_id;
        }
        // `owned` made the matching storage for every pointer-valued condition.
        (_, _) => unreachable!("condition storage does not match its condition"),
    }
    out
}

fn add_filter(txn: &Txn, f: &Filter, app_id: *mut FWP_BYTE_BLOB) -> Result<(), String> {
    // Filled completely before any pointer into it is taken, then left alone.
    let mut store: Vec<Owned> = f.conditions.iter().map(owned).collect();
    let mut conditions: Vec<FWPM_FILTER_CONDITION0> = f
        .conditions
        .iter()
        .zip(store.iter_mut())
        .map(|(c, s)| condition(c, s, app_id))
        .collect();
    let mut name = wide(&format!("Causeway: {}", f.name));
    let mut provider = PROVIDER;
    let mut pid = std::process::id().to_le_bytes();
    let mut filter = FWPM_FILTER0 {
        displayData: FWPM_DISPLAY_DATA0 {
            name: PWSTR(name.as_mut_ptr()),
            description: PWSTR::null(),
        },
        flags: FWPM_FILTER_FLAG_NONE,
        providerKey: &mut provider,
        providerData: FWP_BYTE_BLOB {
            size: 4,
            data: pid.as_mut_ptr(),
        },
        layerKey: layer_key(f.layer),
        subLayerKey: SUBLAYER,
        numFilterConditions: conditions.len() as u32,
        filterCondition: if conditions.is_empty() {
            std::ptr::null_mut()
        } else {
            conditions.as_mut_ptr()
        },
        ..Default::default()
    };
    filter.weight.r#type = FWP_UINT8;
    filter.weight.Anonymous.uint8 = f.weight;
    filter.action.r#type = match f.action {
        Action::Permit => FWP_ACTION_PERMIT,
        Action::Block => FWP_ACTION_BLOCK,
    };
    let rc = unsafe { FwpmFilterAdd0(txn.engine, &filter, None, None) };
    fwp(rc, &format!("cannot add the WFP filter {:?}", f.name))
}

/// Replaces this helper's filters (and those of dead helpers) with the ones for `policy`,
/// in one transaction.
pub fn install(policy: &Policy, is_running_helper: impl Fn(u32) -> bool) -> Result<(), String> {
    let lan = Lan::exempt_by(policy, super::iphelper::interface_addresses)?;
    let filters = super::wfp_plan::filters(policy, &lan, super::adapter_luid);
    let txn = Txn::begin()?;
    ensure_sublayer(&txn)?;
    let me = std::process::id();
    for f in our_filters(&txn)? {
        if f.pid == Some(me) || is_dead(&f, &is_running_helper) {
            fwp(
                unsafe { FwpmFilterDeleteById0(txn.engine, f.id) },
                "cannot remove a WFP filter",
            )?;
        }
    }
    if !policy.is_empty() {
        let app_id = helper_app_id()?;
        let added = filters.iter().try_for_each(|f| add_filter(&txn, f, app_id));
        unsafe { FwpmFreeMemory0(&mut (app_id as *mut c_void)) };
        added?;
    }
    txn.commit()
}

/// Whether `f` is a dead helper's (never a live helper's, never ours; one without a pid is).
fn is_dead(f: &Found, is_running_helper: &impl Fn(u32) -> bool) -> bool {
    f.pid
        .is_none_or(|p| p != std::process::id() && !is_running_helper(p))
}

/// The filters of dead helpers, and how many helpers they belong to (those without a pid
/// count as one).
fn dead_filters(
    txn: &Txn,
    is_running_helper: impl Fn(u32) -> bool,
) -> Result<(Vec<u64>, usize), String> {
    let mut helpers = std::collections::BTreeSet::new();
    let mut ids = Vec::new();
    for f in our_filters(txn)? {
        if is_dead(&f, &is_running_helper) {
            helpers.insert(f.pid);
            ids.push(f.id);
        }
    }
    Ok((ids, helpers.len()))
}

/// How many dead helpers' filters are in force (left in place by crash recovery).
pub fn orphans(is_running_helper: impl Fn(u32) -> bool) -> Result<usize, String> {
    let txn = Txn::begin()?;
    Ok(dead_filters(&txn, is_running_helper)?.1)
}

/// Removes the filters of dead helpers; of how many helpers.
pub fn remove_orphans(is_running_helper: impl Fn(u32) -> bool) -> Result<usize, String> {
    let txn = Txn::begin()?;
    let (ids, helpers) = dead_filters(&txn, is_running_helper)?;
    for id in ids {
        fwp(
            unsafe { FwpmFilterDeleteById0(txn.engine, id) },
            "cannot remove a WFP filter",
        )?;
    }
    txn.commit()?;
    Ok(helpers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_sizes_match_the_windows_headers() {
        // fwpmtypes.h / fwptypes.h on x64
        assert_eq!(std::mem::size_of::<FWP_VALUE0>(), 16);
        assert_eq!(std::mem::size_of::<FWP_CONDITION_VALUE0>(), 16);
        assert_eq!(std::mem::size_of::<FWPM_FILTER_CONDITION0>(), 40);
        assert_eq!(std::mem::size_of::<FWPM_DISPLAY_DATA0>(), 16);
        assert_eq!(std::mem::size_of::<FWP_BYTE_BLOB>(), 16);
        assert_eq!(std::mem::size_of::<FWPM_FILTER0>(), 200);
        assert_eq!(std::mem::size_of::<FWPM_SUBLAYER0>(), 72);
        assert_eq!(std::mem::size_of::<FWP_V4_ADDR_AND_MASK>(), 8);
        assert_eq!(std::mem::size_of::<FWP_V6_ADDR_AND_MASK>(), 17);
        assert_eq!(std::mem::offset_of!(FWPM_FILTER0, weight), 96);
        assert_eq!(std::mem::offset_of!(FWPM_FILTER0, filterId), 176);
    }

    #[test]
    fn conditions_carry_the_values_wfp_expects() {
        let app = std::ptr::null_mut();
        // Boxed: the condition points into the store, which must not move when returned.
        let make = |c: Condition| {
            let mut store = Box::new(owned(&c));
            let w = condition(&c, &mut store, app);
            (w, store)
        };
        let (c, _) = make(Condition::RemoteAddress("192.0.2.10".parse().unwrap()));
        assert_eq!(c.fieldKey, FWPM_CONDITION_IP_REMOTE_ADDRESS);
        assert_eq!(c.conditionValue.r#type, FWP_UINT32);
        assert_eq!(unsafe { c.conditionValue.Anonymous.uint32 }, 0xC000_020A);
        let (c, _store) = make(Condition::LocalInterface(0x1234));
        assert_eq!(unsafe { *c.conditionValue.Anonymous.uint64 }, 0x1234);
        let (c, _store) = make(Condition::IcmpTypes(133, 137));
        assert_eq!(c.matchType, FWP_MATCH_RANGE);
        let r = unsafe { &*c.conditionValue.Anonymous.rangeValue };
        assert_eq!(
            unsafe { (r.valueLow.Anonymous.uint16, r.valueHigh.Anonymous.uint16) },
            (133, 137)
        );
        let (c, _store) = make(Condition::RemoteSubnet("10.99.0.0".parse().unwrap(), 24));
        assert_eq!(c.fieldKey, FWPM_CONDITION_IP_REMOTE_ADDRESS);
        assert_eq!(c.conditionValue.r#type, FWP_V4_ADDR_MASK);
        let m = unsafe { &*c.conditionValue.Anonymous.v4AddrMask };
        assert_eq!((m.addr, m.mask), (0x0A63_0000, 0xFFFF_FF00));
        let (c, _store) = make(Condition::RemoteSubnet("fd99::".parse().unwrap(), 64));
        assert_eq!(c.conditionValue.r#type, FWP_V6_ADDR_MASK);
        let m = unsafe { &*c.conditionValue.Anonymous.v6AddrMask };
        assert_eq!(m.prefixLength, 64);
        assert_eq!(m.addr[..2], [0xfd, 0x99]);
        let (c, _) = make(Condition::Loopback);
        assert_eq!(c.matchType, FWP_MATCH_FLAGS_ALL_SET);
        assert_eq!(
            layer_key(Layer::AcceptV6),
            FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V6
        );
    }
}
