//! The engine <-> helper contract: events out, commands in, and the OS side the helper provides.

use crate::config::{ErrorCode, Proto, PushedSettings, SessionPhase};

/// The remote being tried or used: the hostname as configured and the address it resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteInfo {
    pub host: String,
    pub address: std::net::IpAddr,
    pub port: u16,
    pub proto: Proto,
}

/// Why a session failed or was dropped. `message` is user-facing and never contains secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError {
    pub code: ErrorCode,
    pub message: String,
}

impl EngineError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for EngineError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Password,
    StaticChallenge,
    Crv1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingMethod {
    WebAuth,
    OpenUrl,
    CrText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Phase {
        phase: SessionPhase,
        remote: Option<RemoteInfo>,
        error: Option<EngineError>,
    },
    NeedCredentials {
        kind: CredentialKind,
        challenge: Option<String>,
        echo: bool,
        username: Option<String>,
    },
    AuthPending {
        method: PendingMethod,
        payload: String,
        echo: bool,
        timeout_sec: u32,
    },
    Pushed(PushedSettings),
    Echo(String),
    Stats {
        rx_bytes: u64,
        tx_bytes: u64,
    },
    /// Never contains keys, passwords, tokens or SAML data.
    Log {
        level: LogLevel,
        text: String,
    },
}

#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    Credentials {
        username: Option<String>,
        password: Option<String>,
        response: Option<String>,
    },
    CrResponse(String),
    Disconnect,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Credentials { username, .. } => f
                .debug_struct("Credentials")
                .field("username", username)
                .finish_non_exhaustive(),
            Command::CrResponse(_) => f.write_str("CrResponse(<redacted>)"),
            Command::Disconnect => f.write_str("Disconnect"),
        }
    }
}

/// A configured TUN device: addresses, MTU and routes already applied by the helper. The
/// engine's driver owns `device` for reading and writing IP packets.
#[derive(Debug)]
pub struct Tun {
    pub name: String,
    pub device: TunDevice,
}

/// How the engine exchanges IP packets with the OS: a file descriptor where the OS offers one
/// (Linux /dev/net/tun, macOS utun), a packet queue of the helper's where it does not (Windows
/// Wintun rings).
pub enum TunDevice {
    /// A non-blocking descriptor carrying one packet per read or write.
    #[cfg(unix)]
    Fd {
        fd: std::os::fd::OwnedFd,
        framing: TunFraming,
    },
    Queue(Box<dyn PacketQueue>),
}

impl std::fmt::Debug for TunDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(unix)]
            TunDevice::Fd { fd, framing } => f
                .debug_struct("Fd")
                .field("fd", fd)
                .field("framing", framing)
                .finish(),
            TunDevice::Queue(_) => f.write_str("Queue"),
        }
    }
}

/// What precedes each packet on a TUN descriptor.
#[cfg(unix)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunFraming {
    /// Nothing: the packet is the whole read (Linux IFF_TUN | IFF_NO_PI).
    Bare,
    /// A 4-byte address family in network byte order (BSD/macOS utun).
    AfHeader,
    /// A virtio-net header (Linux IFF_VNET_HDR with TUNSETOFFLOAD): reads may be TSO/USO
    /// super-segments and writes may be GRO super-segments; see `offload`.
    VnetHdr,
}

/// A packet device that is not a descriptor. `readable` completes when `try_recv` may have
/// a packet; `try_recv` returns `WouldBlock` when the queue is empty.
pub trait PacketQueue: Send + Sync + 'static {
    fn readable(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send + '_>>;
    fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Sends one IP packet; a full queue drops it (as a congested link would).
    fn send(&self, packet: &[u8]) -> std::io::Result<()>;
}

impl Tun {
    /// A Linux-style TUN descriptor (one bare IP packet per read or write).
    #[cfg(unix)]
    pub fn bare_fd(name: String, fd: std::os::fd::OwnedFd) -> Tun {
        Tun {
            name,
            device: TunDevice::Fd {
                fd,
                framing: TunFraming::Bare,
            },
        }
    }
}

/// What the helper provides: the OS side of a session. The engine calls `configure` once the
/// PUSH_REPLY is in (and again after a reconnect if the pushed settings changed), and
/// `teardown` when the session ends for any reason (disconnect, failure, drop).
pub trait NetworkSetup: Send + 'static {
    /// How the engine makes its own sockets and looks names up (asked once per session).
    fn own_sockets(&self) -> crate::transport::Sockets;
    fn configure(
        &mut self,
        pushed: &PushedSettings,
        server: std::net::SocketAddr,
    ) -> impl std::future::Future<Output = Result<Tun, String>> + Send;
    fn teardown(&mut self) -> impl std::future::Future<Output = ()> + Send;
}
