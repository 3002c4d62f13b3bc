//! Load for the restart tests: clients calling the gateway for a while,
//! and a tally of what they got. Counts, never timings: the machine is
//! shared and noisy, and a count of failed requests is what a partner
//! would notice.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// What the clients got.
#[derive(Debug, Default)]
pub struct Tally {
    /// Responses by HTTP status.
    pub statuses: BTreeMap<u16, usize>,
    /// Connection attempts refused (nothing listening): a closed listener,
    /// never a broken request.
    pub refused: usize,
    /// Requests that got no response on a connection that was open: reset,
    /// closed early, or cut mid-response.
    pub broken: usize,
    /// The first few errors, to explain a failure.
    pub samples: Vec<String>,
    /// Ids of the resources created by writes answered 2xx.
    pub written: Vec<String>,
}

impl Tally {
    pub fn total(&self) -> usize {
        self.statuses.values().sum::<usize>() + self.refused + self.broken
    }

    pub fn count(&self, pred: impl Fn(u16) -> bool) -> usize {
        self.statuses
            .iter()
            .filter(|(s, _)| pred(**s))
            .map(|(_, n)| n)
            .sum()
    }

    /// Answers of 5xx.
    pub fn server_errors(&self) -> usize {
        self.count(|s| s >= 500)
    }

    /// Any answer but 2xx, and any failure to get one.
    pub fn errors(&self) -> usize {
        self.count(|s| !(200..300).contains(&s)) + self.refused + self.broken
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests: statuses {:?}, refused {}, broken {}, writes stored {}",
            self.total(),
            self.statuses,
            self.refused,
            self.broken,
            self.written.len()
        )?;
        if !self.samples.is_empty() {
            write!(f, "; e.g. {:?}", self.samples)?;
        }
        Ok(())
    }
}

/// A tally shared by the clients.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Tally>>);

impl Recorder {
    fn with<T>(&self, f: impl FnOnce(&mut Tally) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Records a request's outcome; returns the JSON body of a 2xx answer.
    pub async fn record(
        &self,
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Option<serde_json::Value> {
        let res = match sent {
            Ok(res) => res,
            Err(e) => {
                self.failed(&e);
                return None;
            }
        };
        let status = res.status().as_u16();
        match res.bytes().await {
            Ok(body) => {
                self.with(|t| {
                    *t.statuses.entry(status).or_default() += 1;
                    if status >= 500 && t.samples.len() < 5 {
                        t.samples
                            .push(format!("{status}: {}", String::from_utf8_lossy(&body)));
                    }
                });
                (200..300)
                    .contains(&status)
                    .then(|| serde_json::from_slice(&body).ok())
                    .flatten()
            }
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    fn failed(&self, e: &reqwest::Error) {
        let refused = e.is_connect() && !e.is_timeout();
        self.with(|t| {
            if refused {
                t.refused += 1;
            } else {
                t.broken += 1;
                if t.samples.len() < 5 {
                    t.samples.push(format!("{e:?}"));
                }
            }
        });
    }

    /// Notes the id of a resource a write created.
    pub fn written(&self, id: String) {
        self.with(|t| t.written.push(id));
    }

    pub fn take(&self) -> Tally {
        self.with(std::mem::take)
    }
}

/// Runs `clients` loops of `step(client, n)` until `stop` is cancelled,
/// then returns what they recorded.
pub async fn drive<F, Fut>(clients: usize, stop: CancellationToken, step: F) -> Tally
where
    F: Fn(Recorder, usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let recorder = Recorder::default();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (recorder, stop, step) = (recorder.clone(), stop.clone(), step.clone());
        tasks.spawn(async move {
            let mut n = 0;
            while !stop.is_cancelled() {
                step(recorder.clone(), client, n).await;
                n += 1;
                // After a refused connection, do not spin.
                if recorder.with(|t| t.refused) > 0 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    recorder.take()
}
