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

/// A configured TUN device: non-blocking fd opened with IFF_TUN | IFF_NO_PI, addresses, MTU and
/// routes already applied by the helper. The engine's driver owns the fd for reading/writing IP packets.
#[derive(Debug)]
pub struct Tun {
    pub name: String,
    pub fd: std::os::fd::OwnedFd,
    /// Linux: opened with IFF_VNET_HDR and offloads enabled (TUNSETOFFLOAD): every read and
    /// write carries a virtio-net header and reads may be TSO/USO super-segments.
    pub vnet_hdr: bool,
}

/// What the helper provides: the OS side of a session. The engine calls `configure` once the
/// PUSH_REPLY is in (and again after a reconnect if the pushed settings changed), and
/// `teardown` when the session ends for any reason (disconnect, failure, drop).
pub trait NetworkSetup: Send + 'static {
    fn configure(
        &mut self,
        pushed: &PushedSettings,
        server: std::net::SocketAddr,
    ) -> impl std::future::Future<Output = Result<Tun, String>> + Send;
    fn teardown(&mut self) -> impl std::future::Future<Output = ()> + Send;
}
