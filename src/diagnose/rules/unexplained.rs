//! The fallback: a failure no rule explained still gets a cause, saying what its alert or error
//! means.

use crate::diagnose::confidence::{PLAUSIBLE, WEAK};
use crate::model::{CauseId, codes};

use super::facts::{Facts, Renegotiation};
use super::{Input, Proposal};

/// A failure no rule explained: say what the alert (or our error) means.
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let f = input.facts;
    if let Some(renegotiation) = f.renegotiation_refused {
        out.push(refused_renegotiation(f, renegotiation));
    } else if let Some(alert) = f.server_alert.or(f.client_alert) {
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

/// A TLS 1.2 renegotiation answered with an alert: the handshake had finished, the connection
/// failed after it. Without keys the alerts are encrypted; their sizes still show that each
/// record holds one alert and no handshake message.
fn refused_renegotiation(f: &Facts<'_>, r: Renegotiation) -> Proposal {
    let other = match r.from {
        crate::model::Side::Client => crate::model::Side::Server,
        crate::model::Side::Server => crate::model::Side::Client,
    };
    let suite = f.cipher_suite.map(codes::cipher_suite);
    let size = suite
        .as_ref()
        .and_then(|s| encrypted_alert_size(&s.to_string()));
    let sized = |length: u16| match (&suite, size) {
        (Some(suite), Some((expected, parts))) if expected == length => format!(
            "; with {suite} one encrypted alert is exactly {expected} bytes ({parts}): it holds one alert"
        ),
        (Some(suite), Some((expected, parts))) => {
            format!("; with {suite} one encrypted alert is {expected} bytes ({parts})")
        }
        _ => String::new(),
    };
    let asked = match r.from {
        crate::model::Side::Client => "a ClientHello",
        crate::model::Side::Server => "a HelloRequest",
    };
    let mut evidence = vec![
        "the handshake finished: both sides sent their ChangeCipherSpec and Finished".to_string(),
        format!(
            "the {} then sent an encrypted handshake record of {} bytes ({}): it asked to renegotiate ({asked}, encrypted)",
            r.from.name(),
            r.request_length,
            f.at(r.request)
        ),
        format!(
            "the {} answered with an encrypted alert record of {} bytes ({}), not a handshake record: it refused to renegotiate{}",
            other.name(),
            r.answer_length,
            f.at(r.answer),
            sized(r.answer_length)
        ),
    ];
    // With keys the alerts themselves are seen, after the request.
    let alerts: Vec<String> = [f.server_alert, f.client_alert]
        .into_iter()
        .flatten()
        .filter(|alert| alert.index > r.request)
        .map(|alert| f.alert_line(alert))
        .collect();
    if let Some((reply, length)) = r.reply {
        let which = if alerts.is_empty() {
            "; which alerts they were is encrypted (a warning no_renegotiation and a fatal handshake_failure is what OpenSSL sends; a key log would tell)"
        } else {
            ""
        };
        evidence.push(format!(
            "the {} then sent an encrypted alert of {length} bytes ({}) and the connection ended: it failed after the handshake, in the renegotiation{which}",
            r.from.name(),
            f.at(reply)
        ));
    }
    evidence.extend(alerts);
    Proposal::new(CauseId::AlertUnexplained, PLAUSIBLE, evidence).fix(
        "Servers often refuse renegotiation (TLS 1.3 has none): have the client reconnect instead of renegotiating, or allow renegotiation on the server (OpenSSL: without -no_renegotiation / SSL_OP_NO_RENEGOTIATION).",
    )
}

/// The size of one encrypted TLS 1.2 alert under an AEAD suite, by its name, and what it is
/// made of. CBC suites add an IV, a MAC and padding, and their size is left unsaid.
fn encrypted_alert_size(suite: &str) -> Option<(u16, &'static str)> {
    if suite.contains("CHACHA20") {
        Some((18, "2 bytes and a 16-byte tag"))
    } else if suite.ends_with("CCM_8") {
        Some((18, "2 bytes, an 8-byte explicit nonce and an 8-byte tag"))
    } else if suite.contains("_GCM_") || suite.contains("_CCM") {
        Some((26, "2 bytes, an 8-byte explicit nonce and a 16-byte tag"))
    } else {
        None
    }
}
