//! How the gateway stops without failing a request.
//!
//! On SIGTERM the gateway starts *draining*: `/readyz` answers 503 at once
//! and every response carries `Connection: close`, so load balancers and
//! clients move to other replicas, while the listener keeps accepting for
//! `http.drain_delay_ms`. Then the [`DrainingListener`] closes: it first
//! takes every connection the kernel has already accepted (its backlog),
//! hands them to the server, and only then closes the socket, so none of
//! them is reset. Once each of those has sent its request (or a second has
//! passed), the server shuts down gracefully: idle connections close,
//! in-flight requests get `http.grace_period_secs`.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// While draining, every response closes its connection, so that clients
/// open their next one elsewhere rather than reuse one about to close.
pub async fn close_connections_while_draining(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    if state.draining().is_cancelled() {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// A TCP listener that, once told to close, serves its backlog first.
pub struct DrainingListener {
    listener: Option<TcpListener>,
    /// Accepted from the backlog at close, not yet handed to the server.
    backlog: VecDeque<(TcpStream, SocketAddr)>,
    close: CancellationToken,
    closed: CancellationToken,
    unread: Arc<AtomicUsize>,
}

/// What the gateway holds to close a [`DrainingListener`] and to learn
/// when it is closed.
#[derive(Clone)]
pub struct ListenerControl {
    close: CancellationToken,
    closed: CancellationToken,
    unread: Arc<AtomicUsize>,
}

impl DrainingListener {
    pub fn new(listener: TcpListener) -> (Self, ListenerControl) {
        let control = ListenerControl {
            close: CancellationToken::new(),
            closed: CancellationToken::new(),
            unread: Arc::new(AtomicUsize::new(0)),
        };
        (
            Self {
                listener: Some(listener),
                backlog: VecDeque::new(),
                close: control.close.clone(),
                closed: control.closed.clone(),
                unread: control.unread.clone(),
            },
            control,
        )
    }

    /// Takes every connection the kernel has completed, then closes the
    /// socket: later connection attempts are refused, none is reset.
    fn close_now(&mut self) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        match listener.into_std() {
            Ok(std_listener) => loop {
                match std_listener.accept() {
                    // Accepted sockets do not inherit non-blocking mode.
                    Ok((stream, addr)) => match stream
                        .set_nonblocking(true)
                        .and_then(|()| TcpStream::from_std(stream))
                    {
                        Ok(stream) => self.backlog.push_back((stream, addr)),
                        Err(e) => tracing::warn!(error = %e, "cannot adopt a connection"),
                    },
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if is_connection_error(&e) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting the backlog failed");
                        break;
                    }
                }
            },
            Err(e) => tracing::warn!(error = %e, "cannot take the listener out of the runtime"),
        }
        tracing::info!(
            backlog = self.backlog.len(),
            "listener closed; serving the connections already accepted"
        );
    }

    fn track(&self, (stream, addr): (TcpStream, SocketAddr)) -> (Tracked, SocketAddr) {
        // Without it, a response hyper writes in two segments waits for the
        // client's delayed ACK (40 ms on Linux): Nagle's algorithm.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        self.unread.fetch_add(1, Ordering::SeqCst);
        (
            Tracked {
                stream,
                unread: Some(self.unread.clone()),
            },
            addr,
        )
    }
}

impl axum::serve::Listener for DrainingListener {
    type Io = Tracked;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            if self.close.is_cancelled() {
                self.close_now();
                if let Some(conn) = self.backlog.pop_front() {
                    return self.track(conn);
                }
                self.closed.cancel();
                std::future::pending::<()>().await;
            }
            let Some(listener) = &self.listener else {
                std::future::pending::<()>().await;
                continue;
            };
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => return self.track(conn),
                    Err(e) if is_connection_error(&e) => continue,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, as
                        // axum's own listener does.
                        tracing::error!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                },
                _ = self.close.cancelled() => {}
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        match &self.listener {
            Some(l) => l.local_addr(),
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "listener closed",
            )),
        }
    }
}

impl ListenerControl {
    /// Closes the listener (see [`DrainingListener`]) and waits until
    /// every connection it accepted has sent something, or `settle` has
    /// passed: a connection with its request still unread would be closed
    /// as idle by a graceful shutdown.
    pub async fn close(&self, settle: Duration) {
        self.close.cancel();
        self.closed.cancelled().await;
        let deadline = tokio::time::Instant::now() + settle;
        while self.unread.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Errors that concern one connection, not the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// A connection that counts itself unread until its first read completes.
pub struct Tracked {
    stream: TcpStream,
    unread: Option<Arc<AtomicUsize>>,
}

impl Tracked {
    fn mark_read(&mut self) {
        if let Some(unread) = self.unread.take() {
            unread.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.mark_read();
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if polled.is_ready() {
            self.mark_read();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    use super::*;

    /// Both ways a connection is taken (accepted live, or from the backlog
    /// when the listener closes) turn Nagle's algorithm off.
    #[tokio::test]
    async fn accepted_connections_send_without_delay() -> anyhow::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (mut draining, control) = DrainingListener::new(listener);
        let _live = TcpStream::connect(addr).await?;
        let (accepted, _) = draining.accept().await;
        assert!(
            accepted.stream.nodelay()?,
            "a live connection keeps Nagle on"
        );
        let _queued = TcpStream::connect(addr).await?;
        control.close.cancel();
        let (from_backlog, _) = draining.accept().await;
        assert!(
            from_backlog.stream.nodelay()?,
            "a connection from the backlog keeps Nagle on"
        );
        Ok(())
    }
}
