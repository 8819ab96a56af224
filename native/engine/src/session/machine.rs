//! `SessionMachine`: the sans-IO state machine of a session. The runner feeds it what happened
//! (`handle_*`) and carries out what it asks (`poll_action`), in order. It keeps no clock: every
//! input carries `now`, and a pause is an `Action::SleepUntil` answered by `handle_timeout`.

use super::credentials::{Answer, Creds};
use crate::api::{Command, CredentialKind, EngineError, Event, LogLevel, RemoteInfo};
use crate::config::{
    AddressFamily, EngineConfig, ErrorCode, Proto, PushedSettings, Remote, SessionPhase,
};
use crate::connection::{CloseReason, ConnEvent, HandshakeStage};
use crate::ctrl_msg::Crv1;
use crate::policy::{Outcome, RetryPolicy};
use crate::remote_addr::{AddressMemory, Dial};
use crate::secret::Secret;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

/// Random bytes (remote-random order, remote-random-hostname labels).
pub type RandFn = Box<dyn FnMut(&mut [u8]) + Send>;

/// What the runner must do next.
#[derive(Debug)]
pub enum Action {
    Emit(Event),
    /// Look `lookup` up (the addresses of `family`, IPv4 first); answer with
    /// `handle_resolved`. `host` is the name as configured, for messages (`lookup` may carry a
    /// remote-random-hostname label).
    Resolve {
        lookup: String,
        host: String,
        port: u16,
        family: AddressFamily,
    },
    /// Open a connection to `addr` authenticating with these credentials; report a failed dial
    /// with `handle_dial_failed` and everything the connection says with `handle_connection`.
    Connect {
        addr: SocketAddr,
        proto: Proto,
        username: Option<String>,
        password: Option<Secret>,
    },
    /// Call `handle_timeout` at this instant (unless a command ends the wait first).
    SleepUntil(Instant),
    /// Configure the tunnel for these settings; answer with `handle_network_ready`.
    Configure {
        settings: PushedSettings,
        server: SocketAddr,
    },
    /// Close the TUN device and undo the network configuration.
    Teardown,
    /// The open connection is over.
    EndConnection(End),
}

/// How the runner ends the open connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// It closed itself: send what it queued; with `linger`, give a reliable EXIT a moment to
    /// be acknowledged.
    Drain { linger: bool },
    /// Tell the server we are going, then drop it.
    Disconnect,
    /// Drop it as it is (the link or the TUN device broke).
    Abandon,
}

/// What the answer to the prompt on screen is for.
enum Prompt {
    StaticChallenge,
    Password,
    Crv1 { challenge: Crv1, addr: SocketAddr },
}

enum State {
    /// Waiting for the answer to a NeedCredentials prompt.
    Asking(Prompt),
    /// The pause before the next attempt.
    Waiting {
        until: Instant,
    },
    Resolving {
        fallback: Option<SocketAddr>,
    },
    /// Dialing or connected: a connection is open.
    Connection {
        addr: SocketAddr,
        info: RemoteInfo,
        established: bool,
    },
    Finished,
}

pub struct SessionMachine {
    cfg: EngineConfig,
    rand: RandFn,
    remotes: Vec<Remote>,
    policy: RetryPolicy,
    addresses: AddressMemory,
    creds: Creds,
    /// The CRV1 leg must go to the very address that issued the challenge.
    pinned: Option<SocketAddr>,
    /// The other addresses the current remote's name resolved to, not tried yet: a dual-stack
    /// server unreachable over one family is tried over the other before the remote counts
    /// as failed.
    untried: VecDeque<SocketAddr>,
    /// The settings the network is configured for (the TUN device is open while this is set).
    configured: Option<PushedSettings>,
    /// Settings waiting for `handle_network_ready`.
    configuring: Option<PushedSettings>,
    state: State,
    actions: VecDeque<Action>,
}

