//! The helper's own diagnostics on stderr. Callers pass only message types, session ids,
//! phases and engine-provided texts (which the engine guarantees are secret-free); never
//! message payloads.

fn emit(level: &str, text: &str) {
    eprintln!("causeway-helper[{}] {level}: {text}", std::process::id());
}

pub fn error(text: &str) {
    emit("error", text);
}

pub fn warn(text: &str) {
    emit("warn", text);
}

pub fn info(text: &str) {
    emit("info", text);
}

/// Engine log lines are mirrored only when CAUSEWAY_HELPER_DEBUG is set: they are already
/// sent to the client as `log` messages.
pub fn engine(session: &str, text: &str) {
    if std::env::var_os("CAUSEWAY_HELPER_DEBUG").is_some() {
        emit("engine", &format!("session {session:?}: {text}"));
    }
}
