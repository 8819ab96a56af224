//! The protocol server for one client connection (stdin/stdout in `--stdio` mode, one socket
//! connection in `--service` mode): handshake, dispatch, and the sessions that client owns.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use causeway_engine::{Command, ErrorCode};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

use crate::codec::{read_frame, write_frame, ReadError};
use crate::config_check::check_config;
use crate::log;
use crate::protocol::{describe_parse_error, ClientMessage, HelperMessage, PROTOCOL_VERSION};
use crate::running_session::Session;
use crate::Context;

/// How long sessions get to say goodbye to their servers when the client goes away.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Serves one client until it closes the stream, breaks the protocol beyond recovery, or
/// `shutdown` completes; then disconnects every session it started and returns.
pub async fn serve<R, W>(reader: R, writer: W, ctx: Context, shutdown: impl Future<Output = ()>)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, out_rx) = mpsc::channel::<HelperMessage>(1024);
    let writer_task = tokio::spawn(write_messages(writer, out_rx));
    // Frames are read in their own task: a read interrupted half-way by `select!` would lose
    // the bytes already consumed and desynchronise the stream.
    let (frame_tx, mut frame_rx) = mpsc::channel::<Result<Vec<u8>, ReadError>>(16);
    let reader_task = tokio::spawn(read_frames(reader, frame_tx));
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
            frame = frame_rx.recv() => frame.unwrap_or(Err(ReadError::Eof)),
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
    reader_task.abort();

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

