//! Tracking-link redirects, served without waiting on a database.
//!
//! - **Links** come from an in-process cache of active links. A miss asks
//!   the commissions service once and caches the answer: a link until an
//!   event about it arrives (or a minute passes, in case an event was
//!   missed), an unknown code for a few seconds (so a link created
//!   meanwhile starts working soon even without events). The cache
//!   listens to the commissions service's link events on NATS and drops
//!   the entries they are about. A warm redirect touches nothing but this
//!   map.
//! - **Clicks** go into a bounded in-memory buffer and are handed to the
//!   commissions service in batches, at least every second (and at once
//!   when a batch is full), and on shutdown. A batch that fails stays in
//!   the buffer and is sent again (the service skips clicks it already
//!   has). When the buffer is full the redirect waits for room, up to
//!   `full_buffer_wait_ms` (so a burst slows redirects rather than losing
//!   clicks); if there is still none it is served, but its click is not
//!   recorded: it is counted in `dropped`, and logged. Nothing is dropped
//!   silently.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use prm_proto::commissions::commissions_service_client::CommissionsServiceClient;
use prm_proto::commissions::{Click, RecordClicksRequest, ResolveLinkRequest};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::TrackingSettings;
use crate::upstream::{Outbound, UpstreamChannel};

/// The most clicks sent in one call (the commissions service takes 5,000).
pub const MAX_BATCH: usize = 5_000;

/// A link as the redirect needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedLink {
    pub link_id: String,
    pub destination: Arc<str>,
}

enum Entry {
    Link(CachedLink, Instant),
    Unknown(Instant),
}

/// What the cache knows of a code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Link(CachedLink),
    /// Recently asked: no active link has this code.
    Unknown,
    /// Not cached: ask the service.
    Miss,
}

/// Active links by code.
pub struct LinkCache {
    entries: RwLock<HashMap<String, Entry>>,
    link_ttl: Duration,
    unknown_ttl: Duration,
    capacity: usize,
}

impl LinkCache {
    pub fn new(link_ttl: Duration, unknown_ttl: Duration, capacity: usize) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            link_ttl,
            unknown_ttl,
            capacity: capacity.max(1),
        }
    }

    pub fn get(&self, code: &str) -> Lookup {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        match entries.get(code) {
            Some(Entry::Link(l, at)) if at.elapsed() < self.link_ttl => Lookup::Link(l.clone()),
            Some(Entry::Unknown(at)) if at.elapsed() < self.unknown_ttl => Lookup::Unknown,
            _ => Lookup::Miss,
        }
    }

    pub fn put(&self, code: &str, link: Option<CachedLink>) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(code) {
            // Crude but bounded: start over (the hot links come back at once).
            entries.clear();
        }
        let entry = match link {
            Some(l) => Entry::Link(l, Instant::now()),
            None => Entry::Unknown(Instant::now()),
        };
        entries.insert(code.to_owned(), entry);
    }

    /// An event said this link changed: ask the service next time.
    pub fn invalidate(&self, code: &str) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(code);
    }

    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Counters of the click buffer.
#[derive(Debug, Default)]
pub struct ClickStats {
    /// Redirects whose click entered the buffer.
    pub buffered: AtomicU64,
    /// Clicks the commissions service acknowledged.
    pub delivered: AtomicU64,
    /// Clicks not recorded because the buffer was full (or closed).
    pub dropped: AtomicU64,
    /// Batches that failed and were kept to send again.
    pub failed_batches: AtomicU64,
}

/// The redirect's side of tracking: the link cache and the click buffer.
pub struct Tracking {
    pub links: LinkCache,
    pub stats: Arc<ClickStats>,
    clicks: mpsc::Sender<Click>,
    receiver: Mutex<Option<mpsc::Receiver<Click>>>,
    client: CommissionsServiceClient<UpstreamChannel>,
    outbound: Outbound,
    settings: TrackingSettings,
    stop: CancellationToken,
    last_drop_log: Mutex<Option<Instant>>,
}

/// The running parts of tracking, stopped by [`Tracking::stop_and_flush`].
pub struct TrackingTasks {
    flusher: JoinHandle<()>,
    listener: Option<JoinHandle<()>>,
}

