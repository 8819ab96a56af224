//! The Internet checksum (RFC 1071) and the TCP/UDP pseudo-header sums for IPv4 and IPv6.

/// Adds `data` to a running one's-complement sum (not yet folded). Odd lengths are padded
/// with a zero byte, as RFC 1071 specifies.
pub fn sum(data: &[u8], mut acc: u64) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        // Four 16-bit big-endian words at a time; a u64 accumulator cannot overflow for
        // packets of at most 64 KiB.
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        acc += (w >> 48) + ((w >> 32) & 0xffff) + ((w >> 16) & 0xffff) + (w & 0xffff);
    }
    let mut words = chunks.remainder().chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a running sum to 16 bits (not complemented).
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum field value for data summed into `acc`.
pub fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// The pseudo-header sum of a TCP/UDP packet: addresses from the IP header (`src`, `dst` are
/// 4 or 16 bytes), protocol number and the transport length.
pub fn pseudo_header(src: &[u8], dst: &[u8], proto: u8, len: usize) -> u64 {
    sum(dst, sum(src, 0)) + u64::from(proto) + len as u64
}

/// Recomputes the IPv4 header checksum in place (`hdr` is the whole header, options included).
pub fn set_ipv4_header(hdr: &mut [u8]) {
    hdr[10] = 0;
    hdr[11] = 0;
    let c = finish(sum(hdr, 0));
    hdr[10..12].copy_from_slice(&c.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        assert_eq!(
            fold(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7], 0)),
            0xddf2
        );
    }

    #[test]
    fn odd_lengths_pad_with_zero() {
        for n in 0..40usize {
            let data: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
            let mut padded = data.clone();
            padded.push(0);
            // Reference: plain 16-bit word loop.
            let reference: u64 = padded
                .chunks(2)
                .map(|w| u64::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
                .sum();
            assert_eq!(fold(sum(&data, 0)), fold(reference), "length {n}");
        }
    }

    #[test]
    fn ipv4_header_checksum() {
        // A real header (Wikipedia's example): checksum b861.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0x00,
            0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        set_ipv4_header(&mut h);
        assert_eq!(&h[10..12], &[0xb8, 0x61]);
        assert_eq!(finish(sum(&h, 0)), 0, "a valid header sums to zero");
    }
}
