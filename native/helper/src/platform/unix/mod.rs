//! What Linux and macOS share: the service on a Unix socket.

pub mod service;