fn phase(phase: SessionPhase, remote: Option<RemoteInfo>, error: Option<EngineError>) -> Event {
    Event::Phase {
        phase,
        remote,
        error,
    }
}

/// `remote-random-hostname`: a random 12-hex-digit label in front of the name.
pub fn randomized_host(host: &str, rand: &mut RandFn) -> String {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host.to_string();
    }
    let mut b = [0u8; 6];
    rand(&mut b);
    let label: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{label}.{host}")
}

impl SessionMachine {
    /// A session for `cfg` (already validated by `Prepared::new`); its first actions are ready.
    pub fn new(cfg: EngineConfig, mut rand: RandFn) -> Self {
        let mut remotes = cfg.remotes.clone();
        if cfg.remote_random {
            for i in (1..remotes.len()).rev() {
                let mut b = [0u8; 4];
                rand(&mut b);
                remotes.swap(i, u32::from_le_bytes(b) as usize % (i + 1));
            }
        }
        let policy = RetryPolicy::new(&cfg, remotes.len());
        let mut m = SessionMachine {
            creds: Creds::from_profile(&cfg),
            cfg,
            rand,
            remotes,
            policy,
            addresses: AddressMemory::default(),
            pinned: None,
            untried: VecDeque::new(),
            configured: None,
            configuring: None,
            state: State::Finished,
            actions: VecDeque::new(),
        };
        m.log_in();
        m
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The final Disconnected or Failed phase has been emitted.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished)
    }

    fn emit(&mut self, e: Event) {
        self.actions.push_back(Action::Emit(e));
    }

    fn log(&mut self, level: LogLevel, text: impl Into<String>) {
        self.emit(Event::Log {
            level,
            text: text.into(),
        });
    }

    fn finish(&mut self, error: Option<EngineError>) {
        if self.configured.take().is_some() {
            self.actions.push_back(Action::Teardown);
        }
        let last = match error {
            None => phase(SessionPhase::Disconnected, None, None),
            Some(e) => phase(SessionPhase::Failed, None, Some(e)),
        };
        self.emit(last);
        self.state = State::Finished;
    }

    /// Starts from the profile's credentials and asks for what it lacks (a static challenge's
    /// one-time code, or a password), then attempts.
    fn log_in(&mut self) {
        self.creds = Creds::from_profile(&self.cfg);
        let username = self.creds.username.clone();
        if let Some(sc) = &self.cfg.static_challenge {
            let e = Event::NeedCredentials {
                kind: CredentialKind::StaticChallenge,
                challenge: Some(sc.text.clone()),
                echo: sc.echo,
                username,
            };
            self.emit(e);
            self.state = State::Asking(Prompt::StaticChallenge);
        } else if self.cfg.auth_user_pass && self.creds.password.is_none() {
            self.emit(Event::NeedCredentials {
                kind: CredentialKind::Password,
                challenge: None,
                echo: false,
                username,
            });
            self.state = State::Asking(Prompt::Password);
        } else {
            self.logged_in();
        }
    }

    fn logged_in(&mut self) {
        self.creds.drop_unless_asked_for(&self.cfg);
        self.dial();
    }

    /// Every attempt after the first: Reconnecting, the policy's pause, then a fresh login when
    /// a one-time code cannot be replayed.
    fn reconnect(&mut self, now: Instant) {
        self.emit(phase(SessionPhase::Reconnecting, None, None));
        let delay = self.policy.delay();
        if delay.is_zero() {
            self.paused();
        } else {
            self.log(LogLevel::Info, format!("retrying in {} s", delay.as_secs()));
            let until = now + delay;
            self.actions.push_back(Action::SleepUntil(until));
            self.state = State::Waiting { until };
        }
    }

    fn paused(&mut self) {
        // A static-challenge answer (one-time code) cannot be replayed: without an auth-token a
        // reconnect needs a fresh answer, like OpenVPN's auth-retry interact.
        if self.cfg.static_challenge.is_some() && self.creds.token.is_none() && !self.creds.one_shot
        {
            self.log_in();
        } else {
            self.dial();
        }
    }

    fn remote(&self) -> &Remote {
        &self.remotes[self.policy.remote_index()]
    }

    fn dial(&mut self) {
        self.untried.clear();
        let dial = match self.pinned {
            Some(a) => Dial::Remembered(a),
            None => self.addresses.plan(self.policy.remote_index()),
        };
        match dial {
            Dial::Remembered(a) => {
                if self.pinned.is_none() {
                    let host = &self.remote().host;
                    let text = format!("reusing {} for {host} (resolved earlier)", a.ip());
                    self.log(LogLevel::Info, text);
                }
                self.connect(a);
            }
            Dial::Resolve { fallback } => {
                self.emit(phase(SessionPhase::Resolving, None, None));
                let remote = self.remote().clone();
                let lookup = if self.cfg.remote_random_hostname {
                    randomized_host(&remote.host, &mut self.rand)
                } else {
                    remote.host.clone()
                };
                self.actions.push_back(Action::Resolve {
                    lookup,
                    host: remote.host,
                    port: remote.port,
                    family: remote.family,
                });
                self.state = State::Resolving { fallback };
            }
        }
    }

    fn connect(&mut self, addr: SocketAddr) {
        let remote = self.remote().clone();
        let info = RemoteInfo {
            host: remote.host,
            address: addr.ip(),
            port: addr.port(),
            proto: remote.proto,
        };
        self.emit(phase(SessionPhase::Connecting, Some(info.clone()), None));
        let (username, password) = self.creds.for_attempt();
        self.actions.push_back(Action::Connect {
            addr,
            proto: remote.proto,
            username,
            password,
        });
        self.state = State::Connection {
            addr,
            info,
            established: false,
        };
    }

    /// The answer to `Action::Resolve` (a failed lookup carries a user-facing message).
    /// `Ok` holds at least one address, in the order to try them.
    pub fn handle_resolved(&mut self, result: Result<Vec<SocketAddr>, EngineError>, now: Instant) {
        let State::Resolving { fallback } = self.state else {
            return;
        };
        let result = result.and_then(|addrs| {
            let mut q = VecDeque::from(addrs);
            let first = q.pop_front().ok_or_else(|| {
                EngineError::new(ErrorCode::ServerUnreachable, "the name has no address")
            })?;
            Ok((first, q))
        });
        match (result, fallback) {
            (Ok((first, others)), _) => {
                self.untried = others;
                self.connect(first);
            }
            (Err(e), Some(a)) => {
                self.log(
                    LogLevel::Warn,
                    format!("{}; trying {} again", e.message, a.ip()),
                );
                self.connect(a);
            }
            (Err(e), None) => {
                self.log(LogLevel::Warn, e.message.clone());
                match self.policy.failed(Outcome::Unreachable(e)) {
                    Some(stop) => self.finish(Some(stop)),
                    None => self.reconnect(now),
                }
            }
        }
    }

    /// `Action::Connect` could not open the link (TCP refused, no route).
    pub fn handle_dial_failed(&mut self, error: &str, now: Instant) {
        let State::Connection { addr, .. } = self.state else {
            return;
        };
        let e = EngineError::new(
            ErrorCode::ServerUnreachable,
            format!("cannot reach {addr}: {error}"),
        );
        // A retried dial would otherwise leave no trace of why it failed (a proxy that refuses
        // the password, a refused port): the session log says it each time.
        self.log(LogLevel::Warn, e.message.clone());
        self.closed(CloseReason::Error(e), now);
    }

    /// The proxy refused its username or password while `Action::Connect` dialed through it.
    /// Every retry would send the same credentials, so the session fails; main may ask for
    /// others and connect again.
    pub fn handle_proxy_credentials_refused(&mut self, error: &str) {
        let State::Connection { addr, .. } = self.state else {
            return;
        };
        self.handle_fatal(EngineError::new(
            ErrorCode::ProxyAuthFailed,
            format!("cannot reach {addr}: {error}"),
        ));
    }

    /// The open connection's link broke; `stage` is how far its first handshake got.
    pub fn handle_link_error(&mut self, error: &str, stage: HandshakeStage, now: Instant) {
        let State::Connection {
            addr, established, ..
        } = self.state
        else {
            return;
        };
        self.actions.push_back(Action::EndConnection(End::Abandon));
        // A server that rejects our handshake may just close the TCP connection; how far the
        // handshake got says more than the socket error.
        let reason = if !established && stage != HandshakeStage::NoAnswer {
            let text = format!("the server closed the connection during the handshake: {error}");
            self.log(LogLevel::Info, text);
            CloseReason::HandshakeFailed(stage)
        } else {
            CloseReason::Error(EngineError::new(
                ErrorCode::ServerUnreachable,
                format!("connection to {addr} lost: {error}"),
            ))
        };
        self.closed(reason, now);
    }

    /// Something no retry can fix happened to the open connection (its TUN device broke, its
    /// parameters were refused): the session fails.
    pub fn handle_fatal(&mut self, error: EngineError) {
        if matches!(self.state, State::Connection { .. }) {
            self.actions.push_back(Action::EndConnection(End::Abandon));
        }
        self.finish(Some(error));
    }

    /// An event of the open connection.
    pub fn handle_connection(&mut self, ev: ConnEvent, now: Instant) {
        let State::Connection {
            addr,
            ref info,
            ref mut established,
        } = self.state
        else {
            return;
        };
        let info = info.clone();
        match ev {
            ConnEvent::Authenticating => {
                self.emit(phase(SessionPhase::Authenticating, Some(info), None))
            }
            ConnEvent::Established(settings) => {
                *established = true;
                if self.configured.as_ref() == Some(&settings) {
                    // A reconnect with the same settings keeps the tunnel as it is.
                    self.emit(Event::Pushed(settings));
                    self.emit(phase(SessionPhase::Connected, Some(info), None));
                } else {
                    self.configuring = Some(settings.clone());
                    if self.configured.take().is_some() {
                        self.actions.push_back(Action::Teardown);
                    }
                    self.actions.push_back(Action::Configure {
                        settings,
                        server: addr,
                    });
                }
            }
            ConnEvent::Echo(t) => self.emit(Event::Echo(t)),
            ConnEvent::Log(level, text) => self.log(level, text),
            ConnEvent::AuthPending {
                method,
                payload,
                echo,
                timeout_sec,
            } => self.emit(Event::AuthPending {
                method,
                payload,
                echo,
                timeout_sec,
            }),
            ConnEvent::AuthToken { token, user } => {
                self.creds.token = Some((Secret::from_text(&token), user))
            }
            ConnEvent::Closed(reason) => {
                let local = reason == CloseReason::Local;
                if local {
                    self.emit(phase(SessionPhase::Disconnecting, Some(info), None));
                }
                let end = End::Drain { linger: local };
                self.actions.push_back(Action::EndConnection(end));
                self.closed(reason, now);
            }
        }
    }

    /// The answer to `Action::Configure`: the TUN device's name, or why it failed.
    pub fn handle_network_ready(&mut self, result: Result<String, EngineError>) {
        let State::Connection { ref info, .. } = self.state else {
            return;
        };
        let info = info.clone();
        let Some(settings) = self.configuring.take() else {
            return;
        };
        match result {
            Ok(device) => {
                self.log(LogLevel::Info, format!("tunnel device {device} configured"));
                self.configured = Some(settings.clone());
                self.emit(Event::Pushed(settings));
                self.emit(phase(SessionPhase::Connected, Some(info), None));
            }
            Err(e) => {
                self.actions
                    .push_back(Action::EndConnection(End::Disconnect));
                self.finish(Some(e));
            }
        }
    }

    /// A command from the helper that arrived while no connection was open to take it (the
    /// open connection's driver takes Disconnect and CrResponse itself).
    pub fn handle_command(&mut self, cmd: Command, now: Instant) {
        match cmd {
            Command::Disconnect => {
                if !self.is_finished() {
                    self.finish(None);
                }
            }
            Command::Credentials {
                username,
                password,
                response,
            } => match std::mem::replace(&mut self.state, State::Finished) {
                State::Asking(prompt) => {
                    let answer = Answer {
                        username,
                        password,
                        response,
                    };
                    self.answered(prompt, answer, now);
                }
                other => self.state = other,
            },
            Command::CrResponse(_) => {}
        }
    }

    fn answered(&mut self, prompt: Prompt, answer: Answer, now: Instant) {
        match prompt {
            Prompt::StaticChallenge => {
                self.creds.answer_static_challenge(&self.cfg, answer);
                self.logged_in();
            }
            Prompt::Password => {
                self.creds.answer_password(answer);
                self.logged_in();
            }
            Prompt::Crv1 { challenge, addr } => {
                self.creds.answer_crv1(&challenge, answer.response);
                self.pinned = Some(addr);
                self.policy.immediate();
                self.reconnect(now);
            }
        }
    }

    /// The instant of the last `Action::SleepUntil` has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        let State::Waiting { until } = self.state else {
            return;
        };
        if now < until {
            self.actions.push_back(Action::SleepUntil(until));
        } else {
            self.paused();
        }
    }

    /// An attempt is over: decide between a fresh prompt, another attempt and the end.
    fn closed(&mut self, reason: CloseReason, now: Instant) {
        let State::Connection {
            addr, established, ..
        } = self.state
        else {
            return;
        };
        if established {
            self.policy.connected();
        }
        self.addresses
            .attempted(self.policy.remote_index(), addr, established);
        self.pinned = None;
        let one_shot = self.creds.attempt_ended(established);
        match reason {
            CloseReason::Local => self.finish(None),
            CloseReason::Crv1(c) => {
                self.emit(Event::NeedCredentials {
                    kind: CredentialKind::Crv1,
                    challenge: Some(c.text.clone()),
                    echo: c.echo,
                    username: Some(c.username.clone()),
                });
                self.state = State::Asking(Prompt::Crv1 { challenge: c, addr });
            }
            CloseReason::AuthFailed(reason) => {
                if self.creds.token.take().is_some() && !one_shot {
                    let text = "auth-token rejected; retrying with the original credentials";
                    self.log(LogLevel::Info, text);
                    self.policy.immediate();
                    return self.reconnect(now);
                }
                let msg = if reason.is_empty() {
                    "authentication failed".to_string()
                } else {
                    format!("authentication failed: {reason}")
                };
                self.finish(Some(EngineError::new(ErrorCode::AuthFailed, msg)));
            }
            other => {
                if one_shot {
                    return self.finish(Some(EngineError::new(
                        ErrorCode::AuthFailed,
                        "the challenge answer was not accepted",
                    )));
                }
                match Outcome::from_close(other, established) {
                    Outcome::Terminal(e) => self.finish(Some(e)),
                    Outcome::Unreachable(e) if !self.untried.is_empty() => {
                        let next = self.untried.pop_front().expect("not empty");
                        let text = format!("{}; trying {} next", e.message, next.ip());
                        self.log(LogLevel::Info, text);
                        self.connect(next);
                    }
                    outcome => {
                        let stalled = match &outcome {
                            Outcome::HandshakeStalled(refusal) => Some(refusal.code),
                            _ => None,
                        };
                        match self.policy.failed(outcome) {
                            Some(e) => self.finish(Some(e)),
                            None => {
                                if let Some(code) = stalled {
                                    let text = format!("the handshake stalled where a server refusing it stops ({code:?}); trying again, since a lossy path does that too (the same stall again is taken for the refusal)");
                                    self.log(LogLevel::Info, text);
                                }
                                self.reconnect(now)
                            }
                        }
                    }
                }
            }
        }
    }
}
