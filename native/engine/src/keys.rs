//! Parsers for the key files a profile inlines: OpenVPN static keys (tls-auth, tls-crypt) and
//! tls-crypt-v2 client keys. Errors never echo key material.

use base64::Engine as _;

/// 256 bytes: keys[0] = cipher[64] || hmac[64], keys[1] = cipher[64] || hmac[64].
#[derive(Clone)]
pub struct Key2(pub [u8; 256]);

impl Key2 {
    pub fn cipher(&self, idx: usize) -> &[u8] {
        &self.0[idx * 128..idx * 128 + 64]
    }
    pub fn hmac(&self, idx: usize) -> &[u8] {
        &self.0[idx * 128 + 64..idx * 128 + 128]
    }
}

impl std::fmt::Debug for Key2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key2(<redacted>)")
    }
}

const STATIC_BEGIN: &str = "-----BEGIN OpenVPN Static key V1-----";
const STATIC_END: &str = "-----END OpenVPN Static key V1-----";
const V2_BEGIN: &str = "-----BEGIN OpenVPN tls-crypt-v2 client key-----";
const V2_END: &str = "-----END OpenVPN tls-crypt-v2 client key-----";

/// Returns the text between the header and footer lines (both must start a line).
fn pem_body<'a>(text: &'a str, begin: &str, end: &str, what: &str) -> Result<&'a str, String> {
    let start = text
        .lines()
        .scan(0usize, |off, line| {
            let here = *off;
            *off += line.len() + 1;
            Some((here, line))
        })
        .find(|(_, line)| line.trim_end() == begin)
        .map(|(off, line)| off + line.len())
        .ok_or_else(|| format!("{what}: missing '{begin}' line"))?;
    let rest = &text[start..];
    let stop = rest
        .find(end)
        .ok_or_else(|| format!("{what}: missing '{end}' line"))?;
    Ok(&rest[..stop])
}

/// Parses an "OpenVPN Static key V1" file (exactly 256 bytes of hex).
pub fn parse_static_key(text: &str) -> Result<Key2, String> {
    let body = pem_body(text, STATIC_BEGIN, STATIC_END, "static key")?;
    let mut out = [0u8; 256];
    let mut n = 0usize;
    let mut hi: Option<u8> = None;
    for c in body.chars() {
        if c.is_whitespace() {
            continue;
        }
        let v = c
            .to_digit(16)
            .ok_or("static key: non-hex character in key body")? as u8;
        match hi.take() {
            None => hi = Some(v),
            Some(h) => {
                if n == 256 {
                    return Err("static key: more than 256 bytes".into());
                }
                out[n] = h << 4 | v;
                n += 1;
            }
        }
    }
    if hi.is_some() || n != 256 {
        return Err(format!("static key: expected 256 bytes, found {n}"));
    }
    Ok(Key2(out))
}

/// A tls-crypt-v2 client key: Kc (used like a tls-crypt key) and the opaque wrapped key WKc.
#[derive(Clone)]
pub struct TlsCryptV2Key {
    pub kc: Key2,
    pub wkc: Vec<u8>,
}

impl std::fmt::Debug for TlsCryptV2Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsCryptV2Key(<redacted>)")
    }
}

/// Longest WKc a stock server accepts (TLS_CRYPT_V2_MAX_WKC_LEN).
const MAX_WKC_LEN: usize = 1024;

pub fn parse_tls_crypt_v2_client_key(text: &str) -> Result<TlsCryptV2Key, String> {
    let body = pem_body(text, V2_BEGIN, V2_END, "tls-crypt-v2 client key")?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| "tls-crypt-v2 client key: invalid base64".to_string())?;
    if raw.len() <= 256 + 2 || raw.len() > 256 + MAX_WKC_LEN {
        return Err(format!(
            "tls-crypt-v2 client key: unexpected length {}",
            raw.len()
        ));
    }
    let mut kc = [0u8; 256];
    kc.copy_from_slice(&raw[..256]);
    let wkc = raw[256..].to_vec();
    let declared = u16::from_be_bytes([wkc[wkc.len() - 2], wkc[wkc.len() - 1]]) as usize;
    if declared != wkc.len() {
        return Err("tls-crypt-v2 client key: wrapped key length field does not match".into());
    }
    Ok(TlsCryptV2Key { kc: Key2(kc), wkc })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn static_key_text(bytes: &[u8; 256]) -> String {
        let mut s = String::from("#\n# 2048 bit OpenVPN static key\n#\n");
        s.push_str(STATIC_BEGIN);
        s.push('\n');
        for chunk in bytes.chunks(16) {
            for b in chunk {
                s.push_str(&format!("{b:02x}"));
            }
            s.push('\n');
        }
        s.push_str(STATIC_END);
        s.push('\n');
        s
    }

    #[test]
    fn parses_static_key_and_slices() {
        let mut bytes = [0u8; 256];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        let k = parse_static_key(&static_key_text(&bytes)).unwrap();
        assert_eq!(k.cipher(0)[0], 0);
        assert_eq!(k.hmac(0)[0], 64);
        assert_eq!(k.cipher(1)[0], 128);
        assert_eq!(k.hmac(1)[0], 192);
    }

    #[test]
    fn rejects_short_or_bad_static_key() {
        let text = format!("{STATIC_BEGIN}\nabcd\n{STATIC_END}\n");
        assert!(parse_static_key(&text)
            .unwrap_err()
            .contains("expected 256 bytes"));
        let text = format!("{STATIC_BEGIN}\nzz\n{STATIC_END}\n");
        assert!(parse_static_key(&text).unwrap_err().contains("non-hex"));
        assert!(parse_static_key("nothing").unwrap_err().contains("missing"));
    }

    #[test]
    fn parses_tls_crypt_v2_key() {
        let mut raw = vec![7u8; 256];
        let wkc_len = 100u16;
        raw.extend(std::iter::repeat_n(9u8, wkc_len as usize - 2));
        raw.extend_from_slice(&wkc_len.to_be_bytes());
        let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
        let text = format!("{V2_BEGIN}\n{}\n{}\n{V2_END}\n", &b64[..64], &b64[64..]);
        let k = parse_tls_crypt_v2_client_key(&text).unwrap();
        assert_eq!(k.wkc.len(), 100);
        assert_eq!(k.kc.0[0], 7);
    }
}
