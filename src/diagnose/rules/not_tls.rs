//! A peer that does not speak TLS: a device's first bytes (seen by `serve`) or a server's answer
//! (seen by `connect` or a capture) that are not a TLS record, and a device that sends nothing.

use crate::diagnose::confidence::{CERTAIN, PLAUSIBLE, PROBABLE, SEEN};
use crate::model::{CauseId, CloseKind, Plaintext, Side, What};

use super::{Input, Proposal};

/// A side that did not speak TLS, or did not speak at all.
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let f = input.facts;
    if let Some((i, preview, Plaintext::Sslv2ClientHello)) = f.client_not_tls {
        // A ClientHello still, but framed as SSL 2.0 frames it, not as a TLS record: what it
        // cannot carry is what servers refuse it for.
        out.push(
            Proposal::new(
                CauseId::NotTls,
                SEEN,
                vec![
                    format!("the client's first bytes are no TLS record but a ClientHello in the SSLv2-compatible format ({}): {preview}", f.at(i)),
                    "that format cannot offer TLS 1.3 and carries no extensions (no SNI, no supported groups, no signature algorithms): servers refuse it, or find little in common with it".to_string(),
                ],
            )
            .fix("Make the client send a TLS-format ClientHello: disable SSLv2Hello (Java: leave SSLv2Hello out of the enabled protocols; old OpenSSL: SSL_OP_NO_SSLv2 or TLS_client_method())."),
        );
    } else if let Some((i, preview, looks_like)) = f.client_not_tls {
        // Seen from the server: the device spoke first, and not TLS.
        let what = match looks_like {
            Plaintext::MqttConnect => {
                "an MQTT CONNECT in plain text: the device does not use TLS on this port"
            }
            Plaintext::HttpRequest => {
                "an HTTP request in plain text: the device does not use TLS on this port"
            }
            _ => "something other than a TLS ClientHello",
        };
        let mut evidence = vec![
            format!(
                "the device's first bytes are not a TLS record ({}): \"{preview}\"",
                f.at(i)
            ),
            format!("this looks like {what}"),
        ];
        let server_silent = !f.events.iter().any(|e| {
            e.from == Side::Server && !matches!(e.what, What::Close { .. } | What::Note { .. })
        });
        if let Some((close, how)) = f.server_close.filter(|_| server_silent) {
            let did = match how {
                CloseKind::Reset => "reset",
                _ => "closed",
            };
            evidence.push(format!(
                "the server {did} the connection without answering a byte ({}): a TLS listener does that with bytes that are not a ClientHello",
                f.at(close)
            ));
        }
        out.push(
            Proposal::new(CauseId::NotTls, SEEN, evidence)
            .fix("Enable TLS in the device's connection settings (MQTT over TLS: port 8883), or point it at a plain-text port."),
        );
    }
    if let Some(i) = f.client_left_silently {
        out.push(
            Proposal::new(
                CauseId::PeerClosed,
                PLAUSIBLE,
                vec![format!(
                    "the device connected and closed the connection without sending a byte ({}): no TLS was attempted",
                    f.at(i)
                )],
            )
            .fix("A port check (a load balancer's health probe, nc -z) does this; a device that does it gave up before starting TLS: its own log says why (DNS, a credential it could not load, a TLS library not initialised)."),
        );
    }
    if let Some(i) = f.client_silent {
        // A device that drips its first bytes, or stops inside its first record, did send
        // something: those bytes are the evidence, not silence.
        let records = f.events[..i]
            .iter()
            .filter(|e| e.from == Side::Client && matches!(e.what, What::Record { .. }))
            .count();
        let partial = f.partial_record(Side::Client).filter(|p| *p < i);
        let mut evidence = vec![match (records, partial) {
            (0, None) => format!(
                "the device connected and sent nothing ({}): no ClientHello came",
                f.at(i)
            ),
            (0, Some(_)) => format!(
                "the device had not sent a whole record when iotdoctor stopped waiting ({}): no ClientHello came",
                f.at(i)
            ),
            (records, _) => format!(
                "the device had sent {records} record(s) but no whole ClientHello when iotdoctor stopped waiting ({})",
                f.at(i)
            ),
        }];
        evidence.extend(partial.and_then(|p| f.partial_line(p)));
        out.push(Proposal::new(CauseId::Timeout, PROBABLE, evidence));
    }
    let Some((i, preview, looks_like)) = f.not_tls else {
        return;
    };
    let what = match looks_like {
        Plaintext::HttpResponse => "an HTTP server",
        Plaintext::Ssh => "an SSH server",
        Plaintext::MqttConnack => "a plain (non-TLS) MQTT broker answering with CONNACK",
        Plaintext::Echo => {
            "an echo service (a TCP echo, a loopback test port, a misconfigured relay): no TLS server sends a ClientHello"
        }
        Plaintext::TlsClient => {
            "another TLS client (a relay or port forward joining two clients): no TLS server sends a ClientHello"
        }
        _ => "a service that does not speak TLS",
    };
    if looks_like == Plaintext::MqttProbeConnack {
        let closed = f
            .server_close
            .map(|(close, _)| format!(" ({})", f.at(close)))
            .unwrap_or_default();
        out.push(
            Proposal::new(
                CauseId::NotTls,
                CERTAIN,
                vec![
                    format!("the server closed the connection right after the ClientHello without sending a byte{closed}"),
                    format!("this port speaks plain MQTT: a plain-text MQTT CONNECT on a new connection (one probe made by iotdoctor) was answered: {preview} ({})", f.at(i)),
                ],
            )
            .fix("Use the broker's TLS listener (MQTT over TLS: port 8883), or add a TLS listener to the broker (mosquitto: listener 8883 with cafile, certfile, keyfile)."),
        );
        return;
    }
    let first = match looks_like {
        Plaintext::Echo | Plaintext::TlsClient => format!(
            "the server answered the ClientHello with a ClientHello ({}): {preview}",
            f.at(i)
        ),
        _ => format!(
            "the server answered the ClientHello with bytes that are not a TLS record ({}): \"{preview}\"",
            f.at(i)
        ),
    };
    out.push(
        Proposal::new(CauseId::NotTls, CERTAIN, vec![first, format!("this looks like {what}")])
            .fix("Connect to the TLS port of the service (MQTT over TLS: 8883), or enable TLS on this listener."),
    );
}
