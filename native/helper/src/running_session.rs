//! One tunnel session: runs the engine (on its own thread, see `spawn_session`) and turns its
//! events into protocol messages for the client that started it.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use causeway_engine::{
    spawn_session, Command, CredentialKind, EngineConfig, EngineError, ErrorCode, Event, LogLevel,
    PendingMethod, SessionAbort, SessionEnd, SessionPhase, SessionThread,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::log;
use crate::network::{DeviceSlot, HostNetwork, ProfileRouting};
use crate::platform::Os;
use crate::platform::RemovedRoute;
use crate::protocol::{
    CredentialKindWire, ErrorWire, HelperMessage, LogLevelWire, PendingMethodWire, PushedWire,
    RemoteWire, SessionStatus,
};
use crate::session_quota::QuotaSlot;
use crate::Context;

/// What `status` reports about a session, updated as events arrive.
struct Info {
    phase: SessionPhase,
    rx_bytes: u64,
    tx_bytes: u64,
    connected_since: Option<String>,
}

pub struct Session {
    id: String,
    uid: Option<u32>,
    commands: mpsc::Sender<Command>,
    info: Arc<Mutex<Info>>,
    device: DeviceSlot,
    /// Forwards the engine's events until the engine is done.
    task: JoinHandle<()>,
    engine: Option<SessionAbort>,
}

impl Session {
    /// Starts the engine for `config`; events go to `out` until the session ends, then
    /// `on_end` is sent the session id so the owner can forget it.
    pub fn start(
        id: String,
        config: EngineConfig,
        slot: QuotaSlot,
        ctx: &Context,
        out: mpsc::Sender<HelperMessage>,
        on_end: mpsc::UnboundedSender<String>,
    ) -> Session {
        let (cmd_tx, cmd_rx) = mpsc::channel(16);
        let (ev_tx, ev_rx) = mpsc::channel(256);
        let (notice_tx, notice_rx) = mpsc::unbounded_channel();
        let device = DeviceSlot::default();
        let info = Arc::new(Mutex::new(Info {
            phase: SessionPhase::Resolving,
            rx_bytes: 0,
            tx_bytes: 0,
            connected_since: None,
        }));
        let engine = match crate::netguard::session_guards::SessionGuards::start(&config) {
            Ok(guards) => {
                let routing = ProfileRouting::from_config(&config);
                let net = HostNetwork::<Os>::new(
                    ctx.state_dir.clone(),
                    device.clone(),
                    routing,
                    guards,
                    notice_tx,
                );
                Some(spawn_session(config, net, cmd_rx, ev_tx))
            }
            // No attempt without the protection the session asked for.
            Err(e) => {
                let failed = Event::Phase {
                    phase: SessionPhase::Failed,
                    remote: None,
                    error: Some(EngineError::new(ErrorCode::NetworkSetupFailed, e)),
                };
                // The channel is new: there is room.
                let _ = ev_tx.try_send(failed);
                None
            }
        };
        let abort = engine.as_ref().map(SessionThread::abort_handle);
        let task = tokio::spawn(forward_events(
            id.clone(),
            Reports {
                events: ev_rx,
                removed_routes: notice_rx,
            },
            out,
            info.clone(),
            device.clone(),
            engine,
            Ending { slot, on_end },
        ));
        Session {
            id,
            uid: ctx.uid,
            commands: cmd_tx,
            info,
            device,
            task,
            engine: abort,
        }
    }

    /// True once the session has ended (its last state was sent).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Queues a command; false when the engine is already gone.
    pub async fn send(&self, cmd: Command) -> bool {
        self.commands.send(cmd).await.is_ok()
    }

    pub fn status(&self) -> SessionStatus {
        let info = self.info.lock().unwrap();
        SessionStatus {
            session: self.id.clone(),
            phase: info.phase,
            uid: self.uid,
            device: self.device.lock().unwrap().clone(),
            rx_bytes: info.rx_bytes,
            tx_bytes: info.tx_bytes,
            connected_since: info.connected_since.clone(),
        }
    }

    /// Asks the engine to disconnect and waits for the session to finish; after `grace` the
    /// engine is aborted (dropping the network setup still removes routes and the device) and
    /// waited for as long again, so the host is clean before the helper exits.
    pub async fn stop(mut self, grace: std::time::Duration) {
        let _ = self.commands.send(Command::Disconnect).await;
        if tokio::time::timeout(grace, &mut self.task).await.is_ok() {
            return;
        }
        log::warn(&format!(
            "session {:?} did not stop within {grace:?}; aborting it",
            self.id
        ));
        if let Some(engine) = &self.engine {
            engine.abort();
        }
        if tokio::time::timeout(grace, &mut self.task).await.is_err() {
            self.task.abort();
        }
    }
}

/// What a session reports to its client: the engine's events and the routes its route watch
/// removed.
struct Reports {
    events: mpsc::Receiver<Event>,
    removed_routes: mpsc::UnboundedReceiver<RemovedRoute>,
}

