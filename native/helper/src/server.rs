//! The protocol server for one client connection (stdin/stdout in `--stdio` mode, one socket
//! connection in `--service` mode): handshake, dispatch, and the sessions that client owns.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use causeway_engine::{Command, ErrorCode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

use crate::codec::{read_frame, write_frame, ReadError};
use crate::log;
use crate::protocol::{describe_parse_error, ClientMessage, HelperMessage, PROTOCOL_VERSION};
use crate::session::Session;
use crate::Context;

/// How long sessions get to say goodbye to their servers when the client goes away.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Serves one client until it closes the stream, breaks the protocol beyond recovery, or
/// `shutdown` completes; then disconnects every session it started and returns.
pub async fn serve<R, W>(mut reader: R, writer: W, ctx: Context, shutdown: impl Future<Output = ()>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, out_rx) = mpsc::channel::<HelperMessage>(1024);
    let writer_task = tokio::spawn(write_messages(writer, out_rx));
    let (ended_tx, mut ended_rx) = mpsc::unbounded_channel::<String>();
    let mut conn = Connection {
        ctx,
        out: out_tx,
        ended: ended_tx,
        sessions: HashMap::new(),
        greeted: false,
    };
    tokio::pin!(shutdown);

    loop {
        let frame = tokio::select! {
            frame = read_frame(&mut reader) => frame,
            Some(id) = ended_rx.recv() => {
                conn.sessions.remove(&id);
                continue;
            }
            () = &mut shutdown => {
                log::info("shutting down on signal");
                break;
            }
        };
        match frame {
            Ok(bytes) => {
                if !conn.handle_frame(&bytes).await {
                    break;
                }
            }
            Err(ReadError::Eof) => break,
            Err(e @ ReadError::TooLarge(_)) => {
                // The stream is out of sync after a bad length; say why, then close.
                conn.send(HelperMessage::error(
                    None,
                    ErrorCode::BadMessage,
                    e.to_string(),
                ))
                .await;
                break;
            }
            Err(e) => {
                log::warn(&format!("client stream failed: {e}"));
                break;
            }
        }
    }

    let sessions: Vec<Session> = conn.sessions.drain().map(|(_, s)| s).collect();
    let count = sessions.len();
    futures_join_all(sessions.into_iter().map(|s| s.stop(STOP_GRACE))).await;
    if count > 0 {
        log::info(&format!("stopped {count} session(s)"));
    }
    drop(conn);
    let _ = writer_task.await;
}

/// Joins futures without pulling in the `futures` crate: one task each.
async fn futures_join_all<F>(futs: impl Iterator<Item = F>)
where
    F: Future<Output = ()> + Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    for h in handles {
        let _ = h.await;
    }
}

async fn write_messages<W: AsyncWrite + Unpin>(
    mut writer: W,
    mut rx: mpsc::Receiver<HelperMessage>,
) {
    while let Some(msg) = rx.recv().await {
        let bytes = match serde_json::to_vec(&msg) {
            Ok(b) => b,
            Err(e) => {
                log::error(&format!("cannot encode a message: {e}"));
                continue;
            }
        };
        if let Err(e) = write_frame(&mut writer, &bytes).await {
            log::warn(&format!("client stream closed while writing: {e}"));
            return;
        }
    }
}

struct Connection {
    ctx: Context,
    out: mpsc::Sender<HelperMessage>,
    ended: mpsc::UnboundedSender<String>,
    sessions: HashMap<String, Session>,
    greeted: bool,
}

impl Connection {
    async fn send(&self, msg: HelperMessage) {
        let _ = self.out.send(msg).await;
    }

    /// Handles one frame; false means the connection must close.
    async fn handle_frame(&mut self, bytes: &[u8]) -> bool {
        let msg = match serde_json::from_slice::<ClientMessage>(bytes) {
            Ok(m) => m,
            Err(e) => {
                let text = describe_parse_error(&e);
                log::warn(&text);
                self.send(HelperMessage::error(None, ErrorCode::BadMessage, text))
                    .await;
                return true;
            }
        };
        log::info(&format!("received {}", msg.describe()));
        if !self.greeted {
            return self.handshake(msg).await;
        }
        match msg {
            ClientMessage::Hello { .. } => {
                self.send(HelperMessage::error(
                    None,
                    ErrorCode::BadMessage,
                    "hello was already received",
                ))
                .await;
            }
            ClientMessage::Connect { session, config } => self.connect(session, *config).await,
            ClientMessage::Credentials {
                session,
                username,
                password,
                response,
            } => {
                self.command(
                    &session,
                    Command::Credentials {
                        username,
                        password,
                        response,
                    },
                )
                .await;
            }
            ClientMessage::CrResponse { session, response } => {
                self.command(&session, Command::CrResponse(response)).await
            }
            ClientMessage::Disconnect { session } => {
                self.command(&session, Command::Disconnect).await
            }
            ClientMessage::Status {} => {
                let mut sessions: Vec<_> = self.sessions.values().map(Session::status).collect();
                sessions.sort_by(|a, b| a.session.cmp(&b.session));
                self.send(HelperMessage::StatusReply { sessions }).await;
            }
        }
        true
    }

    async fn handshake(&mut self, msg: ClientMessage) -> bool {
        match msg {
            ClientMessage::Hello { version, .. } if version == PROTOCOL_VERSION => {
                self.greeted = true;
                let helper = format!("causeway-helper {}", env!("CARGO_PKG_VERSION"));
                self.send(HelperMessage::Hello {
                    version: PROTOCOL_VERSION,
                    helper,
                })
                .await;
                true
            }
            ClientMessage::Hello { version, .. } => {
                let text = format!("protocol version {version} is not supported (this helper speaks {PROTOCOL_VERSION})");
                self.send(HelperMessage::error(None, ErrorCode::BadMessage, text))
                    .await;
                false
            }
            _ => {
                self.send(HelperMessage::error(
                    None,
                    ErrorCode::BadMessage,
                    "the first message must be hello",
                ))
                .await;
                true
            }
        }
    }

    async fn connect(&mut self, session: String, config: causeway_engine::EngineConfig) {
        if session.is_empty() {
            self.send(HelperMessage::error(
                None,
                ErrorCode::BadMessage,
                "session id must not be empty",
            ))
            .await;
            return;
        }
        if self.sessions.contains_key(&session) {
            let text = format!("session {session:?} already exists");
            self.send(HelperMessage::error(
                Some(&session),
                ErrorCode::BadMessage,
                text,
            ))
            .await;
            return;
        }
        let s = Session::start(
            session.clone(),
            config,
            &self.ctx,
            self.out.clone(),
            self.ended.clone(),
        );
        self.sessions.insert(session, s);
    }

    async fn command(&mut self, session: &str, cmd: Command) {
        let delivered = match self.sessions.get(session) {
            Some(s) => s.send(cmd).await,
            None => false,
        };
        if !delivered {
            let text = format!("no session {session:?}");
            self.send(HelperMessage::error(
                Some(session),
                ErrorCode::UnknownSession,
                text,
            ))
            .await;
        }
    }
}
