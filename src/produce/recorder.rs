//! The record of one live connection as it happens: the bytes each way, decoded by [`Wire`],
//! and events, all stamped with the time since the connection attempt began.

use std::time::Instant;

use crate::decode::wire::Wire;
use crate::model::{Side, Transcript, What};

pub(super) struct Recorder {
    start: Instant,
    pub transcript: Transcript,
    wire: Wire,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            start: Instant::now(),
            transcript: Transcript::default(),
            wire: Wire::new(),
        }
    }

    /// Milliseconds since the start, to the microsecond.
    fn ms(&self) -> f64 {
        (self.start.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0
    }

    /// Something that happened now. A side's close ends its stream: a record it left
    /// unfinished is reported first.
    pub fn push(&mut self, from: Side, what: What) {
        let at = self.ms();
        if let What::Close { .. } = what {
            self.wire.end_into(from, at, &mut self.transcript.events);
        }
        self.transcript.push(at, from, what);
    }

    /// The connection ended: says what either side left unfinished, and what the decoder left
    /// out of a long connection (from the `peer`, which kept sending).
    pub fn finish(&mut self, peer: Side) {
        let at = self.ms();
        for side in [peer, peer.peer()] {
            self.wire.end_into(side, at, &mut self.transcript.events);
        }
    }

    /// Bytes `from` sent now.
    pub fn record(&mut self, from: Side, bytes: &[u8]) {
        let at = self.ms();
        let events = self.wire.feed(from, bytes, at);
        self.transcript.events.extend(events);
    }
}
