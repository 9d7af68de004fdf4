//! Producers: the only code that touches sockets and TLS connections. Each yields a
//! [`Transcript`](crate::transcript::Transcript).

pub mod client;
mod hooks;
