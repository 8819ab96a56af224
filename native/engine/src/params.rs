//! Turns an `EngineConfig` (plus the credentials of this attempt) into the parameters of one
//! connection: TLS config, control-channel wrap, OCC options string and peer info.

use crate::api::EngineError;
use crate::config::{Compression, DataCipher, EngineConfig, ErrorCode, Proto, ProxyKind};
use crate::connection::ConnParams;
use crate::keys;
use crate::km2::Framing;
use crate::mss::{MssClamp, OuterPath};
use crate::secret::Secret;
use crate::transport::socks_udp_header_len;
use crate::wrap::Wrap;
use std::sync::Arc;
use std::time::Duration;

/// Version string announced as IV_VER: servers and plugins key behaviour on it, so we present
/// the OpenVPN 2.6 protocol level we implement.
const IV_VER: &str = "2.6.12";

/// IV_PROTO bits we implement (wire-protocol §4.3): DATA_V2 2, REQUEST_PUSH 4,
/// TLS_KEY_EXPORT 8, AUTH_PENDING_KW 16, DNS_OPTION 64, CC_EXIT_NOTIFY 128, AUTH_FAIL_TEMP 256.
/// DYN_TLS_CRYPT 512 (renegotiations under tls-crypt keyed from the first TLS session).
pub const IV_PROTO: u32 = 2 | 4 | 8 | 16 | 64 | 128 | 256 | 512;

fn platform() -> &'static str {
    match std::env::consts::OS {
        "macos" => "mac",
        "windows" => "win",
        other => other,
    }
}

pub fn peer_info(cfg: &EngineConfig, iv_proto: u32) -> String {
    let ciphers: Vec<&str> = cfg.data_ciphers.iter().map(|c| c.name()).collect();
    let mut s = format!(
        "IV_VER={IV_VER}\nIV_PLAT={}\nIV_PROTO={iv_proto}\n",
        platform()
    );
    if cfg.data_ciphers.contains(&DataCipher::Aes128Gcm)
        && cfg.data_ciphers.contains(&DataCipher::Aes256Gcm)
    {
        s.push_str("IV_NCP=2\n");
    }
    s.push_str(&format!("IV_CIPHERS={}\n", ciphers.join(":")));
    // Compression framing without compression, so `compress`/`comp-lzo no` servers accept us.
    s.push_str("IV_LZO_STUB=1\nIV_COMP_STUB=1\nIV_COMP_STUBv2=1\n");
    s.push_str("IV_SSO=webauth,openurl,crtext\n");
    // The GUI version is free text from the profile owner; keep it to one printable line.
    let gui: String = cfg
        .gui_version
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    if !gui.is_empty() {
        s.push_str(&format!("IV_GUI_VER={gui}\n"));
    }
    s
}

pub fn options_string(cfg: &EngineConfig, proto: Proto) -> String {
    // As OpenVPN 2.6: the fallback is the cipher the options string announces.
    let cipher = cfg
        .data_ciphers_fallback
        .or(cfg.data_ciphers.first().copied())
        .unwrap_or(DataCipher::Aes256Gcm);
    let tcp = proto == Proto::Tcp;
    let comp = cfg.compression != Compression::None;
    let link_mtu = cfg.tun_mtu + 49 + if tcp { 2 } else { 0 } + u32::from(comp);
    let mut s = format!(
        "V4,dev-type tun,link-mtu {link_mtu},tun-mtu {},proto {}",
        cfg.tun_mtu,
        if tcp { "TCPv4_CLIENT" } else { "UDPv4" }
    );
    if cfg.compression == Compression::CompLzoNo {
        s.push_str(",comp-lzo");
    }
    if let Some(ta) = &cfg.tls_auth {
        if let Some(d) = ta.direction {
            s.push_str(match d {
                crate::config::KeyDirection::Normal => ",keydir 0",
                crate::config::KeyDirection::Inverse => ",keydir 1",
            });
        }
    }
    let auth = if cipher.is_aead() {
        "[null-digest]"
    } else {
        cfg.auth_digest.name()
    };
    s.push_str(&format!(
        ",cipher {},auth {auth},keysize {}",
        cipher.name(),
        cipher.key_len() * 8
    ));
    if cfg.tls_auth.is_some() {
        s.push_str(",tls-auth");
    }
    s.push_str(",key-method 2,tls-client");
    s
}

/// Parsed once per session; cheap to turn into a fresh `Wrap` per connection.
#[derive(Clone)]
pub enum WrapKeys {
    None,
    Auth(
        keys::Key2,
        Option<crate::config::KeyDirection>,
        crate::config::AuthDigest,
    ),
    Crypt(keys::Key2),
    CryptV2(keys::TlsCryptV2Key),
}

impl WrapKeys {
    pub fn from_config(cfg: &EngineConfig) -> Result<Self, EngineError> {
        let bad = |e: String| EngineError::new(ErrorCode::ConfigInvalid, e);
        let set = [
            cfg.tls_auth.is_some(),
            cfg.tls_crypt.is_some(),
            cfg.tls_crypt_v2.is_some(),
        ];
        if set.iter().filter(|s| **s).count() > 1 {
            return Err(bad(
                "only one of tls-auth, tls-crypt and tls-crypt-v2 may be used".into(),
            ));
        }
        if let Some(ta) = &cfg.tls_auth {
            return Ok(Self::Auth(
                keys::parse_static_key(&ta.key).map_err(bad)?,
                ta.direction,
                cfg.auth_digest,
            ));
        }
        if let Some(tc) = &cfg.tls_crypt {
            return Ok(Self::Crypt(keys::parse_static_key(tc).map_err(bad)?));
        }
        if let Some(v2) = &cfg.tls_crypt_v2 {
            return Ok(Self::CryptV2(
                keys::parse_tls_crypt_v2_client_key(v2).map_err(bad)?,
            ));
        }
        Ok(Self::None)
    }

