//! `causeway-helper --service`: the helper as a system service. It listens on the platform's
//! service endpoint (on Linux /run/causeway/helper.sock, mode 0660, owner root, group
//! `causeway`), checks every peer's identity as the OS reports it (SO_PEERCRED and
//! SO_PEERGROUPS on Linux) and serves each accepted connection with the same
//! protocol server as `--stdio`, with the peer's uid recorded in the connection's context so
//! every session it starts carries it. A connection sees and controls only the sessions it
//! started; one user (uid, or SID on Windows) may have at most `MAX_SESSIONS_PER_USER`
//! running over all of their connections. SIGTERM/SIGINT stop every session (undoing routes, DNS and firewall rules) before
//! the process exits.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::codec::write_frame;
use crate::log;
use crate::platform::{PeerIdentity, Service, ServiceTransport};
use crate::protocol::HelperMessage;
use crate::session_quota::SessionQuota;
use crate::Context;
use causeway_engine::limits::MAX_SESSIONS_PER_USER;
use causeway_engine::ErrorCode;

pub const DEFAULT_SOCKET: &str = Service::DEFAULT_PATH;
pub const DEFAULT_GROUP: &str = "causeway";

/// How long connections get to stop their sessions after SIGTERM (systemd's stop timeout is
/// longer; sessions say goodbye to their servers within their own grace period).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub socket: PathBuf,
    pub group: String,
}

/// Parses the arguments after `--service`: `[--socket PATH] [--group NAME]`. The defaults are
/// the installed layout; the overrides exist so tests can run a private service next to an
/// installed one.
pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut opts = Options {
        socket: DEFAULT_SOCKET.into(),
        group: DEFAULT_GROUP.into(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match a.as_str() {
            "--socket" => opts.socket = PathBuf::from(value("--socket")?),
            "--group" => opts.group = value("--group")?,
            other => return Err(format!("unknown service option {other:?}")),
        }
    }
    if !opts.socket.is_absolute() {
        return Err(format!(
            "--socket must be an absolute path, not {:?}",
            opts.socket
        ));
    }
    Ok(opts)
}

/// Runs the service until `shutdown` completes; returns an error only when it cannot start.
pub async fn run(
    opts: Options,
    state_dir: PathBuf,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let gid = Arc::new(Service::group_id(&opts.group)?);
    let quota = SessionQuota::new(MAX_SESSIONS_PER_USER);
    let listener = Service::bind(&opts.socket, &gid)?;
    log::info(&format!(
        "service listening on {} (group {})",
        opts.socket.display(),
        opts.group
    ));
    Service::notify_ready();

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(stream) => {
                    let ctx_dir = state_dir.clone();
                    let stop = stop_rx.clone();
                    let quota = Arc::clone(&quota);
                    connections.spawn(serve_connection(stream, Arc::clone(&gid), quota, ctx_dir, stop));
                }
                Err(e) => {
                    // E.g. out of file descriptors: pause instead of spinning on the error.
                    log::warn(&format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }

    log::info("service stopping: ending every session");
    let _ = stop_tx.send(true);
    listener.close(&opts.socket);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        log::warn("some connections did not finish in time");
    }
    Ok(())
}

async fn serve_connection(
    mut stream: <Service as ServiceTransport>::Conn,
    gid: Arc<<Service as ServiceTransport>::Group>,
    quota: Arc<SessionQuota>,
    state_dir: PathBuf,
    mut stop: watch::Receiver<bool>,
) {
    let peer = match Service::peer(&stream) {
        Ok(p) => p,
        Err(e) => {
            log::warn(&format!("cannot read peer credentials, closing: {e}"));
            return;
        }
    };
    if !peer.may_use_service(&gid) {
        // The socket's mode already keeps these out; this is the second lock on the door.
        log::warn(&format!(
            "refused {} (not root, not in the service group)",
            peer.describe()
        ));
        let text = "permission denied: only members of the causeway group may use the Causeway helper service";
        refuse(&mut stream, text).await;
        return;
    }
    log::info(&format!("client connected: {}", peer.describe()));
    let ctx = Context {
        uid: Some(peer.uid()),
        owner: peer.owner(),
        quota,
        state_dir,
    };
    let (reader, writer) = tokio::io::split(stream);
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    crate::server::serve(reader, writer, ctx, stopped).await;
    log::info(&format!("client disconnected: {}", peer.describe()));
}

async fn refuse(stream: &mut <Service as ServiceTransport>::Conn, text: &str) {
    let msg = HelperMessage::error(None, ErrorCode::PermissionDenied, text);
    if let Ok(bytes) = serde_json::to_vec(&msg) {
        let _ = write_frame(stream, &bytes).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_are_the_installed_layout() {
        assert_eq!(
            parse_args(&[]).unwrap(),
            Options {
                socket: DEFAULT_SOCKET.into(),
                group: DEFAULT_GROUP.into()
            }
        );
    }

    /// An absolute endpoint other than the default, as each OS spells one.
    #[cfg(windows)]
    const OTHER_ENDPOINT: &str = r"\\.\pipe\causeway-test";
    #[cfg(not(windows))]
    const OTHER_ENDPOINT: &str = "/tmp/x.sock";

    #[test]
    fn overrides_and_bad_arguments() {
        let o = parse_args(&args(&["--socket", OTHER_ENDPOINT, "--group", "staff"])).unwrap();
        assert_eq!(
            o,
            Options {
                socket: OTHER_ENDPOINT.into(),
                group: "staff".into()
            }
        );
        assert!(parse_args(&args(&["--socket"]))
            .unwrap_err()
            .contains("needs a value"));
        assert!(parse_args(&args(&["--socket", "rel.sock"]))
            .unwrap_err()
            .contains("absolute"));
        assert!(parse_args(&args(&["--stdio"]))
            .unwrap_err()
            .contains("unknown service option"));
    }
}