async fn forward_events(
    id: String,
    reports: Reports,
    out: mpsc::Sender<HelperMessage>,
    info: Arc<Mutex<Info>>,
    device: DeviceSlot,
    // When the forwarder is aborted (shutdown timeout), dropping this aborts the session.
    mut engine: Option<SessionThread>,
    ending: Ending,
) {
    let Reports {
        mut events,
        mut removed_routes,
    } = reports;
    // A final phase (disconnected, failed) is held back until the next event or, when it is
    // the last one, until the engine's thread has undone its changes to the host: a client
    // told "disconnected" finds its routes, device and firewall rules gone.
    let mut held: Option<HelperMessage> = None;
    loop {
        let msg = tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    let last = is_final_phase(&event);
                    let msg = to_message(&id, event, &info, &device);
                    // What follows a held phase goes out after it.
                    if let Some(earlier) = held.take() {
                        if out.send(earlier).await.is_err() {
                            break;
                        }
                    }
                    if last {
                        held = Some(msg);
                        continue;
                    }
                    msg
                }
                None => break,
            },
            Some(route) = removed_routes.recv() => route_removed_message(&id, route),
        };
        if out.send(msg).await.is_err() {
            break; // the client is gone; shutdown will stop the engine
        }
    }
    let ended = match &mut engine {
        Some(engine) => engine.ended().await,
        None => SessionEnd::Finished,
    };
    if let Some(msg) = held {
        let _ = out.send(msg).await;
    }
    if ended == SessionEnd::Panicked {
        log::error(&format!("session {id:?}: engine panicked"));
        let _ = out
            .send(HelperMessage::error(
                Some(&id),
                causeway_engine::ErrorCode::Internal,
                "the tunnel engine crashed",
            ))
            .await;
        let _ = out
            .send(phase_message(&id, SessionPhase::Failed, None, None))
            .await;
    }
    ending.done(id);
}

fn is_final_phase(event: &Event) -> bool {
    matches!(
        event,
        Event::Phase {
            phase: SessionPhase::Disconnected | SessionPhase::Failed,
            ..
        }
    )
}

/// What a finished session gives back: its owner's place in the quota, and its id to the
/// connection that started it.
struct Ending {
    slot: QuotaSlot,
    on_end: mpsc::UnboundedSender<String>,
}

impl Ending {
    /// Called once the engine has undone its changes to the host: only then may the owner
    /// start another session.
    fn done(self, id: String) {
        drop(self.slot);
        let _ = self.on_end.send(id);
    }
}

fn route_removed_message(id: &str, route: RemovedRoute) -> HelperMessage {
    log::info(&format!(
        "session {id:?}: removed the conflicting route {}/{} from the main table",
        route.dst, route.prefix
    ));
    HelperMessage::RouteRemoved {
        session: id.to_owned(),
        destination: format!("{}/{}", route.dst, route.prefix),
        gateway: route.gateway.map(|g| g.to_string()),
        device: route.device,
    }
}

fn phase_message(
    id: &str,
    phase: SessionPhase,
    remote: Option<RemoteWire>,
    error: Option<ErrorWire>,
) -> HelperMessage {
    HelperMessage::State {
        session: id.to_owned(),
        phase,
        remote,
        error,
    }
}

fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil-from-days (Howard Hinnant), to avoid a date dependency for one timestamp.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn to_message(id: &str, event: Event, info: &Mutex<Info>, device: &DeviceSlot) -> HelperMessage {
    let session = id.to_owned();
    match event {
        Event::Phase {
            phase,
            remote,
            error,
        } => {
            {
                let mut info = info.lock().unwrap();
                info.phase = phase;
                match phase {
                    SessionPhase::Connected if info.connected_since.is_none() => {
                        info.connected_since = Some(now_rfc3339())
                    }
                    SessionPhase::Connected => {}
                    _ => info.connected_since = None,
                }
            }
            match &error {
                Some(e) => log::info(&format!(
                    "session {id:?}: {phase:?} ({:?}: {})",
                    e.code, e.message
                )),
                None => log::info(&format!("session {id:?}: {phase:?}")),
            }
            let remote = remote.map(|r| RemoteWire {
                host: r.host,
                address: r.address.to_string(),
                port: r.port,
                proto: r.proto,
            });
            let error = error.map(|e| ErrorWire {
                code: e.code,
                message: e.message,
            });
            phase_message(id, phase, remote, error)
        }
        Event::NeedCredentials {
            kind,
            challenge,
            echo,
            username,
        } => HelperMessage::NeedCredentials {
            session,
            kind: match kind {
                CredentialKind::Password => CredentialKindWire::Password,
                CredentialKind::StaticChallenge => CredentialKindWire::StaticChallenge,
                CredentialKind::Crv1 => CredentialKindWire::Crv1,
            },
            challenge,
            echo,
            username,
        },
        Event::AuthPending {
            method,
            payload,
            echo,
            timeout_sec,
        } => HelperMessage::AuthPending {
            session,
            method: match method {
                PendingMethod::WebAuth => PendingMethodWire::Webauth,
                PendingMethod::OpenUrl => PendingMethodWire::Openurl,
                PendingMethod::CrText => PendingMethodWire::Crtext,
            },
            payload,
            echo,
            timeout_sec,
        },
        Event::Pushed(settings) => {
            let device = device.lock().unwrap().clone().unwrap_or_default();
            HelperMessage::Pushed {
                session,
                settings: PushedWire { settings, device },
            }
        }
        Event::Echo(text) => HelperMessage::Echo { session, text },
        Event::Stats { rx_bytes, tx_bytes } => {
            let mut info = info.lock().unwrap();
            info.rx_bytes = rx_bytes;
            info.tx_bytes = tx_bytes;
            HelperMessage::Stats {
                session,
                rx_bytes,
                tx_bytes,
            }
        }
        Event::Log { level, text } => {
            log::engine(id, &text);
            let level = match level {
                LogLevel::Error => LogLevelWire::Error,
                LogLevel::Warn => LogLevelWire::Warn,
                LogLevel::Info => LogLevelWire::Info,
                LogLevel::Debug => LogLevelWire::Debug,
            };
            HelperMessage::Log {
                session: Some(session),
                level,
                text,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = super::now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(
            t.starts_with("20") && t.ends_with('Z') && &t[10..11] == "T",
            "{t}"
        );
    }
}
