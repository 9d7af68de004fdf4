//! Helpers shared by the CLI tests: run the binary, read its output and exit code.
//!
//! fixtures.rs: paths of the fixtures, passwords, a deterministic generator; process.rs: runs of
//! the binary and `serve`, waiting by polling with a deadline; servers.rs: peers on loopback
//! (openssl s_server, gnutls-serv, mosquitto, rustls, raw TCP) and the TLS bytes hostile ones
//! send; report.rs: reading a JSON report.

mod fixtures;
mod process;
mod report;
mod servers;

pub use fixtures::*;
pub use process::*;
pub use report::*;
pub use servers::*;