impl Tracking {
    pub fn new(settings: TrackingSettings, channel: UpstreamChannel, outbound: Outbound) -> Self {
        let (tx, rx) = mpsc::channel(settings.click_buffer.max(1));
        Self {
            links: LinkCache::new(
                Duration::from_millis(settings.link_ttl_ms),
                Duration::from_millis(settings.unknown_code_ttl_ms),
                settings.link_cache_capacity,
            ),
            stats: Arc::new(ClickStats::default()),
            clicks: tx,
            receiver: Mutex::new(Some(rx)),
            client: CommissionsServiceClient::new(channel),
            outbound,
            settings,
            stop: CancellationToken::new(),
            last_drop_log: Mutex::new(None),
        }
    }

    /// The link with this code, from the cache or the commissions service.
    pub async fn resolve(&self, code: &str) -> Result<Option<CachedLink>, tonic::Status> {
        match self.links.get(code) {
            Lookup::Link(l) => return Ok(Some(l)),
            Lookup::Unknown => return Ok(None),
            Lookup::Miss => {}
        }
        let reply = self
            .client
            .clone()
            .resolve_link(self.outbound.read_request(ResolveLinkRequest {
                code: code.to_owned(),
            }))
            .await?
            .into_inner();
        let link = reply.link.map(|l| CachedLink {
            link_id: l.link_id,
            destination: Arc::from(l.destination_url),
        });
        self.links.put(code, link.clone());
        Ok(link)
    }

