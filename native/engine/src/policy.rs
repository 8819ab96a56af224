//! Reconnect policy: which remote to try next, how long to wait (connect-retry with backoff),
//! and when to give up (connect-retry-max). Pure logic, unit-tested without sockets.

use crate::api::EngineError;
use crate::config::{EngineConfig, ErrorCode};
use crate::connection::{CloseReason, HandshakeStage};
use std::time::Duration;

/// How an attempt ended, from the policy's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Could not reach/resolve/handshake with this remote: advance to the next one.
    Unreachable(EngineError),
    /// The connection was up (or the server asked us to come back): reconnect.
    Dropped { backoff: Option<Duration> },
    /// Nothing a retry can fix.
    Terminal(EngineError),
    /// The handshake stopped where a refusing server stops it: after our ClientHello (the
    /// server refuses our TLS versions) or after our client certificate (it does not accept
    /// it). A stock server drops the client instance before its alert goes out, so that is
    /// all we see; but a lossy path that lost the answer looks the same. Retried like
    /// `Unreachable`, and taken for the refusal (the error) only when `REFUSAL_STALLS`
    /// attempts in a row stall the same way.
    HandshakeStalled(EngineError),
}

/// Handshakes in a row that stall at the same point before the stall counts as a refusal. A
/// lossy path stalls a handshake for a whole hand-window only rarely (every packet is
/// retransmitted several times within it), so twice in a row is the server, not the path.
pub const REFUSAL_STALLS: u32 = 2;

impl Outcome {
    pub fn from_close(reason: CloseReason, established: bool) -> Self {
        match reason {
            CloseReason::Halt(msg) => {
                let m = if msg.is_empty() {
                    "the server ended the session (HALT)".to_string()
                } else {
                    format!("the server ended the session: {msg}")
                };
                Outcome::Terminal(EngineError::new(ErrorCode::Halted, m))
            }
            CloseReason::Error(e) => match e.code {
                ErrorCode::ServerUnreachable => {
                    if established {
                        Outcome::Dropped { backoff: None }
                    } else {
                        Outcome::Unreachable(e)
                    }
                }
                // A working session that hits a TLS or protocol error (a failed renegotiation, a
                // forged packet on an unauthenticated control channel) restarts, like OpenVPN's
                // soft tls-error restart.
                ErrorCode::TlsFailed | ErrorCode::ProtocolError if established => Outcome::Dropped { backoff: None },
                // Otherwise TLS, certificate, protocol and configuration errors do not go away
                // by retrying.
                _ => Outcome::Terminal(e),
            },
            CloseReason::HandshakeFailed(stage) => match stage {
                HandshakeStage::NoAnswer => Outcome::Unreachable(EngineError::new(ErrorCode::ServerUnreachable, "no answer from the server")),
                HandshakeStage::ResetOnly => Outcome::HandshakeStalled(EngineError::new(
                    ErrorCode::TlsVersionRefused,
                    "the server answered but refused our TLS handshake; it most likely allows only TLS 1.1 or older, or none of the TLS versions this profile allows",
                )),
                HandshakeStage::TlsStarted { client_cert: true, cert_requested: true } => Outcome::HandshakeStalled(EngineError::new(
                    ErrorCode::ClientCertRejected,
                    "the server ended the TLS handshake after receiving our client certificate; it most likely does not accept it (another CA, revoked or expired)",
                )),
                HandshakeStage::TlsStarted { client_cert: false, cert_requested: true } => Outcome::Terminal(EngineError::new(
                    ErrorCode::ClientCertRejected,
                    "the server requires a client certificate and this profile has none",
                )),
                HandshakeStage::TlsStarted { cert_requested: false, .. } => Outcome::Unreachable(EngineError::new(
                    ErrorCode::ServerUnreachable,
                    "the server answered but the TLS handshake did not complete",
                )),
            },
            CloseReason::AuthFailedTemp { backoff_sec } => Outcome::Dropped {
                backoff: backoff_sec.map(|s| Duration::from_secs(s.into())),
            },
            CloseReason::PushTimeout => Outcome::Unreachable(EngineError::new(
                ErrorCode::ServerUnreachable,
                "the server did not send its configuration in time",
            )),
            CloseReason::Restart | CloseReason::ServerExit | CloseReason::PingTimeout => {
                Outcome::Dropped { backoff: None }
            }
            CloseReason::SessionExpired => Outcome::Terminal(EngineError::new(
                ErrorCode::SessionExpired,
                "the session reached the time limit set by the server; connect again to start a new one",
            )),
            CloseReason::AuthFailed(m) => {
                Outcome::Terminal(EngineError::new(ErrorCode::AuthFailed, m))
            }
            CloseReason::Crv1(_) | CloseReason::Local => Outcome::Dropped { backoff: None },
        }
    }
}

