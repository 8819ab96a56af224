//! TLS inside the control channel (wire-protocol §3): a rustls client (ring provider, TLS 1.2
//! and 1.3 only, no SNI, no resumption) with OpenVPN's certificate checks instead of hostname
//! verification, and the mapping of TLS failures to user-facing errors.

use crate::api::EngineError;
use crate::config::{
    EngineConfig, ErrorCode, HashAlgorithm, RemoteCertTls, TlsVersion, VerifyX509Name, X509NameType,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use std::sync::Arc;

/// A specific reason why the server certificate was refused; surfaces as `server-cert-rejected`.
#[derive(Debug)]
struct Rejected(String);

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Rejected {}

fn reject(msg: impl Into<String>) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(Rejected(
        msg.into(),
    )))))
}

/// How the server certificate is pinned or restricted beyond the CA (OpenVPN 2.6 directives).
#[derive(Debug, Default)]
pub struct ServerPins {
    /// `peer-fingerprint`: SHA-256 of the server certificate (DER). Without a CA these are the
    /// only trust (a self-signed server); with one, the chain must verify and the pin match.
    pub peer_sha256: Vec<[u8; 32]>,
    /// `crl-verify`: revocation lists (DER) checked against the server certificate.
    pub crls: Vec<webpki::OwnedCertRevocationList>,
    /// `verify-hash`: fingerprints of the certificate that issued the server's (level 1).
    pub issuer_hashes: Vec<(HashAlgorithm, Vec<u8>)>,
    /// `remote-cert-ku`: the key usage extension must be present; when values are given the
    /// certificate must have at least the bits of one of them (OpenVPN's bit order, 0x80 =
    /// digitalSignature).
    pub key_usage: Option<Vec<u16>>,
    /// `remote-cert-eku`: an extended key usage OID the certificate must carry.
    pub eku_oid: Option<String>,
}

