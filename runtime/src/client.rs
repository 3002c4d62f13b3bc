//! Calling another PRM service so that its restarts, rollouts and
//! connection recycling reach no caller as an error. A [`UpstreamChannel`]
//! sends a call again, once, on a fresh connection when the first attempt
//! failed in transport and
//! - the service provably never ran it (refused by HTTP/2 GOAWAY or
//!   REFUSED_STREAM, the connection closed before it was sent, or no
//!   connection could be made), whatever the call; or
//! - it may have run, but repeating it is safe: the request is marked
//!   [`Repeatable`] (a read, or a call with an idempotency key).
//!
//! Anything else reaches the caller as the transport's `Status` (it has a
//! source, unlike a status the service returned), never retried again. The
//! gateway uses it for every upstream; a service uses it to call another.

use std::error::Error as StdError;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::BodyExt;
use tonic::body::Body;
use tonic::transport::{Channel, Endpoint};
use tower::{Service, ServiceExt};

/// Marks a call the upstream may run twice without harm: a read, or a
/// call carrying an idempotency key. Set in the request's extensions by
/// the caller (the gateway's `Outbound`); read by [`UpstreamChannel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repeatable;

/// How a call that failed in transport failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportFailure {
    /// The upstream provably never ran it: HTTP/2 GOAWAY or REFUSED_STREAM
    /// refused the stream, the request was dropped before it was sent
    /// (hyper's "canceled"), or no connection could be made.
    NotSent,
    /// It was sent and the answer was lost: the upstream may have run it.
    MaybeRan,
}

impl TransportFailure {
    /// Reads the error chain of a failed call.
    pub fn of(err: &(dyn StdError + 'static)) -> Self {
        let mut cause = Some(err);
        while let Some(e) = cause {
            if let Some(h2) = e.downcast_ref::<h2::Error>() {
                // Streams above a GOAWAY's last-stream-id, and streams reset
                // with REFUSED_STREAM, were not processed (RFC 9113 §8.7).
                // tonic reports the first as `Internal` ("h2 protocol
                // error", reason NO_ERROR on a graceful GOAWAY).
                if (h2.is_go_away() && h2.is_remote())
                    || h2.reason() == Some(h2::Reason::REFUSED_STREAM)
                {
                    return Self::NotSent;
                }
            }
            if let Some(hyper) = e.downcast_ref::<hyper::Error>() {
                // The connection went away before hyper handed the request
                // to it; tonic reports this as `Cancelled`.
                if hyper.is_canceled() {
                    return Self::NotSent;
                }
            }
            if e.is::<tonic::ConnectError>() {
                return Self::NotSent;
            }
            cause = e.source();
        }
        Self::MaybeRan
    }
}

/// The channel to one upstream: a long-lived HTTP/2 connection, connected
/// lazily, that sends a failed call once more on a fresh connection when
/// that is safe (see the module documentation).
#[derive(Clone)]
pub struct UpstreamChannel {
    name: &'static str,
    inner: Arc<Connections>,
}

struct Connections {
    endpoint: Endpoint,
    /// The channel in use, and its generation: a failed call renews the
    /// channel it failed on, once, however many calls failed with it.
    current: RwLock<(u64, Channel)>,
}

impl UpstreamChannel {
    pub fn new(name: &'static str, uri: &str, connect_timeout: Duration) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(uri.to_owned())
            .map_err(|e| anyhow::anyhow!("upstream address {uri:?}: {e}"))?
            .connect_timeout(connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true);
        let channel = endpoint.connect_lazy();
        Ok(Self {
            name,
            inner: Arc::new(Connections {
                endpoint,
                current: RwLock::new((0, channel)),
            }),
        })
    }

    fn current(&self) -> (u64, Channel) {
        let guard = self.inner.current.read().unwrap_or_else(|e| e.into_inner());
        (guard.0, guard.1.clone())
    }

    /// Replaces the channel of generation `failed` with a new one (a new
    /// connection); calls already in flight on the old one finish there.
    fn renew(&self, failed: u64) {
        let mut guard = self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if guard.0 == failed {
            *guard = (failed + 1, self.inner.endpoint.connect_lazy());
        }
    }

    async fn send(
        channel: Channel,
        parts: &http::request::Parts,
        body: Bytes,
    ) -> Result<http::Response<Body>, tonic::transport::Error> {
        let mut req = http::Request::new(Body::new(
            http_body_util::Full::new(body).map_err(|never| match never {}),
        ));
        *req.method_mut() = parts.method.clone();
        *req.uri_mut() = parts.uri.clone();
        *req.version_mut() = parts.version;
        *req.headers_mut() = parts.headers.clone();
        *req.extensions_mut() = parts.extensions.clone();
        channel.oneshot(req).await
    }

    async fn call_with_retry(
        self,
        req: http::Request<Body>,
    ) -> Result<http::Response<Body>, tonic::codegen::StdError> {
        let (parts, body) = req.into_parts();
        // A unary request body is one small message; kept so that it can
        // be sent again.
        let body = body.collect().await?.to_bytes();
        let repeatable = parts.extensions.get::<Repeatable>().is_some();
        let (generation, channel) = self.current();
        let err = match Self::send(channel, &parts, body.clone()).await {
            Ok(res) => return Ok(res),
            Err(err) => err,
        };
        let failure = TransportFailure::of(&err);
        self.renew(generation);
        if failure == TransportFailure::MaybeRan && !repeatable {
            tracing::warn!(upstream = self.name, path = %parts.uri.path(), error = %DisplayChain(&err), "upstream call failed and may have run; not repeated");
            return Err(err.into());
        }
        tracing::info!(upstream = self.name, path = %parts.uri.path(), ?failure, error = %DisplayChain(&err), "upstream call failed in transport; sending it again on a fresh connection");
        let (_, channel) = self.current();
        Ok(Self::send(channel, &parts, body).await?)
    }
}

impl Service<http::Request<Body>> for UpstreamChannel {
    type Response = http::Response<Body>;
    type Error = tonic::codegen::StdError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    /// Always ready: each attempt waits for its own channel's readiness.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        Box::pin(self.clone().call_with_retry(req))
    }
}

/// An error and its sources, on one line.
struct DisplayChain<'a>(&'a (dyn StdError + 'static));

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

/// Sends `request` to `upstream` as the RPC its message names (every PRM
/// request names its call, see [`prm_proto::Rpc`]): what a generated
/// client's method does, for any of them.
pub async fn call<R: prm_proto::Rpc>(
    upstream: UpstreamChannel,
    mut request: tonic::Request<R>,
) -> Result<R::Response, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(upstream);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unknown(format!("{} was not ready: {e}", R::SERVICE)))?;
    request
        .extensions_mut()
        .insert(tonic::GrpcMethod::new(R::GRPC_SERVICE, R::METHOD));
    let path = http::uri::PathAndQuery::from_static(R::PATH);
    grpc.unary(request, path, tonic_prost::ProstCodec::default())
        .await
        .map(tonic::Response::into_inner)
}
