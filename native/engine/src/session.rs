//! `run_session`: one VPN session from first connect to final disconnect. It owns the remote
//! list, credentials and retry policy, and drives one `Connection` at a time over a real
//! socket and the helper's TUN device.

use crate::api::{
    Command, CredentialKind, EngineError, Event, LogLevel, NetworkSetup, RemoteInfo, Tun,
};
use crate::config::{EngineConfig, ErrorCode, Proto, PushedSettings, Remote, SessionPhase};
use crate::connection::{CloseReason, ConnEvent, Connection};
use crate::ctrl_msg;
use crate::params::Prepared;
use crate::policy::{Outcome, RetryPolicy};
use crate::remote_addr::{AddressMemory, Dial};
use crate::secret::Secret;
use crate::transport::Link;
use crate::tun_io::TunIo;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

fn random_bytes(buf: &mut [u8]) {
    use ring::rand::SecureRandom;
    ring::rand::SystemRandom::new()
        .fill(buf)
        .expect("system RNG available");
}

fn unix_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

/// Credentials for the next attempt, as the server will see them.
#[derive(Default)]
struct Creds {
    username: Option<String>,
    password: Option<Secret>,
    /// Pushed auth-token (+ user): preferred for reconnects; dropped on any AUTH_FAILED.
    token: Option<(Secret, Option<String>)>,
    /// A CRV1 answer is used once: if that attempt fails, the session fails.
    one_shot: bool,
    /// The credentials a CRV1 answer stands in for. They come back as soon as the answer has
    /// been sent, so a later fallback (say, a refused auth-token) never replays the answer —
    /// for AWS SAML that would resend a single-use assertion instead of starting a new login.
    before_answer: Option<(Option<String>, Option<Secret>)>,
}

struct Ctx<N: NetworkSetup> {
    cfg: EngineConfig,
    prepared: Prepared,
    net: N,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    tun: Option<TunIo>,
    configured: Option<PushedSettings>,
}

enum Stop {
    Disconnected,
    Failed(EngineError),
}

/// Runs one session to completion (disconnect, terminal failure, or command channel closed).
/// Emits events as it goes; the last Phase event is Disconnected or Failed.
pub async fn run_session<N: NetworkSetup>(
    config: EngineConfig,
    net: N,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
) {
    let prepared = match Prepared::new(&config) {
        Ok(p) => p,
        Err(e) => {
            let _ = events
                .send(phase(SessionPhase::Failed, None, Some(e)))
                .await;
            return;
        }
    };
    let mut ctx = Ctx {
        cfg: config,
        prepared,
        net,
        commands,
        events,
        tun: None,
        configured: None,
    };
    let stop = ctx.run().await;
    ctx.tun = None;
    if ctx.configured.take().is_some() {
        ctx.net.teardown().await;
    }
    let last = match stop {
        Stop::Disconnected => phase(SessionPhase::Disconnected, None, None),
        Stop::Failed(e) => phase(SessionPhase::Failed, None, Some(e)),
    };
    let _ = ctx.events.send(last).await;
}

fn phase(phase: SessionPhase, remote: Option<RemoteInfo>, error: Option<EngineError>) -> Event {
    Event::Phase {
        phase,
        remote,
        error,
    }
}

/// Resolves a remote (with a fresh random label for `remote-random-hostname`), preferring IPv4.
async fn resolve(remote: Remote, random_hostname: bool) -> Result<SocketAddr, EngineError> {
    let host = if random_hostname {
        randomized_host(&remote.host)
    } else {
        remote.host.clone()
    };
    let unreachable = |m: String| EngineError::new(ErrorCode::ServerUnreachable, m);
    let addrs = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::net::lookup_host((host.as_str(), remote.port)),
    )
    .await
    .map_err(|_| unreachable(format!("resolving {} timed out", remote.host)))?
    .map_err(|e| unreachable(format!("cannot resolve {}: {e}", remote.host)))?;
    let all: Vec<SocketAddr> = addrs.collect();
    all.iter()
        .find(|a| a.is_ipv4())
        .or(all.first())
        .copied()
        .ok_or_else(|| unreachable(format!("{} has no address", remote.host)))
}

/// `remote-random-hostname`: a random 12-hex-digit label in front of the name.
fn randomized_host(host: &str) -> String {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host.to_string();
    }
    let mut b = [0u8; 6];
    random_bytes(&mut b);
    let label: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{label}.{host}")
}

impl<N: NetworkSetup> Ctx<N> {
    async fn emit(&self, e: Event) {
        let _ = self.events.send(e).await;
    }

    async fn log(&self, level: LogLevel, text: impl Into<String>) {
        self.emit(Event::Log {
            level,
            text: text.into(),
        })
        .await;
    }

