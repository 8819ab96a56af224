//! The seam's service transport on Windows: the named pipe of pipe.rs. The service group is
//! a local group whose SID goes into the pipe's DACL; each connection carries the admitted
//! SIDs so its peer can be checked against them on its real token.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::windows::named_pipe::NamedPipeServer;

use super::pipe::{self, PipeListener, PipePeer};
use super::pipe_acl;
use crate::platform::{PeerIdentity, ServiceTransport};
use crate::session_quota::OwnerKey;

pub struct PipeService {
    listener: PipeListener,
}

/// One accepted client.
pub struct PipeConn {
    pipe: NamedPipeServer,
    admitted: Arc<[String]>,
}

impl AsyncRead for PipeConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.pipe).poll_read(cx, buf)
    }
}

impl AsyncWrite for PipeConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.pipe).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.pipe).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.pipe).poll_shutdown(cx)
    }
}

impl PeerIdentity for PipePeer {
    type Group = String;

    /// The relative id (last sub-authority) of the user's SID: what `status` reports as the
    /// session's uid. The connection, and so its sessions, belong to the full SID (`owner`).
    fn uid(&self) -> u32 {
        self.sid
            .rsplit('-')
            .next()
            .and_then(|r| r.parse().ok())
            .unwrap_or(u32::MAX)
    }

    fn owner(&self) -> OwnerKey {
        OwnerKey::new(self.sid.clone())
    }

    fn may_use_service(&self, _service_group: &String) -> bool {
        self.admitted
    }

    fn describe(&self) -> String {
        format!("{} (pid {})", self.sid, self.pid)
    }
}

impl ServiceTransport for PipeService {
    type Conn = PipeConn;
    type Peer = PipePeer;
    /// The service group's SID.
    type Group = String;
    const DEFAULT_PATH: &'static str = pipe::DEFAULT_PIPE;

    fn group_id(name: &str) -> Result<String, String> {
        pipe::group_sid(name).ok_or_else(|| {
            format!("group {name:?} does not exist; the installer creates it (net localgroup {name} /add)")
        })
    }

    fn bind(path: &Path, group: &String) -> Result<Self, String> {
        let name = path.to_str().ok_or("the pipe name is not valid Unicode")?;
        let admitted = pipe_acl::admitted_sids(Some(group));
        Ok(PipeService {
            listener: PipeListener::bind(name, admitted)?,
        })
    }

    async fn accept(&self) -> io::Result<PipeConn> {
        let pipe = self.listener.accept().await?;
        Ok(PipeConn {
            pipe,
            admitted: self.listener.admitted().clone(),
        })
    }

    fn peer(conn: &PipeConn) -> io::Result<PipePeer> {
        pipe::peer(&conn.pipe, &conn.admitted)
    }

    /// The pipe disappears with its last instance.
    fn close(self, _path: &Path) {}

    /// The SCM learns that the service runs from scm.rs, before the body starts.
    fn notify_ready() {}
}
