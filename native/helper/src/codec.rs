//! Framing of the main <-> helper protocol: a u32 big-endian byte length, then that many bytes
//! of UTF-8 JSON. Generic over the transport so `--stdio` and the `--service` socket share it.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Mirrors MAX_FRAME_BYTES in app/helper-protocol/messages.ts: room for a 128 KiB SAML
/// password inside JSON with plenty of headroom, small enough to bound memory per peer.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;

/// Why reading a frame stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed the stream cleanly between frames.
    Eof,
    /// The length prefix announced more than MAX_FRAME_BYTES; the stream can no longer be
    /// trusted to be in sync, so the channel must be closed.
    TooLarge(usize),
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Eof => write!(f, "end of stream"),
            ReadError::TooLarge(n) => write!(
                f,
                "frame of {n} bytes exceeds the {MAX_FRAME_BYTES}-byte limit"
            ),
            ReadError::Io(e) => write!(f, "read failed: {e}"),
        }
    }
}

/// Reads one frame's payload. A stream that ends inside a frame is an I/O error
/// (UnexpectedEof), not a clean EOF.
pub async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Vec<u8>, ReadError> {
    let mut len_buf = [0u8; 4];
    let mut filled = 0;
    while filled < len_buf.len() {
        match reader.read(&mut len_buf[filled..]).await {
            Ok(0) if filled == 0 => return Err(ReadError::Eof),
            Ok(0) => return Err(ReadError::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => filled += n,
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
    let len = u32::from_be_bytes(len_buf) as usize;
    if len > MAX_FRAME_BYTES {
        return Err(ReadError::TooLarge(len));
    }
    let mut payload = vec![0u8; len];
    reader
        .read_exact(&mut payload)
        .await
        .map_err(ReadError::Io)?;
    Ok(payload)
}

/// Writes one frame and flushes it, so each message reaches the peer promptly.
pub async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, payload: &[u8]) -> io::Result<()> {
    if payload.len() > MAX_FRAME_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "outgoing frame exceeds MAX_FRAME_BYTES",
        ));
    }
    let len = u32::try_from(payload.len()).expect("bounded by MAX_FRAME_BYTES");
    writer.write_all(&len.to_be_bytes()).await?;
    writer.write_all(payload).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trips_frames_back_to_back() {
        let mut wire = Vec::new();
        write_frame(&mut wire, b"{\"a\":1}").await.unwrap();
        write_frame(&mut wire, b"").await.unwrap();
        let mut r = wire.as_slice();
        assert_eq!(read_frame(&mut r).await.unwrap(), b"{\"a\":1}");
        assert_eq!(read_frame(&mut r).await.unwrap(), b"");
        assert!(matches!(read_frame(&mut r).await, Err(ReadError::Eof)));
    }

    #[tokio::test]
    async fn rejects_oversized_length_without_allocating() {
        let wire = u32::MAX.to_be_bytes();
        let mut r = &wire[..];
        assert!(
            matches!(read_frame(&mut r).await, Err(ReadError::TooLarge(n)) if n == u32::MAX as usize)
        );
    }

    #[tokio::test]
    async fn truncated_frame_is_an_io_error_not_eof() {
        let mut wire = 10u32.to_be_bytes().to_vec();
        wire.extend_from_slice(b"abc");
        let mut r = wire.as_slice();
        assert!(matches!(read_frame(&mut r).await, Err(ReadError::Io(_))));
        let mut half_len = &[0u8, 0][..];
        assert!(matches!(
            read_frame(&mut half_len).await,
            Err(ReadError::Io(_))
        ));
    }

    #[tokio::test]
    async fn accepts_exactly_max_and_refuses_to_write_more() {
        let payload = vec![b'x'; MAX_FRAME_BYTES];
        let mut wire = Vec::new();
        write_frame(&mut wire, &payload).await.unwrap();
        assert_eq!(
            read_frame(&mut wire.as_slice()).await.unwrap().len(),
            MAX_FRAME_BYTES
        );
        let too_big = vec![b'x'; MAX_FRAME_BYTES + 1];
        assert!(write_frame(&mut Vec::new(), &too_big).await.is_err());
    }
}