    /// Waits for the answer to a NeedCredentials prompt. None = disconnect requested.
    async fn wait_credentials(
        &mut self,
    ) -> Option<(Option<String>, Option<String>, Option<String>)> {
        loop {
            match self.commands.recv().await? {
                Command::Credentials {
                    username,
                    password,
                    response,
                } => return Some((username, password, response)),
                Command::Disconnect => return None,
                Command::CrResponse(_) => {}
            }
        }
    }

    async fn initial_credentials(&mut self) -> Result<Creds, Stop> {
        let mut creds = Creds::default();
        if let Some(c) = &self.cfg.credentials {
            creds.username = Some(c.username.clone());
            creds.password = Some(Secret::from_text(&c.password));
        }
        if let Some(sc) = self.cfg.static_challenge.clone() {
            self.emit(Event::NeedCredentials {
                kind: CredentialKind::StaticChallenge,
                challenge: Some(sc.text.clone()),
                echo: sc.echo,
                username: creds.username.clone(),
            })
            .await;
            let (u, p, r) = self.wait_credentials().await.ok_or(Stop::Disconnected)?;
            let password = p
                .or_else(|| self.cfg.credentials.as_ref().map(|c| c.password.clone()))
                .unwrap_or_default();
            creds.username = u.or(creds.username);
            creds.password = Some(Secret::from_text(&ctrl_msg::scrv1(
                &password,
                r.as_deref().unwrap_or(""),
            )));
        } else if self.cfg.auth_user_pass && creds.password.is_none() {
            self.emit(Event::NeedCredentials {
                kind: CredentialKind::Password,
                challenge: None,
                echo: false,
                username: creds.username.clone(),
            })
            .await;
            let (u, p, _) = self.wait_credentials().await.ok_or(Stop::Disconnected)?;
            creds.username = u.or(creds.username);
            creds.password = Some(Secret::from_text(&p.unwrap_or_default()));
        }
        if !self.cfg.auth_user_pass && self.cfg.credentials.is_none() {
            creds.username = None;
            creds.password = None;
        }
        Ok(creds)
    }

