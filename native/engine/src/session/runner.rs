//! `run_session`: the tokio loop around `SessionMachine`. It carries the machine's actions out
//! (name lookups, connections, the helper's network setup, timers, events) and feeds back what
//! happened; every decision is the machine's.

use super::machine::{Action, End, SessionMachine};
use crate::api::{Command, EngineError, Event, NetworkSetup, Tun};
use crate::config::{AddressFamily, EngineConfig, ErrorCode, Proto, PushedSettings, SessionPhase};
use crate::connection::Connection;
use crate::driver::{Driver, Step};
use crate::params::Prepared;
use crate::secret::Secret;
use crate::transport::{is_credentials_refusal, Link, OwnSockets, Sockets};
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

/// How long a reliable EXIT gets to be acknowledged when we disconnect.
const EXIT_LINGER: Duration = Duration::from_millis(300);

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
            let failed = Event::Phase {
                phase: SessionPhase::Failed,
                remote: None,
                error: Some(e),
            };
            let _ = events.send(failed).await;
            return;
        }
    };
    let machine = SessionMachine::new(config.clone(), Box::new(random_bytes));
    let mut runner = Runner {
        sockets: net.own_sockets(),
        cfg: config,
        prepared,
        net,
        commands,
        events,
        tun: None,
        wake: None,
    };
    runner.run(machine).await;
}

struct Runner<N: NetworkSetup> {
    cfg: EngineConfig,
    prepared: Prepared,
    net: N,
    /// The helper's way of making the engine's sockets and looking names up.
    sockets: Sockets,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    tun: Option<TunIo>,
    /// The machine's pending `SleepUntil`.
    wake: Option<tokio::time::Instant>,
}

/// Resolves `lookup` to the addresses of `family`, IPv4 first (each is tried in turn); messages
/// name `host`, the remote as configured.
async fn resolve(
    sockets: &dyn OwnSockets,
    lookup: String,
    host: String,
    port: u16,
    family: AddressFamily,
) -> Result<Vec<SocketAddr>, EngineError> {
    let unreachable = |m: String| EngineError::new(ErrorCode::ServerUnreachable, m);
    let addrs = tokio::time::timeout(
        Duration::from_secs(30),
        sockets.resolve(lookup.as_str(), port),
    )
    .await
    .map_err(|_| unreachable(format!("resolving {host} timed out")))?
    .map_err(|e| unreachable(format!("cannot resolve {host}: {e}")))?;
    let mut all: Vec<SocketAddr> = Vec::new();
    for a in addrs.into_iter().filter(|a| family.admits(a)) {
        if !all.contains(&a) {
            all.push(a);
        }
    }
    // Stable: the resolver's order within each family is kept.
    all.sort_by_key(|a| a.is_ipv6());
    if all.is_empty() {
        let which = match family {
            AddressFamily::Any => "",
            AddressFamily::Ipv4 => " IPv4",
            AddressFamily::Ipv6 => " IPv6",
        };
        return Err(unreachable(format!("{host} has no{which} address")));
    }
    Ok(all)
}

impl<N: NetworkSetup> Runner<N> {
    async fn run(&mut self, mut m: SessionMachine) {
        // An action that ended a connection without being carried out by it.
        let mut pending = None;
        loop {
            while let Some(action) = pending.take().or_else(|| m.poll_action()) {
                pending = self.perform(&mut m, action).await;
            }
            if m.is_finished() {
                return;
            }
            // Nothing to do but wait: for an answer to a prompt, the end of a pause, or a
            // disconnect.
            let wake = self.wake;
            tokio::select! {
                c = self.commands.recv() => {
                    m.handle_command(c.unwrap_or(Command::Disconnect), Instant::now());
                }
                _ = tokio::time::sleep_until(wake.unwrap_or_else(tokio::time::Instant::now)),
                    if wake.is_some() => {
                    self.wake = None;
                    m.handle_timeout(Instant::now());
                }
            }
        }
    }

    async fn emit(&self, e: Event) {
        let _ = self.events.send(e).await;
    }

    /// Carries one action out. A connection runs until it ends; returns the action that ended
    /// it when that is one for this loop.
    async fn perform(&mut self, m: &mut SessionMachine, action: Action) -> Option<Action> {
        match action {
            Action::Emit(e) => self.emit(e).await,
            Action::SleepUntil(t) => self.wake = Some(tokio::time::Instant::from_std(t)),
            Action::Resolve {
                lookup,
                host,
                port,
                family,
            } => {
                let sockets = self.sockets.clone();
                if let Some(r) = self
                    .unless_finished(m, resolve(&*sockets, lookup, host, port, family))
                    .await
                {
                    m.handle_resolved(r, Instant::now());
                }
            }
            Action::Connect {
                addr,
                proto,
                username,
                password,
            } => return self.connection(m, addr, proto, username, password).await,
            Action::Configure { settings, server } => {
                let r = self.configure(&settings, server).await;
                m.handle_network_ready(r);
            }
            Action::Teardown => self.teardown().await,
            // No connection is open here.
            Action::EndConnection(_) => {}
        }
        None
    }

