//! A handshake that stopped before it finished with nothing seen to say why: how far it got, who
//! closed, and what a capture lost.

use crate::diagnose::confidence::{PLAUSIBLE, POSSIBLE, WEAK};
use crate::model::{CauseId, Side, What};

use super::facts::message_name;
use super::{Input, Proposal};

/// A handshake that stopped before it finished, with no alert or error: say how far it got,
/// who closed, and whether the capture lost bytes that may hold the rest.
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let f = input.facts;
    let mut evidence = Vec::new();
    match (f.client_hello, f.server_hello) {
        (None, _) => match f.client_handshake_record {
            // A record the capture cut is no ClientHello that failed to decode.
            Some(record) if f.lost(Side::Client, 0..f.events.len()) == 0 => {
                let answered = f
                    .events
                    .iter()
                    .any(|e| e.from == Side::Server && matches!(e.what, What::Record { .. }));
                evidence.push(format!(
                    "the client's first handshake record ({}) holds no ClientHello that could be decoded{}",
                    f.at(record),
                    if answered {
                        ""
                    } else {
                        ", and the server sent no answer in what was seen"
                    }
                ));
            }
            _ => evidence
                .push("no handshake message of this connection is whole in what was seen".into()),
        },
        (Some(hello), None) => evidence.push(format!(
            "the ClientHello ({}) got no ServerHello in what was seen",
            f.at(hello)
        )),
        (Some(_), Some(_)) if f.tls13 && !f.saw_inside => {
            if let Some(flight) = f.client_flight() {
                evidence.push(format!(
                    "TLS 1.3 encrypts the rest of the handshake: the client sent its last flight ({}), and the server's answer to it, its verdict, is not in what was seen",
                    f.at(flight)
                ));
            } else {
                evidence.push(
                    "TLS 1.3 encrypts the rest of the handshake: the client's last flight is not in what was seen".into(),
                );
            }
        }
        (Some(_), Some(_)) => {
            if let Some(last) = f.events.iter().rposition(|e| {
                matches!(
                    e.what,
                    What::Handshake { .. }
                        | What::Certificate { .. }
                        | What::CertificateRequest { .. }
                        | What::CertificateVerify { .. }
                )
            }) {
                evidence.push(format!(
                    "the last handshake message seen is the {}'s {} ({}); the handshake does not finish after it",
                    f.events[last].from.name(),
                    message_name(&f.events[last].what),
                    f.at(last)
                ));
            }
        }
    }
    evidence.extend(f.partial_records.iter().filter_map(|i| f.partial_line(*i)));
    let gaps: Vec<String> = f
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e.what {
            What::CaptureGap { missing } => Some(format!(
                "{missing} bytes the {} sent are missing from the capture ({}): the rest of the handshake may be in them",
                e.from.name(),
                f.at(i)
            )),
            _ => None,
        })
        .collect();
    let lost_bytes = !gaps.is_empty();
    const SHOWN: usize = 3;
    let more = gaps.len().saturating_sub(SHOWN);
    evidence.extend(gaps.into_iter().take(SHOWN));
    if more > 0 {
        evidence.push(format!("and {more} more gap(s) in the capture"));
    }
    let client_closed = f
        .client_ended
        .filter(|ours| f.server_close.is_none_or(|(theirs, _)| theirs > *ours));
    match (client_closed, f.server_close) {
        // Without keys, a TLS 1.3 client's alert would be encrypted: only its close is seen.
        (Some(i), _) if f.tls13 && !f.saw_inside => evidence.push(format!(
            "the client closed the connection ({}) before the server's verdict was seen",
            f.at(i)
        )),
        (Some(i), _) => evidence.push(format!(
            "the client closed the connection without an alert ({}), before the handshake finished",
            f.at(i)
        )),
        (None, Some(_)) => {}
        (None, None) => {
            evidence.push("the connection is still open at the end of what was seen".into())
        }
    }
    let confidence = match (lost_bytes, client_closed) {
        (true, _) => WEAK,
        (false, Some(_)) => PLAUSIBLE,
        (false, None) => POSSIBLE,
    };
    out.push(Proposal::new(
        CauseId::HandshakeIncomplete,
        confidence,
        evidence,
    ));
}

#[cfg(test)]
mod tests {
    use crate::diagnose::test_support::*;
    use crate::diagnose::{Context, diagnose};
    use crate::model::{CauseId, CloseKind, Side, What};

    #[test]
    fn a_handshake_that_stops_short_is_incomplete_not_ok() {
        let closed = hello_exchange(Some((
            Side::Client,
            What::Close {
                how: CloseKind::Eof,
            },
        )));
        let diagnosis = diagnose(&[], Some(&closed), &Context::default());
        let cause = &diagnosis.causes[0];
        assert_eq!(cause.id, CauseId::HandshakeIncomplete);
        assert!(
            cause
                .evidence
                .iter()
                .any(|e| e.contains("the client closed the connection")),
            "{cause:#?}"
        );
        // Still open where the transcript ends: incomplete, a little less sure.
        let open = hello_exchange(None);
        let (id, confidence) = top(&open, &[]);
        assert_eq!(id, CauseId::HandshakeIncomplete);
        assert!(confidence < cause.confidence);
    }

    #[test]
    fn a_hello_retry_and_its_change_cipher_spec_do_not_finish_the_handshake() {
        use crate::diagnose::rules::tls13_from_outside::tests::tls13_outside;
        use crate::model::{Event, Handshake, codes};
        // Up to the server's encrypted flight after a HelloRetryRequest, and no further.
        let mut t = tls13_outside(0x0304, 0x1302, &[], &[]);
        t.events.pop();
        let server = |what| Event {
            at_ms: 1.5,
            from: Side::Server,
            what,
        };
        t.events.splice(
            1..1,
            [
                server(What::Handshake {
                    record: 2,
                    message: Handshake::HelloRetryRequest {
                        cipher_suite: codes::cipher_suite(0x1302),
                        key_share: Some(codes::group(23)),
                    },
                }),
                // The compatibility change_cipher_spec a TLS 1.3 server sends after it.
                server(change_cipher_spec()),
            ],
        );
        let (id, _) = top(&t, &[]);
        assert_eq!(id, CauseId::HandshakeIncomplete);
    }
}
