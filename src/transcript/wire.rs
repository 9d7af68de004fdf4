//! Decoding the bytes of a connection, as they cross the wire, into transcript events.

use super::{Event, Side};

/// Both directions of one connection, decoded incrementally in wire order.
#[derive(Debug, Default)]
pub struct Wire {}

impl Wire {
    pub fn new() -> Wire {
        Wire::default()
    }

    /// Feeds bytes sent by `from`, observed at `at_ms`; returns the events they complete, in order.
    pub fn feed(&mut self, _from: Side, _bytes: &[u8], _at_ms: f64) -> Vec<Event> {
        Vec::new()
    }

    /// The negotiated protocol version, once a ServerHello was seen.
    pub fn version(&self) -> Option<u16> {
        None
    }

    /// The negotiated cipher suite, once a ServerHello was seen.
    pub fn cipher_suite(&self) -> Option<u16> {
        None
    }
}
