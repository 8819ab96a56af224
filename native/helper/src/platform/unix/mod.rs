//! What Linux and macOS share: the service on a Unix socket, the interfaces' addresses.

pub mod ifaddrs;
pub mod service;
