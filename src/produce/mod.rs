//! Producers: the only code that touches sockets, TLS connections and capture files. Each
//! yields [`Transcript`](crate::model::Transcript)s.

pub mod analyze;
pub mod capture;
pub mod client;
mod hooks;
mod keylog;
pub mod mqtt_probe;
mod recorder;
pub mod server;