    async fn run(&mut self) -> Stop {
        let mut creds = match self.initial_credentials().await {
            Ok(c) => c,
            Err(s) => return s,
        };
        let mut remotes: Vec<Remote> = self.cfg.remotes.clone();
        if self.cfg.remote_random {
            for i in (1..remotes.len()).rev() {
                let mut b = [0u8; 4];
                random_bytes(&mut b);
                remotes.swap(i, u32::from_le_bytes(b) as usize % (i + 1));
            }
        }
        let mut policy = RetryPolicy::new(&self.cfg, remotes.len());
        // The CRV1 leg must go to the very address that issued the challenge.
        let mut pinned: Option<SocketAddr> = None;
        let mut addresses = AddressMemory::default();
        let mut first = true;
        loop {
            let index = policy.remote_index();
            let remote = remotes[index].clone();
            if !first {
                self.emit(phase(SessionPhase::Reconnecting, None, None))
                    .await;
                let delay = policy.delay();
                if !delay.is_zero() {
                    self.log(LogLevel::Info, format!("retrying in {} s", delay.as_secs()))
                        .await;
                    if self.sleep_or_disconnect(delay).await {
                        return Stop::Disconnected;
                    }
                }
                // A static-challenge answer (one-time code) cannot be replayed: without an
                // auth-token a reconnect needs a fresh answer, like OpenVPN's auth-retry interact.
                if self.cfg.static_challenge.is_some() && creds.token.is_none() && !creds.one_shot {
                    creds = match self.initial_credentials().await {
                        Ok(c) => c,
                        Err(s) => return s,
                    };
                }
            }
            first = false;
            let dial = match pinned {
                Some(a) => Dial::Remembered(a),
                None => addresses.plan(index),
            };
            let addr = match dial {
                Dial::Remembered(a) => {
                    if pinned.is_none() {
                        self.log(
                            LogLevel::Info,
                            format!("reusing {} for {} (resolved earlier)", a.ip(), remote.host),
                        )
                        .await;
                    }
                    a
                }
                Dial::Resolve { fallback } => {
                    self.emit(phase(SessionPhase::Resolving, None, None)).await;
                    let resolved = {
                        let host = remote.clone();
                        let random = self.cfg.remote_random_hostname;
                        self.unless_disconnected(resolve(host, random)).await
                    };
                    let Some(resolved) = resolved else {
                        return Stop::Disconnected;
                    };
                    match (resolved, fallback) {
                        (Ok(a), _) => a,
                        (Err(e), Some(a)) => {
                            self.log(
                                LogLevel::Warn,
                                format!("{}; trying {} again", e.message, a.ip()),
                            )
                            .await;
                            a
                        }
                        (Err(e), None) => {
                            self.log(LogLevel::Warn, e.message.clone()).await;
                            if let Some(stop) = policy.failed(Outcome::Unreachable(e)) {
                                return Stop::Failed(stop);
                            }
                            continue;
                        }
                    }
                }
            };
            let info = RemoteInfo {
                host: remote.host.clone(),
                address: addr.ip(),
                port: addr.port(),
                proto: remote.proto,
            };
            self.emit(phase(SessionPhase::Connecting, Some(info.clone()), None))
                .await;
            let (username, password) = match &creds.token {
                Some((t, u)) => (u.clone().or(creds.username.clone()), Some(t.clone())),
                None => (creds.username.clone(), creds.password.clone()),
            };
            let params = self
                .prepared
                .conn_params(&self.cfg, remote.proto, username, password);
            let reason = match self
                .connect_once(addr, remote.proto, params, &info, &mut creds)
                .await
            {
                Ok(r) => r,
                Err(stop) => return stop,
            };
            let established = matches!(reason, (_, true));
            let (reason, _) = reason;
            if established {
                policy.connected();
            }
            addresses.attempted(index, addr, established);
            pinned = None;
            let one_shot = std::mem::take(&mut creds.one_shot) && !established;
            if let Some((username, password)) = creds.before_answer.take() {
                creds.username = username;
                creds.password = password;
            }
            match reason {
                CloseReason::Local => return Stop::Disconnected,
                CloseReason::Crv1(c) => {
                    self.emit(Event::NeedCredentials {
                        kind: CredentialKind::Crv1,
                        challenge: Some(c.text.clone()),
                        echo: c.echo,
                        username: Some(c.username.clone()),
                    })
                    .await;
                    let Some((_, _, response)) = self.wait_credentials().await else {
                        return Stop::Disconnected;
                    };
                    creds.before_answer = Some((creds.username.take(), creds.password.take()));
                    creds.username = Some(c.username.clone());
                    creds.password = Some(Secret::from_text(&ctrl_msg::crv1_password(
                        &c.state_id,
                        response.as_deref().unwrap_or(""),
                    )));
                    creds.token = None;
                    creds.one_shot = true;
                    pinned = Some(addr);
                    policy.immediate();
                }
                CloseReason::AuthFailed(reason) => {
                    if creds.token.take().is_some() && !one_shot {
                        self.log(
                            LogLevel::Info,
                            "auth-token rejected; retrying with the original credentials",
                        )
                        .await;
                        policy.immediate();
                        continue;
                    }
                    let msg = if reason.is_empty() {
                        "authentication failed".to_string()
                    } else {
                        format!("authentication failed: {reason}")
                    };
                    return Stop::Failed(EngineError::new(ErrorCode::AuthFailed, msg));
                }
                other => {
                    if one_shot {
                        return Stop::Failed(EngineError::new(
                            ErrorCode::AuthFailed,
                            "the challenge answer was not accepted",
                        ));
                    }
                    let outcome = Outcome::from_close(other, established);
                    if let Outcome::Terminal(e) = &outcome {
                        return Stop::Failed(e.clone());
                    }
                    if let Some(e) = policy.failed(outcome) {
                        return Stop::Failed(e);
                    }
                }
            }
        }
    }

