//! BSD ioctl request numbers (sys/ioccom.h): direction, parameter length and group/number in
//! one word. Computed here so each request's number is checked against the literal Apple's
//! headers produce.

const IOCPARM_MASK: u64 = 0x1fff;
const IOC_IN: u64 = 0x8000_0000;
const IOC_OUT: u64 = 0x4000_0000;

const fn ioc(direction: u64, group: u8, num: u8, len: usize) -> u64 {
    direction | ((len as u64 & IOCPARM_MASK) << 16) | ((group as u64) << 8) | num as u64
}

/// `_IOW(group, num, type)`: the kernel reads a parameter of `len` bytes.
pub const fn iow(group: u8, num: u8, len: usize) -> u64 {
    ioc(IOC_IN, group, num, len)
}

/// `_IOWR(group, num, type)`: the kernel reads and writes it.
pub const fn iowr(group: u8, num: u8, len: usize) -> u64 {
    ioc(IOC_IN | IOC_OUT, group, num, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_numbers_match_the_sdk_literals() {
        // sys/sockio.h and sys/kern_control.h, as the SDK's headers evaluate them.
        assert_eq!(iow(b'i', 26, 64), 0x8040_691a); // SIOCAIFADDR
        assert_eq!(iowr(b'N', 3, 100), 0xc064_4e03); // CTLIOCGINFO
        assert_eq!(iowr(b'i', 17, 32), 0xc020_6911); // SIOCGIFFLAGS
    }
}
