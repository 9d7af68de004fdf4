//! A handshake iotdoctor stopped on purpose: the device's offer held what rustls cannot offer,
//! so iotdoctor sent a ClientHello of its own and went no further than the server's answer
//! (`connect --like`). The answer is then the finding: the server's choice, or its refusal.

use super::{Cause, Diagnosis};
use crate::model::{CauseId, Handshake, Side, Transcript, What};

/// What the server answered to a ClientHello iotdoctor wrote itself, in words, and whether it
/// accepted the offer (its choice) or refused it.
pub fn server_answer(transcript: &Transcript) -> Option<(String, bool)> {
    let group = transcript.events.iter().find_map(|e| match &e.what {
        What::Handshake {
            message: Handshake::ServerKeyExchange { group, .. },
            ..
        } if e.from == Side::Server => group.clone(),
        _ => None,
    });
    transcript
        .events
        .iter()
        .filter(|e| e.from == Side::Server)
        .find_map(|e| match &e.what {
            What::Handshake {
                message:
                    Handshake::ServerHello {
                        version,
                        cipher_suite,
                        key_share,
                        ..
                    },
                ..
            } => {
                let group = key_share
                    .clone()
                    .or(group.clone())
                    .map(|g| format!(" with group {g}"))
                    .unwrap_or_default();
                Some((
                    format!(
                        "the server chose {version} and {cipher_suite}{group}: it accepts the \
                         device's offer; iotdoctor stopped after the server's hello"
                    ),
                    true,
                ))
            }
            What::Handshake {
                message:
                    Handshake::HelloRetryRequest {
                        cipher_suite,
                        key_share,
                    },
                ..
            } => Some((
                format!(
                    "the server chose {cipher_suite} and asked for a key share{} \
                     (HelloRetryRequest): it accepts the device's offer; iotdoctor stopped there",
                    key_share
                        .as_ref()
                        .map(|g| format!(" for {g}"))
                        .unwrap_or_default()
                ),
                true,
            )),
            What::Alert { description, .. } => Some((
                format!(
                    "the server refused the device's offer with alert {}: {description}",
                    description.code
                ),
                false,
            )),
            _ => None,
        })
}

/// After a ClientHello iotdoctor wrote itself, the handshake stops at the server's answer: a
/// server that accepted the offer leaves an unfinished handshake, which is said for what it is,
/// never as a success; a refusal names the offer as the device's.
pub(super) fn settle(diagnosis: &mut Diagnosis, transcript: &Transcript, cannot: &[String]) {
    let answer = server_answer(transcript);
    let why = format!(
        "iotdoctor sent the device's offer in a ClientHello of its own (rustls cannot offer {}) \
         and did not go past the server's answer",
        cannot.join("; ")
    );
    if let Some((answer, true)) = &answer {
        let answer = answer.clone();
        let cause = Cause {
            id: CauseId::HandshakeIncomplete,
            confidence: diagnosis
                .causes
                .iter()
                .find(|c| c.id == CauseId::HandshakeIncomplete)
                .map_or(0.5, |c| c.confidence),
            summary: "the server accepts the device's offer; the rest of the handshake was not \
                      tried, so nothing after the server's hello is known"
                .into(),
            evidence: vec![answer, why],
            fixes: vec![
                "The offer is not what fails: test the rest of the handshake (certificates, client \
                 authentication) with an offer rustls can make, e.g. --ciphers with a suite the \
                 server also takes, and the device's --cert and --key."
                    .into(),
            ],
        };
        diagnosis
            .causes
            .retain(|c| c.id != CauseId::HandshakeIncomplete);
        diagnosis.causes.insert(0, cause);
    } else if answer.is_some()
        && let Some(top) = diagnosis.causes.first_mut()
    {
        top.evidence.push(why);
    }
}
