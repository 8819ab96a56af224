//! A session on a thread of its own, with a single-threaded runtime of its own. The data loop
//! naps its thread while bulk traffic gathers (see `driver`): that may stall nothing but this
//! session, and no other thread may wait in epoll on the session's sockets meanwhile (each
//! datagram that arrives would wake it, the very cost the nap avoids).

use super::runner::run_session;
use crate::api::{Command, EngineError, Event, NetworkSetup};
use crate::config::{EngineConfig, ErrorCode, SessionPhase};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

/// How a session's thread ended.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// `run_session` returned, or the session was aborted.
    Finished,
    /// The engine panicked; its last events may be missing.
    Panicked,
}

/// The handle of a session's thread. Dropping it aborts the session, like `abort`.
pub struct SessionThread {
    abort: SessionAbort,
    ended: oneshot::Receiver<SessionEnd>,
}

/// Aborts a session: its thread drops the session's future, which undoes what it set up on
/// the host. Clones abort the same session.
#[derive(Clone)]
pub struct SessionAbort(Arc<Notify>);

impl SessionAbort {
    pub fn abort(&self) {
        // A permit is kept if the thread is not waiting yet: no abort is lost.
        self.0.notify_one();
    }
}

/// Starts `run_session` on a new thread. A thread or runtime that cannot be made ends the
/// session at once with a Failed phase event.
pub fn spawn_session<N: NetworkSetup>(
    config: EngineConfig,
    net: N,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
) -> SessionThread {
    let abort = SessionAbort(Arc::new(Notify::new()));
    let aborted = abort.0.clone();
    let (ended_tx, ended) = oneshot::channel();
    let failed = events.clone();
    let thread = std::thread::Builder::new()
        .name("causeway-session".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    fail(&events, format!("cannot start the session's runtime: {e}"));
                    let _ = ended_tx.send(SessionEnd::Finished);
                    return;
                }
            };
            let session = async {
                tokio::select! {
                    () = run_session(config, net, commands, events) => {}
                    () = aborted.notified() => {}
                }
            };
            let end = match panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(session))) {
                Ok(()) => SessionEnd::Finished,
                Err(_) => SessionEnd::Panicked,
            };
            // Tasks the session spawned end with its runtime, before the owner hears of it.
            drop(runtime);
            let _ = ended_tx.send(end);
        });
    if let Err(e) = thread {
        fail(&failed, format!("cannot start the session's thread: {e}"));
    }
    SessionThread { abort, ended }
}

/// The Failed phase of a session that could not start (the channel is new: there is room).
fn fail(events: &mpsc::Sender<Event>, why: String) {
    let _ = events.try_send(Event::Phase {
        phase: SessionPhase::Failed,
        remote: None,
        error: Some(EngineError::new(ErrorCode::Internal, why)),
    });
}

impl SessionThread {
    /// Ends the session now (`ended` says when its thread is done).
    pub fn abort(&self) {
        self.abort.abort();
    }

    /// A way to abort the session from elsewhere.
    pub fn abort_handle(&self) -> SessionAbort {
        self.abort.clone()
    }

    /// Waits until the session's thread is done with it.
    pub async fn ended(&mut self) -> SessionEnd {
        // A thread that never started sent nothing: the session is over all the same.
        (&mut self.ended).await.unwrap_or(SessionEnd::Finished)
    }
}

impl Drop for SessionThread {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Tun;
    use crate::config::{AddressFamily, Proto, PushedSettings, Remote};

    /// The host side of a session that never gets as far as configuring it; `own_sockets`
    /// panics when asked to, as an engine bug would.
    struct Host {
        panic: bool,
    }

    impl NetworkSetup for Host {
        fn own_sockets(&self) -> crate::transport::Sockets {
            assert!(!self.panic, "a bug in the engine");
            std::sync::Arc::new(crate::transport::SystemSockets)
        }
        async fn configure(
            &mut self,
            _: &PushedSettings,
            _: std::net::SocketAddr,
        ) -> Result<Tun, String> {
            Err("not in this test".into())
        }
        async fn teardown(&mut self) {}
    }

    /// A session that dials a port where nothing answers, retrying for as long as it runs.
    fn start(panic: bool) -> (SessionThread, mpsc::Receiver<Event>) {
        let mut config = crate::config::tests_support::typical_config();
        config.remotes = vec![Remote {
            host: "127.0.0.1".into(),
            port: 9,
            proto: Proto::Udp,
            family: AddressFamily::Any,
        }];
        config.connect_retry_max = None;
        let (cmd_tx, cmd_rx) = mpsc::channel(4);
        std::mem::forget(cmd_tx); // a closed command channel would end the session by itself
        let (ev_tx, ev_rx) = mpsc::channel(64);
        (spawn_session(config, Host { panic }, cmd_rx, ev_tx), ev_rx)
    }

    #[tokio::test]
    async fn a_session_runs_on_its_thread_until_aborted() {
        let (mut session, mut events) = start(false);
        let first = events.recv().await.expect("the session runs");
        assert!(
            matches!(first, Event::Phase { error: None, .. }),
            "{first:?}"
        );
        session.abort();
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), session.ended());
        assert_eq!(ended.await.expect("aborted in time"), SessionEnd::Finished);
        while events.recv().await.is_some() {} // the thread dropped its sender: the channel closes
    }

    #[tokio::test]
    async fn a_panic_on_the_session_thread_is_reported_as_such() {
        let (mut session, _events) = start(true);
        assert_eq!(session.ended().await, SessionEnd::Panicked);
    }
}
