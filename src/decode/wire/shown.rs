//! How much of a connection the decoder shows: its first events, then only what may say how
//! the connection ended, with a count of the rest. Keeps memory and the report bounded whatever
//! a peer keeps sending.

use std::fmt::Write as _;

use crate::model::What;

/// How many events one connection's decoder shows. A handshake, even with long chains and a
/// HelloRetryRequest, makes well under a hundred; past this limit a peer that keeps sending
/// (data, alerts, messages) only has its records counted, so that neither memory nor the report
/// grows with it. [`super::Wire::end_into`] says how much was left out.
pub const MAX_EVENTS_SHOWN: usize = 1000;
/// Past [`MAX_EVENTS_SHOWN`], fatal alerts, close_notify and not-TLS bytes are still shown, up to
/// this many: what ends a connection is what its diagnosis turns on.
pub(super) const MAX_ALERTS_PAST_LIMIT: usize = 16;

/// The events a [`super::Wire`] emitted and the ones it left out.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Shown {
    events: usize,
    /// Fatal alerts, close_notify and not-TLS bytes shown past the limit.
    alerts_past_limit: usize,
    omitted_records: u64,
    omitted_bytes: u64,
    /// Events other than records (messages, alerts, notes) left out.
    omitted_other: u64,
}

impl Shown {
    /// Whether `what` goes into the transcript; counts it when it does not.
    pub(super) fn admit(&mut self, what: &What) -> bool {
        if self.events < MAX_EVENTS_SHOWN {
            self.events += 1;
            return true;
        }
        let ends_connection = match what {
            What::Alert {
                level, description, ..
            } => level.code == 2 || description.code == 0,
            What::NotTls { .. } => true,
            _ => false,
        };
        if ends_connection && self.alerts_past_limit < MAX_ALERTS_PAST_LIMIT {
            self.alerts_past_limit += 1;
            return true;
        }
        match what {
            What::Record { length, .. } => {
                self.omitted_records += 1;
                self.omitted_bytes += u64::from(*length);
            }
            _ => self.omitted_other += 1,
        }
        false
    }

    /// A note saying what was left out since the last one, if anything was.
    pub(super) fn summary(&mut self) -> Option<What> {
        if self.omitted_records == 0 && self.omitted_other == 0 {
            return None;
        }
        let records = std::mem::take(&mut self.omitted_records);
        let bytes = std::mem::take(&mut self.omitted_bytes);
        let other = std::mem::take(&mut self.omitted_other);
        let mut message = format!(
            "{records} more records ({bytes} bytes) not shown: a connection's report shows its \
             first {MAX_EVENTS_SHOWN} decoded events"
        );
        if other > 0 {
            let _ = write!(
                message,
                ", and {other} more messages, alerts or notes were left out"
            );
        }
        Some(What::Note { message })
    }
}
