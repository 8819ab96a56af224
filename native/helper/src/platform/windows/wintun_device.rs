//! The tunnel device on Windows: a Wintun adapter per session, created through wintun.dll
//! (loaded by full path from the helper's own folder, never through the DLL search order),
//! and its ring session as the engine's packet queue. Closing the adapter (when the queue is
//! dropped) removes it; Wintun's adapters are software devices tied to the creating
//! process's handle, so a crashed helper leaves none behind either.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use causeway_engine::{PacketQueue, Tun, TunDevice};

use crate::platform::TunnelDevice;

/// The adapter names: `causeway-<n>`, valid as firewall interface names on every OS.
const NAME_PREFIX: &str = "causeway-";
/// Tries before giving up on finding a free name (another helper's adapters hold the rest).
const NAME_TRIES: u32 = 64;
/// The ring size: Wintun's largest (64 MiB), as WireGuard uses for throughput.
const RING_CAPACITY: u32 = wintun::MAX_RING_CAPACITY;

static NEXT: AtomicU32 = AtomicU32::new(1);

fn library() -> io::Result<&'static wintun::Wintun> {
    static LIB: OnceLock<Result<wintun::Wintun, String>> = OnceLock::new();
    LIB.get_or_init(|| {
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find the helper's folder: {e}"))?;
        let dll = exe.with_file_name("wintun.dll");
        // SAFETY: wintun.dll is the signed library the packages install beside the helper;
        // loading it runs its initialisation, which is what it is for.
        unsafe { wintun::load_from_path(&dll) }
            .map_err(|e| format!("cannot load {}: {e}", dll.display()))
    })
    .as_ref()
    .map_err(|e| io::Error::other(e.clone()))
}

/// Creates a new adapter and starts its ring session.
pub fn create() -> io::Result<TunnelDevice> {
    let lib = library()?;
    let mut last = None;
    for _ in 0..NAME_TRIES {
        let name = format!("{NAME_PREFIX}{}", NEXT.fetch_add(1, Ordering::Relaxed));
        if wintun::Adapter::open(lib, &name).is_ok() {
            continue; // in use by another helper or session
        }
        match wintun::Adapter::create(lib, &name, "Causeway", None) {
            Ok(adapter) => return start(name, adapter),
            Err(e) => last = Some(e),
        }
    }
    Err(io::Error::other(format!(
        "cannot create a Wintun adapter: {}",
        last.map_or_else(|| "no free name".to_owned(), |e| e.to_string())
    )))
}

fn start(name: String, adapter: Arc<wintun::Adapter>) -> io::Result<TunnelDevice> {
    let index = adapter
        .get_adapter_index()
        .map_err(|e| io::Error::other(format!("adapter {name} has no index: {e}")))?;
    let session = adapter
        .start_session(RING_CAPACITY)
        .map_err(|e| io::Error::other(format!("cannot start the Wintun session of {name}: {e}")))?;
    let queue = WintunQueue {
        session: Arc::new(session),
        waiting: Arc::new(Mutex::new(None)),
    };
    Ok(TunnelDevice {
        name: name.clone(),
        index,
        tun: Tun {
            name,
            device: TunDevice::Queue(Box::new(queue)),
        },
    })
}

/// The engine's side of the rings. `readable` waits in a blocking thread for the next packet
/// and parks it in `waiting`, where `try_recv` takes it first.
struct WintunQueue {
    session: Arc<wintun::Session>,
    waiting: Arc<Mutex<Option<Vec<u8>>>>,
}

impl PacketQueue for WintunQueue {
    fn readable(&self) -> Pin<Box<dyn std::future::Future<Output = io::Result<()>> + Send + '_>> {
        Box::pin(async move {
            if self.waiting.lock().unwrap().is_some() {
                return Ok(());
            }
            let session = self.session.clone();
            let waiting = self.waiting.clone();
            tokio::task::spawn_blocking(move || {
                let packet = session.receive_blocking().map_err(io::Error::other)?;
                *waiting.lock().unwrap() = Some(packet.bytes().to_vec());
                Ok(())
            })
            .await
            .map_err(io::Error::other)?
        })
    }

    fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let copy = |bytes: &[u8], buf: &mut [u8]| {
            let n = bytes.len().min(buf.len());
            buf[..n].copy_from_slice(&bytes[..n]);
            n
        };
        if let Some(p) = self.waiting.lock().unwrap().take() {
            return Ok(copy(&p, buf));
        }
        match self.session.try_receive().map_err(io::Error::other)? {
            Some(p) => Ok(copy(p.bytes(), buf)),
            None => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn send(&self, packet: &[u8]) -> io::Result<()> {
        let len = u16::try_from(packet.len()).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "packet larger than 64 KiB")
        })?;
        // A full ring refuses the allocation: the packet is dropped, as on a congested link.
        let Ok(mut out) = self.session.allocate_send_packet(len) else {
            return Ok(());
        };
        out.bytes_mut().copy_from_slice(packet);
        self.session.send_packet(out);
        Ok(())
    }
}

impl Drop for WintunQueue {
    fn drop(&mut self) {
        // Wakes a `readable` still blocked in receive_blocking; the session and the adapter
        // close when the last Arc goes.
        let _ = self.session.shutdown();
    }
}
