//! The I/O loop of one connection: link socket, TUN device, timers and commands in; the
//! sans-IO `Connection` in the middle. Batches reads to keep per-packet overhead low.

use crate::api::Command;
use crate::connection::Connection;
use crate::transport::{Link, MAX_PACKET};
use crate::tun_io::TunIo;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Packets handled per wakeup before yielding back to the select loop.
const BATCH: usize = 64;
const STATS_INTERVAL: Duration = Duration::from_secs(2);

pub enum Step {
    Continue,
    Stats(u64, u64),
    LinkError(std::io::Error),
    TunError(std::io::Error),
}

pub struct Driver<'a> {
    pub conn: &'a mut Connection,
    link: &'a mut Link,
    rbuf: Vec<u8>,
    sbuf: Vec<u8>,
    tbuf: Vec<u8>,
    next_stats: Instant,
    last_stats: (u64, u64),
}

async fn tun_ready(tun: Option<&TunIo>) -> std::io::Result<()> {
    match tun {
        Some(t) => t.readable().await,
        None => std::future::pending().await,
    }
}

impl<'a> Driver<'a> {
    pub fn new(conn: &'a mut Connection, link: &'a mut Link) -> Self {
        Self {
            conn,
            link,
            rbuf: vec![0u8; MAX_PACKET],
            sbuf: Vec::with_capacity(MAX_PACKET),
            tbuf: vec![0u8; MAX_PACKET],
            next_stats: Instant::now() + STATS_INTERVAL,
            last_stats: (0, 0),
        }
    }

    /// The session is established (see `Link::handshake_done`).
    pub fn handshake_done(&mut self) {
        self.link.handshake_done();
    }

    /// Sends everything the core queued.
    pub async fn flush_out(&mut self) -> std::io::Result<()> {
        while let Some(pkt) = self.conn.poll_transmit() {
            self.link.send(&pkt).await?;
        }
        self.link.flush().await
    }

    /// Keeps the connection serviced for a short while (e.g. so a reliable EXIT gets out).
    pub async fn linger(&mut self, d: Duration) {
        let end = tokio::time::Instant::now() + d;
        let _ = tokio::time::timeout_at(end, async {
            loop {
                if self.link.recv(&mut self.rbuf).await.is_err() {
                    return;
                }
            }
        })
        .await;
    }

    pub async fn step(
        &mut self,
        tun: Option<&mut TunIo>,
        commands: &mut mpsc::Receiver<Command>,
    ) -> Step {
        if let Err(e) = self.flush_out().await {
            return Step::LinkError(e);
        }
        if self.conn.is_closed() {
            return Step::Continue;
        }
        let tun = tun.map(|t| &*t);
        let deadline = self.conn.poll_timeout().map(tokio::time::Instant::from_std);
        let stats_at = tokio::time::Instant::from_std(self.next_stats);
        let wake = deadline.map_or(stats_at, |d| d.min(stats_at));
        tokio::select! {
            r = self.link.recv(&mut self.rbuf) => {
                let n = match r {
                    Ok(n) => n,
                    Err(e) => return Step::LinkError(e),
                };
                let now = Instant::now();
                if let Some(range) = self.conn.handle_link(&mut self.rbuf[..n], now) {
                    if let Some(t) = tun {
                        if let Err(e) = t.write(&self.rbuf[range]) {
                            return Step::TunError(e);
                        }
                    }
                }
                // Drain whatever else already arrived without going back through select.
                for _ in 0..BATCH {
                    match self.link.try_recv(&mut self.rbuf) {
                        Some(Ok(n)) => {
                            if let Some(range) = self.conn.handle_link(&mut self.rbuf[..n], now) {
                                if let Some(t) = tun {
                                    if let Err(e) = t.write(&self.rbuf[range]) {
                                        return Step::TunError(e);
                                    }
                                }
                            }
                        }
                        Some(Err(e)) => return Step::LinkError(e),
                        None => break,
                    }
                }
            }
            ready = tun_ready(tun) => {
                if let Err(e) = ready {
                    return Step::TunError(e);
                }
                let Some(t) = tun else { return Step::Continue };
                let now = Instant::now();
                for _ in 0..BATCH {
                    match t.try_recv(&mut self.tbuf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if self.conn.encrypt_tun(&self.tbuf[..n], &mut self.sbuf, now) {
                                if let Err(e) = self.link.send(&self.sbuf).await {
                                    return Step::LinkError(e);
                                }
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) => return Step::TunError(e),
                    }
                }
            }
            _ = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                self.conn.handle_timeout(now);
                if now >= self.next_stats {
                    self.next_stats = now + STATS_INTERVAL;
                    let cur = (self.conn.rx_bytes, self.conn.tx_bytes);
                    if cur != self.last_stats {
                        self.last_stats = cur;
                        return Step::Stats(cur.0, cur.1);
                    }
                }
            }
            c = commands.recv() => {
                let now = Instant::now();
                match c {
                    None | Some(Command::Disconnect) => self.conn.disconnect(now),
                    Some(Command::CrResponse(r)) => self.conn.send_cr_response(&r, now),
                    Some(Command::Credentials { .. }) => {}
                }
            }
        }
        Step::Continue
    }
}
