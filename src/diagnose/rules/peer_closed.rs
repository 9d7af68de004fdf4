//! The server closed the connection without an alert, and no other rule explains the close.

use crate::diagnose::confidence::{DOUBTFUL, SUGGESTED, UNLIKELY, WEAK};
use crate::model::{CauseId, CloseKind, Side, What};

use super::facts::message_name;
use super::{Input, Proposal};

/// The server closed without saying why.
pub(super) fn rule(input: &Input<'_>, made: &[Proposal], out: &mut Vec<Proposal>) {
    let f = input.facts;
    let Some((i, how)) = f.server_close else {
        return;
    };
    // A close after the server accepted the handshake, or after the client's own close or
    // fatal alert, is no refusal.
    if f.server_accepted
        || f.client_ended.is_some_and(|ours| ours < i)
        || f.client_alert
            .is_some_and(|alert| alert.index < i && alert.is_fatal())
    {
        return;
    }
    let last_sent = f.events[..i]
        .iter()
        .rev()
        .find(|e| {
            e.from == Side::Client
                && matches!(
                    e.what,
                    What::Handshake { .. }
                        | What::Certificate { .. }
                        | What::CertificateVerify { .. }
                )
        })
        .map_or_else(|| "the connection".into(), |e| message_name(&e.what));
    let how = if how == CloseKind::Reset {
        "reset the connection"
    } else {
        "closed the connection"
    };
    let mut evidence = vec![format!(
        "the server {how} without an alert ({}), after the client's {last_sent}",
        f.at(i)
    )];
    evidence.extend(
        f.partial_record(Side::Server)
            .and_then(|partial| f.partial_line(partial)),
    );
    // An alert the capture lost looks like no alert at all, and the client's lost bytes may
    // be what the server refused.
    // (A hole shows when the bytes after it arrive, which may be after the close.)
    let all = 0..f.events.len();
    let (server_lost, client_lost) = (f.lost(Side::Server, all.clone()), f.lost(Side::Client, all));
    if server_lost > 0 {
        evidence.push(format!(
            "{server_lost} bytes the server sent are missing from the capture: an alert may have been among them"
        ));
    }
    if client_lost > 0 {
        evidence.push(format!(
            "{client_lost} bytes the client sent are missing from the capture: what the server answered to them is unknown"
        ));
    }
    // TLS 1.3 without keys, after the client's whole flight: a server that simply closes
    // without a close_notify looks the same as one that refused the client in silence.
    let after_flight = f.tls13
        && !f.saw_inside
        && f.encrypted_records
            .iter()
            .any(|(r, from, _)| *from == Side::Client && *r < i);
    if after_flight {
        evidence.push(
            "TLS 1.3 hides the rest: the client had sent its whole flight, so this may be a refusal without an alert, or the end of a session that sent no ticket".into(),
        );
    }
    let confidence = match (server_lost + client_lost > 0, after_flight, made.is_empty()) {
        (true, _, _) => WEAK,
        (false, true, _) => DOUBTFUL,
        (false, false, true) => SUGGESTED,
        (false, false, false) => UNLIKELY,
    };
    out.push(Proposal::new(CauseId::PeerClosed, confidence, evidence));
}