    /// The key2 a dynamic tls-crypt key is mixed with (none without control-channel wrapping).
    fn key2(&self) -> Option<keys::Key2> {
        match self {
            WrapKeys::None => None,
            WrapKeys::Auth(k, _, _) | WrapKeys::Crypt(k) => Some(k.clone()),
            WrapKeys::CryptV2(k) => Some(k.kc.clone()),
        }
    }

    fn factory(&self) -> Box<dyn Fn(u32) -> Wrap + Send + Sync> {
        let k = self.clone();
        Box::new(move |now| match &k {
            WrapKeys::None => Wrap::none(),
            WrapKeys::Auth(key, dir, d) => Wrap::tls_auth(key, *dir, *d, now),
            WrapKeys::Crypt(key) => Wrap::tls_crypt(key, now),
            WrapKeys::CryptV2(key) => Wrap::tls_crypt_v2(&key.kc, key.wkc.clone(), now),
        })
    }
}

/// Everything static about a session's connections, validated once.
pub struct Prepared {
    pub tls: Arc<rustls::ClientConfig>,
    pub wrap: WrapKeys,
}

impl Prepared {
    pub fn new(cfg: &EngineConfig) -> Result<Self, EngineError> {
        if cfg.remotes.is_empty() {
            return Err(EngineError::new(
                ErrorCode::ConfigInvalid,
                "the profile has no remote",
            ));
        }
        if cfg.data_ciphers.is_empty() {
            return Err(EngineError::new(
                ErrorCode::ConfigInvalid,
                "the profile allows no data cipher",
            ));
        }
        Ok(Self {
            tls: crate::tls::client_config(cfg)?,
            wrap: WrapKeys::from_config(cfg)?,
        })
    }

    pub fn conn_params(
        &self,
        cfg: &EngineConfig,
        proto: Proto,
        outer_ipv6: bool,
        username: Option<String>,
        password: Option<Secret>,
    ) -> ConnParams {
        ConnParams {
            tls: self.tls.clone(),
            wrap: self.wrap.factory(),
            tls_crypt_v2: matches!(self.wrap, WrapKeys::CryptV2(_)),
            wrap_key: self.wrap.key2(),
            client_cert: cfg.cert.is_some(),
            username,
            password,
            framing: if cfg.aws_framing {
                Framing::Aws
            } else {
                Framing::Stock
            },
            options_string: options_string(cfg, proto),
            peer_info: peer_info(cfg, IV_PROTO),
            data_ciphers: cfg.data_ciphers.clone(),
            data_ciphers_fallback: cfg.data_ciphers_fallback,
            data_auth: cfg.auth_digest,
            compression: cfg.compression,
            tun_mtu: cfg.tun_mtu,
            mss: MssClamp::new(
                cfg.mssfix,
                OuterPath {
                    ipv6: outer_ipv6,
                    tcp: proto == Proto::Tcp,
                    relay_header: match (&cfg.proxy, proto) {
                        (Some(p), Proto::Udp) if p.kind == ProxyKind::Socks5 => {
                            socks_udp_header_len(outer_ipv6)
                        }
                        _ => 0,
                    },
                },
                cfg.compression,
            ),
            route_no_pull: cfg.route_no_pull,
            hand_window: Duration::from_secs(cfg.handshake_window_sec.max(5).into()),
            tls_timeout: Duration::from_secs(2),
            reneg_sec: cfg.reneg_sec,
            reneg_bytes: cfg.reneg_bytes,
            keepalive: cfg.keepalive,
            udp: proto == Proto::Udp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{tests_support::typical_config, AuthDigest};

    #[test]
    fn options_string_announces_the_fallback_with_its_digest() {
        let mut cfg = typical_config();
        assert!(options_string(&cfg, Proto::Udp)
            .contains(",cipher AES-256-GCM,auth [null-digest],keysize 256,"));
        cfg.data_ciphers_fallback = Some(DataCipher::Aes128Cbc);
        cfg.auth_digest = AuthDigest::Sha512;
        assert!(options_string(&cfg, Proto::Tcp)
            .contains(",cipher AES-128-CBC,auth SHA512,keysize 128,"));
    }

    #[test]
    fn peer_info_announces_cbc_ciphers_the_profile_allows() {
        let mut cfg = typical_config();
        cfg.data_ciphers = vec![
            DataCipher::Aes256Gcm,
            DataCipher::Aes128Gcm,
            DataCipher::Aes256Cbc,
        ];
        let info = peer_info(&cfg, IV_PROTO);
        assert!(
            info.contains("IV_CIPHERS=AES-256-GCM:AES-128-GCM:AES-256-CBC\n"),
            "{info}"
        );
        assert!(info.contains("IV_NCP=2\n"));
    }
}
