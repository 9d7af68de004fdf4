//! `probe`'s connections: each one made by the same instrumented client as `connect`, offering
//! what its [`Restrict`] leaves (or a ClientHello of iotdoctor's own for what rustls cannot
//! offer), a few at a time, all ended by one deadline.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::client::{self, ClientOptions, ClientRun, Restrict};
use super::offer::Offer;
use super::raw_hello;

/// A connection shorter than this is not started: it could not even finish a TCP handshake
/// to a distant server.
const SHORTEST_TRY: Duration = Duration::from_millis(200);

/// One connection to make.
#[derive(Debug)]
pub struct Trial {
    pub options: ClientOptions,
    pub restrict: Restrict,
    /// An offer rustls cannot make: sent as a ClientHello of iotdoctor's own, whose answer
    /// alone is read (`restrict` is then unused). Suites it leaves empty are `raw_suites`.
    pub raw: Option<(Offer, Vec<u16>)>,
}

/// What became of one [`Trial`].
#[derive(Debug)]
pub enum Outcome {
    Ran(ClientRun),
    /// The options could not be used (rustls refused the configuration).
    Unusable(String),
    /// The probe's deadline came before the connection could start.
    NotStarted,
}

/// Runs every trial, at most `parallel` at once, each bounded by its own `timeout` and by
/// `deadline`; the outcomes are in the order of the trials.
pub fn run(trials: Vec<Trial>, parallel: usize, deadline: Instant) -> Vec<Outcome> {
    let count = trials.len();
    let next = AtomicUsize::new(0);
    let trials: Vec<Mutex<Option<Trial>>> =
        trials.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let outcomes: Vec<Mutex<Option<Outcome>>> = (0..count).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, count.max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= count {
                        return;
                    }
                    let Some(mut trial) = trials[i].lock().ok().and_then(|mut t| t.take()) else {
                        continue;
                    };
                    let left = deadline.saturating_duration_since(Instant::now());
                    let outcome = if left < SHORTEST_TRY {
                        Outcome::NotStarted
                    } else {
                        trial.options.timeout = trial.options.timeout.min(left);
                        match connect(&trial) {
                            Ok(run) => Outcome::Ran(run),
                            Err(e) => Outcome::Unusable(e),
                        }
                    };
                    if let Ok(mut slot) = outcomes[i].lock() {
                        *slot = Some(outcome);
                    }
                }
            });
        }
    });
    outcomes
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .ok()
                .flatten()
                .unwrap_or(Outcome::NotStarted)
        })
        .collect()
}

fn connect(trial: &Trial) -> Result<ClientRun, String> {
    let run = match &trial.raw {
        None => client::connect_restricted(&trial.options, &trial.restrict),
        Some((offer, suites)) => {
            let hello = raw_hello::client_hello(
                offer,
                suites,
                trial.options.sni.as_deref(),
                &trial.options.alpn,
            )?;
            client::send_hello(&trial.options, &hello)
        }
    };
    run.map_err(|e| e.to_string())
}