impl ServerPins {
    /// The profile's pins, checked for form; a malformed one is `config-invalid`, never ignored.
    fn from_config(cfg: &EngineConfig) -> Result<Self, EngineError> {
        let invalid = |what: &str| EngineError::new(ErrorCode::ConfigInvalid, what.to_string());
        let peer_sha256 = cfg
            .peer_fingerprints
            .iter()
            .map(|f| {
                parse_fingerprint(f, 32)
                    .and_then(|v| v.try_into().ok())
                    .ok_or_else(|| invalid("peer-fingerprint: not a SHA-256 fingerprint"))
            })
            .collect::<Result<Vec<[u8; 32]>, _>>()?;
        let crls = match &cfg.crl {
            None => Vec::new(),
            Some(pem) => {
                let ders: Result<Vec<_>, _> =
                    rustls::pki_types::CertificateRevocationListDer::pem_slice_iter(pem.as_bytes())
                        .collect();
                let ders = ders.map_err(|_| invalid("crl-verify: invalid PEM CRL"))?;
                if ders.is_empty() {
                    return Err(invalid("crl-verify: no CRL found"));
                }
                ders.iter()
                    .map(|d| {
                        webpki::OwnedCertRevocationList::from_der(d.as_ref()).map_err(|e| {
                            let why = match e {
                                webpki::Error::UnsupportedCrlVersion => {
                                    "a version 1 CRL; ask for a version 2 CRL (openssl ca with a crlnumber, as easy-rsa issues)".to_string()
                                }
                                other => format!("{other:?}"),
                            };
                            invalid(&format!("crl-verify: the CRL cannot be used: {why}"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        let issuer_hashes = match &cfg.verify_hash {
            None => Vec::new(),
            Some(v) => {
                let len = if v.algorithm == HashAlgorithm::Sha1 {
                    20
                } else {
                    32
                };
                v.fingerprints
                    .iter()
                    .map(|f| {
                        parse_fingerprint(f, len)
                            .map(|b| (v.algorithm, b))
                            .ok_or_else(|| invalid("verify-hash: malformed fingerprint"))
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(ServerPins {
            peer_sha256,
            crls,
            issuer_hashes,
            key_usage: cfg.remote_cert_ku.clone(),
            eku_oid: cfg.remote_cert_eku.clone(),
        })
    }
}

/// "AB:CD:…" (or plain hex) of exactly `len` bytes.
fn parse_fingerprint(text: &str, len: usize) -> Option<Vec<u8>> {
    let hex: String = text.chars().filter(|c| *c != ':').collect();
    if hex.len() != len * 2 || !hex.is_ascii() {
        return None;
    }
    (0..len)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}

fn digest(alg: HashAlgorithm, der: &[u8]) -> Vec<u8> {
    let a = match alg {
        HashAlgorithm::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        HashAlgorithm::Sha256 => &ring::digest::SHA256,
    };
    ring::digest::digest(a, der).as_ref().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// OpenVPN's server certificate checks: chain to the profile CA (+ extra-certs), expiry,
/// revocation (`crl-verify`), `remote-cert-tls server`, `remote-cert-ku`/`-eku`,
/// `verify-x509-name`, `verify-hash`, `peer-fingerprint`. No hostname check.
#[derive(Debug)]
pub struct OpenVpnVerifier {
    roots: Vec<CertificateDer<'static>>,
    extra: Vec<CertificateDer<'static>>,
    remote_cert_tls: Option<RemoteCertTls>,
    verify_name: Option<VerifyX509Name>,
    pins: ServerPins,
    provider: Arc<CryptoProvider>,
}

impl OpenVpnVerifier {
    fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let fingerprint = digest(HashAlgorithm::Sha256, end_entity);
        let pinned = self
            .pins
            .peer_sha256
            .iter()
            .any(|p| p.as_slice() == fingerprint.as_slice());
        if !self.pins.peer_sha256.is_empty() && !pinned {
            return Err(reject(format!(
                "server certificate fingerprint {} is not one of the profile's peer-fingerprint values",
                hex(&fingerprint)
            )));
        }
        // With fingerprints and no CA the pin is the whole trust, as in OpenVPN 2.6 (a
        // self-signed server); otherwise the chain must verify too.
        if !self.roots.is_empty() {
            self.check_chain(end_entity, intermediates, now)?;
        }

        let (_, cert) = x509_parser::parse_x509_certificate(end_entity)
            .map_err(|_| reject("server certificate cannot be parsed"))?;
        if self.remote_cert_tls.is_some() {
            if cert.key_usage().ok().flatten().is_none() {
                return Err(reject(
                    "server certificate has no key usage extension (remote-cert-tls server)",
                ));
            }
            let server_auth = cert
                .extended_key_usage()
                .ok()
                .flatten()
                .is_some_and(|e| e.value.server_auth);
            if !server_auth {
                return Err(reject(
                    "server certificate is not a TLS server certificate (remote-cert-tls server: extended key usage serverAuth missing)",
                ));
            }
        }
        if let Some(wanted) = &self.pins.key_usage {
            check_key_usage(&cert, wanted).map_err(reject)?;
        }
        if let Some(oid) = &self.pins.eku_oid {
            check_eku(&cert, oid).map_err(reject)?;
        }
        if let Some(v) = &self.verify_name {
            check_x509_name(&cert, v).map_err(reject)?;
        }
        if !self.pins.issuer_hashes.is_empty() {
            self.check_issuer_hash(&cert, intermediates)
                .map_err(reject)?;
        }
        Ok(())
    }

    fn check_chain(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let anchors: Vec<_> = self
            .roots
            .iter()
            .filter_map(|c| webpki::anchor_from_trusted_cert(c).ok())
            .collect();
        let ee = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|e| reject(format!("server certificate cannot be parsed ({e})")))?;
        let mut chain: Vec<CertificateDer<'_>> = intermediates.to_vec();
        chain.extend(self.extra.iter().cloned());
        let crls: Vec<webpki::CertRevocationList<'_>> = self
            .pins
            .crls
            .iter()
            .map(|c| webpki::CertRevocationList::Owned(c.clone()))
            .collect();
        let crl_refs: Vec<&webpki::CertRevocationList<'_>> = crls.iter().collect();
        // As OpenSSL's X509_V_FLAG_CRL_CHECK does for OpenVPN: the server certificate must be
        // covered by a current CRL of its issuer; an expired CRL fails too.
        let revocation = webpki::RevocationOptionsBuilder::new(&crl_refs)
            .ok()
            .map(|b| {
                b.with_depth(webpki::RevocationCheckDepth::EndEntity)
                    .with_status_policy(webpki::UnknownStatusPolicy::Deny)
                    .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
                    .build()
            });
        // Chain and validity first, with the lenient EKU rule, so that a wrong CA or an expired
        // certificate is reported as such; remote-cert-tls is checked separately.
        ee.verify_for_usage(
            self.provider.signature_verification_algorithms.all,
            &anchors,
            &chain,
            now,
            webpki::KeyUsage::server_auth(),
            revocation,
            None,
        )
        .map_err(|e| reject(describe_webpki(&e)))?;
        Ok(())
    }

    /// `verify-hash`: the certificate that issued the server's (sent by the server, in
    /// extra-certs or the CA) must have one of the fingerprints.
    fn check_issuer_hash(
        &self,
        cert: &x509_parser::certificate::X509Certificate<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> Result<(), String> {
        let issuer = cert.issuer().as_raw();
        let candidates = intermediates
            .iter()
            .map(|c| c.as_ref())
            .chain(self.extra.iter().map(|c| c.as_ref()))
            .chain(self.roots.iter().map(|c| c.as_ref()));
        for der in candidates {
            let Ok((_, c)) = x509_parser::parse_x509_certificate(der) else {
                continue;
            };
            if c.subject().as_raw() != issuer {
                continue;
            }
            if self
                .pins
                .issuer_hashes
                .iter()
                .any(|(alg, want)| digest(*alg, der) == *want)
            {
                return Ok(());
            }
        }
        Err("the certificate that issued the server certificate does not match the profile's verify-hash".into())
    }
}

/// The key usage bits in OpenVPN's order: bit 0 of the extension (digitalSignature) is 0x80.
fn openvpn_key_usage(flags: u16) -> u16 {
    (0..8)
        .filter(|i| flags & (1 << i) != 0)
        .map(|i| 1u16 << (7 - i))
        .sum()
}

fn check_key_usage(
    cert: &x509_parser::certificate::X509Certificate<'_>,
    wanted: &[u16],
) -> Result<(), String> {
    let Some(ku) = cert.key_usage().ok().flatten() else {
        return Err("server certificate has no key usage extension (remote-cert-ku)".into());
    };
    let have = openvpn_key_usage(ku.value.flags);
    if wanted.is_empty() || wanted.iter().any(|w| have & w == *w) {
        return Ok(());
    }
    let listed: Vec<String> = wanted.iter().map(|w| format!("{w:02x}")).collect();
    Err(format!(
        "server certificate key usage {have:02x} has none of the bits remote-cert-ku requires ({})",
        listed.join(" ")
    ))
}

fn check_eku(
    cert: &x509_parser::certificate::X509Certificate<'_>,
    oid: &str,
) -> Result<(), String> {
    let missing =
        || format!("server certificate lacks the extended key usage {oid} (remote-cert-eku)");
    let Some(eku) = cert.extended_key_usage().ok().flatten() else {
        return Err(missing());
    };
    let e = &eku.value;
    let known = match oid {
        "1.3.6.1.5.5.7.3.1" => Some(e.server_auth),
        "1.3.6.1.5.5.7.3.2" => Some(e.client_auth),
        "1.3.6.1.5.5.7.3.3" => Some(e.code_signing),
        "1.3.6.1.5.5.7.3.4" => Some(e.email_protection),
        "1.3.6.1.5.5.7.3.8" => Some(e.time_stamping),
        "1.3.6.1.5.5.7.3.9" => Some(e.ocsp_signing),
        _ => None,
    };
    let present = known.unwrap_or_else(|| e.other.iter().any(|o| o.to_id_string() == oid));
    if present {
        Ok(())
    } else {
        Err(missing())
    }
}

fn describe_webpki(e: &webpki::Error) -> String {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => "server certificate has expired".into(),
        E::CertNotValidYet { .. } => "server certificate is not valid yet".into(),
        E::UnknownIssuer => "server certificate is not signed by the profile's CA".into(),
        E::CertRevoked => "server certificate has been revoked (crl-verify)".into(),
        E::UnknownRevocationStatus => {
            "server certificate is not covered by the profile's certificate revocation list (crl-verify)".into()
        }
        E::CrlExpired { .. } => "the profile's certificate revocation list has expired (crl-verify)".into(),
        E::RequiredEkuNotFoundContext(_) => {
            "server certificate is not a TLS server certificate (remote-cert-tls server: extended key usage serverAuth missing)".into()
        }
        E::InvalidSignatureForPublicKey
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "server certificate signature is invalid or uses an unsupported algorithm".into()
        }
        other => format!("server certificate rejected ({other:?})"),
    }
}

/// Subject rendered like OpenSSL's `X509_NAME_print_ex(..., XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN)`:
/// `C=US, ST=CA, O=Org, CN=server`.
fn subject_string(cert: &x509_parser::certificate::X509Certificate<'_>) -> String {
    let mut parts = Vec::new();
    for rdn in cert.subject().iter() {
        for attr in rdn.iter() {
            let oid = attr.attr_type().to_id_string();
            let name = openssl_short_name(&oid).map(str::to_string).unwrap_or(oid);
            let value = attr
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|_| "<binary>".into());
            parts.push(format!("{name}={value}"));
        }
    }
    parts.join(", ")
}

/// OpenSSL's short names for the attributes that appear in certificate subjects.
fn openssl_short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

fn common_name(cert: &x509_parser::certificate::X509Certificate<'_>) -> Option<String> {
    cert.subject()
        .iter_common_name()
        .last()
        .and_then(|a| a.as_str().ok())
        .map(str::to_string)
}

fn check_x509_name(
    cert: &x509_parser::certificate::X509Certificate<'_>,
    v: &VerifyX509Name,
) -> Result<(), String> {
    let ok = match v.kind {
        X509NameType::Subject => subject_string(cert) == v.name,
        X509NameType::Name => common_name(cert).as_deref() == Some(v.name.as_str()),
        X509NameType::NamePrefix => common_name(cert).is_some_and(|cn| cn.starts_with(&v.name)),
    };
    if ok {
        return Ok(());
    }
    let shown = match v.kind {
        X509NameType::Subject => subject_string(cert),
        _ => common_name(cert).unwrap_or_default(),
    };
    let kind = match v.kind {
        X509NameType::Subject => "subject",
        X509NameType::Name => "name",
        X509NameType::NamePrefix => "name-prefix",
    };
    Err(format!(
        "server certificate name '{shown}' does not match verify-x509-name '{}' ({kind})",
        v.name
    ))
}

impl ServerCertVerifier for OpenVpnVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity, intermediates, now)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn parse_certs(pem: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, EngineError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem.as_bytes()).collect();
    let certs = certs.map_err(|_| {
        EngineError::new(
            ErrorCode::ConfigInvalid,
            format!("{what}: invalid PEM certificate"),
        )
    })?;
    if certs.is_empty() {
        return Err(EngineError::new(
            ErrorCode::ConfigInvalid,
            format!("{what}: no certificate found"),
        ));
    }
    Ok(certs)
}

/// Builds the rustls client configuration for a profile. Errors are `config-invalid`.
pub fn client_config(cfg: &EngineConfig) -> Result<Arc<rustls::ClientConfig>, EngineError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let pins = ServerPins::from_config(cfg)?;
    // A server pinned by peer-fingerprint alone has no CA (OpenVPN 2.6's self-signed setup).
    let roots = if cfg.ca.trim().is_empty() && !pins.peer_sha256.is_empty() {
        Vec::new()
    } else {
        parse_certs(&cfg.ca, "ca")?
    };
    let extra = match &cfg.extra_certs {
        Some(pem) => parse_certs(pem, "extra-certs")?,
        None => Vec::new(),
    };
    let max = cfg.tls_version_max.unwrap_or(TlsVersion::V1_3);
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = [
        (TlsVersion::V1_2, &rustls::version::TLS12),
        (TlsVersion::V1_3, &rustls::version::TLS13),
    ]
    .into_iter()
    .filter(|(v, _)| *v >= cfg.tls_version_min && *v <= max)
    .map(|(_, p)| p)
    .collect();
    if versions.is_empty() {
        return Err(EngineError::new(
            ErrorCode::ConfigInvalid,
            "tls-version-min is above tls-version-max",
        ));
    }
    let verifier = Arc::new(OpenVpnVerifier {
        roots,
        extra,
        remote_cert_tls: cfg.remote_cert_tls,
        verify_name: cfg.verify_x509_name.clone(),
        pins,
        provider: provider.clone(),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| EngineError::new(ErrorCode::Internal, format!("TLS setup failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&cfg.cert, &cfg.key) {
        (Some(cert), Some(key)) => {
            let chain = parse_certs(cert, "cert")?;
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|_| {
                EngineError::new(
                    ErrorCode::ConfigInvalid,
                    "key: no usable PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)",
                )
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                EngineError::new(
                    ErrorCode::ConfigInvalid,
                    format!("client certificate/key unusable: {}", scrub(&e)),
                )
            })?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(EngineError::new(
                ErrorCode::ConfigInvalid,
                "cert and key must be given together",
            ))
        }
    };
    config.enable_sni = false;
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// rustls error text never contains key bytes, but keep it to the error kind to be safe.
fn scrub(e: &rustls::Error) -> String {
    match e {
        rustls::Error::General(s) => s.clone(),
        other => format!("{other:?}").chars().take(200).collect(),
    }
}

/// Maps a TLS failure to the user-facing error (wire-protocol §3; issue 3 error list).
pub fn map_tls_error(e: &rustls::Error) -> EngineError {
    use rustls::AlertDescription as A;
    use rustls::Error as E;
    use rustls::PeerIncompatible as P;
    match e {
        E::InvalidCertificate(CertificateError::Other(OtherError(inner))) => {
            EngineError::new(ErrorCode::ServerCertRejected, inner.to_string())
        }
        E::InvalidCertificate(c) => EngineError::new(
            ErrorCode::ServerCertRejected,
            format!("server certificate rejected ({c:?})"),
        ),
        E::PeerIncompatible(
            P::ServerDoesNotSupportTls12Or13 | P::ServerTlsVersionIsDisabledByOurConfig,
        )
        | E::AlertReceived(A::ProtocolVersion) => EngineError::new(
            ErrorCode::TlsVersionRefused,
            "the server does not support TLS 1.2 or newer (or the profile's tls-version-min/max)",
        ),
        E::AlertReceived(
            a @ (A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::UnsupportedCertificate
            | A::CertificateRequired
            | A::AccessDenied),
        ) => EngineError::new(
            ErrorCode::ClientCertRejected,
            format!("the server rejected our client certificate (TLS alert {a:?})"),
        ),
        E::AlertReceived(a) => EngineError::new(
            ErrorCode::TlsFailed,
            format!("TLS handshake failed: server sent alert {a:?}"),
        ),
        other => EngineError::new(
            ErrorCode::TlsFailed,
            format!("TLS failed: {}", scrub(other)),
        ),
    }
}

/// The name given to rustls; never sent (SNI disabled) and never checked.
pub fn dummy_server_name() -> ServerName<'static> {
    ServerName::try_from("openvpn-server").expect("valid DNS name")
}

/// Wraps the client-certificate resolver to record whether the server asked for a client
/// certificate at all: a stock server that rejects (or misses) our certificate drops the
/// handshake without a word, and this is the evidence for a specific error.
#[derive(Debug)]
struct RecordingResolver {
    inner: Arc<dyn rustls::client::ResolvesClientCert>,
    requested: Arc<std::sync::atomic::AtomicBool>,
}

impl rustls::client::ResolvesClientCert for RecordingResolver {
    fn resolve(
        &self,
        hints: &[&[u8]],
        schemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.requested
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.inner.resolve(hints, schemes)
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

/// A per-TLS-session copy of `config` whose flag turns true when the server requests a client
/// certificate.
pub fn with_cert_request_flag(
    config: &Arc<rustls::ClientConfig>,
) -> (
    Arc<rustls::ClientConfig>,
    Arc<std::sync::atomic::AtomicBool>,
) {
    let requested = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut c = (**config).clone();
    c.client_auth_cert_resolver = Arc::new(RecordingResolver {
        inner: config.client_auth_cert_resolver.clone(),
        requested: requested.clone(),
    });
    (Arc::new(c), requested)
}

#[cfg(test)]
mod pin_tests {
    //! The OpenVPN 2.6 server checks against certificates made in memory; the same checks meet
    //! stock openvpn servers in the lab (test/integration/engine-verification.test.ts).
    use super::*;
    use rcgen::{
        date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams,
        DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose,
        RevokedCertParams, SerialNumber,
    };

    struct Ca {
        cert: rcgen::Certificate,
        key: KeyPair,
    }

    fn make_ca(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = p.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    fn server_params(serial: u64) -> CertificateParams {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, "server");
        p.serial_number = Some(SerialNumber::from(serial));
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p
    }

    fn server(ca: &Ca, serial: u64) -> CertificateDer<'static> {
        let key = KeyPair::generate().unwrap();
        server_params(serial)
            .signed_by(&key, &ca.cert, &ca.key)
            .unwrap()
            .der()
            .clone()
    }

    fn crl(ca: &Ca, revoked: &[u64]) -> webpki::OwnedCertRevocationList {
        let params = CertificateRevocationListParams {
            this_update: date_time_ymd(2024, 1, 1),
            next_update: date_time_ymd(2099, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from(*s),
                    revocation_time: date_time_ymd(2024, 6, 1),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&ca.cert, &ca.key).unwrap();
        webpki::OwnedCertRevocationList::from_der(crl.der()).unwrap()
    }

    fn verifier(roots: Vec<CertificateDer<'static>>, pins: ServerPins) -> OpenVpnVerifier {
        OpenVpnVerifier {
            roots,
            extra: Vec::new(),
            remote_cert_tls: Some(RemoteCertTls::Server),
            verify_name: None,
            pins,
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        }
    }

    fn outcome(v: &OpenVpnVerifier, cert: &CertificateDer<'_>) -> Result<(), String> {
        v.check(cert, &[], UnixTime::now())
            .map_err(|e| map_tls_error(&e).message)
    }

    fn sha256(der: &[u8]) -> [u8; 32] {
        digest(HashAlgorithm::Sha256, der).try_into().unwrap()
    }

    #[test]
    fn peer_fingerprint_alone_trusts_a_self_signed_server_and_nothing_else() {
        let key = KeyPair::generate().unwrap();
        let self_signed = server_params(7).self_signed(&key).unwrap().der().clone();
        let other = server(&make_ca("Other CA"), 8);
        let v = verifier(
            Vec::new(),
            ServerPins {
                peer_sha256: vec![[0u8; 32], sha256(&self_signed)],
                ..ServerPins::default()
            },
        );
        assert_eq!(outcome(&v, &self_signed), Ok(()));
        let refused = outcome(&v, &other).unwrap_err();
        assert!(
            refused.contains("is not one of the profile's peer-fingerprint values"),
            "{refused}"
        );
    }

    #[test]
    fn peer_fingerprint_with_a_ca_needs_both() {
        let ca = make_ca("CA");
        let good = server(&ca, 2);
        let v = verifier(
            vec![ca.cert.der().clone()],
            ServerPins {
                peer_sha256: vec![sha256(&good)],
                ..ServerPins::default()
            },
        );
        assert_eq!(outcome(&v, &good), Ok(()));
        assert!(outcome(&v, &server(&ca, 3))
            .unwrap_err()
            .contains("peer-fingerprint"));
    }

    #[test]
    fn crl_verify_refuses_a_revoked_server_and_one_its_crl_does_not_cover() {
        let ca = make_ca("CA");
        let revoked = server(&ca, 42);
        let fine = server(&ca, 43);
        let v = verifier(
            vec![ca.cert.der().clone()],
            ServerPins {
                crls: vec![crl(&ca, &[42])],
                ..ServerPins::default()
            },
        );
        assert_eq!(outcome(&v, &fine), Ok(()));
        assert_eq!(
            outcome(&v, &revoked).unwrap_err(),
            "server certificate has been revoked (crl-verify)"
        );
        let other_ca = make_ca("Unrelated CA");
        let v2 = verifier(
            vec![ca.cert.der().clone()],
            ServerPins {
                crls: vec![crl(&other_ca, &[])],
                ..ServerPins::default()
            },
        );
        assert!(outcome(&v2, &fine).unwrap_err().contains("not covered"));
    }

    #[test]
    fn remote_cert_ku_and_eku() {
        let ca = make_ca("CA");
        let cert = server(&ca, 5); // digitalSignature + keyEncipherment = a0, serverAuth
        let with = |pins: ServerPins| outcome(&verifier(vec![ca.cert.der().clone()], pins), &cert);
        let ku = |v: Vec<u16>| ServerPins {
            key_usage: Some(v),
            ..ServerPins::default()
        };
        assert_eq!(with(ku(vec![])), Ok(()));
        assert_eq!(with(ku(vec![0xa0])), Ok(()));
        assert_eq!(with(ku(vec![0x88, 0x80])), Ok(()));
        assert!(with(ku(vec![0x88]))
            .unwrap_err()
            .contains("remote-cert-ku requires (88)"));
        let eku = |oid: &str| ServerPins {
            eku_oid: Some(oid.into()),
            ..ServerPins::default()
        };
        assert_eq!(with(eku("1.3.6.1.5.5.7.3.1")), Ok(()));
        assert!(with(eku("1.3.6.1.5.5.7.3.2"))
            .unwrap_err()
            .contains("remote-cert-eku"));
    }

    #[test]
    fn verify_hash_pins_the_issuing_ca() {
        let ca = make_ca("CA");
        let cert = server(&ca, 9);
        let pin = |alg: HashAlgorithm, der: &[u8]| ServerPins {
            issuer_hashes: vec![(alg, digest(alg, der))],
            ..ServerPins::default()
        };
        let roots = vec![ca.cert.der().clone()];
        assert_eq!(
            outcome(
                &verifier(roots.clone(), pin(HashAlgorithm::Sha256, ca.cert.der())),
                &cert
            ),
            Ok(())
        );
        assert_eq!(
            outcome(
                &verifier(roots.clone(), pin(HashAlgorithm::Sha1, ca.cert.der())),
                &cert
            ),
            Ok(())
        );
        assert!(
            outcome(&verifier(roots, pin(HashAlgorithm::Sha256, &cert)), &cert)
                .unwrap_err()
                .contains("verify-hash")
        );
    }
}
