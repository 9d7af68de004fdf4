//! Rules on hand-built transcripts: each test states the facts and the cause they must give.

use super::*;
use crate::credentials::FindingId;

fn finding(id: FindingId, severity: Severity) -> Finding {
    Finding::new(id, severity, "device.pem", format!("{id} happened"))
}

#[test]
fn error_findings_with_a_cause_id_become_ranked_causes() {
    let findings = [
        finding(FindingId::ClientChainIncomplete, Severity::Error),
        finding(FindingId::WeakSignature, Severity::Error),
        finding(FindingId::ClientKeyMismatch, Severity::Error),
        finding(FindingId::ClientCertExpired, Severity::Warning),
    ];
    let ids: Vec<CauseId> = diagnose(&findings, None, &Context::default())
        .causes
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        ids,
        [CauseId::ClientKeyMismatch, CauseId::ClientChainIncomplete]
    );
}

#[test]
fn findings_of_one_cause_merge_their_evidence() {
    let findings = [
        finding(FindingId::ClientCertUsage, Severity::Error).with_hint("issue a v3 cert"),
        Finding::new(
            FindingId::ClientCertUsage,
            Severity::Error,
            "other.pem",
            "a second reason",
        ),
    ];
    let diagnosis = diagnose(&findings, None, &Context::default());
    assert_eq!(diagnosis.causes.len(), 1);
    assert_eq!(diagnosis.causes[0].evidence.len(), 2);
    assert_eq!(
        diagnosis.causes[0].fixes[0], "issue a v3 cert",
        "the specific hint comes first"
    );
    assert!(diagnosis.causes[0].evidence[0].starts_with("device.pem: "));
}

#[test]
fn no_findings_no_causes() {
    assert!(diagnose(&[], None, &Context::default()).causes.is_empty());
}

// ---------------------------------------------------------------- hand-built transcripts

use crate::credentials::inspect::CertInfo;
use crate::model::{CloseKind, Handshake, Seen, Side, Transcript, What, codes};

fn fixture_cert(name: &str) -> CertInfo {
    CertInfo::from_der(&crate::test_support::certs(name)[0]).unwrap()
}

