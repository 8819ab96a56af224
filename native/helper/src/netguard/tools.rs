//! The system tools netguard runs (`nft`, `resolvconf`). They are looked up in fixed system
//! directories, never through $PATH, and are given fixed arguments plus data on stdin: nothing
//! a client or a profile says ever becomes part of a command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SYSTEM_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// The first executable named `name` in the system directories.
pub fn find(name: &str) -> Option<PathBuf> {
    SYSTEM_DIRS
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// Runs `tool args…` with `stdin` as its input and returns stdout; a non-zero exit becomes an
/// error carrying the tool's stderr (these tools never see secrets, so their output is safe
/// to show).
pub fn run(tool: &Path, args: &[&str], stdin: &str) -> Result<String, String> {
    run_output(tool, args, stdin).map(|(stdout, _)| stdout)
}

/// Like [`run`], returning stderr too (where some tools, like pfctl, report what they did).
pub fn run_output(tool: &Path, args: &[&str], stdin: &str) -> Result<(String, String), String> {
    let display = tool.display();
    let mut child = Command::new(tool)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {display}: {e}"))?;
    if let Some(mut input) = child.stdin.take() {
        input
            .write_all(stdin.as_bytes())
            .map_err(|e| format!("cannot write to {display}: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{display} failed: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() {
        Ok((String::from_utf8_lossy(&out.stdout).into_owned(), stderr))
    } else {
        Err(format!(
            "{display} {} failed ({}): {}",
            args.join(" "),
            out.status,
            stderr.trim()
        ))
    }
}