    /// Runs `fut` while passing commands to the machine; gives up on it once a command ends
    /// the session.
    async fn unless_finished<T>(
        &mut self,
        m: &mut SessionMachine,
        fut: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                v = &mut fut => return Some(v),
                c = self.commands.recv() => {
                    m.handle_command(c.unwrap_or(Command::Disconnect), Instant::now());
                    if m.is_finished() {
                        return None;
                    }
                }
            }
        }
    }

    /// Opens one connection and drives it (the driver owns the packet path and takes the
    /// commands meanwhile) until the machine ends it.
    async fn connection(
        &mut self,
        m: &mut SessionMachine,
        addr: SocketAddr,
        proto: Proto,
        username: Option<String>,
        password: Option<Secret>,
    ) -> Option<Action> {
        let params =
            self.prepared
                .conn_params(&self.cfg, proto, addr.is_ipv6(), username, password);
        // Owned: the dial runs while `unless_finished` borrows self.
        let proxy = self.cfg.proxy.clone();
        let sockets = self.sockets.clone();
        let dialed = self
            .unless_finished(
                m,
                Link::connect(addr, proto, proxy.as_ref(), params.hand_window, &*sockets),
            )
            .await?;
        let mut link = match dialed {
            Ok(l) => l,
            Err(e) if is_credentials_refusal(&e) => {
                m.handle_proxy_credentials_refused(&e.to_string());
                return None;
            }
            Err(e) => {
                m.handle_dial_failed(&e.to_string(), Instant::now());
                return None;
            }
        };
        let now = Instant::now();
        let mut conn = match Connection::new(params, Box::new(random_bytes), unix_now(), now) {
            Ok(c) => c,
            Err(e) => {
                m.handle_fatal(e);
                return None;
            }
        };
        let mut driver = Driver::new(&mut conn, &mut link);
        loop {
            let step = driver.step(self.tun.as_mut(), &mut self.commands).await;
            // Core events first: they may carry the close reason.
            while let Some(ev) = driver.conn.poll_event() {
                if let crate::connection::ConnEvent::Established(_) = ev {
                    driver.handshake_done();
                }
                m.handle_connection(ev, Instant::now());
                if let Some(end) = self.connection_actions(m, &mut driver).await {
                    return end;
                }
            }
            match step {
                Step::Continue => {}
                Step::Stats(rx_bytes, tx_bytes) => {
                    self.emit(Event::Stats { rx_bytes, tx_bytes }).await
                }
                Step::LinkError(e) => {
                    let stage = driver.conn.handshake_stage();
                    m.handle_link_error(&e.to_string(), stage, Instant::now());
                }
                Step::TunError(e) => m.handle_fatal(EngineError::new(
                    ErrorCode::TunFailed,
                    format!("TUN device error: {e}"),
                )),
            }
            if let Some(end) = self.connection_actions(m, &mut driver).await {
                return end;
            }
        }
    }

    /// Carries out the machine's actions while a connection is open. `Some` once the
    /// connection is over, with the action for the outer loop if one ended it.
    async fn connection_actions(
        &mut self,
        m: &mut SessionMachine,
        driver: &mut Driver<'_>,
    ) -> Option<Option<Action>> {
        while let Some(action) = m.poll_action() {
            match action {
                Action::Emit(e) => self.emit(e).await,
                Action::Configure { settings, server } => {
                    let r = self.configure(&settings, server).await;
                    m.handle_network_ready(r);
                }
                Action::Teardown => self.teardown().await,
                Action::EndConnection(end) => {
                    match end {
                        End::Drain { linger } => {
                            let _ = driver.flush_out().await;
                            if linger {
                                driver.linger(EXIT_LINGER).await;
                            }
                        }
                        End::Disconnect => {
                            driver.conn.disconnect(Instant::now());
                            let _ = driver.flush_out().await;
                        }
                        End::Abandon => {}
                    }
                    return Some(None);
                }
                // The machine moved on without ending the connection first: drop it.
                other => return Some(Some(other)),
            }
        }
        None
    }

    /// Configures the tunnel through the helper; returns the TUN device's name.
    async fn configure(
        &mut self,
        settings: &PushedSettings,
        server: SocketAddr,
    ) -> Result<String, EngineError> {
        let tun: Tun = self
            .net
            .configure(settings, server)
            .await
            .map_err(|e| EngineError::new(ErrorCode::NetworkSetupFailed, e))?;
        let name = tun.name.clone();
        self.tun = Some(TunIo::new(tun).map_err(|e| {
            EngineError::new(ErrorCode::TunFailed, format!("cannot use TUN device: {e}"))
        })?);
        Ok(name)
    }

    async fn teardown(&mut self) {
        self.tun = None;
        self.net.teardown().await;
    }
}
