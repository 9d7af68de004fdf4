//! A server that chose a protocol version the client never offered.

use crate::diagnose::confidence::STRONG;
use crate::model::{CauseId, Handshake, What};

use super::{Input, Proposal};

/// The server chose a version below every one the client offered (an SSLv3- or TLS 1.0-only
/// server answering a TLS 1.2 client): the client refuses the ServerHello, whichever alert it
/// sends for it (rustls and OpenSSL 70, others 40 or 47).
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let f = input.facts;
    let (Some(hello), Some(answer)) = (f.client_hello, f.server_hello) else {
        return;
    };
    let (
        What::Handshake {
            message: Handshake::ClientHello { versions, .. },
            ..
        },
        What::Handshake {
            message: Handshake::ServerHello { version, .. },
            ..
        },
    ) = (&f.events[hello].what, &f.events[answer].what)
    else {
        return;
    };
    let offered: Vec<_> = versions
        .iter()
        .filter(|v| v.code & 0x0f0f != 0x0a0a)
        .collect();
    let Some(lowest) = offered.iter().map(|v| v.code).min() else {
        return;
    };
    if version.code >= lowest {
        return;
    }
    let offered = offered
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut evidence = vec![format!(
        "the server chose {version} ({}), a version the ClientHello did not offer (it offered {offered}, {})",
        f.at(answer),
        f.at(hello)
    )];
    evidence.extend(f.client_alert.map(|alert| f.alert_line(alert)));
    out.push(
        Proposal::new(CauseId::ProtocolVersionMismatch, STRONG, evidence)
            .fix("The server speaks only an old protocol version: enable TLS 1.2 (or 1.3) on it; a device must not be made to accept SSLv3, TLS 1.0 or 1.1."),
    );
}
