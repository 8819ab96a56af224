//! The engine's configuration and the protocol types it shares with the helper: the one
//! definition of these shapes. `app/helper-protocol/generated/` (TypeScript types and validator)
//! is generated from their JSON Schema (`npm run gen:protocol`), so the doc comments here are
//! what main's developers read, and the `#[schemars(...)]` bounds are what main checks before
//! sending. Field names are camelCase; unknown fields are rejected; a nullable field must be
//! present (as `null`), never omitted.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::limits::{
    MAX_ADDRESS_CHARS, MAX_DNS_DOMAINS, MAX_DNS_SERVERS, MAX_FINGERPRINTS, MAX_NAME_CHARS,
    MAX_PASSWORD_CHARS, MAX_PEM_CHARS, MAX_REMOTES, MAX_ROUTES, MAX_SMALL_LIST, MAX_TEXT_CHARS,
};

/// `deserialize_with` for every `Option` field: turns off serde's "a missing Option is None"
/// default, so an omitted field is an error on both sides of the protocol. Items apply it to
/// all their `Option` fields with `#[serde_with_macros::apply(...)]` rather than field by field.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Udp,
    Tcp,
}

/// Which address families a remote may be reached over, outside the tunnel: `proto udp4`/`tcp4`
/// (ipv4), `udp6`/`tcp6` (ipv6) or plain `udp`/`tcp` (any: every address the name has is
/// tried in turn, IPv4 first, so a dual-stack server is reached over whichever path works).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AddressFamily {
    Any,
    Ipv4,
    Ipv6,
}

impl AddressFamily {
    pub fn admits(self, addr: &std::net::SocketAddr) -> bool {
        match self {
            AddressFamily::Any => true,
            AddressFamily::Ipv4 => addr.is_ipv4(),
            AddressFamily::Ipv6 => addr.is_ipv6(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Remote {
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub host: String,
    #[schemars(range(min = 1))]
    pub port: u16,
    pub proto: Proto,
    pub family: AddressFamily,
}

/// A data-channel cipher: the AEAD ciphers OpenVPN 2.4+ negotiates, and AES-CBC (with the
/// `auth` digest as its HMAC) for older servers. 64-bit block ciphers (BF-CBC, DES, CAST5, …)
/// are deliberately absent: SWEET32 recovers plaintext from them (`cbc::sweet32_refusal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DataCipher {
    #[serde(rename = "AES-256-GCM")]
    Aes256Gcm,
    #[serde(rename = "AES-128-GCM")]
    Aes128Gcm,
    #[serde(rename = "CHACHA20-POLY1305")]
    Chacha20Poly1305,
    #[serde(rename = "AES-256-CBC")]
    Aes256Cbc,
    #[serde(rename = "AES-128-CBC")]
    Aes128Cbc,
}

impl DataCipher {
    const ALL: [Self; 5] = [
        Self::Aes256Gcm,
        Self::Aes128Gcm,
        Self::Chacha20Poly1305,
        Self::Aes256Cbc,
        Self::Aes128Cbc,
    ];

    /// The canonical OpenVPN spelling (IV_CIPHERS, pushed `cipher`).
    pub fn name(self) -> &'static str {
        match self {
            DataCipher::Aes256Gcm => "AES-256-GCM",
            DataCipher::Aes128Gcm => "AES-128-GCM",
            DataCipher::Chacha20Poly1305 => "CHACHA20-POLY1305",
            DataCipher::Aes256Cbc => "AES-256-CBC",
            DataCipher::Aes128Cbc => "AES-128-CBC",
        }
    }

    /// Parses a cipher name as a server pushes it (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    pub fn key_len(self) -> usize {
        match self {
            DataCipher::Aes128Gcm | DataCipher::Aes128Cbc => 16,
            DataCipher::Aes256Gcm | DataCipher::Chacha20Poly1305 | DataCipher::Aes256Cbc => 32,
        }
    }

    /// AEAD ciphers authenticate themselves; CBC ones carry an HMAC of the `auth` digest.
    pub fn is_aead(self) -> bool {
        !matches!(self, DataCipher::Aes256Cbc | DataCipher::Aes128Cbc)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum X509NameType {
    Subject,
    Name,
    NamePrefix,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HashAlgorithm {
    #[serde(rename = "SHA1")]
    Sha1,
    #[serde(rename = "SHA256")]
    Sha256,
}

/// `verify-hash`: the algorithm and the accepted fingerprints ("AB:CD:…").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyHash {
    pub algorithm: HashAlgorithm,
    #[schemars(length(min = 1, max = MAX_FINGERPRINTS), inner(length(max = MAX_TEXT_CHARS)))]
    pub fingerprints: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyX509Name {
    #[schemars(length(min = 1, max = MAX_TEXT_CHARS))]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: X509NameType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectRetry {
    pub initial_sec: u32,
    pub max_sec: u32,
}

/// `key-direction` 0 or 1; on the wire a JSON number, like in an .ovpn file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDirection {
    Normal,
    Inverse,
}

impl Serialize for KeyDirection {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(match self {
            KeyDirection::Normal => 0,
            KeyDirection::Inverse => 1,
        })
    }
}

impl<'de> Deserialize<'de> for KeyDirection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u8::deserialize(d)? {
            0 => Ok(KeyDirection::Normal),
            1 => Ok(KeyDirection::Inverse),
            n => Err(serde::de::Error::custom(format!(
                "key direction must be 0, 1 or null, got {n}"
            ))),
        }
    }
}

