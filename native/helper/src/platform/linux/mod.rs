//! Linux platform: TUN device, addresses, routes (netlink) and crash recovery.

pub mod dns;
pub mod firewall;
pub mod netlink;
pub mod network;
pub mod owner;
pub mod peer;
pub mod state;
pub mod tun;
