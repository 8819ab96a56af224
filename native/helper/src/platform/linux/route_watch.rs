//! Client route enforcement on Linux: a thread reads the kernel's route announcements
//! (RTNLGRP_IPV4_ROUTE and _IPV6_ROUTE) while a session is connected and deletes each route
//! added to the main table that conflicts with the tunnel's (`route_conflict::conflicts`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::netlink::{link_name, Netlink};
use crate::log;
use crate::network::route_conflict::{conflicts, TunnelRoutes};
use crate::platform::{RemovedRoute, RemovedRouteSink};

/// How long a read waits before the thread looks whether it should stop: the longest a
/// session's teardown waits for its watch.
const POLL: Duration = Duration::from_millis(200);

/// The running watch; dropping it stops the thread and waits for it.
pub struct RouteWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Subscribes before returning, so that no route added after the tunnel's is missed.
pub fn start(tunnel: TunnelRoutes, removed: RemovedRouteSink) -> Result<RouteWatch, String> {
    let mut monitor = Netlink::open_route_monitor(POLL)
        .map_err(|e| format!("cannot watch route changes: {e}"))?;
    let mut control =
        Netlink::open().map_err(|e| format!("cannot open route control for the watch: {e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let thread = std::thread::Builder::new()
        .name("route-watch".into())
        .spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let added = match monitor.next_added_routes() {
                    Ok(added) => added,
                    Err(e) => {
                        // ENOBUFS: announcements were lost; later ones still come.
                        log::warn(&format!("route watch: {e}"));
                        continue;
                    }
                };
                for announced in added {
                    let route = &announced.route;
                    if stopping.load(Ordering::Relaxed) || !conflicts(route, &tunnel) {
                        continue;
                    }
                    let device = route.oif.and_then(link_name);
                    match control.delete_announced(&announced) {
                        Ok(()) => removed(RemovedRoute {
                            dst: route.dst,
                            prefix: route.prefix,
                            gateway: route.gateway,
                            device,
                        }),
                        Err(e) => log::warn(&format!(
                            "cannot remove the conflicting route {}/{}: {e}",
                            route.dst, route.prefix
                        )),
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start the route watch: {e}"))?;
    Ok(RouteWatch {
        stop,
        thread: Some(thread),
    })
}

impl Drop for RouteWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
