//! The service's named pipe: created with a DACL that admits only SYSTEM, Administrators and
//! the `causeway` group (pipe_acl.rs), and, for every client that connects, its identity
//! from the pipe itself: the client's process id (GetNamedPipeClientProcessId), that
//! process's token, the token's user SID (what sessions are tied to) and whether the token
//! holds one of the admitted SIDs (CheckTokenMembership: enabled groups only, so a UAC-filtered
//! administrator is not an administrator here).

use std::ffi::c_void;
use std::io;
use std::os::windows::io::AsRawHandle;
use std::sync::Arc;

use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};
use tokio::sync::Mutex;
use windows::core::{HSTRING, PCWSTR, PWSTR};
use windows::Win32::Foundation::{CloseHandle, LocalFree, HANDLE, HLOCAL};
use windows::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
    ConvertStringSidToSidW, SDDL_REVISION_1,
};
use windows::Win32::Security::{
    CheckTokenMembership, DuplicateToken, GetTokenInformation, LookupAccountNameW,
    SecurityIdentification, TokenUser, PSECURITY_DESCRIPTOR, PSID, SECURITY_ATTRIBUTES,
    SID_NAME_USE, TOKEN_DUPLICATE, TOKEN_QUERY, TOKEN_USER,
};
use windows::Win32::System::Pipes::GetNamedPipeClientProcessId;
use windows::Win32::System::Threading::{
    OpenProcess, OpenProcessToken, PROCESS_QUERY_LIMITED_INFORMATION,
};

use super::pipe_acl;

/// Where the installed service listens.
pub const DEFAULT_PIPE: &str = r"\\.\pipe\causeway-helper";

/// A handle closed on drop.
struct OwnedHandle(HANDLE);

impl Drop for OwnedHandle {
    fn drop(&mut self) {
        // SAFETY: the handle was opened by us and is closed once.
        unsafe {
            let _ = CloseHandle(self.0);
        }
    }
}

/// Memory the system allocated with LocalAlloc (SIDs, descriptors, strings), freed on drop.
struct LocalMem(*mut c_void);

impl Drop for LocalMem {
    fn drop(&mut self) {
        // SAFETY: the pointer came from a function documented to allocate with LocalAlloc.
        unsafe {
            let _ = LocalFree(Some(HLOCAL(self.0)));
        }
    }
}

// SAFETY: the descriptor is immutable once built and only read by CreateNamedPipeW.
unsafe impl Send for LocalMem {}
unsafe impl Sync for LocalMem {}

fn take_wide(p: PWSTR) -> String {
    let mem = LocalMem(p.0.cast());
    // SAFETY: `p` is a NUL-terminated string the system allocated; freed after the copy.
    let s = unsafe { p.to_string() }.unwrap_or_default();
    drop(mem);
    s
}

fn sid_string(sid: PSID) -> io::Result<String> {
    let mut out = PWSTR::null();
    // SAFETY: `sid` points to a valid SID; `out` receives a LocalAlloc'd string.
    unsafe { ConvertSidToStringSidW(sid, &mut out) }?;
    Ok(take_wide(out))
}

/// The SID of the local group `name`, as a string; None when there is no such group.
pub fn group_sid(name: &str) -> Option<String> {
    let account = HSTRING::from(name);
    let mut sid = vec![0u8; 128];
    let mut sid_len = sid.len() as u32;
    let mut domain = vec![0u16; 256];
    let mut domain_len = domain.len() as u32;
    let mut kind = SID_NAME_USE::default();
    // SAFETY: the buffers are as large as the lengths passed.
    unsafe {
        LookupAccountNameW(
            PCWSTR::null(),
            &account,
            Some(PSID(sid.as_mut_ptr().cast())),
            &mut sid_len,
            Some(PWSTR(domain.as_mut_ptr())),
            &mut domain_len,
            &mut kind,
        )
    }
    .ok()?;
    sid_string(PSID(sid.as_mut_ptr().cast())).ok()
}

/// A security descriptor built from SDDL, for CreateNamedPipeW.
struct Descriptor(LocalMem);

impl Descriptor {
    fn from_sddl(sddl: &str) -> io::Result<Descriptor> {
        let mut sd = PSECURITY_DESCRIPTOR::default();
        let text = HSTRING::from(sddl);
        // SAFETY: `sd` receives a LocalAlloc'd self-relative descriptor.
        unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                &text,
                SDDL_REVISION_1,
                &mut sd,
                None,
            )
        }?;
        Ok(Descriptor(LocalMem(sd.0)))
    }
}

/// The listening pipe: always one instance waiting for the next client.
pub struct PipeListener {
    name: String,
    admitted: Arc<[String]>,
    descriptor: Descriptor,
    next: Mutex<NamedPipeServer>,
}