    /// Returns true if a disconnect arrived while sleeping.
    async fn sleep_or_disconnect(&mut self, d: Duration) -> bool {
        let sleep = tokio::time::sleep(d);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return false,
                c = self.commands.recv() => match c {
                    None | Some(Command::Disconnect) => return true,
                    Some(_) => {}
                },
            }
        }
    }

    /// Runs `fut` unless a disconnect (or the end of the command channel) comes first.
    async fn unless_disconnected<T>(
        &mut self,
        fut: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                v = &mut fut => return Some(v),
                c = self.commands.recv() => match c {
                    None | Some(Command::Disconnect) => return None,
                    Some(_) => {}
                },
            }
        }
    }

    /// Runs one connection. Returns why it closed and whether it got established.
    async fn connect_once(
        &mut self,
        addr: SocketAddr,
        proto: Proto,
        params: crate::connection::ConnParams,
        info: &RemoteInfo,
        creds: &mut Creds,
    ) -> Result<(CloseReason, bool), Stop> {
        let hand_window = params.hand_window;
        let connected = self
            .unless_disconnected(Link::connect(addr, proto, hand_window))
            .await;
        let Some(connected) = connected else {
            return Err(Stop::Disconnected);
        };
        let mut link = match connected {
            Ok(l) => l,
            Err(e) => {
                return Ok((
                    CloseReason::Error(EngineError::new(
                        ErrorCode::ServerUnreachable,
                        format!("cannot reach {addr}: {e}"),
                    )),
                    false,
                ))
            }
        };
        let mut conn =
            match Connection::new(params, Box::new(random_bytes), unix_now(), Instant::now()) {
                Ok(c) => c,
                Err(e) => return Err(Stop::Failed(e)),
            };
        let mut driver = crate::driver::Driver::new(&mut conn, &mut link);
        let mut established = false;
        loop {
            let step = driver.step(self.tun.as_mut(), &mut self.commands).await;
            // Drain core events first: they may carry the close reason.
            while let Some(ev) = driver.conn.poll_event() {
                match ev {
                    ConnEvent::Authenticating => {
                        self.emit(phase(
                            SessionPhase::Authenticating,
                            Some(info.clone()),
                            None,
                        ))
                        .await
                    }
                    ConnEvent::Established(settings) => {
                        established = true;
                        driver.handshake_done();
                        if let Err(e) = self.configure(&settings, addr).await {
                            driver.conn.disconnect(Instant::now());
                            let _ = driver.flush_out().await;
                            return Err(Stop::Failed(e));
                        }
                        self.emit(Event::Pushed(settings)).await;
                        self.emit(phase(SessionPhase::Connected, Some(info.clone()), None))
                            .await;
                    }
                    ConnEvent::Echo(t) => self.emit(Event::Echo(t)).await,
                    ConnEvent::Log(level, text) => self.log(level, text).await,
                    ConnEvent::AuthPending {
                        method,
                        payload,
                        echo,
                        timeout_sec,
                    } => {
                        self.emit(Event::AuthPending {
                            method,
                            payload,
                            echo,
                            timeout_sec,
                        })
                        .await
                    }
                    ConnEvent::AuthToken { token, user } => {
                        creds.token = Some((Secret::from_text(&token), user))
                    }
                    ConnEvent::Closed(reason) => {
                        let _ = driver.flush_out().await;
                        if reason == CloseReason::Local {
                            self.emit(phase(SessionPhase::Disconnecting, Some(info.clone()), None))
                                .await;
                            // Give a reliable EXIT a moment to be acknowledged.
                            driver.linger(Duration::from_millis(300)).await;
                        }
                        return Ok((reason, established));
                    }
                }
            }
            match step {
                crate::driver::Step::Continue => {}
                crate::driver::Step::Stats(rx, tx) => {
                    self.emit(Event::Stats {
                        rx_bytes: rx,
                        tx_bytes: tx,
                    })
                    .await
                }
                crate::driver::Step::LinkError(e) => {
                    // A server that rejects our handshake may just close the TCP connection;
                    // how far the handshake got says more than the socket error.
                    let stage = driver.conn.handshake_stage();
                    if !established && stage != crate::connection::HandshakeStage::NoAnswer {
                        self.log(
                            LogLevel::Info,
                            format!("the server closed the connection during the handshake: {e}"),
                        )
                        .await;
                        return Ok((CloseReason::HandshakeFailed(stage), false));
                    }
                    let lost = EngineError::new(
                        ErrorCode::ServerUnreachable,
                        format!("connection to {addr} lost: {e}"),
                    );
                    return Ok((CloseReason::Error(lost), established));
                }
                crate::driver::Step::TunError(e) => {
                    return Err(Stop::Failed(EngineError::new(
                        ErrorCode::TunFailed,
                        format!("TUN device error: {e}"),
                    )));
                }
            }
        }
    }

    /// Calls the helper's `configure` for new or changed settings; keeps the TUN otherwise.
    async fn configure(
        &mut self,
        settings: &PushedSettings,
        server: SocketAddr,
    ) -> Result<(), EngineError> {
        if self.tun.is_some() && self.configured.as_ref() == Some(settings) {
            return Ok(());
        }
        if self.configured.take().is_some() {
            self.tun = None;
            self.net.teardown().await;
        }
        let tun: Tun = self
            .net
            .configure(settings, server)
            .await
            .map_err(|e| EngineError::new(ErrorCode::NetworkSetupFailed, e))?;
        self.log(
            LogLevel::Info,
            format!("tunnel device {} configured", tun.name),
        )
        .await;
        self.tun = Some(TunIo::new(tun).map_err(|e| {
            EngineError::new(ErrorCode::TunFailed, format!("cannot use TUN device: {e}"))
        })?);
        self.configured = Some(settings.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::randomized_host;

    #[test]
    fn random_hostname_label() {
        let a = randomized_host("cvpn-endpoint-0123.prod.clientvpn.eu-west-1.amazonaws.com");
        let b = randomized_host("cvpn-endpoint-0123.prod.clientvpn.eu-west-1.amazonaws.com");
        let (label, rest) = a.split_once('.').unwrap();
        assert_eq!(label.len(), 12);
        assert!(label.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            rest,
            "cvpn-endpoint-0123.prod.clientvpn.eu-west-1.amazonaws.com"
        );
        assert_ne!(a, b, "a fresh label per attempt");
        assert_eq!(
            randomized_host("192.0.2.7"),
            "192.0.2.7",
            "addresses are left alone"
        );
    }
}
