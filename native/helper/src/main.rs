//! causeway-helper: the privileged half of Causeway. It carries tunnels with the
//! causeway-engine OpenVPN client, creates their TUN devices and routes, and speaks the
//! main <-> helper protocol (app/helper-protocol/messages.ts) to exactly one client in
//! `--stdio` mode.

mod codec;
mod config_check;
mod log;
// DNS, IPv6 leak block and kill switch (installable/leak-free work).
mod netguard;
// Route planning and the engine's NetworkSetup, the same on every OS.
mod network;
mod platform;
mod protocol;
mod running_session;
mod server;
mod session_quota;
// `--service`: the socket server for installed systems (installable/leak-free work).
mod service;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use causeway_engine::limits::MAX_SESSIONS_PER_USER;
use session_quota::{OwnerKey, SessionQuota};

use platform::{Os, Platform};

/// Per-connection facts every session needs.
#[derive(Clone)]
pub struct Context {
    /// The client's uid when known (service mode, SO_PEERCRED); None on stdio.
    pub uid: Option<u32>,
    /// Whom the connection's sessions belong to, for the per-user session cap.
    pub owner: OwnerKey,
    /// The per-user session cap, shared by every connection of this process.
    pub quota: Arc<SessionQuota>,
    pub state_dir: PathBuf,
}

const USAGE: &str =
    "usage: causeway-helper --stdio | --service [--socket PATH] [--group NAME] | --version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--version"] => {
            println!("causeway-helper {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        ["--stdio"] => run_stdio(),
        ["--service", rest @ ..] => run_service(rest),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// What both modes do first: build the runtime, then undo whatever a crashed helper left behind
/// (routes, addresses, DNS, firewall) before taking any new session.
fn prepare() -> Option<(tokio::runtime::Runtime, PathBuf)> {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            log::error(&format!("cannot start the runtime: {e}"));
            return None;
        }
    };
    let state_dir = PathBuf::from(Os::ROUTE_STATE_DIR);
    recover_after_crash(&state_dir);
    Some((runtime, state_dir))
}

fn run_stdio() -> ExitCode {
    let Some((runtime, state_dir)) = prepare() else {
        return ExitCode::FAILURE;
    };
    let ctx = Context {
        uid: None,
        owner: OwnerKey::new("the stdio client"),
        quota: SessionQuota::new(MAX_SESSIONS_PER_USER),
        state_dir,
    };
    runtime.block_on(server::serve(
        tokio::io::stdin(),
        tokio::io::stdout(),
        ctx,
        termination(),
    ));
    // stdin may still have a blocked reader thread; do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    ExitCode::SUCCESS
}

/// The system service: one protocol server per socket connection (see service/mod.rs).
fn run_service(args: &[&str]) -> ExitCode {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let opts = match service::parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    #[cfg(unix)]
    let served = serve_service(opts, termination());
    // The SCM starts the service and says when to stop (platform/windows/scm.rs).
    #[cfg(windows)]
    let served = platform::windows::scm::run(Box::new(move |stop| {
        serve_service(opts, async {
            let _ = stop.await;
        })
    }));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error(&e);
            ExitCode::FAILURE
        }
    }
}

fn serve_service(
    opts: service::Options,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let (runtime, state_dir) = prepare().ok_or("cannot start the service")?;
    runtime.block_on(service::run(opts, state_dir, shutdown))
}

/// Undoes what a helper that died without cleaning up left in this network namespace.
fn recover_after_crash(state_dir: &std::path::Path) {
    // DNS and firewall changes first: they are journaled separately (netguard).
    let guard = netguard::recover_after_crash(std::path::Path::new(Os::JOURNAL_DIR));
    if guard.dns_restored > 0 {
        log::info(&format!(
            "restored DNS of {} tunnel(s) left by a previous helper",
            guard.dns_restored
        ));
    }
    for problem in &guard.problems {
        log::warn(problem);
    }
    match Os::open_net() {
        Ok(mut net) => {
            let r = network::route_state::recover::<Os>(state_dir, &mut net);
            if r.files > 0 {
                log::info(&format!(
                    "cleaned up after a previous helper: {} session(s), {} route(s), {} routing rule(s)",
                    r.files, r.routes_removed, r.rules_removed
                ));
            }
        }
        Err(e) => log::warn(&format!(
            "cannot open the route control for crash recovery: {e}"
        )),
    }
}

/// Completes on SIGTERM or SIGINT.
#[cfg(unix)]
async fn termination() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        log::warn("cannot install signal handlers");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// Completes on Ctrl-C or Ctrl-Break (a console run; the service stops through the SCM).
#[cfg(windows)]
async fn termination() {
    if tokio::signal::ctrl_c().await.is_err() {
        log::warn("cannot install the Ctrl-C handler");
        std::future::pending::<()>().await;
    }
}
