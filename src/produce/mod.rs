//! Producers: the only code that touches sockets, TLS connections and capture files. Each
//! yields [`Transcript`](crate::model::Transcript)s.

pub mod analyze;
pub mod capture;
pub mod client;
mod hooks;
mod keylog;
pub mod mqtt_probe;
pub mod offer;
pub mod presets;
pub mod probe;
pub mod raw_hello;
mod recorder;
pub mod rustls_text;
pub mod server;