impl PipeListener {
    /// Creates the first instance of `name` (refusing a name another process already
    /// serves: FILE_FLAG_FIRST_PIPE_INSTANCE) with the DACL for `admitted`.
    pub fn bind(name: &str, admitted: Vec<String>) -> Result<PipeListener, String> {
        let sddl = pipe_acl::pipe_sddl(&admitted)?;
        let descriptor = Descriptor::from_sddl(&sddl)
            .map_err(|e| format!("cannot build the pipe's security descriptor: {e}"))?;
        let first = create_instance(name, &descriptor, true)
            .map_err(|e| format!("cannot listen on {name}: {e}"))?;
        Ok(PipeListener {
            name: name.to_owned(),
            admitted: admitted.into(),
            descriptor,
            next: Mutex::new(first),
        })
    }

    /// Waits for a client; the instance it connected to is returned and a fresh one waits.
    pub async fn accept(&self) -> io::Result<NamedPipeServer> {
        let mut next = self.next.lock().await;
        next.connect().await?;
        let fresh = create_instance(&self.name, &self.descriptor, false)?;
        Ok(std::mem::replace(&mut *next, fresh))
    }

    /// The SIDs a client's token must hold one of.
    pub fn admitted(&self) -> &Arc<[String]> {
        &self.admitted
    }
}

fn create_instance(name: &str, d: &Descriptor, first: bool) -> io::Result<NamedPipeServer> {
    let mut attrs = SECURITY_ATTRIBUTES {
        nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: d.0 .0,
        bInheritHandle: false.into(),
    };
    // SAFETY: `attrs` and the descriptor it points to outlive the call.
    unsafe {
        ServerOptions::new()
            .first_pipe_instance(first)
            .reject_remote_clients(true)
            .create_with_security_attributes_raw(
                name,
                (&mut attrs as *mut SECURITY_ATTRIBUTES).cast(),
            )
    }
}

/// The client on the other end of a pipe instance, from its process token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipePeer {
    pub pid: u32,
    /// The token's user SID: sessions belong to it.
    pub sid: String,
    /// The token holds (enabled) one of the admitted SIDs.
    pub admitted: bool,
}

/// Who is connected to `pipe`, checked against `admitted`.
pub fn peer(pipe: &NamedPipeServer, admitted: &[String]) -> io::Result<PipePeer> {
    let handle = HANDLE(pipe.as_raw_handle());
    let mut pid = 0u32;
    // SAFETY: `handle` is a connected server end of a pipe.
    unsafe { GetNamedPipeClientProcessId(handle, &mut pid) }?;
    // SAFETY: plain handle-returning calls; every handle is closed by OwnedHandle.
    let process =
        OwnedHandle(unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, pid) }?);
    let mut raw = HANDLE::default();
    unsafe { OpenProcessToken(process.0, TOKEN_QUERY | TOKEN_DUPLICATE, &mut raw) }?;
    let token = OwnedHandle(raw);
    let sid = token_user(&token)?;
    let mut ident = HANDLE::default();
    // CheckTokenMembership needs an impersonation token.
    unsafe { DuplicateToken(token.0, SecurityIdentification, &mut ident) }?;
    let ident = OwnedHandle(ident);
    let mut member = false;
    for s in admitted {
        member |= holds(&ident, s)?;
    }
    Ok(PipePeer {
        pid,
        sid,
        admitted: member,
    })
}

fn token_user(token: &OwnedHandle) -> io::Result<String> {
    let mut buf = vec![0u64; 64]; // TOKEN_USER plus its SID, 8-byte aligned
    let mut len = 0u32;
    // SAFETY: `buf` holds `buf.len() * 8` bytes.
    unsafe {
        GetTokenInformation(
            token.0,
            TokenUser,
            Some(buf.as_mut_ptr().cast()),
            (buf.len() * 8) as u32,
            &mut len,
        )
    }?;
    // SAFETY: GetTokenInformation(TokenUser) filled a TOKEN_USER at the start of `buf`.
    let user = unsafe { &*(buf.as_ptr() as *const TOKEN_USER) };
    sid_string(user.User.Sid)
}