impl JsonSchema for KeyDirection {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "KeyDirection".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "integer", "enum": [0, 1] })
    }
}

/// Routes in CIDR form ("10.0.0.0/8", "fd00::/64"), at most `MAX_ROUTES`: the one shape of
/// every route list of the protocol (the profile's, the exclusions, the pushed ones), so the
/// bound is stated once. On the wire a plain array of strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RouteList(pub Vec<String>);

impl JsonSchema for RouteList {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RouteList".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "array",
            "items": { "type": "string", "maxLength": MAX_ADDRESS_CHARS },
            "maxItems": MAX_ROUTES,
        })
    }
}

impl std::ops::Deref for RouteList {
    type Target = Vec<String>;

    fn deref(&self) -> &Vec<String> {
        &self.0
    }
}

impl std::ops::DerefMut for RouteList {
    fn deref_mut(&mut self) -> &mut Vec<String> {
        &mut self.0
    }
}

impl<'a> IntoIterator for &'a RouteList {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<S: Into<String>, const N: usize> From<[S; N]> for RouteList {
    fn from(routes: [S; N]) -> Self {
        routes.into_iter().collect()
    }
}

impl<S: Into<String>> FromIterator<S> for RouteList {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        RouteList(iter.into_iter().map(Into::into).collect())
    }
}

#[serde_with_macros::apply(crate = "serde_with_macros", Option => #[serde(deserialize_with = "nullable")])]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsAuth {
    #[schemars(length(min = 1, max = MAX_PEM_CHARS))]
    pub key: String,
    /// `key-direction`: 0, 1 or null (bidirectional).
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AuthDigest {
    #[serde(rename = "SHA1")]
    Sha1,
    #[serde(rename = "SHA256")]
    Sha256,
    #[serde(rename = "SHA512")]
    Sha512,
}

impl AuthDigest {
    /// OpenVPN's spelling (the options string's `auth`).
    pub fn name(self) -> &'static str {
        match self {
            AuthDigest::Sha1 => "SHA1",
            AuthDigest::Sha256 => "SHA256",
            AuthDigest::Sha512 => "SHA512",
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum TlsVersion {
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaticChallenge {
    #[schemars(length(max = MAX_TEXT_CHARS))]
    pub text: String,
    pub echo: bool,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[schemars(length(max = MAX_TEXT_CHARS))]
    pub username: String,
    #[schemars(length(max = MAX_PASSWORD_CHARS))]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    None,
    CompLzoNo,
    CompressStub,
    CompressStubV2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Keepalive {
    pub interval_sec: u32,
    pub timeout_sec: u32,
}

/// `mssfix max [mtu|fixed]`: the engine lowers the MSS option of TCP SYNs crossing the tunnel,
/// both ways, so the encrypted packets of those connections stay within `max` (OpenVPN 2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MssFix {
    /// Bytes; 0 turns the clamp off. OpenVPN's default is 1492 with `mode` `mtu`.
    #[schemars(range(max = 65535))]
    pub max: u32,
    pub mode: MssFixMode,
}

/// What `MssFix::max` limits: `payload` (`mssfix N`) the UDP or TCP payload that carries one
/// encrypted packet; `mtu` (`mssfix N mtu`) the whole outer IP packet, IP and UDP/TCP headers
/// included; `fixed` (`mssfix N fixed`) the inner IP packet (the MSS is N less 40).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MssFixMode {
    Payload,
    Mtu,
    Fixed,
}

/// Which proxy the engine dials instead of the server: `http` (`http-proxy`, asked to `CONNECT`;
/// TCP remotes only) or `socks5` (`socks-proxy`: RFC 1928 CONNECT for a TCP remote, UDP
/// ASSOCIATE for a UDP one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProxyKind {
    Http,
    Socks5,
}

/// `http-proxy-option VERSION`: the HTTP version of the CONNECT request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HttpVersion {
    #[serde(rename = "1.0")]
    V1_0,
    #[serde(rename = "1.1")]
    V1_1,
}

