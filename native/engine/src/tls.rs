//! TLS inside the control channel (wire-protocol §3): a rustls client (ring provider, TLS 1.2
//! and 1.3 only, no SNI, no resumption) with OpenVPN's certificate checks instead of hostname
//! verification, and the mapping of TLS failures to user-facing errors.

use crate::api::EngineError;
use crate::config::{
    EngineConfig, ErrorCode, RemoteCertTls, TlsVersion, VerifyX509Name, X509NameType,
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

/// OpenVPN's server certificate checks: chain to the profile CA (+ extra-certs), expiry,
/// `remote-cert-tls server`, `verify-x509-name`. No hostname check.
#[derive(Debug)]
pub struct OpenVpnVerifier {
    roots: Vec<CertificateDer<'static>>,
    extra: Vec<CertificateDer<'static>>,
    remote_cert_tls: Option<RemoteCertTls>,
    verify_name: Option<VerifyX509Name>,
    provider: Arc<CryptoProvider>,
}

impl OpenVpnVerifier {
    fn check(
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
        // Chain and validity first, with the lenient EKU rule, so that a wrong CA or an expired
        // certificate is reported as such; remote-cert-tls is checked separately below.
        ee.verify_for_usage(
            self.provider.signature_verification_algorithms.all,
            &anchors,
            &chain,
            now,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|e| reject(describe_webpki(&e)))?;

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
        if let Some(v) = &self.verify_name {
            check_x509_name(&cert, v).map_err(reject)?;
        }
        Ok(())
    }
}

fn describe_webpki(e: &webpki::Error) -> String {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => "server certificate has expired".into(),
        E::CertNotValidYet { .. } => "server certificate is not valid yet".into(),
        E::UnknownIssuer => "server certificate is not signed by the profile's CA".into(),
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
    let roots = parse_certs(&cfg.ca, "ca")?;
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
