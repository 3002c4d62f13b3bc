//! Several replicas behind one address, as a Kubernetes Service puts
//! them: a TCP balancer that sends each new connection to the next
//! replica in rotation, and keeps in rotation only the replicas whose
//! `grpc.health.v1` status is SERVING (what the readiness probe and the
//! endpoints controller do). It polls every 50 ms, faster than a kubelet,
//! so that a test's drain delay can stay short.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

pub struct Balancer {
    pub addr: SocketAddr,
    stop: CancellationToken,
}

struct Backend {
    addr: SocketAddr,
    ready: AtomicBool,
}

impl Balancer {
    pub async fn start(replicas: &[SocketAddr]) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let backends: Arc<Vec<Backend>> = Arc::new(
            replicas
                .iter()
                .map(|&addr| Backend {
                    addr,
                    ready: AtomicBool::new(false),
                })
                .collect(),
        );
        for i in 0..backends.len() {
            tokio::spawn(probe(backends.clone(), i, stop.clone()));
        }
        let next = Arc::new(AtomicUsize::new(0));
        let accepting = stop.clone();
        tokio::spawn(async move {
            loop {
                let conn = tokio::select! {
                    c = listener.accept() => c,
                    _ = accepting.cancelled() => return,
                };
                let Ok((conn, _)) = conn else { continue };
                let start = next.fetch_add(1, Ordering::Relaxed);
                let target = (0..backends.len())
                    .map(|k| &backends[(start + k) % backends.len()])
                    .find(|b| b.ready.load(Ordering::SeqCst))
                    .map(|b| b.addr);
                // No replica ready: the connection is dropped, as a
                // Service without endpoints rejects it.
                if let Some(target) = target {
                    tokio::spawn(proxy(conn, target));
                }
            }
        });
        Balancer { addr, stop }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits (up to 30 s) until `replica` is in rotation.
    pub async fn wait_ready(&self, replica: SocketAddr) {
        let ok = prm_runtime::testing::eventually(Duration::from_secs(30), || async move {
            serving(replica).await.then_some(())
        })
        .await;
        assert!(ok.is_some(), "{replica} never became SERVING");
        // One more probe period, so that the balancer has seen it too.
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn serving(addr: SocketAddr) -> bool {
    let Ok(channel) = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect_timeout(Duration::from_millis(200))
        .connect()
        .await
    else {
        return false;
    };
    let mut req = tonic::Request::new(HealthCheckRequest {
        service: String::new(),
    });
    req.set_timeout(Duration::from_millis(500));
    matches!(
        HealthClient::new(channel).check(req).await,
        Ok(r) if r.get_ref().status == ServingStatus::Serving as i32
    )
}

async fn probe(backends: Arc<Vec<Backend>>, i: usize, stop: CancellationToken) {
    while !stop.is_cancelled() {
        let ok = serving(backends[i].addr).await;
        backends[i].ready.store(ok, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn proxy(mut conn: TcpStream, target: SocketAddr) {
    if let Ok(mut upstream) = TcpStream::connect(target).await {
        let _ = conn.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
    }
}
