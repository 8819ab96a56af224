//! The I/O loop of one connection: link socket, TUN device, timers and commands in; the
//! sans-IO `Connection` in the middle. Batches reads to keep per-packet overhead low.

use crate::api::Command;
use crate::connection::Connection;
use crate::pipeline::{self, Fanout, Rx, SealBatch};
use crate::suspend_clock::SuspendWatch;
use crate::transport::Link;
use crate::tun_io::TunIo;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Link reads handled per wakeup before going back to the select loop.
const BATCH: usize = 16;
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
    next_stats: Instant,
    last_stats: (u64, u64),
    suspend: SuspendWatch,
    /// The crypto pipeline's worker and the encrypt side's slots (see `pipeline`).
    pub(crate) fan: Fanout,
    seal: SealBatch,
}

/// Seals the staged packets and queues them on the link in packet-id order: each sealed
/// buffer is swapped with the link's, so nothing is copied or allocated.
fn queue_sealed(conn: &mut Connection, batch: &mut SealBatch, fan: &mut Fanout, link: &mut Link) {
    if batch.is_empty() {
        return;
    }
    conn.seal_batch(batch, fan);
    batch.drain_sealed(|sealed| {
        std::mem::swap(link.reserve(), sealed);
        link.commit();
    });
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
            next_stats: Instant::now() + STATS_INTERVAL,
            last_stats: (0, 0),
            suspend: SuspendWatch::new(),
            fan: Fanout::new(),
            seal: SealBatch::new(),
        }
    }

    /// The session is established (see `Link::handshake_done`).
    pub fn handshake_done(&mut self) {
        self.link.handshake_done();
    }

    /// Sends everything the core queued, and what the data path queued.
    pub async fn flush_out(&mut self) -> std::io::Result<()> {
        while let Some(pkt) = self.conn.poll_transmit() {
            self.link.queue(&pkt);
        }
        self.link.flush().await
    }

    /// Keeps the connection serviced for a short while (e.g. so a reliable EXIT gets out).
    pub async fn linger(&mut self, d: Duration) {
        let end = tokio::time::Instant::now() + d;
        let _ = tokio::time::timeout_at(end, async {
            loop {
                if self.link.recv_batch().await.is_err() {
                    return;
                }
                while self.link.next_packets(&mut [&mut []]) > 0 {}
            }
        })
        .await;
    }

    /// Decrypts every packet of the batch the link received and writes the IP packets to the
    /// TUN device in the order received; reads on while more is already there, up to BATCH
    /// reads.
    fn link_batch(&mut self, mut tun: Option<&mut TunIo>, now: Instant) -> Result<(), Step> {
        for i in 0..BATCH {
            if i > 0 {
                match self.link.try_recv_batch() {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(Step::LinkError(e)),
                }
            }
            loop {
                let mut bufs: [&mut [u8]; pipeline::BATCH] =
                    std::array::from_fn(|_| Default::default());
                let n = self.link.next_packets(&mut bufs);
                if n == 0 {
                    break;
                }
                let mut rx = bufs.map(Rx::new);
                self.conn
                    .handle_link_batch(&mut rx[..n], now, &mut self.fan);
                if let Some(t) = tun.as_deref_mut() {
                    for ip in rx[..n].iter().filter_map(Rx::plaintext) {
                        t.write(ip).map_err(Step::TunError)?;
                    }
                }
            }
        }
        self.link.reads_done();
        if let Some(t) = tun {
            t.flush().map_err(Step::TunError)?;
        }
        Ok(())
    }

    /// Reads the TUN device until it is empty (or the link queue is full), staging every
    /// packet for encryption; each full batch, and the last one, is sealed and queued on the
    /// link. The caller flushes the link.
    fn tun_batch(&mut self, tun: &mut TunIo, now: Instant) -> Result<(), Step> {
        let (conn, link, fan, batch) = (
            &mut *self.conn,
            &mut *self.link,
            &mut self.fan,
            &mut self.seal,
        );
        while !link.queue_full() {
            let more = tun.read(|ip| {
                if conn.stage_tun(ip, batch, now) && batch.is_full() {
                    queue_sealed(conn, batch, fan, link);
                }
            });
            match more {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    queue_sealed(conn, batch, fan, link);
                    return Err(Step::TunError(e));
                }
            }
        }
        queue_sealed(conn, batch, fan, link);
        tun.reads_done();
        Ok(())
    }

    pub async fn step(
        &mut self,
        mut tun: Option<&mut TunIo>,
        commands: &mut mpsc::Receiver<Command>,
    ) -> Step {
        if let Err(e) = self.flush_out().await {
            return Step::LinkError(e);
        }
        if self.conn.is_closed() {
            return Step::Continue;
        }
        // A nap, not a wait in epoll, which would wake at every datagram: the session has its
        // thread to itself (`spawn_session`), and all that arrived meanwhile is handled below.
        let tun_nap = tun.as_deref_mut().and_then(TunIo::take_nap);
        if let Some(until) = self.link.take_nap().max(tun_nap) {
            std::thread::sleep(until.saturating_duration_since(Instant::now()));
        }
        let deadline = self.conn.poll_timeout().map(tokio::time::Instant::from_std);
        let stats_at = tokio::time::Instant::from_std(self.next_stats);
        let link_due = self
            .link
            .recv_deadline()
            .map(tokio::time::Instant::from_std);
        let wake = [deadline, link_due]
            .into_iter()
            .flatten()
            .fold(stats_at, std::cmp::min);
        tokio::select! {
            r = self.link.recv_batch() => {
                if let Err(e) = r {
                    return Step::LinkError(e);
                }
                if let Err(step) = self.link_batch(tun, Instant::now()) {
                    return step;
                }
            }
            r = tun_ready(tun.as_deref()) => {
                if let Err(e) = r {
                    return Step::TunError(e);
                }
                if let Some(t) = tun {
                    if let Err(step) = self.tun_batch(t, Instant::now()) {
                        return step;
                    }
                    if let Err(e) = self.link.flush().await {
                        return Step::LinkError(e);
                    }
                }
            }
            _ = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                // Timers wake at least every STATS_INTERVAL of running time, so a
                // suspension is seen within that after the resume.
                if let Some(slept) = self.suspend.since_last() {
                    self.conn.handle_suspended(slept, now);
                }
                if link_due.is_some_and(|d| d <= tokio::time::Instant::from_std(now)) {
                    match self.link.recv_due(now) {
                        Ok(true) => {
                            if let Err(step) = self.link_batch(tun, now) {
                                return step;
                            }
                        }
                        Ok(false) => {}
                        Err(e) => return Step::LinkError(e),
                    }
                }
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
