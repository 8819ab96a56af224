//! Key method 2 (wire-protocol §4): the first TLS application data in each direction.
//! The client writes pre_master + two randoms + options string + credentials + peer info;
//! the server answers with its two randoms and options string.

use crate::secret::Secret;

/// Random material of one side of a KM2 exchange. The client also has `pre_master`.
#[derive(Clone)]
pub struct KeySource {
    pub pre_master: [u8; 48],
    pub random1: [u8; 32],
    pub random2: [u8; 32],
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySource(<redacted>)")
    }
}

/// String framing: stock u16 lengths, or AWS Client VPN's u32 lengths behind a little-endian
/// total-length word (§4.5) so that passwords beyond 64 KiB fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Stock,
    Aws,
}

pub struct ClientKm2<'a> {
    pub source: &'a KeySource,
    pub options: &'a str,
    pub username: Option<&'a str>,
    pub password: Option<&'a Secret>,
    pub peer_info: &'a str,
}

fn put_string(out: &mut Vec<u8>, s: Option<&[u8]>, framing: Framing) {
    match (s, framing) {
        (None, Framing::Stock) => out.extend_from_slice(&0u16.to_be_bytes()),
        (None, Framing::Aws) => out.extend_from_slice(&0u32.to_be_bytes()),
        (Some(s), Framing::Stock) => {
            out.extend_from_slice(&((s.len() + 1) as u16).to_be_bytes());
            out.extend_from_slice(s);
            out.push(0);
        }
        (Some(s), Framing::Aws) => {
            out.extend_from_slice(&((s.len() + 1) as u32).to_be_bytes());
            out.extend_from_slice(s);
            out.push(0);
        }
    }
}

/// Builds the client KM2 message. The result contains the password: callers must treat it as
/// secret (it is wrapped in `Secret` so it is zeroed when dropped).
pub fn write_client(m: &ClientKm2<'_>, framing: Framing) -> Result<Secret, String> {
    let password = m.password.map(|p| p.as_bytes());
    if framing == Framing::Stock && password.is_some_and(|p| p.len() >= u16::MAX as usize) {
        return Err("password is too long for the standard key-method-2 framing".into());
    }
    let mut out = Vec::with_capacity(256 + password.map_or(0, <[u8]>::len));
    match framing {
        Framing::Stock => out.extend_from_slice(&0u32.to_be_bytes()),
        // Placeholder for the little-endian total length, filled in below.
        Framing::Aws => out.extend_from_slice(&[0; 4]),
    }
    out.push(2);
    out.extend_from_slice(&m.source.pre_master);
    out.extend_from_slice(&m.source.random1);
    out.extend_from_slice(&m.source.random2);
    put_string(&mut out, Some(m.options.as_bytes()), framing);
    let with_user = m.username.is_some() || password.is_some();
    put_string(
        &mut out,
        with_user.then(|| m.username.unwrap_or("").as_bytes()),
        framing,
    );
    put_string(&mut out, password.filter(|_| with_user), framing);
    put_string(&mut out, Some(m.peer_info.as_bytes()), framing);
    if framing == Framing::Aws {
        let total = out.len() as u32;
        out[..4].copy_from_slice(&total.to_le_bytes());
    }
    Ok(Secret::new(out))
}

