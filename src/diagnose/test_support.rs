//! What the diagnosis tests share: hand-built transcripts of the handshakes the rules read,
//! and short ways to ask for the causes they give.

use super::{Cause, CauseId, Context, diagnose};
use crate::credentials::inspect::CertInfo;
use crate::credentials::{Finding, FindingId, Severity};
use crate::model::{Handshake, Seen, Side, Transcript, What, codes};

pub(super) fn finding(id: FindingId, severity: Severity) -> Finding {
    Finding::new(id, severity, "device.pem", format!("{id} happened"))
}

pub(super) fn fixture_cert(name: &str) -> CertInfo {
    CertInfo::from_der(&crate::test_support::certs(name)[0]).unwrap()
}

/// A TLS 1.2 exchange up to the client's Certificate, in which the server asked for one.
pub(super) fn asked_for_a_certificate(sent: Vec<CertInfo>) -> Transcript {
    let mut t = Transcript::default();
    let hello = Handshake::ClientHello {
        versions: vec![codes::version(0x0303)],
        cipher_suites: vec![],
        groups: vec![],
        key_shares: vec![],
        signature_schemes: vec![],
        sni: Some("device.iot.example".into()),
        alpn: vec![],
    };
    t.push(
        1.0,
        Side::Client,
        What::Handshake {
            record: 1,
            message: hello,
        },
    );
    let server_hello = Handshake::ServerHello {
        version: codes::version(0x0303),
        cipher_suite: codes::cipher_suite(0xc02b),
        key_share: None,
        alpn: None,
        max_fragment_length: None,
    };
    t.push(
        2.0,
        Side::Server,
        What::Handshake {
            record: 2,
            message: server_hello,
        },
    );
    t.push(
        2.0,
        Side::Server,
        What::CertificateRequest {
            record: Some(5),
            seen: Seen::Wire,
            certificate_types: vec![codes::certificate_type(64)],
            signature_schemes: vec![codes::signature_scheme(0x0403)],
            ca_names: vec!["O=iotdoctor test PKI, CN=iotdoctor Test Root CA".into()],
        },
    );
    t.push(
        3.0,
        Side::Client,
        What::Certificate {
            record: Some(7),
            seen: Seen::Wire,
            certificates: sent,
        },
    );
    t
}

/// A TLS 1.2 ChangeCipherSpec record: from the server, it accepted the client's flight.
pub(super) fn change_cipher_spec() -> What {
    What::Record {
        index: 9,
        content_type: codes::content_type(20),
        version: codes::version(0x0303),
        length: 1,
        encrypted: false,
    }
}

pub(super) fn alert(t: &mut Transcript, code: u8) {
    t.push(
        4.0,
        Side::Server,
        What::Alert {
            record: Some(11),
            seen: Seen::Wire,
            level: codes::alert_level(2),
            description: codes::alert(code),
        },
    );
}

pub(super) fn top(t: &Transcript, findings: &[Finding]) -> (CauseId, f32) {
    let diagnosis = diagnose(findings, Some(t), &Context::default());
    let cause = diagnosis.causes.first().expect("a cause");
    (cause.id, cause.confidence)
}

/// A ClientHello and the server's first flight, then a record from `last`.
pub(super) fn hello_exchange(last: Option<(Side, What)>) -> Transcript {
    let mut t = asked_for_a_certificate(vec![]);
    // Keep the ClientHello, ServerHello and CertificateRequest only.
    t.events.truncate(3);
    if let Some((side, what)) = last {
        t.push(5.0, side, what);
    }
    t
}

pub(super) fn causes_of(t: &Transcript) -> Vec<Cause> {
    diagnose(&[], Some(t), &Context::default()).causes
}
