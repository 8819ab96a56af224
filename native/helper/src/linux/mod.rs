//! Linux platform: TUN device, addresses, routes (netlink) and crash recovery.

pub mod netlink;
pub mod network;
pub mod state;
pub mod tun;