fn holds(ident: &OwnedHandle, sid: &str) -> io::Result<bool> {
    let mut psid = PSID::default();
    let text = HSTRING::from(sid);
    // SAFETY: `psid` receives a LocalAlloc'd SID, freed by LocalMem.
    unsafe { ConvertStringSidToSidW(&text, &mut psid) }?;
    let _mem = LocalMem(psid.0);
    let mut member = windows::core::BOOL(0);
    unsafe { CheckTokenMembership(Some(ident.0), psid, &mut member) }?;
    Ok(member.as_bool())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::windows::named_pipe::ClientOptions;
    use windows::Win32::Security::Authorization::{
        ConvertSecurityDescriptorToStringSecurityDescriptorW, GetSecurityInfo, SE_KERNEL_OBJECT,
    };
    use windows::Win32::Security::DACL_SECURITY_INFORMATION;

    fn unique_pipe(tag: &str) -> String {
        format!(r"\\.\pipe\causeway-test-{tag}-{}", std::process::id())
    }

    /// The DACL the pipe really carries, read back from the kernel object.
    fn dacl_of(pipe: &NamedPipeServer) -> String {
        let mut sd = PSECURITY_DESCRIPTOR::default();
        let rc = unsafe {
            GetSecurityInfo(
                HANDLE(pipe.as_raw_handle()),
                SE_KERNEL_OBJECT,
                DACL_SECURITY_INFORMATION,
                None,
                None,
                None,
                None,
                Some(&mut sd),
            )
        };
        assert!(rc.is_ok(), "GetSecurityInfo: {rc:?}");
        let _mem = LocalMem(sd.0);
        let mut text = PWSTR::null();
        unsafe {
            ConvertSecurityDescriptorToStringSecurityDescriptorW(
                sd,
                SDDL_REVISION_1,
                DACL_SECURITY_INFORMATION,
                &mut text,
                None,
            )
        }
        .unwrap();
        take_wide(text)
    }

    #[tokio::test]
    async fn a_client_is_identified_from_its_token_and_admitted_by_the_rules() {
        let name = unique_pipe("admit");
        let listener = PipeListener::bind(&name, pipe_acl::admitted_sids(None)).unwrap();
        let client = ClientOptions::new().open(&name).unwrap();
        let conn = listener.accept().await.unwrap();
        let peer = peer(&conn, listener.admitted()).unwrap();
        // The client is this very process, running as a member of Administrators.
        assert_eq!(peer.pid, std::process::id());
        assert!(pipe_acl::valid_sid(&peer.sid), "{}", peer.sid);
        assert!(peer.admitted);
        // The pipe carries exactly the DACL the rules describe (SDDL abbreviates the two
        // well-known SIDs).
        let dacl = dacl_of(&conn);
        assert!(dacl.starts_with("D:P"), "{dacl}");
        assert!(
            dacl.contains("(A;;GA;;;SY)") || dacl.contains("S-1-5-18"),
            "{dacl}"
        );
        assert!(
            dacl.contains("(A;;GA;;;BA)") || dacl.contains("S-1-5-32-544"),
            "{dacl}"
        );
        assert!(!dacl.contains(";WD)") && !dacl.contains(";BU)"), "{dacl}");
        drop((client, conn));
    }

    #[tokio::test]
    async fn a_client_holding_none_of_the_admitted_sids_is_refused() {
        let name = unique_pipe("refuse");
        // A group this process's token does not hold.
        let only = vec![
            pipe_acl::SYSTEM.to_owned(),
            "S-1-5-21-1-2-3-1001".to_owned(),
        ];
        let listener = PipeListener::bind(&name, only).unwrap();
        let _client = ClientOptions::new().open(&name).unwrap();
        let conn = listener.accept().await.unwrap();
        let peer = peer(&conn, listener.admitted()).unwrap();
        assert!(!peer.admitted, "{peer:?}");
    }

    #[tokio::test]
    async fn the_next_client_finds_a_fresh_instance_and_bytes_flow() {
        let name = unique_pipe("flow");
        let listener = PipeListener::bind(&name, pipe_acl::admitted_sids(None)).unwrap();
        for round in 0..2u8 {
            let mut client = ClientOptions::new().open(&name).unwrap();
            let mut conn = listener.accept().await.unwrap();
            client.write_all(&[round]).await.unwrap();
            let mut b = [0u8; 1];
            conn.read_exact(&mut b).await.unwrap();
            assert_eq!(b, [round]);
        }
    }

    // What keeps another process from squatting the service's pipe name before the service
    // starts, or a second service from sharing it. Windows enforces the flag; wine 8 creates the
    // second instance anyway, so the targets suite names this test as one wine cannot run.
    #[tokio::test]
    async fn a_second_listener_on_the_same_name_is_refused() {
        let name = unique_pipe("first");
        let _listener = PipeListener::bind(&name, pipe_acl::admitted_sids(None)).unwrap();
        assert!(PipeListener::bind(&name, pipe_acl::admitted_sids(None)).is_err());
    }

    #[test]
    fn struct_sizes_match_the_windows_headers() {
        // winbase.h / minwinbase.h on x64
        assert_eq!(std::mem::size_of::<SECURITY_ATTRIBUTES>(), 24);
        assert_eq!(std::mem::size_of::<TOKEN_USER>(), 16);
    }
}