/// What the client needs from the server's KM2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKm2 {
    pub random1: [u8; 32],
    pub random2: [u8; 32],
    pub options: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Km2Error {
    /// Not enough bytes yet (the message may span several TLS records).
    Incomplete,
    Invalid(&'static str),
}

/// Parses the server's KM2 from the start of the plaintext stream. Returns the message and the
/// number of bytes it used. Accepts the stock form and (AWS) a little-endian total-length prefix.
pub fn parse_server(buf: &[u8]) -> Result<(ServerKm2, usize), Km2Error> {
    let mut r = Reader { buf, pos: 0 };
    let lead = r.u32()?;
    let aws = lead != 0;
    if aws && (lead.swap_bytes() as usize) < 4 + 1 + 64 {
        return Err(Km2Error::Invalid("bad key-method-2 length prefix"));
    }
    let method = r.u8()?;
    if method & 0x0f != 2 {
        return Err(Km2Error::Invalid("server does not use key method 2"));
    }
    let mut random1 = [0u8; 32];
    random1.copy_from_slice(r.take(32)?);
    let mut random2 = [0u8; 32];
    random2.copy_from_slice(r.take(32)?);
    let options_len = if aws {
        r.u32()? as usize
    } else {
        r.u16()? as usize
    };
    let options = r.take(options_len)?;
    let options =
        String::from_utf8_lossy(options.strip_suffix(&[0]).unwrap_or(options)).into_owned();
    // A server's KM2 normally ends here (u16 0 username/password/peer-info are optional to
    // parse); consume them when present in the same record.
    let mut end = r.pos;
    for _ in 0..3 {
        let len = if aws {
            r.u32().ok().map(|v| v as usize)
        } else {
            r.u16().ok().map(usize::from)
        };
        match len.and_then(|l| r.take(l).ok()) {
            Some(_) => end = r.pos,
            None => break,
        }
    }
    if aws {
        end = end.max((lead.swap_bytes() as usize).min(buf.len()));
    }
    Ok((
        ServerKm2 {
            random1,
            random2,
            options,
        },
        end,
    ))
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Km2Error> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(Km2Error::Invalid("length overflow"))?;
        let s = self.buf.get(self.pos..end).ok_or(Km2Error::Incomplete)?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, Km2Error> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Km2Error> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, Km2Error> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> KeySource {
        KeySource {
            pre_master: [1; 48],
            random1: [2; 32],
            random2: [3; 32],
        }
    }

    #[test]
    fn stock_layout() {
        let pw = Secret::from_text("pw");
        let src = source();
        let m = ClientKm2 {
            source: &src,
            options: "V4",
            username: Some("u"),
            password: Some(&pw),
            peer_info: "IV_VER=1\n",
        };
        let out = write_client(&m, Framing::Stock).unwrap();
        let b = out.as_bytes();
        assert_eq!(&b[..5], &[0, 0, 0, 0, 2]);
        let mut p = 5 + 48 + 64;
        assert_eq!(&b[p..p + 5], &[0, 3, b'V', b'4', 0]);
        p += 5;
        assert_eq!(&b[p..p + 4], &[0, 2, b'u', 0]);
        p += 4;
        assert_eq!(&b[p..p + 5], &[0, 3, b'p', b'w', 0]);
        p += 5;
        assert_eq!(&b[p..p + 2], &[0, 10]);
        assert_eq!(b.len(), p + 2 + 10);
    }

    #[test]
    fn no_credentials_are_empty_u16() {
        let src = source();
        let m = ClientKm2 {
            source: &src,
            options: "V4",
            username: None,
            password: None,
            peer_info: "",
        };
        let out = write_client(&m, Framing::Stock).unwrap();
        let b = out.as_bytes();
        let p = 5 + 48 + 64 + 5;
        assert_eq!(&b[p..p + 4], &[0, 0, 0, 0]);
    }

    #[test]
    fn aws_framing_carries_128_kib_password() {
        let big = "x".repeat(128 * 1024);
        let pw = Secret::from_text(&big);
        let src = source();
        let m = ClientKm2 {
            source: &src,
            options: "V4",
            username: Some("N/A"),
            password: Some(&pw),
            peer_info: "",
        };
        assert!(write_client(&m, Framing::Stock).is_err());
        let out = write_client(&m, Framing::Aws).unwrap();
        let b = out.as_bytes();
        assert_eq!(
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize,
            b.len()
        );
        let p = 5 + 48 + 64 + 4 + 3 + 4 + 4;
        assert_eq!(
            u32::from_be_bytes([b[p], b[p + 1], b[p + 2], b[p + 3]]) as usize,
            big.len() + 1
        );
    }

    #[test]
    fn parses_server_reply_incrementally() {
        let mut msg = vec![0, 0, 0, 0, 2];
        msg.extend_from_slice(&[5; 32]);
        msg.extend_from_slice(&[6; 32]);
        msg.extend_from_slice(&[0, 6]);
        msg.extend_from_slice(b"V4,x\0\0"[..6].as_ref());
        msg.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        for cut in 0..(5 + 64 + 2 + 6) {
            assert_eq!(
                parse_server(&msg[..cut]).unwrap_err(),
                Km2Error::Incomplete,
                "cut {cut}"
            );
        }
        let (km, used) = parse_server(&msg).unwrap();
        assert_eq!(km.random1, [5; 32]);
        assert_eq!(km.random2, [6; 32]);
        assert_eq!(used, msg.len());
        assert!(km.options.starts_with("V4,x"));
    }
}
