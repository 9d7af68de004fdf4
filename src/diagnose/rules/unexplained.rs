//! The fallback: a failure no rule explained still gets a cause, saying what its alert or error
//! means.

use crate::diagnose::confidence::WEAK;
use crate::model::CauseId;

use super::{Input, Proposal};

/// A failure no rule explained: say what the alert (or our error) means.
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let f = input.facts;
    if let Some(alert) = f.server_alert.or(f.client_alert) {
        out.push(Proposal::new(
            CauseId::AlertUnexplained,
            WEAK,
            vec![f.alert_line(alert)],
        ));
    } else if let Some((i, message)) = f.client_error.or(f.server_error) {
        out.push(Proposal::new(
            CauseId::AlertUnexplained,
            WEAK,
            vec![format!("{message} ({})", f.at(i))],
        ));
    }
}
