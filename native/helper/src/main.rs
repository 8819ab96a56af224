fn main() {
    if std::env::args().any(|a| a == "--version") {
        println!("causeway-helper {}", env!("CARGO_PKG_VERSION"));
    }
}
