//! Linux TUN offloads in userspace. With `IFF_VNET_HDR` and `TUNSETOFFLOAD` the kernel hands
//! the helper TCP (TSO) and UDP (USO) super-segments of up to 64 KiB behind a virtio-net
//! header, and accepts the same from us. Outbound, `gso` splits them into tunnel-sized IP
//! packets with correct headers and checksums; inbound, `gro` coalesces consecutive TCP
//! segments of one flow into one super-segment, so one TUN write carries dozens of packets.
//! On every OS, `ack_thinning` drops the pure ACKs of a batch that a later one supersedes.
//! Pure byte manipulation: no syscalls here, so it builds and is tested on every OS.

pub mod ack_thinning;
pub mod checksum;
pub mod gro;
pub mod gso;
pub mod tcp_segment;
pub mod vnet;
