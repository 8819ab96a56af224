//! causeway-engine: an OpenVPN 2.x client protocol engine (sans-IO core + tokio drivers).