/// An extra request header (`http-proxy-option CUSTOM-HEADER name value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpHeader {
    /// A header name: letters, digits and `-` only.
    #[schemars(length(min = 1, max = 128))]
    pub name: String,
    /// No CR or LF (it would end the header).
    #[schemars(length(max = MAX_TEXT_CHARS))]
    pub value: String,
}

/// The proxy between the engine and every remote: the engine connects to the proxy (its name
/// resolved by the engine), never to the server directly.
#[serde_with_macros::apply(crate = "serde_with_macros", Option => #[serde(deserialize_with = "nullable")])]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProxySettings {
    pub kind: ProxyKind,
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub host: String,
    #[schemars(range(min = 1))]
    pub port: u16,
    /// HTTP Basic (`Proxy-Authorization`) or SOCKS5 username/password (RFC 1929); null = none.
    pub credentials: Option<Credentials>,
    /// HTTP only: the CONNECT request's version (`http-proxy-option VERSION`).
    pub http_version: HttpVersion,
    /// HTTP only: `User-Agent` (`http-proxy-option AGENT`); null = none sent.
    #[schemars(length(max = MAX_TEXT_CHARS))]
    pub user_agent: Option<String>,
    /// HTTP only: `http-proxy-option CUSTOM-HEADER`.
    #[schemars(length(max = MAX_SMALL_LIST))]
    pub custom_headers: Vec<HttpHeader>,
}