    /// A keyed hash of a client address: clicks can be told apart by
    /// source without keeping the address.
    pub fn hash_ip(&self, ip: &std::net::IpAddr) -> String {
        let mut h = Sha256::new();
        h.update(self.settings.ip_hash_key.expose_secret().as_bytes());
        h.update(b"\n");
        h.update(ip.to_string().as_bytes());
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(32);
        for b in &h.finalize()[..16] {
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
        out
    }

    /// Buffers a click. A full buffer is waited on for at most
    /// `full_buffer_wait_ms`; then the click is dropped, counted.
    pub async fn record(&self, click: Click) {
        let sent = match self.clicks.try_send(click) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(click)) => self
                .clicks
                .send_timeout(
                    click,
                    Duration::from_millis(self.settings.full_buffer_wait_ms),
                )
                .await
                .map_err(drop),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(()),
        };
        match sent {
            Ok(()) => {
                self.stats.buffered.fetch_add(1, Ordering::Relaxed);
            }
            Err(()) => {
                let dropped = self.stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                let mut last = self.last_drop_log.lock().unwrap_or_else(|e| e.into_inner());
                if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    *last = Some(Instant::now());
                    tracing::warn!(
                        dropped,
                        capacity = self.settings.click_buffer,
                        "click buffer full: redirect served, click not recorded"
                    );
                }
            }
        }
    }

    /// Starts the flusher and, with NATS configured, the link-event
    /// listener. Call once.
    pub fn start(self: &Arc<Self>) -> TrackingTasks {
        let rx = self
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("tracking started once");
        let flusher = tokio::spawn(Arc::clone(self).flush_loop(rx));
        let listener = (!self.settings.nats_url.is_empty())
            .then(|| tokio::spawn(Arc::clone(self).listen_for_link_events()));
        TrackingTasks { flusher, listener }
    }

    /// Stops taking clicks, sends what is buffered (retrying until
    /// `deadline`), and stops the listener.
    pub async fn stop_and_flush(&self, tasks: TrackingTasks, deadline: Duration) {
        self.stop.cancel();
        if let Some(l) = tasks.listener {
            l.abort();
        }
        let mut flusher = tasks.flusher;
        if tokio::time::timeout(deadline, &mut flusher).await.is_err() {
            flusher.abort();
            tracing::warn!("click flush outlived the grace period");
        }
        tracing::info!(
            buffered = self.stats.buffered.load(Ordering::Relaxed),
            delivered = self.stats.delivered.load(Ordering::Relaxed),
            dropped = self.stats.dropped.load(Ordering::Relaxed),
            "click buffer closed"
        );
    }

    async fn flush_loop(self: Arc<Self>, mut rx: mpsc::Receiver<Click>) {
        let mut pending: Vec<Click> = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(
            self.settings.flush_interval_ms.max(10),
        ));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => break,
                n = rx.recv_many(&mut pending, MAX_BATCH) => {
                    if n == 0 {
                        break;
                    }
                    if pending.len() >= MAX_BATCH {
                        self.send(&mut pending).await;
                    }
                }
                _ = tick.tick() => {
                    self.send(&mut pending).await;
                }
            }
        }
        // Shutting down: take what is left, and send until it is gone.
        rx.close();
        while rx.recv_many(&mut pending, MAX_BATCH).await > 0 {}
        let mut backoff = Duration::from_millis(50);
        while !pending.is_empty() {
            if !self.send(&mut pending).await {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }

    /// Sends `pending` in batches; what fails stays. True when all went.
    async fn send(&self, pending: &mut Vec<Click>) -> bool {
        while !pending.is_empty() {
            let n = pending.len().min(MAX_BATCH);
            let batch: Vec<Click> = pending[..n].to_vec();
            let req = self
                .outbound
                .read_request(RecordClicksRequest { clicks: batch });
            match self.client.clone().record_clicks(req).await {
                Ok(_) => {
                    pending.drain(..n);
                    self.stats.delivered.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(status) if status.code() == tonic::Code::InvalidArgument => {
                    // Sending it again cannot help, and would hold up every
                    // click behind it: drop the batch, counted.
                    pending.drain(..n);
                    self.stats.dropped.fetch_add(n as u64, Ordering::Relaxed);
                    tracing::error!(%status, clicks = n, "the commissions service refused a click batch; dropped");
                }
                Err(status) => {
                    self.stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(%status, clicks = pending.len(), "click batch failed; kept to send again");
                    // Bounded: beyond the buffer's size, the oldest go.
                    let cap = self.settings.click_buffer.max(MAX_BATCH);
                    if pending.len() > cap {
                        let over = pending.len() - cap;
                        pending.drain(..over);
                        self.stats.dropped.fetch_add(over as u64, Ordering::Relaxed);
                    }
                    return false;
                }
            }
        }
        true
    }

    /// Drops cached links named by the commissions service's link events.
    async fn listen_for_link_events(self: Arc<Self>) {
        use futures::StreamExt;
        use prm_proto::events::{EventEnvelope, TrackingLinkCreated, TrackingLinkDisabled};
        use prost::{Message, Name};
        let subject = format!("{}.commissions.link.>", self.settings.nats_namespace);
        loop {
            let connected = async {
                let mut opts = async_nats::ConnectOptions::new()
                    .name("prm-gateway")
                    .connection_timeout(Duration::from_secs(2));
                if let Some(token) = &self.settings.nats_token {
                    opts = opts.token(token.expose_secret().to_owned());
                }
                // The URL may list a cluster's servers, comma-separated.
                let servers = prm_runtime::nats::server_addrs(&self.settings.nats_url)?;
                let client = opts.connect(servers).await?;
                let sub = client.subscribe(subject.clone()).await?;
                anyhow::Ok(sub)
            }
            .await;
            match connected {
                Ok(mut sub) => {
                    tracing::info!(%subject, "listening for link events");
                    while let Some(msg) = sub.next().await {
                        let Ok(env) = EventEnvelope::decode(msg.payload.as_ref()) else {
                            continue;
                        };
                        let code = if env.r#type == TrackingLinkDisabled::full_name() {
                            TrackingLinkDisabled::decode(env.payload.as_slice()).map(|e| e.code)
                        } else if env.r#type == TrackingLinkCreated::full_name() {
                            TrackingLinkCreated::decode(env.payload.as_slice()).map(|e| e.code)
                        } else {
                            continue;
                        };
                        if let Ok(code) = code {
                            self.links.invalidate(&code);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "link events unavailable; retrying"),
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: &str) -> CachedLink {
        CachedLink {
            link_id: id.into(),
            destination: Arc::from("https://shop.example/"),
        }
    }

    #[test]
    fn the_cache_remembers_links_and_briefly_unknown_codes() {
        let cache = LinkCache::new(Duration::from_secs(60), Duration::from_millis(50), 3);
        assert_eq!(cache.get("abc"), Lookup::Miss);
        cache.put("abc", Some(link("1")));
        assert_eq!(cache.get("abc"), Lookup::Link(link("1")));
        cache.put("nope", None);
        assert_eq!(cache.get("nope"), Lookup::Unknown);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("nope"), Lookup::Miss);
        cache.invalidate("abc");
        assert_eq!(cache.get("abc"), Lookup::Miss);
        // Bounded.
        for c in ["a", "b", "c", "d"] {
            cache.put(c, Some(link(c)));
        }
        assert!(cache.len() <= 3);
    }
}