/// Forwards frames until the stream ends or fails (the failure is forwarded too).
async fn read_frames<R: AsyncRead + Unpin>(
    mut reader: R,
    frames: mpsc::Sender<Result<Vec<u8>, ReadError>>,
) {
    loop {
        let frame = read_frame(&mut reader).await;
        let last = frame.is_err();
        if frames.send(frame).await.is_err() || last {
            return;
        }
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
        // A session that already ended may still be in the map until its end is processed;
        // its id is free again.
        if self
            .sessions
            .get(&session)
            .is_some_and(Session::is_finished)
        {
            self.sessions.remove(&session);
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
        if let Err(text) = check_config(&config) {
            log::warn(&format!("refused session {session:?}: {text}"));
            self.send(HelperMessage::error(
                Some(&session),
                ErrorCode::ConfigInvalid,
                text,
            ))
            .await;
            return;
        }
        let slot = match self.ctx.quota.acquire(&self.ctx.owner) {
            Ok(slot) => slot,
            Err(text) => {
                log::warn(&format!("refused session {session:?}: {text}"));
                self.send(HelperMessage::error(
                    Some(&session),
                    ErrorCode::PermissionDenied,
                    text,
                ))
                .await;
                return;
            }
        };
        let s = Session::start(
            session.clone(),
            config,
            slot,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{read_frame, write_frame, MAX_FRAME_BYTES};
    use crate::session_quota::{OwnerKey, SessionQuota};
    use tokio::io::{AsyncWriteExt, DuplexStream};

    struct Peer {
        to_helper: DuplexStream,
        from_helper: DuplexStream,
        done: tokio::task::JoinHandle<()>,
    }

    fn start() -> Peer {
        start_as("test client", &SessionQuota::new(2))
    }

    /// A connection of `owner`, counted against `quota` (shared between connections).
    fn start_as(owner: &str, quota: &std::sync::Arc<SessionQuota>) -> Peer {
        let (to_helper, helper_in) = tokio::io::duplex(1 << 20);
        let (helper_out, from_helper) = tokio::io::duplex(1 << 20);
        let dir = std::env::temp_dir().join(format!("causeway-server-test-{}", std::process::id()));
        let ctx = Context {
            uid: None,
            owner: OwnerKey::new(owner),
            quota: std::sync::Arc::clone(quota),
            state_dir: dir,
        };
        let done = tokio::spawn(serve(helper_in, helper_out, ctx, std::future::pending()));
        Peer {
            to_helper,
            from_helper,
            done,
        }
    }

    impl Peer {
        async fn send(&mut self, json: &str) {
            write_frame(&mut self.to_helper, json.as_bytes())
                .await
                .unwrap();
        }
        async fn recv(&mut self) -> serde_json::Value {
            let frame =
                tokio::time::timeout(Duration::from_secs(5), read_frame(&mut self.from_helper))
                    .await
                    .unwrap();
            serde_json::from_slice(&frame.unwrap()).unwrap()
        }
        async fn hello(&mut self) {
            self.send(r#"{"type":"hello","version":1,"client":"test"}"#)
                .await;
            assert_eq!(self.recv().await["type"], "hello");
        }
    }

    #[tokio::test]
    async fn hello_must_come_first_and_bad_frames_get_bad_message() {
        let mut p = start();
        p.send(r#"{"type":"status"}"#).await;
        let e = p.recv().await;
        assert_eq!(
            (e["type"].as_str(), e["code"].as_str()),
            (Some("error"), Some("bad-message"))
        );
        p.hello().await;
        for bad in [
            "not json",
            r#"{"type":"reboot"}"#,
            r#"{"type":"status","x":1}"#,
            "[1,2]",
            "\u{0}",
        ] {
            p.send(bad).await;
            let e = p.recv().await;
            assert_eq!(e["code"], "bad-message", "{bad}");
        }
        p.send(r#"{"type":"hello","version":1,"client":"again"}"#)
            .await;
        assert_eq!(p.recv().await["code"], "bad-message");
        // Still serving after all that.
        p.send(r#"{"type":"status"}"#).await;
        assert_eq!(
            p.recv().await,
            serde_json::json!({"type":"statusReply","sessions":[]})
        );
    }

    #[tokio::test]
    async fn commands_for_unknown_sessions_are_refused() {
        let mut p = start();
        p.hello().await;
        p.send(r#"{"type":"disconnect","session":"nope"}"#).await;
        let e = p.recv().await;
        assert_eq!(
            (e["code"].as_str(), e["session"].as_str()),
            (Some("unknown-session"), Some("nope"))
        );
        p.send(r#"{"type":"credentials","session":"nope","username":"u","password":"secret-pw","response":null}"#).await;
        let e = p.recv().await;
        assert_eq!(e["code"], "unknown-session");
        assert!(!e.to_string().contains("secret-pw"));
    }

    #[tokio::test]
    async fn an_unsupported_version_closes_the_connection() {
        let mut p = start();
        p.send(r#"{"type":"hello","version":99,"client":"future"}"#)
            .await;
        let e = p.recv().await;
        assert!(e["message"].as_str().unwrap().contains("99"));
        tokio::time::timeout(Duration::from_secs(5), p.done)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn an_oversized_frame_is_reported_and_closes_the_connection() {
        let mut p = start();
        p.hello().await;
        p.to_helper
            .write_all(&(MAX_FRAME_BYTES as u32 + 1).to_be_bytes())
            .await
            .unwrap();
        let e = p.recv().await;
        assert_eq!(e["code"], "bad-message");
        tokio::time::timeout(Duration::from_secs(5), p.done)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn eof_ends_the_connection() {
        let mut p = start();
        p.hello().await;
        drop(p.to_helper);
        tokio::time::timeout(Duration::from_secs(5), p.done)
            .await
            .unwrap()
            .unwrap();
    }

    fn doomed_connect(session: &str) -> String {
        // A config the engine rejects before touching the network: the session fails at once.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../test/vectors/helper-protocol/valid/to-connect-minimal.json");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let mut connect = v["message"].clone();
        connect["session"] = session.into();
        connect.to_string()
    }

    #[tokio::test]
    async fn an_ended_session_frees_its_id() {
        let mut p = start();
        p.hello().await;
        for _ in 0..2 {
            p.send(&doomed_connect("again")).await;
            loop {
                let m = p.recv().await;
                assert_ne!(m["type"], "error", "{m}");
                if m["type"] == "state" && m["phase"] == "failed" {
                    assert_eq!(m["error"]["code"], "config-invalid");
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A session that ends while the next frame is only half received must not cost that
    /// frame its first bytes (reads are never cancelled half-way).
    #[tokio::test]
    async fn a_session_ending_mid_frame_does_not_desynchronise_the_stream() {
        let mut p = start();
        p.hello().await;
        for i in 0..5 {
            p.send(&doomed_connect(&format!("doomed-{i}"))).await;
            // Half a status frame, a pause long enough for the session to end, then the rest.
            let status = br#"{"type":"status"}"#;
            p.to_helper
                .write_all(&(status.len() as u32).to_be_bytes())
                .await
                .unwrap();
            p.to_helper.write_all(&status[..5]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            p.to_helper.write_all(&status[5..]).await.unwrap();
            loop {
                let m = p.recv().await;
                assert_ne!(m["type"], "error", "{m}");
                if m["type"] == "statusReply" {
                    break;
                }
            }
        }
    }

    /// A connect to a loopback UDP port that never answers: the session keeps trying (and
    /// holds its place in the quota) without touching the host's network.
    fn lingering_connect(session: &str, port: u16) -> String {
        let mut connect: serde_json::Value =
            serde_json::from_str(&doomed_connect(session)).unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../test/vectors/helper-protocol/valid/to-connect-typical.json");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        connect["config"] = v["message"]["config"].clone();
        connect["config"]["remotes"] = serde_json::json!([{"host": "127.0.0.1", "port": port, "proto": "udp", "family": "any"}]);
        connect["config"]["connectRetryMax"] = serde_json::Value::Null;
        connect.to_string()
    }

    /// The next message about `session` that is an error or a phase, skipping logs.
    async fn outcome(p: &mut Peer, session: &str) -> serde_json::Value {
        loop {
            let m = p.recv().await;
            if m["session"] == session && (m["type"] == "error" || m["type"] == "state") {
                return m;
            }
        }
    }

    #[tokio::test]
    async fn a_user_over_the_session_cap_is_refused_while_another_user_is_served() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let quota = SessionQuota::new(2);
        // Alice's two sessions, over two connections: the cap is per user, not per connection.
        let mut alice1 = start_as("uid 1000", &quota);
        let mut alice2 = start_as("uid 1000", &quota);
        alice1.hello().await;
        alice2.hello().await;
        alice1.send(&lingering_connect("a1", port)).await;
        assert_eq!(outcome(&mut alice1, "a1").await["type"], "state");
        alice2.send(&lingering_connect("a2", port)).await;
        assert_eq!(outcome(&mut alice2, "a2").await["type"], "state");
        alice2.send(&lingering_connect("a3", port)).await;
        let refused = outcome(&mut alice2, "a3").await;
        assert_eq!(
            (refused["type"].as_str(), refused["code"].as_str()),
            (Some("error"), Some("permission-denied"))
        );
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("already has 2 sessions"),
            "{refused}"
        );
        // Bob is not affected.
        let mut bob = start_as("uid 1001", &quota);
        bob.hello().await;
        bob.send(&lingering_connect("b1", port)).await;
        assert_eq!(outcome(&mut bob, "b1").await["type"], "state");
        // Alice disconnects one and may start another.
        alice1.send(r#"{"type":"disconnect","session":"a1"}"#).await;
        loop {
            let m = outcome(&mut alice1, "a1").await;
            if m["phase"] == "disconnected" || m["phase"] == "failed" {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        alice2.send(&lingering_connect("a4", port)).await;
        assert_eq!(outcome(&mut alice2, "a4").await["type"], "state");
    }

    #[tokio::test]
    async fn a_config_over_a_limit_is_refused_naming_the_field() {
        let mut p = start();
        p.hello().await;
        let mut connect: serde_json::Value = serde_json::from_str(&doomed_connect("big")).unwrap();
        let routes = vec!["10.0.0.0/8"; causeway_engine::limits::MAX_ROUTES + 1];
        connect["config"]["routes"] = serde_json::json!(routes);
        p.send(&connect.to_string()).await;
        let e = outcome(&mut p, "big").await;
        assert_eq!(
            (e["type"].as_str(), e["code"].as_str()),
            (Some("error"), Some("config-invalid"))
        );
        assert_eq!(
            e["message"],
            format!(
                "config.routes has 4097 entries; at most {} are allowed",
                causeway_engine::limits::MAX_ROUTES
            )
        );
    }
}
