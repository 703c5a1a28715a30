//! One connection to the server: TCP, wrapped in TLS when the [`Endpoint`] says so.
//!
//! TLS uses the same rustls set-up as the proxy's `--upstream-tls`
//! ([`crate::proxy::tls::connector`]): the ring provider, safe default protocol versions, and
//! the certificate checked against the Mozilla roots for the host name. The connection counts
//! the bytes it received, so that a timeout can say how much had arrived before the silence.

use std::pin::Pin;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{ClientError, Endpoint};
use crate::proxy::tls::{connector, UpstreamTls};

/// A byte stream the client can use: a `TcpStream` or a TLS stream over one.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// An open connection (plain or TLS) that counts the bytes it received.
pub struct Conn {
    io: Pin<Box<dyn Stream>>,
    received: u64,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl Conn {
    /// Opens a TCP connection to `endpoint` and, when `endpoint.tls`, completes the TLS
    /// handshake; each of the two steps within `limit`.
    pub async fn open(endpoint: &Endpoint, limit: Duration) -> Result<Conn, ClientError> {
        let tcp = endpoint.connect_tcp(limit).await?;
        let io: Pin<Box<dyn Stream>> = if endpoint.tls {
            let (tls, name) = connector(&UpstreamTls::default(), &endpoint.host)
                .map_err(|e| ClientError::Tls(e.to_string()))?;
            match tokio::time::timeout(limit, tls.connect(name, tcp)).await {
                Err(_) => return Err(ClientError::Timeout(limit, "the TLS handshake")),
                Ok(Err(e)) => return Err(ClientError::Tls(e.to_string())),
                Ok(Ok(s)) => Box::pin(s),
            }
        } else {
            Box::pin(tcp)
        };
        Ok(Conn { io, received: 0 })
    }

    /// Bytes received on this connection so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Reads some bytes into `buf` (`Ok(0)` is the end of the stream). Unbounded in time:
    /// callers wrap it in a timeout.
    pub async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.io.read(buf).await?;
        self.received = self.received.saturating_add(n as u64);
        Ok(n)
    }

    /// Writes all of `bytes` within `limit`; a timeout names `what` was being written.
    pub async fn send(
        &mut self,
        bytes: &[u8],
        limit: Duration,
        what: &'static str,
    ) -> Result<(), ClientError> {
        match tokio::time::timeout(limit, self.io.write_all(bytes)).await {
            Err(_) => Err(ClientError::Timeout(limit, what)),
            Ok(r) => Ok(r?),
        }
    }
}