/// A TLS 1.2 exchange up to the client's Certificate, in which the server asked for one.
fn asked_for_a_certificate(sent: Vec<CertInfo>) -> Transcript {
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
fn change_cipher_spec() -> What {
    What::Record {
        index: 9,
        content_type: codes::content_type(20),
        version: codes::version(0x0303),
        length: 1,
        encrypted: false,
    }
}

fn alert(t: &mut Transcript, code: u8) {
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

fn top(t: &Transcript, findings: &[Finding]) -> (CauseId, f32) {
    let diagnosis = diagnose(findings, Some(t), &Context::default());
    let cause = diagnosis.causes.first().expect("a cause");
    (cause.id, cause.confidence)
}

#[test]
fn an_empty_certificate_is_not_sent_whatever_alert_the_stack_answers() {
    // OpenSSL 1.2 sends 40, OpenSSL 1.3 116, AWS IoT Core 42, others 46 or 48.
    for code in [40, 42, 116, 46, 48] {
        let mut t = asked_for_a_certificate(vec![]);
        alert(&mut t, code);
        let (id, confidence) = top(&t, &[]);
        assert_eq!(id, CauseId::ClientCertNotSent, "alert {code}");
        assert!(confidence >= 0.9, "alert {code}: {confidence}");
    }
}

#[test]
fn a_silent_close_after_an_empty_certificate_is_a_likelier_not_sent_than_a_bare_close() {
    let mut t = asked_for_a_certificate(vec![]);
    t.push(
        4.0,
        Side::Server,
        What::Close {
            how: CloseKind::Eof,
        },
    );
    let diagnosis = diagnose(&[], Some(&t), &Context::default());
    let ids: Vec<CauseId> = diagnosis.causes.iter().map(|c| c.id).collect();
    assert_eq!(ids[0], CauseId::ClientCertNotSent, "{ids:?}");
    assert!(
        diagnosis.causes[0].confidence < 0.9,
        "no alert: less certain"
    );
    assert!(ids.contains(&CauseId::PeerClosed));
}

#[test]
fn alert_42_after_a_good_certificate_is_not_called_not_sent() {
    let mut t = asked_for_a_certificate(vec![
        fixture_cert("client-ec.pem"),
        fixture_cert("intermediate-ca.pem"),
    ]);
    alert(&mut t, 42);
    let diagnosis = diagnose(&[], Some(&t), &Context::default());
    let ids: Vec<CauseId> = diagnosis.causes.iter().map(|c| c.id).collect();
    assert!(!ids.contains(&CauseId::ClientCertNotSent), "{ids:?}");
    // Nothing in the files or the chain explains it: say so with low confidence.
    assert_eq!(ids, [CauseId::AlertUnexplained]);
    assert!(diagnosis.causes[0].confidence < 0.5);
}

#[test]
fn a_signature_that_fails_our_own_check_is_a_key_mismatch_even_under_alert_51() {
    let mut t = asked_for_a_certificate(vec![
        fixture_cert("client-ec.pem"),
        fixture_cert("intermediate-ca.pem"),
    ]);
    t.push(
        3.0,
        Side::Client,
        What::CertificateVerify {
            record: Some(9),
            seen: Seen::Wire,
            scheme: codes::signature_scheme(0x0403),
            signature_length: 71,
            verified: Some(false),
            detail: None,
        },
    );
    alert(&mut t, 51);
    assert_eq!(top(&t, &[]).0, CauseId::ClientKeyMismatch);
}

#[test]
fn a_chain_ending_at_a_foreign_root_is_untrusted() {
    let mut t = asked_for_a_certificate(vec![
        fixture_cert("client-unrelated.pem"),
        fixture_cert("unrelated-ca.pem"),
    ]);
    alert(&mut t, 48);
    assert_eq!(top(&t, &[]).0, CauseId::ClientCaUntrusted);
}

#[test]
fn preflight_findings_become_causes_only_when_the_handshake_failed() {
    let expired = finding(FindingId::ClientCertExpired, Severity::Error);
    let mut ok = asked_for_a_certificate(vec![
        fixture_cert("client-ec.pem"),
        fixture_cert("intermediate-ca.pem"),
    ]);
    // The server's ChangeCipherSpec: it accepted the client's flight.
    ok.push(4.0, Side::Server, change_cipher_spec());
    ok.push(
        5.0,
        Side::Client,
        What::Close {
            how: CloseKind::CloseNotify,
        },
    );
    ok.push(
        5.1,
        Side::Server,
        What::Close {
            how: CloseKind::Eof,
        },
    );
    assert!(
        diagnose(
            std::slice::from_ref(&expired),
            Some(&ok),
            &Context::default()
        )
        .causes
        .is_empty()
    );

    let mut failed = asked_for_a_certificate(vec![
        fixture_cert("client-ec.pem"),
        fixture_cert("intermediate-ca.pem"),
    ]);
    alert(&mut failed, 45);
    assert_eq!(top(&failed, &[expired]).0, CauseId::ClientCertExpired);
}

#[test]
fn a_clienthello_refused_with_protocol_version_is_a_version_mismatch() {
    let mut t = Transcript::default();
    t.push(
        1.0,
        Side::Client,
        What::Handshake {
            record: 1,
            message: Handshake::ClientHello {
                versions: vec![codes::version(0x0304)],
                cipher_suites: vec![],
                groups: vec![],
                key_shares: vec![],
                signature_schemes: vec![],
                sni: None,
                alpn: vec![],
            },
        },
    );
    alert(&mut t, 70);
    assert_eq!(top(&t, &[]).0, CauseId::ProtocolVersionMismatch);
}

#[test]
fn a_signature_scheme_the_server_never_offered_is_a_sigalg_mismatch() {
    // The server offered ecdsa_secp256r1_sha256 only; the client signed with rsa_pss_rsae_sha256.
    let mut t = asked_for_a_certificate(vec![
        fixture_cert("client-rsa.pem"),
        fixture_cert("intermediate-ca.pem"),
    ]);
    t.push(
        3.0,
        Side::Client,
        What::CertificateVerify {
            record: Some(9),
            seen: Seen::Wire,
            scheme: codes::signature_scheme(0x0804),
            signature_length: 256,
            verified: Some(true),
            detail: None,
        },
    );
    alert(&mut t, 47);
    let diagnosis = diagnose(&[], Some(&t), &Context::default());
    assert_eq!(
        diagnosis.causes[0].id,
        CauseId::ClientSigalgMismatch,
        "{diagnosis:#?}"
    );
    assert!(diagnosis.causes[0].evidence[0].contains("rsa_pss_rsae_sha256"));
}

#[test]
fn aws_iot_s_alert_42_for_a_missing_certificate_is_cited_only_for_aws() {
    let mut t = asked_for_a_certificate(vec![]);
    alert(&mut t, 42);
    let aws = Context {
        aws_iot: true,
        ..Context::default()
    };
    let with = diagnose(&[], Some(&t), &aws);
    assert!(
        with.causes[0]
            .evidence
            .iter()
            .any(|e| e.contains("AWS IoT Core answers")),
        "{:?}",
        with.causes[0].evidence
    );
    let without = diagnose(&[], Some(&t), &Context::default());
    let cites_aws = |d: &Diagnosis| {
        d.causes[0]
            .evidence
            .iter()
            .any(|e| e.contains("AWS IoT Core answers"))
    };
    assert!(!cites_aws(&without));
    // Another alert after the empty certificate is not what AWS sends: no AWS line.
    let mut t = asked_for_a_certificate(vec![]);
    alert(&mut t, 40);
    let other = diagnose(&[], Some(&t), &aws);
    assert!(!cites_aws(&other));
}

/// A TLS 1.3 handshake seen from inside up to the client's Finished, then an MQTT CONNECT; the
/// server's records after the client's flight are `tickets`.
fn tls13_then_connect(tickets: usize) -> Transcript {
    let mut t = Transcript::default();
    let server_hello = Handshake::ServerHello {
        version: codes::version(0x0304),
        cipher_suite: codes::cipher_suite(0x1301),
        key_share: None,
        alpn: None,
    };
    t.push(
        1.0,
        Side::Server,
        What::Handshake {
            record: 2,
            message: server_hello,
        },
    );
    t.push(
        1.5,
        Side::Server,
        What::Certificate {
            record: None,
            seen: Seen::Decrypted,
            certificates: vec![fixture_cert("server.pem")],
        },
    );
    let record = |index, from| {
        (
            from,
            What::Record {
                index,
                content_type: codes::content_type(23),
                version: codes::version(0x0303),
                length: 60,
                encrypted: true,
            },
        )
    };
    let mut events = vec![record(5, Side::Client)];
    for i in 0..tickets {
        events.push(record(6 + i as u32, Side::Server));
    }
    for (from, what) in events {
        t.push(2.0, from, what);
    }
    t.push(
        3.0,
        Side::Client,
        What::MqttConnect {
            connect: crate::decode::mqtt::Connect {
                protocol: "MQTT".into(),
                level: 4,
                client_id: "thing".into(),
                keep_alive: 60,
                clean_start: true,
                username: false,
                password: false,
                will: false,
            },
        },
    );
    t.push(
        4.0,
        Side::Server,
        What::Close {
            how: CloseKind::Eof,
        },
    );
    t
}

#[test]
fn a_close_after_connect_is_surer_when_the_server_had_accepted_the_handshake() {
    let accepted = diagnose(&[], Some(&tls13_then_connect(2)), &Context::default());
    assert_eq!(accepted.causes.len(), 1, "{accepted:?}");
    assert_eq!(accepted.causes[0].id, CauseId::MqttClosedAfterConnect);
    assert!(accepted.causes[0].confidence >= 0.8);

    // Nothing from the server after the handshake: a silent refusal of the certificate would
    // look the same, and the diagnosis says so.
    let silent = diagnose(&[], Some(&tls13_then_connect(0)), &Context::default());
    let cause = silent
        .causes
        .iter()
        .find(|c| c.id == CauseId::MqttClosedAfterConnect)
        .expect("still the likely reading");
    assert!(cause.confidence <= 0.5);
    assert!(
        cause
            .evidence
            .iter()
            .any(|e| e.contains("would look the same"))
    );
}

/// A ClientHello and the server's first flight, then a record from `last`.
fn hello_exchange(last: Option<(Side, What)>) -> Transcript {
    let mut t = asked_for_a_certificate(vec![]);
    // Keep the ClientHello, ServerHello and CertificateRequest only.
    t.events.truncate(3);
    if let Some((side, what)) = last {
        t.push(5.0, side, what);
    }
    t
}

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
fn a_tls12_server_that_sent_its_change_cipher_spec_finished_the_handshake() {
    let accepted = hello_exchange(Some((Side::Server, change_cipher_spec())));
    let diagnosis = diagnose(&[], Some(&accepted), &Context::default());
    assert!(diagnosis.causes.is_empty(), "{diagnosis:#?}");
}

/// A TLS 1.2 ClientHello with `sni`, the server's Certificate (`localhost`, its intermediate),
/// and the client's alert `code` right after it.
fn client_rejects_localhost(sni: Option<&str>, code: u8) -> Transcript {
    let mut t = asked_for_a_certificate(vec![]);
    t.events.truncate(2);
    let What::Handshake {
        message: Handshake::ClientHello { sni: sent, .. },
        ..
    } = &mut t.events[0].what
    else {
        unreachable!()
    };
    *sent = sni.map(str::to_string);
    t.push(
        2.0,
        Side::Server,
        What::Certificate {
            record: Some(3),
            seen: Seen::Wire,
            certificates: vec![
                fixture_cert("server.pem"),
                fixture_cert("intermediate-ca.pem"),
            ],
        },
    );
    t.push(
        3.0,
        Side::Client,
        What::Alert {
            record: Some(4),
            seen: Seen::Wire,
            level: codes::alert_level(2),
            description: codes::alert(code),
        },
    );
    t
}

fn causes_of(t: &Transcript) -> Vec<Cause> {
    diagnose(&[], Some(t), &Context::default()).causes
}

#[test]
fn a_client_rejecting_a_certificate_that_does_not_cover_its_sni_is_a_name_mismatch() {
    for code in [42, 46, 43] {
        let causes = causes_of(&client_rejects_localhost(Some("broker.invalid"), code));
        let top = &causes[0];
        assert_eq!(top.id, CauseId::ServerNameMismatch, "alert {code}");
        let evidence = top.evidence.join("\n");
        assert!(
            evidence.contains("'broker.invalid'") && evidence.contains("localhost, 127.0.0.1, ::1"),
            "{evidence}"
        );
        assert!(
            top.fixes[0].contains("DNS:broker.invalid"),
            "{:?}",
            top.fixes
        );
    }
}

#[test]
fn unknown_ca_stays_first_and_the_name_comes_second() {
    let causes = causes_of(&client_rejects_localhost(Some("broker.invalid"), 48));
    let ids: Vec<CauseId> = causes.iter().map(|c| c.id).collect();
    assert_eq!(
        ids[..2],
        [CauseId::ServerCaUntrusted, CauseId::ServerNameMismatch]
    );
}

#[test]
fn a_covered_sni_or_none_makes_no_name_mismatch() {
    for (sni, code) in [
        (Some("localhost"), 42),
        (Some("LocalHost."), 48),
        (None, 42),
    ] {
        let causes = causes_of(&client_rejects_localhost(sni, code));
        assert_eq!(causes[0].id, CauseId::ServerCaUntrusted, "{sni:?} {code}");
        assert!(
            causes.iter().all(|c| c.id != CauseId::ServerNameMismatch),
            "{sni:?} {code}: {causes:#?}"
        );
        let no_sni_said = causes[0]
            .evidence
            .iter()
            .any(|e| e.contains("sent no SNI") && e.contains("cannot be known"));
        assert_eq!(no_sni_said, sni.is_none(), "{sni:?}");
    }
}
