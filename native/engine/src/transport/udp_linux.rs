//! Linux batch syscalls for the UDP link: `recvmmsg` (with UDP GRO segment sizes from the
//! control messages) and `sendmmsg` (runs of equal-size packets as one UDP GSO message).

use super::udp::BATCH;
use std::io;
use std::os::fd::AsRawFd;
use tokio::net::UdpSocket;

/// Receive messages per `recvmmsg`.
const RX_MSGS: usize = 16;
/// UDP GSO: a super-datagram stays below the 64 KiB IP limit.
const GSO_MAX_BYTES: usize = 65000;
/// Room for one control message carrying an int (8-byte aligned).
type Cmsg = [u64; 4];

/// The kernel accepts UDP_SEGMENT (Linux 4.18+).
pub fn gso_supported(sock: &UdpSocket) -> bool {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt into a c_int of the size passed.
    unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_UDP,
            libc::UDP_SEGMENT,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        ) == 0
    }
}

/// Asks for UDP GRO (Linux 5.0+): back-to-back datagrams of one size may arrive as one.
/// Best effort: a kernel without it delivers them one by one, which `recv_many` also takes.
pub fn enable_gro(sock: &UdpSocket) {
    let one: libc::c_int = 1;
    // SAFETY: setsockopt with a c_int value of the size passed.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_UDP,
            libc::UDP_GRO,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// One `recvmmsg` into `slots`; pushes (bytes, GRO segment size or 0) per datagram received.
pub fn recv_many(
    sock: &UdpSocket,
    slots: &mut [Vec<u8>],
    lens: &mut Vec<(usize, usize)>,
) -> io::Result<()> {
    let n = slots.len().min(RX_MSGS);
    // SAFETY: all-zero is a valid value for these plain C structs.
    let mut iovs: [libc::iovec; RX_MSGS] = unsafe { std::mem::zeroed() };
    let mut hdrs: [libc::mmsghdr; RX_MSGS] = unsafe { std::mem::zeroed() };
    let mut cmsgs: [Cmsg; RX_MSGS] = [[0; 4]; RX_MSGS];
    for i in 0..n {
        iovs[i] = libc::iovec {
            iov_base: slots[i].as_mut_ptr().cast(),
            iov_len: slots[i].len(),
        };
        hdrs[i].msg_hdr.msg_iov = &mut iovs[i];
        hdrs[i].msg_hdr.msg_iovlen = 1;
        hdrs[i].msg_hdr.msg_control = cmsgs[i].as_mut_ptr().cast();
        hdrs[i].msg_hdr.msg_controllen = std::mem::size_of::<Cmsg>() as _;
    }
    // SAFETY: n headers, each pointing at a live iovec over a slot and a control buffer.
    let r = unsafe {
        libc::recvmmsg(
            sock.as_raw_fd(),
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    for h in &hdrs[..r as usize] {
        let len = h.msg_len as usize;
        if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            continue; // larger than any packet we accept: drop, like the kernel would
        }
        lens.push((
            len,
            gro_segment(&h.msg_hdr).filter(|&s| s < len).unwrap_or(0),
        ));
    }
    Ok(())
}

/// The UDP_GRO control message's segment size, if the kernel merged datagrams.
fn gro_segment(m: &libc::msghdr) -> Option<usize> {
    // SAFETY: walking the control buffer the kernel filled, with the libc CMSG macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(m);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_UDP && (*c).cmsg_type == libc::UDP_GRO {
                let v = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
                return usize::try_from(v).ok().filter(|&s| s > 0);
            }
            c = libc::CMSG_NXTHDR(m, c);
        }
    }
    None
}

/// Sends a prefix of `pkts` with one `sendmmsg`; returns how many packets left. With `gso`,
/// each run of equal-size packets (the last may be shorter) is one UDP_SEGMENT message; if the
/// path refuses GSO (EIO, e.g. no checksum offload on the device) it is switched off for good
/// and the same packets go out one datagram each.
pub fn send_many(sock: &UdpSocket, pkts: &[Vec<u8>], gso: &mut bool) -> io::Result<usize> {
    let n = pkts.len().min(BATCH);
    // SAFETY: all-zero is a valid value for these plain C structs.
    let mut iovs: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
    let mut cmsgs: [Cmsg; BATCH] = [[0; 4]; BATCH];
    // Packets per message, to count what a partial sendmmsg sent.
    let mut per_msg = [0usize; BATCH];
    for (i, p) in pkts[..n].iter().enumerate() {
        iovs[i] = libc::iovec {
            iov_base: p.as_ptr() as *mut libc::c_void,
            iov_len: p.len(),
        };
    }
    let mut msgs = 0;
    let mut i = 0;
    while i < n {
        let size = pkts[i].len();
        let mut j = i + 1;
        let mut bytes = size;
        if *gso {
            while j < n && pkts[j].len() <= size && bytes + pkts[j].len() <= GSO_MAX_BYTES {
                bytes += pkts[j].len();
                j += 1;
                if pkts[j - 1].len() < size {
                    break; // a shorter packet ends a GSO run
                }
            }
        }
        let h = &mut hdrs[msgs].msg_hdr;
        h.msg_iov = &mut iovs[i];
        h.msg_iovlen = (j - i) as _;
        if j - i > 1 {
            let cbuf = &mut cmsgs[msgs];
            h.msg_control = cbuf.as_mut_ptr().cast();
            // SAFETY: CMSG_SPACE(2) fits the 32-byte buffer; the header and data are written
            // inside it through the libc macros.
            unsafe {
                h.msg_controllen = libc::CMSG_SPACE(2) as _;
                let c = libc::CMSG_FIRSTHDR(h);
                (*c).cmsg_level = libc::SOL_UDP;
                (*c).cmsg_type = libc::UDP_SEGMENT;
                (*c).cmsg_len = libc::CMSG_LEN(2) as _;
                std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u16>(), size as u16);
            }
        }
        per_msg[msgs] = j - i;
        msgs += 1;
        i = j;
    }
    // SAFETY: `msgs` headers pointing at live iovecs over `pkts` and their control buffers.
    let r = unsafe {
        libc::sendmmsg(
            sock.as_raw_fd(),
            hdrs.as_mut_ptr(),
            msgs as libc::c_uint,
            libc::MSG_DONTWAIT,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        if *gso && e.raw_os_error() == Some(libc::EIO) {
            *gso = false;
            return send_many(sock, pkts, gso);
        }
        return Err(e);
    }
    Ok(per_msg[..r as usize].iter().sum())
}
