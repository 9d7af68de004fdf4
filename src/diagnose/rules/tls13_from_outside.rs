//! TLS 1.3 seen without keys: the record sizes are all that is left to read a refusal from.

use crate::diagnose::confidence::{ALTERNATIVE, PROBABLE};
use crate::model::CauseId;

use super::{Input, Proposal};

/// TLS 1.3 without keys: say what is hidden and what the record sizes still suggest.
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let f = input.facts;
    let Some((reply, length)) = f.opaque_rejection() else {
        return;
    };
    let hidden = match f.key_log_problem {
        // A key log was given, and the decoder said why it did not help.
        Some((at, why)) => format!(
            "TLS 1.3 encrypts everything after the ServerHello and the key log given does not decrypt \
             this connection: {why} ({}); the certificates, the CertificateRequest and the alerts are \
             not visible",
            f.at(at)
        ),
        None => "TLS 1.3 encrypts everything after the ServerHello and no key log was given: the \
                 certificates, the CertificateRequest and the alerts are not visible"
            .into(),
    };
    let answer = format!(
        "after the client's last flight the server sent one encrypted record of {length} bytes ({}), the size \
         of an alert, and nothing more{}",
        f.at(reply),
        if f.server_close.is_some_and(|(close, _)| close > reply) {
            ": it closed the connection"
        } else {
            ""
        }
    );
    let keylog = if f.key_log_problem.is_some() {
        "Give analyze --keylog the key log the client wrote during this very capture (SSLKEYLOGFILE, or iotdoctor \
         connect --keylog): its lines must carry this connection's client random."
    } else {
        "Capture again with the client's key log (SSLKEYLOGFILE, or iotdoctor connect --keylog) and run analyze --keylog FILE."
    };
    if let Some((flight, sizes)) = f.empty_certificate_flight(reply) {
        // The sizes tell the one thing that matters: the client had no certificate to send.
        let sizes = sizes
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" and ");
        out.push(Proposal::new(
            CauseId::ClientCertNotSent,
            PROBABLE,
            vec![
                hidden,
                format!(
                    "the client's flight ({}) began with encrypted records of {sizes} bytes: exactly an empty \
                     Certificate (8 bytes: no certificate at all) and a Finished, with no CertificateVerify \
                     between them; a client sends a Certificate only when the server asks for one",
                    f.at(flight)
                ),
                answer,
                "record sizes are read as sent without padding, which TLS stacks rarely add, and the server's \
                 record as an alert, not a close_notify of the same size (a server that accepts a device without \
                 a certificate and hangs up at once would look the same): the key log would confirm it"
                    .into(),
            ],
        ));
        return;
    }
    out.push(
        Proposal::new(
            CauseId::AlertUnexplained,
            ALTERNATIVE,
            vec![
                hidden,
                answer,
                "most likely the server rejected the client's certificate (none sent, an untrusted CA, or a key that \
                 does not match): the key log would tell which"
                    .into(),
            ],
        )
        .fix(keylog),
    );
}

#[cfg(test)]
pub(super) mod tests {
    use crate::diagnose::test_support::*;
    use crate::model::{CauseId, CloseKind, Handshake, Side, Transcript, What, codes};

    /// An encrypted TLS 1.3 record (outer type application_data) of `length` bytes.
    pub(in crate::diagnose::rules) fn encrypted(index: u32, length: u16) -> What {
        What::Record {
            index,
            content_type: codes::content_type(23),
            version: codes::version(0x0303),
            length,
            encrypted: true,
        }
    }

