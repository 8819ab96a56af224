//! The SystemConfiguration dynamic store through its C API (SCDynamicStore*, with
//! CoreFoundation for the values): read, write and remove entries, converting between
//! CoreFoundation property lists and [`Plist`]. Built for macOS only: this is the FFI layer
//! under dns.rs.

use std::collections::BTreeMap;
use std::ffi::c_void;

use super::plist::Plist;

type CFTypeRef = *const c_void;
type CFIndex = isize;
type CFTypeID = usize;
type Boolean = u8;

#[repr(C)]
struct CallBacks {
    _opaque: [u8; 0],
}

const K_CF_STRING_ENCODING_UTF8: u32 = 0x0800_0100;
const K_CF_NUMBER_SINT64_TYPE: CFIndex = 4;

#[link(name = "CoreFoundation", kind = "framework")]
extern "C" {
    static kCFTypeArrayCallBacks: CallBacks;
    static kCFTypeDictionaryKeyCallBacks: CallBacks;
    static kCFTypeDictionaryValueCallBacks: CallBacks;
    static kCFBooleanTrue: CFTypeRef;
    static kCFBooleanFalse: CFTypeRef;

    fn CFRetain(cf: CFTypeRef) -> CFTypeRef;
    fn CFRelease(cf: CFTypeRef);
    fn CFGetTypeID(cf: CFTypeRef) -> CFTypeID;
    fn CFStringGetTypeID() -> CFTypeID;
    fn CFArrayGetTypeID() -> CFTypeID;
    fn CFDictionaryGetTypeID() -> CFTypeID;
    fn CFNumberGetTypeID() -> CFTypeID;
    fn CFBooleanGetTypeID() -> CFTypeID;

    fn CFStringCreateWithBytes(
        alloc: CFTypeRef,
        bytes: *const u8,
        len: CFIndex,
        encoding: u32,
        external: Boolean,
    ) -> CFTypeRef;
    fn CFStringGetLength(s: CFTypeRef) -> CFIndex;
    fn CFStringGetMaximumSizeForEncoding(len: CFIndex, encoding: u32) -> CFIndex;
    fn CFStringGetCString(s: CFTypeRef, buf: *mut u8, size: CFIndex, encoding: u32) -> Boolean;

    fn CFArrayCreate(
        alloc: CFTypeRef,
        values: *const CFTypeRef,
        count: CFIndex,
        callbacks: *const CallBacks,
    ) -> CFTypeRef;
    fn CFArrayGetCount(a: CFTypeRef) -> CFIndex;
    fn CFArrayGetValueAtIndex(a: CFTypeRef, i: CFIndex) -> CFTypeRef;

    fn CFDictionaryCreate(
        alloc: CFTypeRef,
        keys: *const CFTypeRef,
        values: *const CFTypeRef,
        count: CFIndex,
        key_callbacks: *const CallBacks,
        value_callbacks: *const CallBacks,
    ) -> CFTypeRef;
    fn CFDictionaryGetCount(d: CFTypeRef) -> CFIndex;
    fn CFDictionaryGetKeysAndValues(d: CFTypeRef, keys: *mut CFTypeRef, values: *mut CFTypeRef);

    fn CFNumberCreate(alloc: CFTypeRef, kind: CFIndex, value: *const c_void) -> CFTypeRef;
    fn CFNumberGetValue(n: CFTypeRef, kind: CFIndex, value: *mut c_void) -> Boolean;
    fn CFBooleanGetValue(b: CFTypeRef) -> Boolean;
}

#[link(name = "SystemConfiguration", kind = "framework")]
extern "C" {
    fn SCDynamicStoreCreate(
        alloc: CFTypeRef,
        name: CFTypeRef,
        callout: *const c_void,
        context: *mut c_void,
    ) -> CFTypeRef;
    fn SCDynamicStoreCopyValue(store: CFTypeRef, key: CFTypeRef) -> CFTypeRef;
    fn SCDynamicStoreSetValue(store: CFTypeRef, key: CFTypeRef, value: CFTypeRef) -> Boolean;
    fn SCDynamicStoreRemoveValue(store: CFTypeRef, key: CFTypeRef) -> Boolean;
}

