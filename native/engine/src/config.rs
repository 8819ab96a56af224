//! Serde mirrors of the engine-facing types in `app/helper-protocol/messages.ts`.
//! Field names are camelCase and unknown fields are rejected, exactly like the TypeScript side.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Udp,
    Tcp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remote {
    pub host: String,
    pub port: u16,
    pub proto: Proto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataCipher {
    #[serde(rename = "AES-256-GCM")]
    Aes256Gcm,
    #[serde(rename = "AES-128-GCM")]
    Aes128Gcm,
    #[serde(rename = "CHACHA20-POLY1305")]
    Chacha20Poly1305,
}

impl DataCipher {
    /// The canonical OpenVPN spelling (IV_CIPHERS, pushed `cipher`).
    pub fn name(self) -> &'static str {
        match self {
            DataCipher::Aes256Gcm => "AES-256-GCM",
            DataCipher::Aes128Gcm => "AES-128-GCM",
            DataCipher::Chacha20Poly1305 => "CHACHA20-POLY1305",
        }
    }

    /// Parses a cipher name as a server pushes it (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Aes256Gcm, Self::Aes128Gcm, Self::Chacha20Poly1305]
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    pub fn key_len(self) -> usize {
        match self {
            DataCipher::Aes128Gcm => 16,
            DataCipher::Aes256Gcm | DataCipher::Chacha20Poly1305 => 32,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum X509NameType {
    Subject,
    Name,
    NamePrefix,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyX509Name {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: X509NameType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectRetry {
    pub initial_sec: u32,
    pub max_sec: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyDirection {
    #[serde(rename = "0")]
    Normal,
    #[serde(rename = "1")]
    Inverse,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsAuth {
    pub key: String,
    /// `key-direction`: 0, 1 or null (bidirectional).
    #[serde(with = "key_direction")]
    pub direction: Option<KeyDirection>,
}

impl std::fmt::Debug for TlsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsAuth")
            .field("key", &"<redacted>")
            .field("direction", &self.direction)
            .finish()
    }
}

/// `direction` is a JSON number (0 | 1 | null) on the TypeScript side.
mod key_direction {
    use super::KeyDirection;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<KeyDirection>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            None => s.serialize_none(),
            Some(KeyDirection::Normal) => s.serialize_u8(0),
            Some(KeyDirection::Inverse) => s.serialize_u8(1),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<KeyDirection>, D::Error> {
        match Option::<u8>::deserialize(d)? {
            None => Ok(None),
            Some(0) => Ok(Some(KeyDirection::Normal)),
            Some(1) => Ok(Some(KeyDirection::Inverse)),
            Some(n) => Err(serde::de::Error::custom(format!(
                "key direction must be 0, 1 or null, got {n}"
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthDigest {
    #[serde(rename = "SHA1")]
    Sha1,
    #[serde(rename = "SHA256")]
    Sha256,
    #[serde(rename = "SHA512")]
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TlsVersion {
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticChallenge {
    pub text: String,
    pub echo: bool,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    None,
    CompLzoNo,
    CompressStub,
    CompressStubV2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Keepalive {
    pub interval_sec: u32,
    pub timeout_sec: u32,
}

/// A fully normalized engine configuration (see messages.ts for the meaning of each field).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EngineConfig {
    pub remotes: Vec<Remote>,
    pub remote_random: bool,
    pub remote_random_hostname: bool,
    pub connect_retry: ConnectRetry,
    pub connect_retry_max: Option<u32>,
    pub handshake_window_sec: u32,

    pub ca: String,
    pub extra_certs: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,

    pub tls_auth: Option<TlsAuth>,
    pub tls_crypt: Option<String>,
    pub tls_crypt_v2: Option<String>,
    pub auth_digest: AuthDigest,

    pub tls_version_min: TlsVersion,
    pub tls_version_max: Option<TlsVersion>,
    pub data_ciphers: Vec<DataCipher>,
    pub remote_cert_tls: Option<RemoteCertTls>,
    pub verify_x509_name: Option<VerifyX509Name>,

    pub auth_user_pass: bool,
    pub static_challenge: Option<StaticChallenge>,
    pub credentials: Option<Credentials>,
    pub aws_framing: bool,

    pub compression: Compression,
    pub keepalive: Option<Keepalive>,
    pub reneg_sec: u32,
    pub reneg_bytes: Option<u64>,
    pub tun_mtu: u32,

    pub route_no_pull: bool,
    pub routes: Vec<String>,
    pub routes_ipv6: Vec<String>,
    pub redirect_gateway: bool,
    /// `route … net_gateway`: CIDRs kept off the tunnel (applied by the helper, not the engine).
    pub excluded_routes: Vec<String>,
    /// The profile's own DNS options (applied by the helper on top of the pushed ones).
    pub dns: DnsSettings,
    pub block_ipv6: bool,
    pub kill_switch: bool,

    pub gui_version: String,
}

/// Secrets are redacted so a config can be logged safely.
impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("EngineConfig")
            .field("remotes", &self.remotes)
            .field("remote_random", &self.remote_random)
            .field("remote_random_hostname", &self.remote_random_hostname)
            .field("connect_retry", &self.connect_retry)
            .field("connect_retry_max", &self.connect_retry_max)
            .field("key", &redact(&self.key))
            .field("tls_auth", &self.tls_auth)
            .field("tls_crypt", &redact(&self.tls_crypt))
            .field("tls_crypt_v2", &redact(&self.tls_crypt_v2))
            .field("data_ciphers", &self.data_ciphers)
            .field("credentials", &self.credentials)
            .field("aws_framing", &self.aws_framing)
            .field("compression", &self.compression)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoteCertTls {
    Server,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ipv4Settings {
    pub address: String,
    pub prefix: u8,
    pub gateway: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ipv6Settings {
    pub address: String,
    pub prefix: u8,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DnsSettings {
    pub servers: Vec<String>,
    pub search_domains: Vec<String>,
    pub route_domains: Vec<String>,
}

/// What the server pushed, normalized (messages.ts `PushedSettings` minus `device`,
/// which the helper adds once it has created the TUN device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PushedSettings {
    pub ipv4: Option<Ipv4Settings>,
    pub ipv6: Option<Ipv6Settings>,
    pub routes: Vec<String>,
    pub routes_ipv6: Vec<String>,
    pub redirect_gateway: bool,
    pub dns: DnsSettings,
    pub mtu: u32,
    pub peer_id: Option<u32>,
    pub cipher: DataCipher,
    pub session_timeout_sec: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionPhase {
    Resolving,
    Connecting,
    Authenticating,
    Connected,
    Reconnecting,
    Disconnecting,
    Disconnected,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    AuthFailed,
    ServerUnreachable,
    TlsVersionRefused,
    ServerCertRejected,
    ClientCertRejected,
    TlsFailed,
    ProtocolError,
    Halted,
    SessionExpired,
    TunFailed,
    NetworkSetupFailed,
    ConfigInvalid,
    UnknownSession,
    BadMessage,
    PermissionDenied,
    Internal,
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// A complete, valid EngineConfig in the JSON form main sends.
    pub const MINIMAL_CONFIG: &str = r#"{
        "remotes": [{"host": "vpn.example.com", "port": 1194, "proto": "udp"}],
        "remoteRandom": false, "remoteRandomHostname": false,
        "connectRetry": {"initialSec": 1, "maxSec": 300}, "connectRetryMax": null,
        "handshakeWindowSec": 60,
        "ca": "", "extraCerts": null, "cert": null, "key": null,
        "tlsAuth": {"key": "k", "direction": 1}, "tlsCrypt": null, "tlsCryptV2": null,
        "authDigest": "SHA256",
        "tlsVersionMin": "1.2", "tlsVersionMax": null,
        "dataCiphers": ["AES-256-GCM", "CHACHA20-POLY1305"],
        "remoteCertTls": "server", "verifyX509Name": {"name": "server", "type": "name-prefix"},
        "authUserPass": true, "staticChallenge": null,
        "credentials": {"username": "u", "password": "p"}, "awsFraming": false,
        "compression": "compress-stub-v2", "keepalive": {"intervalSec": 10, "timeoutSec": 60},
        "renegSec": 3600, "renegBytes": null, "tunMtu": 1500,
        "routeNoPull": false, "routes": ["10.0.0.0/8"], "routesIpv6": [],
        "redirectGateway": false, "excludedRoutes": ["192.168.1.0/24"],
        "dns": {"servers": ["10.8.0.53"], "searchDomains": [], "routeDomains": []},
        "blockIpv6": false, "killSwitch": false,
        "guiVersion": "causeway 0.1"
    }"#;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_typescript_shape() {
        let c: EngineConfig = serde_json::from_str(tests_support::MINIMAL_CONFIG).unwrap();
        assert_eq!(c.remotes[0].proto, Proto::Udp);
        assert_eq!(
            c.tls_auth.as_ref().unwrap().direction,
            Some(KeyDirection::Inverse)
        );
        assert_eq!(
            c.data_ciphers,
            vec![DataCipher::Aes256Gcm, DataCipher::Chacha20Poly1305]
        );
        assert_eq!(
            c.verify_x509_name.as_ref().unwrap().kind,
            X509NameType::NamePrefix
        );
        assert_eq!(c.compression, Compression::CompressStubV2);
        assert_eq!(c.excluded_routes, vec!["192.168.1.0/24"]);
        assert_eq!(c.dns.servers, vec!["10.8.0.53"]);
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["tlsAuth"]["direction"], 1);
        assert_eq!(back["remoteCertTls"], "server");
    }

    #[test]
    fn rejects_unknown_fields_and_bad_direction() {
        let extra = tests_support::MINIMAL_CONFIG.replacen('{', r#"{"bogus": 1,"#, 1);
        assert!(serde_json::from_str::<EngineConfig>(&extra)
            .unwrap_err()
            .to_string()
            .contains("bogus"));
        let bad = tests_support::MINIMAL_CONFIG.replace(r#""direction": 1"#, r#""direction": 2"#);
        assert!(serde_json::from_str::<EngineConfig>(&bad).is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let c: EngineConfig = serde_json::from_str(tests_support::MINIMAL_CONFIG).unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("\"p\""), "{dbg}");
        assert!(dbg.contains("<redacted>"));
    }
}