    /// A TLS 1.3 handshake seen without keys under `suite`: the hellos, the server's encrypted
    /// flight, then the client's records of `client` bytes and the server's of `server` bytes
    /// after them, and the server's close.
    pub(in crate::diagnose::rules) fn tls13_outside(
        version: u16,
        suite: u16,
        client: &[u16],
        server: &[u16],
    ) -> Transcript {
        let mut t = asked_for_a_certificate(vec![]);
        t.events.truncate(1);
        t.push(
            2.0,
            Side::Server,
            What::Handshake {
                record: 2,
                message: Handshake::ServerHello {
                    version: codes::version(version),
                    cipher_suite: codes::cipher_suite(suite),
                    key_share: None,
                    alpn: None,
                    max_fragment_length: None,
                },
            },
        );
        for (n, length) in [23, 1044, 95, 69].into_iter().enumerate() {
            t.push(2.0, Side::Server, encrypted(3 + n as u32, length));
        }
        let mut index = 7;
        for length in client {
            t.push(3.0, Side::Client, encrypted(index, *length));
            index += 1;
        }
        for length in server {
            t.push(4.0, Side::Server, encrypted(index, *length));
            index += 1;
        }
        t.push(
            5.0,
            Side::Server,
            What::Close {
                how: CloseKind::Eof,
            },
        );
        t
    }

    #[test]
    fn an_alert_is_exactly_its_size_under_the_suite_tag() {
        // The server's only record after the client's Finished, then its close: 19 bytes is an
        // alert with a 16-byte tag; a CONNACK (21) or six bytes of data (23) are not.
        let refused = |suite, finished, length| {
            causes_of(&tls13_outside(0x0304, suite, &[finished], &[length]))
                .first()
                .map(|c| c.id)
        };
        assert_eq!(refused(0x1301, 53, 19), Some(CauseId::AlertUnexplained));
        assert_eq!(refused(0x1301, 53, 21), None);
        assert_eq!(refused(0x1302, 69, 23), None);
        // AES-CCM-8: an 8-byte tag, an alert of 11 bytes.
        assert_eq!(refused(0x1305, 45, 11), Some(CauseId::AlertUnexplained));
        assert_eq!(refused(0x1305, 45, 19), None);
    }

    #[test]
    fn an_empty_certificate_is_read_from_its_size_under_each_suite() {
        let top = |suite, client: &[u16]| {
            causes_of(&tls13_outside(0x0304, suite, client, &[19]))
                .first()
                .map(|c| c.id)
        };
        let top_ccm8 = |client: &[u16]| {
            causes_of(&tls13_outside(0x0304, 0x1305, client, &[11]))
                .first()
                .map(|c| c.id)
        };
        // An empty Certificate is 8 bytes; a Finished 4 and the hash; each record adds the
        // content type and the tag.
        assert_eq!(top(0x1301, &[25, 53]), Some(CauseId::ClientCertNotSent));
        assert_eq!(top(0x1302, &[25, 69]), Some(CauseId::ClientCertNotSent));
        assert_eq!(
            top(0x1301, &[61]),
            Some(CauseId::ClientCertNotSent),
            "in one record"
        );
        assert_eq!(
            top(0x1301, &[25, 53, 23]),
            Some(CauseId::ClientCertNotSent),
            "data after it"
        );
        assert_eq!(top_ccm8(&[17, 45]), Some(CauseId::ClientCertNotSent));
        // A certificate and its CertificateVerify: which of them the server refused is hidden.
        assert_eq!(top(0x1301, &[600, 97, 53]), Some(CauseId::AlertUnexplained));
        // A SHA-256 Finished where the suite's is SHA-384: not these messages.
        assert_eq!(top(0x1302, &[25, 53]), Some(CauseId::AlertUnexplained));
    }

    #[test]
    fn a_client_alert_in_place_of_its_finished_fails_the_handshake() {
        for (suite, length) in [(0x1302, 19), (0x1303, 19), (0x1305, 11)] {
            let t = tls13_outside(0x0304, suite, &[length], &[]);
            let causes = causes_of(&t);
            assert_eq!(causes[0].id, CauseId::ServerCaUntrusted, "{suite:x}");
            assert!(
                causes[0]
                    .evidence
                    .iter()
                    .any(|e| e.contains("alert instead of finishing")),
                "{causes:#?}"
            );
        }
        // A Finished (53 bytes) is no alert: nothing to say of this side.
        let finished = tls13_outside(0x0304, 0x1301, &[53], &[]);
        assert!(
            causes_of(&finished)
                .iter()
                .all(|c| c.id != CauseId::ServerCaUntrusted)
        );
    }
}