pub struct RetryPolicy {
    remotes: usize,
    current: usize,
    initial: Duration,
    max: Duration,
    max_attempts: Option<u64>,
    failures: u64,
    /// Attempts in a row that ended `HandshakeStalled` at the same point (the error's code).
    stalls: Option<(ErrorCode, u32)>,
    next_delay: Duration,
}

impl RetryPolicy {
    pub fn new(cfg: &EngineConfig, remotes: usize) -> Self {
        Self {
            remotes: remotes.max(1),
            current: 0,
            initial: Duration::from_secs(cfg.connect_retry.initial_sec.max(1).into()),
            max: Duration::from_secs(
                cfg.connect_retry
                    .max_sec
                    .max(cfg.connect_retry.initial_sec)
                    .max(1)
                    .into(),
            ),
            // connect-retry-max counts passes over the whole remote list.
            max_attempts: cfg
                .connect_retry_max
                .map(|n| u64::from(n) * remotes.max(1) as u64),
            failures: 0,
            stalls: None,
            next_delay: Duration::ZERO,
        }
    }

    pub fn remote_index(&self) -> usize {
        self.current
    }

    /// Wait before the next attempt.
    pub fn delay(&self) -> Duration {
        self.next_delay
    }

    /// The next attempt goes out right away (CRV1 answer, auth-token fallback).
    pub fn immediate(&mut self) {
        self.next_delay = Duration::ZERO;
    }

    /// A connection was established: failures start over.
    pub fn connected(&mut self) {
        self.failures = 0;
    }

    /// Records a failed/dropped attempt. Returns the terminal error when the session must stop.
    pub fn failed(&mut self, outcome: Outcome) -> Option<EngineError> {
        if !matches!(outcome, Outcome::HandshakeStalled(_)) {
            self.stalls = None;
        }
        match outcome {
            Outcome::Terminal(e) => Some(e),
            Outcome::Dropped { backoff } => {
                self.next_delay = backoff
                    .unwrap_or(self.initial)
                    .min(self.max.max(backoff.unwrap_or_default()));
                None
            }
            Outcome::HandshakeStalled(refusal) => {
                let same = match self.stalls {
                    Some((code, n)) if code == refusal.code => n + 1,
                    _ => 1,
                };
                self.stalls = Some((refusal.code, same));
                if same >= REFUSAL_STALLS {
                    return Some(refusal);
                }
                // Retried like an unreachable server; when connect-retry-max leaves no attempt,
                // the refusal is still the best account of what happened.
                let retry = EngineError::new(
                    ErrorCode::ServerUnreachable,
                    "the handshake stalled where a server refusing it stops",
                );
                self.unreachable(retry).map(|_| refusal)
            }
            Outcome::Unreachable(e) => self.unreachable(e),
        }
    }

