//! What differs per operating system.

pub mod linux;
