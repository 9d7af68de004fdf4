//! iotdoctor: tells IoT developers why a TLS handshake failed and what to change.
//!
//! Data flows one way: producers (credential files today) yield facts,
//! [`diagnose`] turns facts into ranked causes, and [`report`] renders the
//! result as text or JSON. Only [`app`] and `main` touch the process.

pub mod app;
pub mod cli;
pub mod credentials;
pub mod debuglog;
pub mod decode;
pub mod diagnose;
pub mod error;
pub mod explain;
pub mod logging;
pub mod model;
pub mod produce;
pub mod report;

#[cfg(test)]
mod test_support;