/// A CoreFoundation object we own (a Create or Copy result), released on drop.
struct Owned(CFTypeRef);

impl Owned {
    fn new(cf: CFTypeRef) -> Result<Owned, String> {
        if cf.is_null() {
            Err("CoreFoundation could not create a value".into())
        } else {
            Ok(Owned(cf))
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: we own one reference to a valid object.
        unsafe { CFRelease(self.0) }
    }
}

fn cf_string(s: &str) -> Result<Owned, String> {
    // SAFETY: `s` is valid UTF-8 of the given length.
    Owned::new(unsafe {
        CFStringCreateWithBytes(
            std::ptr::null(),
            s.as_ptr(),
            s.len() as CFIndex,
            K_CF_STRING_ENCODING_UTF8,
            0,
        )
    })
}

fn to_cf(value: &Plist) -> Result<Owned, String> {
    // SAFETY (all arms): the inputs are valid CoreFoundation objects or plain data; every
    // created object is owned by the returned value, and containers retain their elements.
    match value {
        Plist::String(s) => cf_string(s),
        Plist::Integer(i) => Owned::new(unsafe {
            CFNumberCreate(
                std::ptr::null(),
                K_CF_NUMBER_SINT64_TYPE,
                (i as *const i64).cast(),
            )
        }),
        Plist::Bool(b) => {
            let cf = unsafe {
                if *b {
                    kCFBooleanTrue
                } else {
                    kCFBooleanFalse
                }
            };
            // A constant object; retaining it balances the release on drop.
            Owned::new(unsafe { CFRetain(cf) })
        }
        Plist::Array(items) => {
            let owned: Vec<Owned> = items.iter().map(to_cf).collect::<Result<_, _>>()?;
            let raw: Vec<CFTypeRef> = owned.iter().map(|o| o.0).collect();
            to_cf_array(&raw)
        }
        Plist::Dict(map) => {
            let keys: Vec<Owned> = map.keys().map(|k| cf_string(k)).collect::<Result<_, _>>()?;
            let values: Vec<Owned> = map.values().map(to_cf).collect::<Result<_, _>>()?;
            let k: Vec<CFTypeRef> = keys.iter().map(|o| o.0).collect();
            let v: Vec<CFTypeRef> = values.iter().map(|o| o.0).collect();
            Owned::new(unsafe {
                CFDictionaryCreate(
                    std::ptr::null(),
                    k.as_ptr(),
                    v.as_ptr(),
                    k.len() as CFIndex,
                    &kCFTypeDictionaryKeyCallBacks,
                    &kCFTypeDictionaryValueCallBacks,
                )
            })
        }
    }
}

fn to_cf_array(items: &[CFTypeRef]) -> Result<Owned, String> {
    // SAFETY: `items` are valid objects; the array retains them.
    Owned::new(unsafe {
        CFArrayCreate(
            std::ptr::null(),
            items.as_ptr(),
            items.len() as CFIndex,
            &kCFTypeArrayCallBacks,
        )
    })
}

/// Converts a borrowed CoreFoundation value; types the DNS entries never hold are an error.
fn from_cf(cf: CFTypeRef) -> Result<Plist, String> {
    // SAFETY (throughout): `cf` is a valid object borrowed from its owner for this call; the
    // accessors used match its type id.
    let id = unsafe { CFGetTypeID(cf) };
    if id == unsafe { CFStringGetTypeID() } {
        let len = unsafe { CFStringGetLength(cf) };
        let size = unsafe { CFStringGetMaximumSizeForEncoding(len, K_CF_STRING_ENCODING_UTF8) } + 1;
        let mut buf = vec![0u8; size.max(1) as usize];
        if unsafe {
            CFStringGetCString(
                cf,
                buf.as_mut_ptr(),
                buf.len() as CFIndex,
                K_CF_STRING_ENCODING_UTF8,
            )
        } == 0
        {
            return Err("a dynamic-store string is not UTF-8".into());
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        return String::from_utf8(buf[..end].to_vec())
            .map(Plist::String)
            .map_err(|_| "a dynamic-store string is not UTF-8".into());
    }
    if id == unsafe { CFNumberGetTypeID() } {
        let mut v: i64 = 0;
        if unsafe { CFNumberGetValue(cf, K_CF_NUMBER_SINT64_TYPE, (&mut v as *mut i64).cast()) }
            == 0
        {
            return Err("a dynamic-store number is not an integer".into());
        }
        return Ok(Plist::Integer(v));
    }
    if id == unsafe { CFBooleanGetTypeID() } {
        return Ok(Plist::Bool(unsafe { CFBooleanGetValue(cf) } != 0));
    }
    if id == unsafe { CFArrayGetTypeID() } {
        let n = unsafe { CFArrayGetCount(cf) };
        return (0..n)
            .map(|i| from_cf(unsafe { CFArrayGetValueAtIndex(cf, i) }))
            .collect::<Result<_, _>>()
            .map(Plist::Array);
    }
    if id == unsafe { CFDictionaryGetTypeID() } {
        let n = unsafe { CFDictionaryGetCount(cf) } as usize;
        let mut keys: Vec<CFTypeRef> = vec![std::ptr::null(); n];
        let mut values: Vec<CFTypeRef> = vec![std::ptr::null(); n];
        unsafe { CFDictionaryGetKeysAndValues(cf, keys.as_mut_ptr(), values.as_mut_ptr()) };
        let mut map = BTreeMap::new();
        for (k, v) in keys.into_iter().zip(values) {
            let Plist::String(key) = from_cf(k)? else {
                return Err("a dynamic-store dictionary has a key that is not a string".into());
            };
            map.insert(key, from_cf(v)?);
        }
        return Ok(Plist::Dict(map));
    }
    Err("the dynamic store holds a value of a type DNS entries never have".into())
}

/// A session with configd's dynamic store.
pub struct DynamicStore(Owned);

impl DynamicStore {
    pub fn open() -> Result<DynamicStore, String> {
        let name = cf_string("causeway-helper")?;
        // SAFETY: a valid name; no callout, so no context.
        let store = unsafe {
            SCDynamicStoreCreate(
                std::ptr::null(),
                name.0,
                std::ptr::null(),
                std::ptr::null_mut(),
            )
        };
        Owned::new(store)
            .map(DynamicStore)
            .map_err(|_| "cannot open the SystemConfiguration dynamic store".into())
    }

    pub fn get(&self, key: &str) -> Result<Option<Plist>, String> {
        let k = cf_string(key)?;
        // SAFETY: valid store and key; the result (if any) is ours to release.
        let v = unsafe { SCDynamicStoreCopyValue((self.0).0, k.0) };
        if v.is_null() {
            return Ok(None);
        }
        let v = Owned(v);
        from_cf(v.0).map(Some).map_err(|e| format!("{key}: {e}"))
    }

    pub fn set(&self, key: &str, value: &Plist) -> Result<(), String> {
        let (k, v) = (cf_string(key)?, to_cf(value)?);
        // SAFETY: valid store, key and property list.
        if unsafe { SCDynamicStoreSetValue((self.0).0, k.0, v.0) } == 0 {
            return Err(format!("cannot write {key} to the dynamic store"));
        }
        Ok(())
    }

    pub fn remove(&self, key: &str) -> Result<(), String> {
        let k = cf_string(key)?;
        // SAFETY: valid store and key. Removing an absent key fails; that is the state wanted.
        unsafe { SCDynamicStoreRemoveValue((self.0).0, k.0) };
        Ok(())
    }
}
