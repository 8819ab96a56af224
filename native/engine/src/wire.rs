//! Control-packet layout (wire-protocol §1.2) in its unwrapped form:
//! `op|key_id, own sid[8], ack_count, acks[u32; n], [remote sid if n > 0], [mpid unless P_ACK_V1], payload`.

pub const P_CONTROL_SOFT_RESET_V1: u8 = 3;
pub const P_CONTROL_V1: u8 = 4;
pub const P_ACK_V1: u8 = 5;
pub const P_DATA_V1: u8 = 6;
pub const P_CONTROL_HARD_RESET_CLIENT_V2: u8 = 7;
pub const P_CONTROL_HARD_RESET_SERVER_V2: u8 = 8;
pub const P_DATA_V2: u8 = 9;
pub const P_CONTROL_HARD_RESET_CLIENT_V3: u8 = 10;
pub const P_CONTROL_WKC_V1: u8 = 11;

/// Receivers reject ack records longer than this (RELIABLE_ACK_SIZE).
pub const MAX_ACKS: usize = 8;

pub type SessionId = [u8; 8];

pub fn opcode(byte0: u8) -> u8 {
    byte0 >> 3
}

pub fn key_id(byte0: u8) -> u8 {
    byte0 & 0x07
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPacket<'a> {
    pub opcode: u8,
    pub key_id: u8,
    pub sid: SessionId,
    pub acks: &'a [u8],
    pub remote_sid: Option<SessionId>,
    pub mpid: Option<u32>,
    pub payload: &'a [u8],
}

impl ControlPacket<'_> {
    pub fn ack_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.acks
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    Truncated,
    TooManyAcks,
    NotControl,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ParseError::Truncated => "truncated control packet",
            ParseError::TooManyAcks => "ack record longer than 8",
            ParseError::NotControl => "not a control packet",
        })
    }
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], ParseError> {
    if buf.len() < n {
        return Err(ParseError::Truncated);
    }
    let (head, tail) = buf.split_at(n);
    *buf = tail;
    Ok(head)
}

fn sid_from(b: &[u8]) -> SessionId {
    let mut s = [0u8; 8];
    s.copy_from_slice(b);
    s
}

pub fn is_control(op: u8) -> bool {
    matches!(op, 3 | 4 | 5 | 7 | 8 | 10 | 11)
}

/// Parses an unwrapped control packet.
pub fn parse_control(pkt: &[u8]) -> Result<ControlPacket<'_>, ParseError> {
    let mut buf = pkt;
    let b0 = take(&mut buf, 1)?[0];
    let op = opcode(b0);
    if !is_control(op) {
        return Err(ParseError::NotControl);
    }
    let sid = sid_from(take(&mut buf, 8)?);
    let n = take(&mut buf, 1)?[0] as usize;
    if n > MAX_ACKS {
        return Err(ParseError::TooManyAcks);
    }
    let acks = take(&mut buf, 4 * n)?;
    let remote_sid = if n > 0 {
        Some(sid_from(take(&mut buf, 8)?))
    } else {
        None
    };
    let mpid = if op == P_ACK_V1 {
        None
    } else {
        let b = take(&mut buf, 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    Ok(ControlPacket {
        opcode: op,
        key_id: key_id(b0),
        sid,
        acks,
        remote_sid,
        mpid,
        payload: buf,
    })
}

/// Serializes an unwrapped control packet into `out` (cleared first).
#[allow(clippy::too_many_arguments)]
pub fn write_control(
    out: &mut Vec<u8>,
    op: u8,
    key_id: u8,
    sid: &SessionId,
    acks: &[u32],
    remote_sid: &SessionId,
    mpid: Option<u32>,
    payload: &[u8],
) {
    debug_assert!(acks.len() <= MAX_ACKS);
    out.clear();
    out.push(op << 3 | (key_id & 7));
    out.extend_from_slice(sid);
    out.push(acks.len() as u8);
    for a in acks {
        out.extend_from_slice(&a.to_be_bytes());
    }
    if !acks.is_empty() {
        out.extend_from_slice(remote_sid);
    }
    if let Some(id) = mpid {
        out.extend_from_slice(&id.to_be_bytes());
    }
    out.extend_from_slice(payload);
}

/// TLVs in a server hard reset payload (early negotiation, §2.5). Returns whether the
/// server asked for the wrapped client key to be resent (RESEND_WKC).
pub fn parse_early_negotiation(payload: &[u8]) -> Result<bool, ParseError> {
    let mut buf = payload;
    let mut resend_wkc = false;
    while !buf.is_empty() {
        let h = take(&mut buf, 4)?;
        let ty = u16::from_be_bytes([h[0], h[1]]);
        let len = u16::from_be_bytes([h[2], h[3]]) as usize;
        let value = take(&mut buf, len)?;
        if ty == 1 && len == 2 && u16::from_be_bytes([value[0], value[1]]) & 1 != 0 {
            resend_wkc = true;
        }
    }
    Ok(resend_wkc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_with_acks() {
        let mut out = Vec::new();
        write_control(
            &mut out,
            P_CONTROL_V1,
            2,
            &[1; 8],
            &[5, 6],
            &[9; 8],
            Some(7),
            b"hello",
        );
        let p = parse_control(&out).unwrap();
        assert_eq!(p.opcode, P_CONTROL_V1);
        assert_eq!(p.key_id, 2);
        assert_eq!(p.ack_ids().collect::<Vec<_>>(), vec![5, 6]);
        assert_eq!(p.remote_sid, Some([9; 8]));
        assert_eq!(p.mpid, Some(7));
        assert_eq!(p.payload, b"hello");
    }

    #[test]
    fn client_reset_is_14_bytes_and_server_reset_parses() {
        let mut out = Vec::new();
        write_control(
            &mut out,
            P_CONTROL_HARD_RESET_CLIENT_V2,
            0,
            &[1; 8],
            &[],
            &[0; 8],
            Some(0),
            b"",
        );
        assert_eq!(out.len(), 14);
        assert_eq!(out[0], 0x38);
        let server = [
            0x40, 2, 2, 2, 2, 2, 2, 2, 2, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0,
        ];
        let p = parse_control(&server).unwrap();
        assert_eq!(p.opcode, P_CONTROL_HARD_RESET_SERVER_V2);
        assert_eq!(p.remote_sid, Some([1; 8]));
        assert_eq!(p.mpid, Some(0));
    }

    #[test]
    fn ack_packet_has_no_mpid_and_limits_enforced() {
        let mut out = Vec::new();
        write_control(&mut out, P_ACK_V1, 0, &[1; 8], &[3], &[2; 8], None, b"");
        let p = parse_control(&out).unwrap();
        assert_eq!(p.mpid, None);
        let mut bad = vec![0x20u8];
        bad.extend_from_slice(&[0; 8]);
        bad.push(9);
        assert_eq!(parse_control(&bad), Err(ParseError::TooManyAcks));
        assert_eq!(parse_control(&[0x30]), Err(ParseError::NotControl));
        assert_eq!(parse_control(&[0x20, 1, 2]), Err(ParseError::Truncated));
    }

    #[test]
    fn early_negotiation_tlv() {
        assert!(parse_early_negotiation(&[0, 1, 0, 2, 0, 1]).unwrap());
        assert!(!parse_early_negotiation(&[0, 9, 0, 1, 5]).unwrap());
        assert!(parse_early_negotiation(&[0, 1, 0, 2, 0]).is_err());
    }
}