/// A fully normalized engine configuration, built by main from a stored Profile
/// (main/connection/engine-config.ts). Never profile text and never a file path.
#[serde_with_macros::apply(crate = "serde_with_macros", Option => #[serde(deserialize_with = "nullable")])]
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EngineConfig {
    #[schemars(length(min = 1, max = MAX_REMOTES))]
    pub remotes: Vec<Remote>,
    /// Shuffle the remote list once per connection (`remote-random`).
    pub remote_random: bool,
    /// Prepend a random label to each hostname before resolving (`remote-random-hostname`).
    pub remote_random_hostname: bool,
    /// `connect-retry` base and cap, seconds.
    pub connect_retry: ConnectRetry,
    /// Give up after this many failed attempts over the whole list (`connect-retry-max`); null = never.
    pub connect_retry_max: Option<u32>,
    /// Time allowed for one TLS handshake (`hand-window`), seconds.
    pub handshake_window_sec: u32,
    /// Reach every remote through this proxy; null = connect directly.
    pub proxy: Option<ProxySettings>,

    /// PEM: the CA bundle that must sign the server chain; "" only with `peerFingerprints`.
    #[schemars(length(max = MAX_PEM_CHARS))]
    pub ca: String,
    /// PEM: intermediates (`extra-certs`).
    #[schemars(length(max = MAX_PEM_CHARS))]
    pub extra_certs: Option<String>,
    /// PEM client certificate.
    #[schemars(length(max = MAX_PEM_CHARS))]
    pub cert: Option<String>,
    /// PEM private key of `cert` (a secret: it never leaves the helper).
    #[schemars(length(max = MAX_PEM_CHARS))]
    pub key: Option<String>,

    /// OpenVPN static key text and `key-direction`.
    pub tls_auth: Option<TlsAuth>,
    #[schemars(length(max = MAX_PEM_CHARS))]
    pub tls_crypt: Option<String>,
    /// The client's tls-crypt-v2 key file text (client key + wrapped key).
    #[schemars(length(max = MAX_PEM_CHARS))]
    pub tls_crypt_v2: Option<String>,
    /// HMAC digest (`auth` directive) for tls-auth and the CBC data ciphers; default SHA1.
    pub auth_digest: AuthDigest,

    pub tls_version_min: TlsVersion,
    pub tls_version_max: Option<TlsVersion>,
    /// Preference order, as sent in IV_CIPHERS. A profile's `cipher` (2.4 style) is among them.
    #[schemars(length(min = 1, max = MAX_SMALL_LIST))]
    pub data_ciphers: Vec<DataCipher>,
    /// `data-ciphers-fallback`: the cipher of a server that neither pushes `cipher` nor names
    /// one in its options string (OpenVPN 2.3 and older, or built without OCC); also the
    /// cipher the options string announces. The CBC ciphers authenticate with the `auth` digest.
    pub data_ciphers_fallback: Option<DataCipher>,
    pub remote_cert_tls: Option<RemoteCertTls>,
    pub verify_x509_name: Option<VerifyX509Name>,
    /// `peer-fingerprint`: SHA-256 fingerprints ("AB:CD:…") one of which the server certificate
    /// must have. With an empty `ca` they are the only trust (a self-signed server, OpenVPN 2.6).
    #[schemars(length(max = MAX_FINGERPRINTS), inner(length(max = MAX_TEXT_CHARS)))]
    pub peer_fingerprints: Vec<String>,
    /// `crl-verify`: PEM CRLs; the server certificate must be covered by its issuer's and not revoked.
    #[schemars(length(max = MAX_PEM_CHARS))]
    pub crl: Option<String>,
    /// `verify-hash`: fingerprints one of which the certificate that issued the server's must have.
    pub verify_hash: Option<VerifyHash>,
    /// `remote-cert-ku`: [] = the key usage extension must be present; else the bits of one value
    /// (OpenVPN's order, 0x80 = digitalSignature) must be set.
    #[schemars(length(max = MAX_SMALL_LIST))]
    pub remote_cert_ku: Option<Vec<u16>>,
    /// `remote-cert-eku`: an extended key usage OID the server certificate must carry.
    #[schemars(length(max = MAX_TEXT_CHARS))]
    pub remote_cert_eku: Option<String>,

    /// Whether the server expects username/password in key method 2 (`auth-user-pass`).
    pub auth_user_pass: bool,
    /// `static-challenge "text" echo`: the engine asks for the answer and sends SCRV1.
    pub static_challenge: Option<StaticChallenge>,
    /// Credentials known before connecting (saved password, or the AWS SAML first leg).
    pub credentials: Option<Credentials>,
    /// AWS Client VPN endpoint: enables the u32 credential framing for long passwords.
    pub aws_framing: bool,

    /// Framing for `compress`/`comp-lzo no` servers; we never compress.
    pub compression: Compression,
    pub keepalive: Option<Keepalive>,
    pub reneg_sec: u32,
    pub reneg_bytes: Option<u64>,
    #[schemars(range(min = 576, max = 65535))]
    pub tun_mtu: u32,
    pub mssfix: MssFix,

    /// Ignore routes the server pushes (`route-nopull`).
    pub route_no_pull: bool,
    /// Routes from the profile itself, CIDR form ("10.0.0.0/8"); with `routesIpv6` and
    /// `excludedRoutes` at most `LIMITS.maxRoutes` in all.
    pub routes: RouteList,
    pub routes_ipv6: RouteList,
    pub redirect_gateway: bool,
    /// The profile's `redirect-gateway ipv6`: IPv6 goes into the tunnel too (OpenVPN's
    /// `::/3`, `2000::/4`, `3000::/4`, `fc00::/7`) once the server gives the tunnel an IPv6
    /// address.
    pub redirect_gateway_ipv6: bool,
    /// Routes that bypass the tunnel via the original default path (`route … net_gateway`),
    /// CIDR, IPv4 and IPv6 (applied by the helper, not the engine).
    pub excluded_routes: RouteList,
    /// The profile's own DNS (`dhcp-option DNS/DOMAIN/…`, `dns …`); the helper adds it to what
    /// the server pushes.
    pub dns: DnsSettings,
    /// Leak protection: keep IPv6 out of the tunnel and answer it locally.
    pub block_ipv6: bool,
    pub kill_switch: bool,
    /// The user allows the directly connected LAN (private and link-local subnets only) to stay
    /// reachable outside the tunnel while leak protection blocks everything else.
    pub allow_lan: bool,

    /// IV_GUI_VER sent in peer info.
    #[schemars(length(max = MAX_TEXT_CHARS))]
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
            .field("proxy", &self.proxy)
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RemoteCertTls {
    Server,
}

#[serde_with_macros::apply(crate = "serde_with_macros", Option => #[serde(deserialize_with = "nullable")])]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ipv4Settings {
    #[schemars(length(min = 1, max = MAX_ADDRESS_CHARS))]
    pub address: String,
    #[schemars(range(max = 32))]
    pub prefix: u8,
    #[schemars(length(max = MAX_ADDRESS_CHARS))]
    pub gateway: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ipv6Settings {
    #[schemars(length(min = 1, max = MAX_ADDRESS_CHARS))]
    pub address: String,
    #[schemars(range(max = 128))]
    pub prefix: u8,
}

/// DNS servers and domains, from the profile or pushed by the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DnsSettings {
    #[schemars(length(max = MAX_DNS_SERVERS), inner(length(max = MAX_ADDRESS_CHARS)))]
    pub servers: Vec<String>,
    #[schemars(length(max = MAX_DNS_DOMAINS), inner(length(max = MAX_NAME_CHARS)))]
    pub search_domains: Vec<String>,
    /// Split DNS: only these names go to `servers` ("." = all names).
    #[schemars(length(max = MAX_DNS_DOMAINS), inner(length(max = MAX_NAME_CHARS)))]
    pub route_domains: Vec<String>,
}

