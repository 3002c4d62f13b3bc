//! How the gateway's upstream channel meets each way an HTTP/2 upstream
//! can fail a call, and what the partner then gets. A scripted peer speaks
//! just enough HTTP/2 to fail the first connection in one exact way (GOAWAY,
//! REFUSED_STREAM, RST_STREAM CANCEL, a closed socket); later connections
//! are passed to a real tonic server, so a retried call really succeeds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use prm_gateway::problem::Problem;
use prm_gateway::upstream::{Repeatable, UpstreamChannel};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// What the scripted peer does with a connection's first request.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// GOAWAY with last-stream-id 0 and NO_ERROR: the request was not
    /// processed (a server shutting down or recycling the connection).
    GoAway,
    /// RST_STREAM REFUSED_STREAM: not processed.
    Refuse,
    /// RST_STREAM CANCEL: the server dropped a request it had begun.
    Cancel,
    /// The socket closes with the request unanswered.
    Close,
}

/// A peer that fails the first `faults.len()` connections, in order, and
/// passes later ones to `real`.
struct ScriptedUpstream {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl ScriptedUpstream {
    async fn start(faults: Vec<Fault>, real: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    return;
                };
                let n = counter.fetch_add(1, Ordering::SeqCst);
                match faults.get(n).copied() {
                    Some(fault) => {
                        tokio::spawn(fail(conn, fault));
                    }
                    None => {
                        tokio::spawn(proxy(conn, real));
                    }
                }
            }
        });
        Self { addr, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn channel(&self) -> UpstreamChannel {
        UpstreamChannel::new(
            "scripted",
            &format!("http://{}", self.addr),
            Duration::from_secs(1),
        )
        .expect("channel")
    }
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

const SETTINGS: u8 = 0x4;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const GOAWAY: u8 = 0x7;
const NO_ERROR: u32 = 0x0;
const REFUSED_STREAM: u32 = 0x7;
const CANCEL: u32 = 0x8;

/// Reads the client preface and frames until the first HEADERS, answering
/// SETTINGS as a peer must; then fails that stream as `fault` says.
async fn fail(mut conn: TcpStream, fault: Fault) {
    let mut preface = [0u8; 24];
    if conn.read_exact(&mut preface).await.is_err() {
        return;
    }
    let _ = conn.write_all(&frame(SETTINGS, 0, 0, &[])).await;
    let stream = loop {
        let mut head = [0u8; 9];
        if conn.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = (usize::from(head[0]) << 16) | (usize::from(head[1]) << 8) | usize::from(head[2]);
        let mut payload = vec![0u8; len];
        if conn.read_exact(&mut payload).await.is_err() {
            return;
        }
        let id = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        match head[3] {
            SETTINGS if head[4] & 0x1 == 0 => {
                let _ = conn.write_all(&frame(SETTINGS, 0x1, 0, &[])).await;
            }
            HEADERS => break id,
            _ => {}
        }
    };
    match fault {
        Fault::GoAway => {
            let mut payload = 0u32.to_be_bytes().to_vec();
            payload.extend_from_slice(&NO_ERROR.to_be_bytes());
            let _ = conn.write_all(&frame(GOAWAY, 0, 0, &payload)).await;
        }
        Fault::Refuse => {
            let _ = conn
                .write_all(&frame(RST_STREAM, 0, stream, &REFUSED_STREAM.to_be_bytes()))
                .await;
        }
        Fault::Cancel => {
            let _ = conn
                .write_all(&frame(RST_STREAM, 0, stream, &CANCEL.to_be_bytes()))
                .await;
        }
        Fault::Close => return,
    }
    // Hold the connection a moment, as a server finishing up would.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

async fn proxy(mut conn: TcpStream, real: SocketAddr) {
    if let Ok(mut upstream) = TcpStream::connect(real).await {
        let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
    }
}

/// A real gRPC server: the health service, SERVING.
async fn real_server() -> SocketAddr {
    let (reporter, service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _reporter = reporter;
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
    });
    addr
}

async fn check(
    channel: UpstreamChannel,
    service: &str,
    repeatable: bool,
) -> Result<ServingStatus, tonic::Status> {
    let mut req = tonic::Request::new(HealthCheckRequest {
        service: service.to_owned(),
    });
    if repeatable {
        req.extensions_mut().insert(Repeatable);
    }
    let r = HealthClient::new(channel).check(req).await?;
    Ok(ServingStatus::try_from(r.into_inner().status).expect("status"))
}

/// A call the upstream provably never ran is sent again on a fresh
/// connection, whatever the call.
#[tokio::test]
async fn unprocessed_calls_are_sent_again_once() {
    let real = real_server().await;
    for fault in [Fault::GoAway, Fault::Refuse] {
        let upstream = ScriptedUpstream::start(vec![fault], real).await;
        let answer = check(upstream.channel(), "", false).await;
        assert_eq!(
            answer.expect("answered after one retry"),
            ServingStatus::Serving,
            "{fault:?}"
        );
        assert_eq!(upstream.connections(), 2, "{fault:?}: one fresh connection");
    }
}

/// A call that may have run is sent again only when repeating it is safe;
/// otherwise the partner gets 503 with Retry-After, never a 500.
#[tokio::test]
async fn calls_that_may_have_run_are_repeated_only_when_safe() {
    let real = real_server().await;
    for fault in [Fault::Cancel, Fault::Close] {
        let upstream = ScriptedUpstream::start(vec![fault], real).await;
        let status = check(upstream.channel(), "", false)
            .await
            .expect_err("not repeated");
        assert_eq!(upstream.connections(), 1, "{fault:?}: no second attempt");
        println!(
            "{fault:?} surfaces as {:?}: {}",
            status.code(),
            status.message()
        );
        if matches!(fault, Fault::Cancel) {
            // tonic reads RST_STREAM CANCEL as Cancelled.
            assert_eq!(status.code(), Code::Cancelled);
        }
        let problem = Problem::from(status);
        assert_eq!(problem.status, 503, "{fault:?}");
        assert_eq!(problem.code, "UPSTREAM_UNAVAILABLE");
        assert!(
            problem
                .headers
                .iter()
                .any(|(k, v)| k == "retry-after" && v == "1"),
            "{fault:?}: Retry-After"
        );

        let upstream = ScriptedUpstream::start(vec![fault], real).await;
        let answer = check(upstream.channel(), "", true).await;
        assert_eq!(
            answer.expect("a repeatable call is sent again"),
            ServingStatus::Serving
        );
        assert_eq!(upstream.connections(), 2);
    }
}

/// At most one retry: a second failure is the answer, as a 503.
#[tokio::test]
async fn a_call_is_retried_at_most_once() {
    let real = real_server().await;
    let upstream = ScriptedUpstream::start(vec![Fault::GoAway, Fault::GoAway], real).await;
    let status = check(upstream.channel(), "", true)
        .await
        .expect_err("two refusals");
    // tonic reads a stream refused by GOAWAY (NO_ERROR) as Internal.
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert_eq!(upstream.connections(), 2);
    let problem = Problem::from(status);
    assert_eq!(problem.status, 503);

    // Nothing listening: each connection attempt fails, twice in all.
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = closed.local_addr().expect("addr");
    drop(closed);
    let channel = UpstreamChannel::new("gone", &format!("http://{addr}"), Duration::from_secs(1))
        .expect("channel");
    let status = check(channel, "", false).await.expect_err("refused");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(Problem::from(status).status, 503);
}

/// A status the upstream itself returned is its answer: not retried, and
/// mapped as documented (here NotFound, 404).
#[tokio::test]
async fn the_upstreams_own_answers_are_not_retried() {
    let real = real_server().await;
    let upstream = ScriptedUpstream::start(vec![], real).await;
    let status = check(upstream.channel(), "no.such.Service", true)
        .await
        .expect_err("unknown service");
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(upstream.connections(), 1);
    assert_eq!(Problem::from(status).status, 404);
}