    /// An attempt that did not reach the server: the next remote, after a pause, unless
    /// connect-retry-max is used up.
    fn unreachable(&mut self, e: EngineError) -> Option<EngineError> {
        self.failures += 1;
        if self.max_attempts.is_some_and(|m| self.failures >= m) {
            return Some(EngineError::new(
                ErrorCode::ServerUnreachable,
                format!(
                    "giving up after {} failed attempts: {}",
                    self.failures, e.message
                ),
            ));
        }
        self.current = (self.current + 1) % self.remotes;
        // After 5 failures the pause doubles per attempt, capped (like OpenVPN).
        let doublings = self.failures.saturating_sub(5).min(16) as u32;
        self.next_delay = self.initial.saturating_mul(1 << doublings).min(self.max);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable() -> Outcome {
        Outcome::Unreachable(EngineError::new(ErrorCode::ServerUnreachable, "no answer"))
    }

    fn cfg(max: Option<u32>) -> EngineConfig {
        let mut c = crate::config::tests_support::typical_config();
        c.connect_retry_max = max;
        c.connect_retry.initial_sec = 1;
        c.connect_retry.max_sec = 8;
        c
    }

    #[test]
    fn fails_over_and_backs_off() {
        let mut p = RetryPolicy::new(&cfg(None), 3);
        let mut seen = Vec::new();
        let mut delays = Vec::new();
        for _ in 0..9 {
            assert!(p.failed(unreachable()).is_none());
            seen.push(p.remote_index());
            delays.push(p.delay().as_secs());
        }
        assert_eq!(seen, vec![1, 2, 0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(delays, vec![1, 1, 1, 1, 1, 2, 4, 8, 8]);
    }

    #[test]
    fn gives_up_after_connect_retry_max_passes() {
        let mut p = RetryPolicy::new(&cfg(Some(2)), 2);
        assert!(p.failed(unreachable()).is_none());
        assert!(p.failed(unreachable()).is_none());
        assert!(p.failed(unreachable()).is_none());
        let e = p.failed(unreachable()).unwrap();
        assert_eq!(e.code, ErrorCode::ServerUnreachable);
        assert!(e.message.contains("4 failed attempts"));
    }

    fn stalled() -> Outcome {
        Outcome::from_close(
            CloseReason::HandshakeFailed(HandshakeStage::ResetOnly),
            false,
        )
    }

    #[test]
    fn a_handshake_stalled_after_the_reset_is_retried_not_a_refusal() {
        let mut p = RetryPolicy::new(&cfg(None), 2);
        assert!(matches!(stalled(), Outcome::HandshakeStalled(_)));
        assert_eq!(p.failed(stalled()), None, "one stall may be the path");
        assert_eq!(p.remote_index(), 1);
        assert_eq!(p.delay(), Duration::from_secs(1));
        // Anything else in between starts the count over.
        assert_eq!(p.failed(unreachable()), None);
        assert_eq!(p.failed(stalled()), None);
        assert_eq!(p.failed(Outcome::Dropped { backoff: None }), None);
        assert_eq!(p.failed(stalled()), None);
    }

    #[test]
    fn the_same_stall_on_attempts_in_a_row_is_a_refusal_of_our_tls_versions() {
        let mut p = RetryPolicy::new(&cfg(None), 1);
        for _ in 1..REFUSAL_STALLS {
            assert_eq!(p.failed(stalled()), None);
        }
        let e = p.failed(stalled()).expect("refused");
        assert_eq!(e.code, ErrorCode::TlsVersionRefused);
        assert!(e.message.contains("TLS 1.1 or older"), "{}", e.message);
    }

    #[test]
    fn only_stalls_at_the_same_point_add_up() {
        let after_cert = || {
            Outcome::from_close(
                CloseReason::HandshakeFailed(HandshakeStage::TlsStarted {
                    client_cert: true,
                    cert_requested: true,
                }),
                false,
            )
        };
        let mut p = RetryPolicy::new(&cfg(None), 1);
        assert_eq!(p.failed(stalled()), None);
        assert_eq!(
            p.failed(after_cert()),
            None,
            "a stall elsewhere starts over"
        );
        let e = p.failed(after_cert()).expect("refused");
        assert_eq!(e.code, ErrorCode::ClientCertRejected);
    }

    #[test]
    fn stalls_count_against_connect_retry_max_and_the_last_one_says_what_it_looked_like() {
        let mut p = RetryPolicy::new(&cfg(Some(1)), 1);
        let e = p.failed(stalled()).expect("no attempt left");
        assert_eq!(e.code, ErrorCode::TlsVersionRefused);
    }

    #[test]
    fn classification() {
        assert!(
            matches!(Outcome::from_close(CloseReason::Halt(String::new()), true), Outcome::Terminal(e) if e.code == ErrorCode::Halted)
        );
        assert!(matches!(
            Outcome::from_close(CloseReason::PingTimeout, true),
            Outcome::Dropped { .. }
        ));
        let code = |stage| match Outcome::from_close(CloseReason::HandshakeFailed(stage), false) {
            Outcome::Terminal(e) | Outcome::Unreachable(e) | Outcome::HandshakeStalled(e) => e.code,
            Outcome::Dropped { .. } => panic!("a handshake timeout is never a mere drop"),
        };
        assert_eq!(code(HandshakeStage::NoAnswer), ErrorCode::ServerUnreachable);
        assert_eq!(
            code(HandshakeStage::ResetOnly),
            ErrorCode::TlsVersionRefused
        );
        let tls_started = |client_cert, cert_requested| HandshakeStage::TlsStarted {
            client_cert,
            cert_requested,
        };
        assert_eq!(code(tls_started(true, true)), ErrorCode::ClientCertRejected);
        assert_eq!(
            code(tls_started(false, true)),
            ErrorCode::ClientCertRejected
        );
        assert_eq!(code(tls_started(true, false)), ErrorCode::ServerUnreachable);
        let tls = || EngineError::new(ErrorCode::TlsFailed, "bad record");
        assert!(matches!(
            Outcome::from_close(CloseReason::Error(tls()), true),
            Outcome::Dropped { .. }
        ));
        assert!(matches!(
            Outcome::from_close(CloseReason::Error(tls()), false),
            Outcome::Terminal(_)
        ));
        let cert = EngineError::new(ErrorCode::ServerCertRejected, "x");
        assert!(matches!(
            Outcome::from_close(CloseReason::Error(cert), false),
            Outcome::Terminal(_)
        ));
        assert_eq!(
            Outcome::from_close(
                CloseReason::AuthFailedTemp {
                    backoff_sec: Some(30)
                },
                false
            ),
            Outcome::Dropped {
                backoff: Some(Duration::from_secs(30))
            }
        );
    }
}