/// What the server pushed, normalized (the protocol's `PushedSettings` minus `device`,
/// which the helper adds once it has created the TUN device).
#[serde_with_macros::apply(crate = "serde_with_macros", Option => #[serde(deserialize_with = "nullable")])]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PushedSettings {
    pub ipv4: Option<Ipv4Settings>,
    pub ipv6: Option<Ipv6Settings>,
    pub routes: RouteList,
    pub routes_ipv6: RouteList,
    pub redirect_gateway: bool,
    /// The server pushed `redirect-gateway ipv6`: IPv6 goes into the tunnel too, when it has
    /// an IPv6 address (`ipv6`).
    pub redirect_gateway_ipv6: bool,
    /// The server pushed `redirect-gateway block-local`: the LAN stays blocked for this
    /// session whatever the profile's `allowLan`.
    pub block_local: bool,
    /// The server pushed `block-ipv6`: IPv6 outside the tunnel stays blocked even when the
    /// tunnel carries IPv6 (the helper's IPv6 leak block, as for the profile's `block-ipv6`).
    pub block_ipv6: bool,
    pub dns: DnsSettings,
    pub mtu: u32,
    pub peer_id: Option<u32>,
    pub cipher: DataCipher,
    /// Seconds until the server ends the session, when it says so (AWS session timeout).
    pub session_timeout_sec: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    AuthFailed,
    // The proxy refused its username or password (HTTP 407, a SOCKS5 authentication failure).
    ProxyAuthFailed,
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
    use super::EngineConfig;

    /// The config of test/vectors/helper-protocol/valid/<name>.json: the shared vectors are the
    /// only full sample configs (main's tests and the lab read the same files).
    pub fn vector_config(name: &str) -> EngineConfig {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../test/vectors/helper-protocol/valid")
            .join(format!("{name}.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let vector: serde_json::Value = serde_json::from_str(&text).unwrap();
        serde_json::from_value(vector["message"]["config"].clone()).unwrap()
    }

    /// A typical certificate-less configuration with every default.
    pub fn typical_config() -> EngineConfig {
        vector_config("to-connect-typical")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_wire_shape() {
        let c = tests_support::vector_config("to-connect-full");
        assert_eq!(c.remotes[1].proto, Proto::Tcp);
        assert_eq!(
            c.tls_auth.as_ref().unwrap().direction,
            Some(KeyDirection::Inverse)
        );
        assert_eq!(
            c.data_ciphers,
            vec![
                DataCipher::Aes256Gcm,
                DataCipher::Aes128Gcm,
                DataCipher::Chacha20Poly1305,
                DataCipher::Aes256Cbc
            ]
        );
        assert_eq!(c.data_ciphers_fallback, Some(DataCipher::Aes256Cbc));
        assert_eq!(
            c.verify_x509_name.as_ref().unwrap().kind,
            X509NameType::Name
        );
        assert_eq!(c.compression, Compression::CompressStubV2);
        assert_eq!(
            *c.excluded_routes,
            vec!["192.168.1.0/24", "2001:db8:1::/48"]
        );
        assert_eq!(c.dns.servers, vec!["10.8.0.1", "fd00::1"]);
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["tlsAuth"]["direction"], 1);
        assert_eq!(back["remoteCertTls"], "server");
    }

    #[test]
    fn rejects_unknown_fields_and_bad_direction() {
        let good = serde_json::to_value(tests_support::vector_config("to-connect-full")).unwrap();
        let mut extra = good.clone();
        extra["bogus"] = 1.into();
        assert!(serde_json::from_value::<EngineConfig>(extra)
            .unwrap_err()
            .to_string()
            .contains("bogus"));
        let mut bad = good;
        bad["tlsAuth"]["direction"] = 2.into();
        assert!(serde_json::from_value::<EngineConfig>(bad).is_err());
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = tests_support::vector_config("to-connect-full");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("correct horse"), "{dbg}");
        assert!(!dbg.contains("not-a-real-key"), "{dbg}");
        assert!(!dbg.contains("proxy correct horse"), "{dbg}");
        assert!(dbg.contains("proxy.example.net"), "{dbg}");
        assert!(dbg.contains("<redacted>"));
    }
}
