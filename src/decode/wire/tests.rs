//! The decoder against real handshakes (rustls in memory), holes, floods and hostile bytes.

use std::io::Write as _;
use std::sync::Arc;

use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::ServerName;
use rustls::server::WebPkiClientVerifier;
use rustls::{
    ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig, ServerConnection,
    SupportedProtocolVersion,
};

use super::shown::MAX_ALERTS_PAST_LIMIT;
use super::*;
use crate::decode::messages::certificate_request::distinguished_name;
use crate::decode::messages::server_hello::HELLO_RETRY_REQUEST_RANDOM;
use crate::model::Named;
use crate::test_support::{CollectingKeyLog, Rng, certs, key, transfer};

const ALPN: &[u8] = b"x-amzn-mqtt-ca";

/// Whether and how the client authenticates.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ClientAuth {
    /// The server sends no CertificateRequest.
    NotAsked,
    /// The server asks and the client presents client-ec-chain.pem.
    Presented,
    /// The server asks but lets the client in without a certificate; the client has none.
    Anonymous,
}

/// The bytes of one in-memory handshake, in wire order, and what rustls negotiated.
struct Run {
    chunks: Vec<(Side, Vec<u8>)>,
    version: u16,
    suite: u16,
    /// The client's secrets, in the NSS key log format.
    keylog: String,
}

/// Runs a rustls client and server against each other in memory, recording every chunk
/// of bytes each one writes. After the handshake each side sends a little application data.
/// With `force_hrr` the server accepts only secp256r1, which the client sends no key share
/// for, so a TLS 1.3 handshake goes through a HelloRetryRequest.
fn handshake(version: &'static SupportedProtocolVersion, auth: ClientAuth, force_hrr: bool) -> Run {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    for root in certs("root-ca.pem") {
        roots.add(root).expect("root");
    }
    let roots = Arc::new(roots);

    let server_provider = if force_hrr {
        Arc::new(CryptoProvider {
            kx_groups: vec![aws_lc_rs::kx_group::SECP256R1],
            ..aws_lc_rs::default_provider()
        })
    } else {
        provider.clone()
    };
    let server = ServerConfig::builder_with_provider(server_provider)
        .with_protocol_versions(&[version])
        .expect("server versions");
    let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone());
    let server = match auth {
        ClientAuth::NotAsked => server.with_no_client_auth(),
        ClientAuth::Presented => {
            server.with_client_cert_verifier(verifier.build().expect("verifier"))
        }
        ClientAuth::Anonymous => server
            .with_client_cert_verifier(verifier.allow_unauthenticated().build().expect("verifier")),
    };
    let mut server = server
        .with_single_cert(certs("server-chain.pem"), key("server.key"))
        .expect("server config");
    server.alpn_protocols = vec![ALPN.to_vec()];

    let client = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .expect("client versions")
        .with_root_certificates(roots);
    let mut client = match auth {
        ClientAuth::Presented => client
            .with_client_auth_cert(certs("client-ec-chain.pem"), key("client-ec.key"))
            .expect("client config"),
        ClientAuth::NotAsked | ClientAuth::Anonymous => client.with_no_client_auth(),
    };
    client.alpn_protocols = vec![ALPN.to_vec()];
    let keylog = Arc::new(CollectingKeyLog::default());
    client.key_log = keylog.clone();

    let name = ServerName::try_from("localhost").expect("name");
    let mut client =
        Connection::Client(ClientConnection::new(Arc::new(client), name).expect("client"));
    let mut server = Connection::Server(ServerConnection::new(Arc::new(server)).expect("server"));
    client.writer().write_all(b"PING").expect("client data");
    server.writer().write_all(b"PONG").expect("server data");

    let mut chunks = Vec::new();
    for _ in 0..50 {
        let client_moved = transfer(&mut client, &mut server, |b| chunks.push((Side::Client, b)));
        let server_moved = transfer(&mut server, &mut client, |b| chunks.push((Side::Server, b)));
        if !client_moved && !server_moved {
            break;
        }
    }
    assert!(
        !client.is_handshaking() && !server.is_handshaking(),
        "handshake did not finish"
    );
    let suite = client.negotiated_cipher_suite().expect("suite").suite();
    let version = client.protocol_version().expect("version");
    let keylog = keylog.text();
    Run {
        chunks,
        version: u16::from(version),
        suite: u16::from(suite),
        keylog,
    }
}

fn decode(chunks: &[(Side, Vec<u8>)]) -> (Wire, Vec<Event>) {
    let mut wire = Wire::new();
    let mut events = Vec::new();
    for (at, (side, bytes)) in chunks.iter().enumerate() {
        events.extend(wire.feed(*side, bytes, at as f64));
    }
    (wire, events)
}

/// The events other than records, one short line each, for comparing sequences.
fn summary(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| {
            let what = match &e.what {
                What::Record { .. } => return None,
                What::Handshake { message, .. } => {
                    let json = serde_json::to_value(message).expect("json");
                    json["message"].as_str().expect("message tag").to_string()
                }
                What::Certificate { certificates, .. } => {
                    format!("certificate({})", certificates.len())
                }
                What::CertificateRequest { .. } => "certificate_request".into(),
                What::CertificateVerify { .. } => "certificate_verify".into(),
                What::Alert {
                    level, description, ..
                } => format!("alert({level}, {description})"),
                other => format!("{other:?}"),
            };
            Some(format!("{} {what}", e.from))
        })
        .collect()
}

/// (side, index, content type, encrypted) of every Record event.
fn records(events: &[Event]) -> Vec<(Side, u32, u16, bool)> {
    events
        .iter()
        .filter_map(|e| match &e.what {
            What::Record {
                index,
                content_type,
                encrypted,
                ..
            } => Some((e.from, *index, content_type.code, *encrypted)),
            _ => None,
        })
        .collect()
}

fn handshake_message<'a>(events: &'a [Event], from: Side, tag: &str) -> Vec<&'a Handshake> {
    events
        .iter()
        .filter(|e| e.from == from)
        .filter_map(|e| match &e.what {
            What::Handshake { message, .. } => Some(message),
            _ => None,
        })
        .filter(|m| serde_json::to_value(m).expect("json")["message"] == tag)
        .collect()
}

fn certificates(events: &[Event], from: Side) -> Vec<&Vec<CertInfo>> {
    events
        .iter()
        .filter(|e| e.from == from)
        .filter_map(|e| match &e.what {
            What::Certificate {
                certificates,
                seen: Seen::Wire,
                record: Some(_),
            } => Some(certificates),
            _ => None,
        })
        .collect()
}

fn names_of(list: &[Named]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// Record indices run 1, 2, 3, ... over both directions, in event order.
fn assert_indices_consecutive(events: &[Event]) {
    let indices: Vec<u32> = records(events).iter().map(|r| r.1).collect();
    let expected: Vec<u32> = (1..=indices.len() as u32).collect();
    assert_eq!(indices, expected);
    assert!(records(events).iter().any(|r| r.0 == Side::Client));
    assert!(records(events).iter().any(|r| r.0 == Side::Server));
}

fn assert_client_hello(events: &[Event], offered: &str) {
    let hellos = handshake_message(events, Side::Client, "client_hello");
    let Some(Handshake::ClientHello {
        versions,
        cipher_suites,
        groups,
        signature_schemes,
        sni,
        alpn,
        ..
    }) = hellos.first()
    else {
        panic!("no ClientHello in {:?}", summary(events));
    };
    assert_eq!(sni.as_deref(), Some("localhost"));
    assert!(
        names_of(versions).contains(&offered.to_string()),
        "{versions:?}"
    );
    assert!(!cipher_suites.is_empty() && !groups.is_empty() && !signature_schemes.is_empty());
    assert_eq!(alpn, &vec!["x-amzn-mqtt-ca".to_string()]);
}

fn assert_server_hello(events: &[Event], run: &Run) {
    let hellos = handshake_message(events, Side::Server, "server_hello");
    let [
        Handshake::ServerHello {
            version,
            cipher_suite,
            key_share,
            alpn,
            ..
        },
    ] = hellos.as_slice()
    else {
        panic!("not one ServerHello in {:?}", summary(events));
    };
    assert_eq!(version.code, run.version);
    assert_eq!(cipher_suite.code, run.suite);
    // TLS 1.3 moves the ALPN answer into the encrypted EncryptedExtensions.
    let expected_alpn = (run.version == TLS12).then_some("x-amzn-mqtt-ca");
    assert_eq!(alpn.as_deref(), expected_alpn);
    assert_eq!(key_share.is_some(), run.version == TLS13);
}

fn assert_no_notes(events: &[Event]) {
    let notes: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.what, What::Note { .. }))
        .collect();
    assert!(notes.is_empty(), "{notes:?}");
}

/// In TLS 1.2 each side's records are plaintext up to and including its change_cipher_spec
/// and encrypted after it.
fn assert_tls12_encryption(events: &[Event]) {
    for side in [Side::Client, Side::Server] {
        let mine: Vec<_> = records(events)
            .into_iter()
            .filter(|r| r.0 == side)
            .collect();
        let ccs = mine
            .iter()
            .position(|r| r.2 == 20)
            .expect("change_cipher_spec");
        assert!(mine[..=ccs].iter().all(|r| !r.3), "{side}: {mine:?}");
        assert!(mine[ccs + 1..].iter().all(|r| r.3), "{side}: {mine:?}");
        assert!(
            mine[ccs + 1..].iter().any(|r| r.2 == 23),
            "{side}: no application data"
        );
    }
}

/// In TLS 1.3 every record after the ServerHello's is encrypted, except change_cipher_spec.
fn assert_tls13_encryption(events: &[Event]) {
    let server_hello = events
        .iter()
        .rev()
        .find_map(|e| match &e.what {
            What::Handshake {
                record,
                message: Handshake::ServerHello { .. },
            } => Some(*record),
            _ => None,
        })
        .expect("ServerHello");
    for (side, index, content_type, encrypted) in records(events) {
        let expected = index > server_hello && content_type != 20;
        assert_eq!(
            encrypted, expected,
            "{side} record {index} (type {content_type})"
        );
    }
}

/// A TLS 1.2 handshake with `auth`, decoded: its messages must be `expected`, with TLS 1.2's
/// encryption and consecutive record numbers.
fn tls12_handshake(auth: ClientAuth, expected: &[&str]) -> (Run, Wire, Vec<Event>) {
    let run = handshake(&rustls::version::TLS12, auth, false);
    let (wire, events) = decode(&run.chunks);
    assert_eq!(summary(&events), expected, "{auth:?}");
    assert_tls12_encryption(&events);
    assert_indices_consecutive(&events);
    (run, wire, events)
}

#[test]
fn tls12_with_client_certificate() {
    let (run, wire, events) = tls12_handshake(
        ClientAuth::Presented,
        &[
            "client client_hello",
            "server server_hello",
            "server certificate(2)",
            "server server_key_exchange",
            "server certificate_request",
            "server server_hello_done",
            "client certificate(2)",
            "client client_key_exchange",
            "client certificate_verify",
        ],
    );
    assert_client_hello(&events, "TLSv1.2");
    assert_server_hello(&events, &run);
    assert_eq!(wire.version(), Some(TLS12));
    assert_eq!(wire.cipher_suite(), Some(run.suite));

    let server_chain = certificates(&events, Side::Server);
    assert!(
        server_chain[0][0].subject.contains("CN=localhost"),
        "{}",
        server_chain[0][0].subject
    );
    let client_chain = certificates(&events, Side::Client);
    let expected_client =
        CertInfo::from_der(&certs("client-ec-chain.pem")[0]).expect("client cert");
    assert_eq!(client_chain[0][0].subject, expected_client.subject);

    let Some(Handshake::ServerKeyExchange { group, scheme }) =
        handshake_message(&events, Side::Server, "server_key_exchange")
            .first()
            .copied()
    else {
        panic!("no ServerKeyExchange");
    };
    assert!(
        group.as_ref().is_some_and(|g| g.name.is_some()),
        "{group:?}"
    );
    assert!(
        scheme
            .as_ref()
            .is_some_and(|s| s.to_string().starts_with("ecdsa")),
        "{scheme:?}"
    );

    let request = events
        .iter()
        .find_map(|e| match &e.what {
            What::CertificateRequest {
                certificate_types,
                signature_schemes,
                ca_names,
                ..
            } => Some((certificate_types, signature_schemes, ca_names)),
            _ => None,
        })
        .expect("CertificateRequest");
    assert!(
        request
            .2
            .iter()
            .any(|n| n.contains("iotdoctor Test Root CA")),
        "{:?}",
        request.2
    );
    assert!(!request.0.is_empty() && !request.1.is_empty());

    let verify = events
        .iter()
        .find_map(|e| match &e.what {
            What::CertificateVerify {
                scheme,
                signature_length,
                verified,
                ..
            } if e.from == Side::Client => Some((scheme, *signature_length, *verified)),
            _ => None,
        })
        .expect("client CertificateVerify");
    assert!(verify.0.to_string().starts_with("ecdsa"), "{:?}", verify.0);
    assert!(verify.1 > 0);
    assert_eq!(
        verify.2,
        Some(true),
        "checked against the client certificate over the handshake"
    );
    assert_no_notes(&events);
}

#[test]
fn tls12_anonymous_client_sends_an_empty_certificate_message() {
    let (_, _, events) = tls12_handshake(
        ClientAuth::Anonymous,
        &[
            "client client_hello",
            "server server_hello",
            "server certificate(2)",
            "server server_key_exchange",
            "server certificate_request",
            "server server_hello_done",
            "client certificate(0)",
            "client client_key_exchange",
        ],
    );
    assert!(certificates(&events, Side::Client)[0].is_empty());
    assert_no_notes(&events);
}

#[test]
fn tls12_without_client_authentication() {
    let (run, wire, events) = tls12_handshake(
        ClientAuth::NotAsked,
        &[
            "client client_hello",
            "server server_hello",
            "server certificate(2)",
            "server server_key_exchange",
            "server server_hello_done",
            "client client_key_exchange",
        ],
    );
    assert_server_hello(&events, &run);
    assert_eq!(wire.cipher_suite(), Some(run.suite));
}

#[test]
fn nothing_the_server_sends_before_its_server_hello_is_encrypted() {
    let run = handshake(&rustls::version::TLS13, ClientAuth::NotAsked, false);
    let (side, client_hello) = &run.chunks[0];
    assert_eq!(*side, Side::Client);
    let data = [0x17, 0x03, 0x03, 0x00, 0x03, 1, 2, 3];
    // A stray change_cipher_spec, then a fatal handshake_failure alert.
    let stray = [
        0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28,
    ];
    let mut wire = Wire::new();
    wire.feed(Side::Client, client_hello, 0.0);
    let mut events = wire.feed(Side::Server, &data, 1.0);
    events.extend(wire.feed(Side::Server, &stray, 2.0));
    let encrypted: Vec<bool> = records(&events).iter().map(|r| r.3).collect();
    assert_eq!(encrypted, [false, false, false], "{events:?}");
    let said = summary(&events);
    assert!(
        said[0].contains("application_data before the server's ServerHello, 3 bytes"),
        "{said:?}"
    );
    assert_eq!(said[1], "server alert(fatal, handshake_failure)");
    // Seen from the middle of a connection (a capture that started late), the same record
    // may well be encrypted: it is read by its type, as before.
    let events = Wire::new().feed(Side::Server, &data, 0.0);
    let encrypted: Vec<bool> = records(&events).iter().map(|r| r.3).collect();
    assert_eq!(encrypted, [true]);
}

#[test]
fn tls13_hides_everything_after_the_server_hello() {
    for auth in [
        ClientAuth::Presented,
        ClientAuth::NotAsked,
        ClientAuth::Anonymous,
    ] {
        let run = handshake(&rustls::version::TLS13, auth, false);
        let (wire, events) = decode(&run.chunks);
        assert_eq!(
            summary(&events),
            ["client client_hello", "server server_hello"],
            "{auth:?}"
        );
        assert_client_hello(&events, "TLSv1.3");
        assert_server_hello(&events, &run);
        let Some(Handshake::ClientHello { key_shares, .. }) =
            handshake_message(&events, Side::Client, "client_hello")
                .first()
                .copied()
        else {
            unreachable!()
        };
        assert!(!key_shares.is_empty());
        assert_eq!(wire.version(), Some(TLS13));
        assert_eq!(wire.cipher_suite(), Some(run.suite));
        assert_tls13_encryption(&events);
        assert_indices_consecutive(&events);
    }
}

#[test]
fn tls13_hello_retry_request_keeps_the_second_client_hello_readable() {
    let run = handshake(&rustls::version::TLS13, ClientAuth::Presented, true);
    let (wire, events) = decode(&run.chunks);
    assert_eq!(
        summary(&events),
        [
            "client client_hello",
            "server hello_retry_request",
            "client client_hello",
            "server server_hello",
        ]
    );
    let Some(Handshake::HelloRetryRequest {
        key_share,
        cipher_suite,
    }) = handshake_message(&events, Side::Server, "hello_retry_request")
        .first()
        .copied()
    else {
        unreachable!()
    };
    assert_eq!(
        key_share.as_ref().map(ToString::to_string).as_deref(),
        Some("secp256r1")
    );
    assert_eq!(cipher_suite.code, run.suite);
    let hellos = handshake_message(&events, Side::Client, "client_hello");
    let Handshake::ClientHello { key_shares, .. } = hellos[1] else {
        unreachable!()
    };
    assert_eq!(names_of(key_shares), ["secp256r1"]);
    assert_server_hello(&events, &run);
    assert_eq!(wire.version(), Some(TLS13));
    assert_tls13_encryption(&events);
    assert_indices_consecutive(&events);
}

/// Feeding one byte at a time, or in uneven pieces, gives the same events as whole chunks.
#[test]
fn chunking_does_not_change_the_events() {
    let runs = [
        handshake(&rustls::version::TLS12, ClientAuth::Presented, false),
        handshake(&rustls::version::TLS13, ClientAuth::Presented, true),
    ];
    for run in runs {
        let whole = decode(&run.chunks).1;
        let mut wire = Wire::new();
        let mut bytewise = Vec::new();
        for (at, (side, bytes)) in run.chunks.iter().enumerate() {
            for byte in bytes {
                bytewise.extend(wire.feed(*side, std::slice::from_ref(byte), at as f64));
            }
        }
        let mut wire = Wire::new();
        let mut pieces = Vec::new();
        for (at, (side, bytes)) in run.chunks.iter().enumerate() {
            for piece in bytes.chunks(7) {
                pieces.extend(wire.feed(*side, piece, at as f64));
            }
        }
        let debug =
            |events: &[Event]| -> Vec<String> { events.iter().map(|e| format!("{e:?}")).collect() };
        assert_eq!(debug(&bytewise), debug(&whole));
        assert_eq!(debug(&pieces), debug(&whole));
    }
}

#[test]
fn plaintext_fatal_alert() {
    let mut wire = Wire::new();
    let events = wire.feed(
        Side::Server,
        &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28],
        1.5,
    );
    assert_eq!(events.len(), 2);
    assert!(matches!(
        &events[0].what,
        What::Record { index: 1, length: 2, encrypted: false, content_type, .. } if content_type.code == 21
    ));
    let What::Alert {
        record,
        seen,
        level,
        description,
    } = &events[1].what
    else {
        panic!("{events:?}");
    };
    assert_eq!((*record, *seen), (Some(1), Seen::Wire));
    assert_eq!(level.to_string(), "fatal");
    assert_eq!(description.to_string(), "handshake_failure");
    assert_eq!((events[1].from, events[1].at_ms), (Side::Server, 1.5));
}

/// A TLS 1.3 client that rejects the ServerHello has no keys yet: its alert is plaintext.
#[test]
fn tls13_alert_before_keys_is_decoded() {
    let run = handshake(&rustls::version::TLS13, ClientAuth::NotAsked, false);
    let mut wire = Wire::new();
    for (side, bytes) in &run.chunks[..2] {
        wire.feed(*side, bytes, 0.0);
    }
    assert_eq!(wire.version(), Some(TLS13));
    let events = wire.feed(
        Side::Client,
        &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x2f],
        1.0,
    );
    assert_eq!(summary(&events), ["client alert(fatal, illegal_parameter)"]);
}

#[test]
fn not_tls_is_reported_once_with_a_readable_preview() {
    let mut wire = Wire::new();
    let http =
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: 150\r\n\r\n<html>";
    let events = wire.feed(Side::Server, http, 3.0);
    assert_eq!(events.len(), 1);
    let What::NotTls { preview, .. } = &events[0].what else {
        panic!("{events:?}")
    };
    assert!(
        preview.starts_with("HTTP/1.1 400 Bad Request\\x0d\\x0aContent-Type"),
        "{preview}"
    );
    assert_eq!(preview.matches("\\x0d").count(), 2, "64 bytes: {preview}");
    assert!(wire.feed(Side::Server, b"more", 4.0).is_empty());
    assert!(
        wire.feed(Side::Server, &[0x16, 0x03, 0x03, 0x00, 0x00], 5.0)
            .is_empty()
    );
    // The other direction goes on being decoded.
    let events = wire.feed(
        Side::Client,
        &[0x15, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00],
        6.0,
    );
    assert_eq!(summary(&events), ["client alert(warning, close_notify)"]);
}

#[test]
fn not_tls_banners_and_short_replies() {
    let cases: [(&[u8], &str, &str); 3] = [
        (
            b"SSH-2.0-OpenSSH_9.6\r\n",
            "SSH-2.0-OpenSSH_9.6\\x0d\\x0a",
            "Ssh",
        ),
        (&[0x20, 0x02, 0x00, 0x00], " \\x02\\x00\\x00", "MqttConnack"),
        // A valid content type and version, but longer than any record may be.
        (
            &[0x16, 0x03, 0x03, 0x48, 0x01],
            "\\x16\\x03\\x03H\\x01",
            "Unknown",
        ),
    ];
    for (bytes, expected, looks_like) in cases {
        let events = Wire::new().feed(Side::Server, bytes, 0.0);
        assert_eq!(
            summary(&events[..1]),
            [format!(
                "server NotTls {{ preview: {expected:?}, looks_like: {looks_like} }}"
            )]
        );
        // Bytes that start like a record header, and only those, are told why they are none.
        let why: Vec<String> = events[1..]
            .iter()
            .map(|e| format!("{:?}", e.what))
            .collect();
        assert_eq!(
            why.len() == 1 && why[0].contains("16 03 03 48 01 declares 18433 bytes"),
            bytes[0] == 0x16,
            "{why:?}"
        );
    }
    // After valid records, a bad header means a damaged stream, not a peer that does not
    // speak TLS: decoding stops there, with a note, and nothing after it is read.
    let mut wire = Wire::new();
    let mut events = wire.feed(
        Side::Server,
        &[0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00, 0x99],
        0.0,
    );
    events.extend(wire.feed(Side::Server, &[0x15, 0x03, 0x03, 0x00, 0x02, 2, 40], 1.0));
    let summary = summary(&events);
    assert_eq!(summary.len(), 2, "{summary:?}");
    assert_eq!(summary[0], "server alert(warning, close_notify)");
    let What::Note { message } = &events[events.len() - 1].what else {
        panic!("{events:?}");
    };
    assert!(
        message.contains("stop looking like TLS records") && message.contains("\\x99"),
        "{message}"
    );
}

/// The decoder refuses a header at the first byte no record header can continue, by the
/// same rule the search after a hole uses ([`record::header_plausible`]): a version past 3.4,
/// which no TLS record carries, and a length whose high byte alone is already too large.
/// Such bytes could never be found again as records after a hole, so they are none at the
/// start of a stream either.
#[test]
fn headers_no_record_can_have_are_refused_at_their_first_bad_byte() {
    let cases: [(&[u8], &str); 2] = [
        (
            &[0x16, 0x03, 0x09, 0x00, 0x02, 0x02, 0x28],
            "16 03 09 has version 3.9, where TLS records carry 3.0 (SSL 3.0) to 3.4",
        ),
        (
            &[0x17, 0x03, 0x03, 0xff],
            "17 03 03 ff declares at least 65280 bytes, more than the 18432",
        ),
    ];
    for (bytes, why) in cases {
        let mut wire = Wire::new();
        let mut events = wire.feed(Side::Server, bytes, 0.0);
        wire.end_into(Side::Server, 1.0, &mut events);
        assert!(
            matches!(events[0].what, What::NotTls { .. }),
            "{bytes:02x?}: {events:?}"
        );
        assert!(
            matches!(&events[1].what, What::Note { message } if message.contains(why)),
            "{bytes:02x?}: {events:?}"
        );
        assert_eq!(events.len(), 2, "{events:?}");
    }
}

#[test]
fn partial_records_wait_for_the_rest() {
    let mut wire = Wire::new();
    assert!(wire.feed(Side::Client, &[0x15, 0x03], 0.0).is_empty());
    assert!(
        wire.feed(Side::Client, &[0x03, 0x00, 0x02, 0x02], 0.0)
            .is_empty()
    );
    // The alert completes; 0x17 may start the next record, so it waits.
    let events = wire.feed(Side::Client, &[0x30, 0x17], 0.0);
    assert_eq!(summary(&events), ["client alert(fatal, unknown_ca)"]);
    let events = wire.feed(Side::Client, &[0x03, 0x03, 0x00, 0x11], 0.0);
    assert!(events.is_empty());
    let events = wire.feed(Side::Client, &[0; 0x11], 0.0);
    assert_eq!(records(&events), [(Side::Client, 2, 23, true)]);
    // An empty record completes with its header.
    let events = Wire::new().feed(Side::Client, &[0x16, 0x03, 0x03, 0x00, 0x00], 0.0);
    assert_eq!(records(&events), [(Side::Client, 1, 22, false)]);
}

/// Wraps a handshake message body in a handshake header.
fn message(message_type: u8, body: &[u8]) -> Vec<u8> {
    let len = body.len() as u32;
    let mut out = vec![message_type];
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// Wraps bytes in records of at most `max` bytes each.
fn records_of(content_type: u8, bytes: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in bytes.chunks(max.max(1)) {
        out.extend_from_slice(&[content_type, 0x03, 0x03]);
        out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
        out.extend_from_slice(piece);
    }
    out
}

fn u24(n: usize) -> [u8; 3] {
    let b = (n as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

/// A ServerHello body; `supported_version` adds a supported_versions extension.
fn server_hello_body(random: [u8; 32], supported_version: Option<u16>, cipher: u16) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&random);
    body.push(0); // session id
    body.extend_from_slice(&cipher.to_be_bytes());
    body.push(0); // compression
    let mut extensions = Vec::new();
    if let Some(version) = supported_version {
        extensions.extend_from_slice(&[0x00, 0x2b, 0x00, 0x02]);
        extensions.extend_from_slice(&version.to_be_bytes());
    }
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    body
}

fn tls12_certificate_body(ders: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for der in ders {
        list.extend_from_slice(&u24(der.len()));
        list.extend_from_slice(der);
    }
    let mut body = u24(list.len()).to_vec();
    body.extend_from_slice(&list);
    body
}

#[test]
fn empty_certificate_and_several_messages_per_record() {
    let mut flight = message(11, &tls12_certificate_body(&[]));
    flight.extend(message(16, &[0x20; 33]));
    let events = Wire::new().feed(Side::Client, &records_of(22, &flight, 100), 0.0);
    assert_eq!(
        summary(&events),
        ["client certificate(0)", "client client_key_exchange"]
    );
    let What::Handshake {
        record,
        message: Handshake::ClientKeyExchange { length },
    } = &events[2].what
    else {
        panic!("{events:?}")
    };
    assert_eq!((*record, *length), (1, 33));
}

#[test]
fn certificate_spanning_records_with_one_bad_certificate() {
    let chain = certs("server-chain.pem");
    let body =
        tls12_certificate_body(&[chain[0].as_ref(), b"not a certificate", chain[1].as_ref()]);
    let bytes = records_of(22, &message(11, &body), 200);
    let events = Wire::new().feed(Side::Server, &bytes, 0.0);
    let last_record = records(&events).last().expect("records").1;
    let (record, list) = events
        .iter()
        .find_map(|e| match &e.what {
            What::Certificate {
                record,
                certificates,
                ..
            } => Some((*record, certificates)),
            _ => None,
        })
        .expect("Certificate");
    assert_eq!(record, Some(last_record));
    assert_eq!(list.len(), 2);
    let notes: Vec<_> = summary(&events)
        .into_iter()
        .filter(|s| s.contains("Note"))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("certificate 2 of the server's Certificate message"),
        "{notes:?}"
    );
}

#[test]
fn tls13_formats_when_seen_in_plaintext() {
    let mut wire = Wire::new();
    let hello = message(2, &server_hello_body([7; 32], Some(TLS13), 0x1301));
    wire.feed(Side::Server, &records_of(22, &hello, 1000), 0.0);
    assert_eq!(wire.version(), Some(TLS13));
    assert_eq!(wire.cipher_suite(), Some(0x1301));

    let der = &certs("client-ec.pem")[0];
    let mut list = u24(der.len()).to_vec();
    list.extend_from_slice(der);
    list.extend_from_slice(&[0x00, 0x00]); // no extensions
    let mut body = vec![0x00];
    body.extend_from_slice(&u24(list.len()));
    body.extend_from_slice(&list);
    let events = wire.feed(
        Side::Client,
        &records_of(22, &message(11, &body), 1000),
        1.0,
    );
    assert_eq!(summary(&events), ["client certificate(1)"]);
    let events = wire.feed(
        Side::Client,
        &records_of(22, &message(11, &[0, 0, 0, 0]), 1000),
        1.0,
    );
    assert_eq!(summary(&events), ["client certificate(0)"]);

    let root = CertInfo::from_der(&certs("root-ca.pem")[0]).expect("root");
    let dn = &root.raw.subject;
    let mut names = (dn.len() as u16).to_be_bytes().to_vec();
    names.extend_from_slice(dn);
    let mut authorities = (names.len() as u16).to_be_bytes().to_vec();
    authorities.extend_from_slice(&names);
    let mut extensions = vec![0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03, 0x00, 0x2f];
    extensions.extend_from_slice(&(authorities.len() as u16).to_be_bytes());
    extensions.extend_from_slice(&authorities);
    let mut body = vec![0x00];
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    let events = wire.feed(
        Side::Server,
        &records_of(22, &message(13, &body), 1000),
        2.0,
    );
    let What::CertificateRequest {
        certificate_types,
        signature_schemes,
        ca_names,
        ..
    } = &events[1].what
    else {
        panic!("{events:?}")
    };
    assert!(certificate_types.is_empty());
    assert_eq!(names_of(signature_schemes), ["ecdsa_secp256r1_sha256"]);
    assert_eq!(ca_names, std::slice::from_ref(&root.subject));
}

#[test]
fn undecodable_messages_become_notes() {
    let mut flight = message(2, &[0x03, 0x03, 0x01]); // a ServerHello cut short
    flight.extend(message(15, &[0x04, 0x03, 0x00, 0x40, 0x01])); // signature cut short
    flight.extend(message(13, &[0x01])); // CertificateRequest cut short
    flight.extend(message(11, &[0x00, 0x00, 0x09, 0x00])); // list longer than the message
    flight.extend(message(14, &[]));
    let events = Wire::new().feed(Side::Server, &records_of(22, &flight, 1000), 0.0);
    let summary = summary(&events);
    assert_eq!(summary.len(), 5, "{summary:?}");
    assert!(
        summary[..4]
            .iter()
            .all(|s| s.contains("Note") && s.contains("could not be decoded"))
    );
    assert!(summary[0].contains("ServerHello") && summary[1].contains("CertificateVerify"));
    assert_eq!(summary[4], "server server_hello_done");
    // Wrong names for a CA come out as hex.
    assert_eq!(distinguished_name(&[0x01, 0x02]), "(undecodable name) 0102");
}

#[test]
fn tls12_change_cipher_spec_hides_the_rest() {
    let mut wire = Wire::new();
    let hello = message(2, &server_hello_body([1; 32], None, 0xc02b));
    wire.feed(Side::Server, &records_of(22, &hello, 1000), 0.0);
    assert_eq!(wire.version(), Some(TLS12));
    let mut bytes = records_of(20, &[1], 10);
    bytes.extend(records_of(22, &message(20, &[0; 12]), 1000));
    bytes.extend(records_of(21, &[1, 0], 1000));
    let events = wire.feed(Side::Server, &bytes, 1.0);
    assert!(summary(&events).is_empty());
    assert_eq!(
        records(&events),
        [
            (Side::Server, 2, 20, false),
            (Side::Server, 3, 22, true),
            (Side::Server, 4, 21, true)
        ]
    );
    // The client has not sent change_cipher_spec yet.
    let events = wire.feed(Side::Client, &records_of(21, &[2, 40], 10), 2.0);
    assert_eq!(summary(&events), ["client alert(fatal, handshake_failure)"]);
}

/// Header plus body length of a record, once its header is complete.
fn record_total_len(record: &[u8]) -> Option<usize> {
    let length = Reader(record.get(3..RECORD_HEADER)?).u16()?;
    Some(RECORD_HEADER + usize::from(length))
}

/// The records of a run, each with its sender, in wire order.
fn records_in(chunks: &[(Side, Vec<u8>)]) -> Vec<(Side, Vec<u8>)> {
    let mut list = Vec::new();
    for (side, bytes) in chunks {
        let mut rest = &bytes[..];
        while let Some(total) = record_total_len(rest) {
            list.push((*side, rest[..total].to_vec()));
            rest = &rest[total..];
        }
        assert!(rest.is_empty(), "a chunk of whole records");
    }
    list
}

/// The same records with each plaintext handshake record cut into one record per message,
/// as OpenSSL sends them (rustls puts a whole flight in one).
fn one_message_per_record(records: &[(Side, Vec<u8>)]) -> Vec<(Side, Vec<u8>)> {
    let mut out = Vec::new();
    let mut encrypting = [false; 2];
    for (side, record) in records {
        encrypting[slot(*side)] |= record[0] == CONTENT_CHANGE_CIPHER_SPEC;
        if record[0] != CONTENT_HANDSHAKE || encrypting[slot(*side)] {
            out.push((*side, record.clone()));
            continue;
        }
        let mut body = &record[RECORD_HEADER..];
        while !body.is_empty() {
            let len = handshake::HANDSHAKE_HEADER + Reader(&body[1..4]).u24().expect("length");
            out.push((*side, records_of(CONTENT_HANDSHAKE, &body[..len], 1 << 14)));
            body = &body[len..];
        }
    }
    out
}

/// Where the first record of `side` with this content type and first body byte (a
/// handshake message type, say) is.
fn position(records: &[(Side, Vec<u8>)], side: Side, content_type: u8, first: u8) -> usize {
    records
        .iter()
        .position(|(s, r)| *s == side && r[0] == content_type && r[5] == first)
        .expect("record")
}

fn notes_of(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match &e.what {
            What::Note { message } => Some(message.as_str()),
            _ => None,
        })
        .collect()
}

/// Feeds the records, with `missing` bytes from `at` on of record `cut` not in the capture.
fn decode_with_hole(
    records: &[(Side, Vec<u8>)],
    cut: usize,
    at: usize,
    missing: usize,
) -> Vec<Event> {
    let mut wire = Wire::new();
    let mut events = Vec::new();
    for (i, (side, record)) in records.iter().enumerate() {
        if i == cut {
            wire.feed_into(*side, &record[..at], 1.0, &mut events);
            wire.gap_into(*side, missing as u64, 1.0, &mut events);
            wire.feed_into(*side, &record[at + missing..], 1.0, &mut events);
        } else {
            wire.feed_into(*side, record, 1.0, &mut events);
        }
    }
    events
}

#[test]
fn a_hole_inside_a_record_costs_the_message_it_cuts_only() {
    let run = handshake(&rustls::version::TLS12, ClientAuth::Presented, false);
    let packed = records_in(&run.chunks);
    let split = one_message_per_record(&packed);
    // 50 bytes of the server's Certificate, in the record of the whole flight or in its own.
    let flight = position(&packed, Side::Server, 22, 2);
    let hello_len = handshake::HANDSHAKE_HEADER + Reader(&packed[flight].1[6..9]).u24().unwrap();
    let in_packed = decode_with_hole(&packed, flight, RECORD_HEADER + hello_len + 100, 50);
    let in_split = decode_with_hole(&split, position(&split, Side::Server, 22, 11), 100, 50);
    for (events, record_count) in [(&in_packed, packed.len()), (&in_split, split.len())] {
        let summary = summary(events);
        assert!(!summary.iter().any(|s| s.starts_with("server certificate(")));
        for expected in [
            "server server_hello",
            "server server_key_exchange",
            "server certificate_request",
            "server server_hello_done",
            "client certificate(2)",
        ] {
            assert!(
                summary.iter().any(|s| s == expected),
                "{expected}: {summary:?}"
            );
        }
        assert!(
            notes_of(events)
                .iter()
                .any(|n| n.contains("server's Certificate is cut by the missing bytes")),
            "{events:#?}"
        );
        // Every record is counted, the cut one too; and a signature over messages the
        // capture lost is not checked, rather than found not to verify.
        assert_indices_consecutive(events);
        assert_eq!(records(events).len(), record_count);
        let verified: Vec<Option<bool>> = events
            .iter()
            .filter_map(|e| match &e.what {
                What::CertificateVerify { verified, .. } => Some(*verified),
                _ => None,
            })
            .collect();
        assert_eq!(verified, [None]);
    }
}

#[test]
fn a_hole_across_records_stops_decoding_until_records_resume() {
    let run = handshake(&rustls::version::TLS12, ClientAuth::Presented, false);
    let records = one_message_per_record(&records_in(&run.chunks));
    let certificate = position(&records, Side::Server, 22, 11);
    let key_exchange = position(&records, Side::Server, 22, 12);
    assert_eq!(key_exchange, certificate + 1);
    let decode = |resume: bool| {
        let mut wire = Wire::new();
        let mut events = Vec::new();
        for (i, (side, record)) in records.iter().enumerate() {
            if i == certificate {
                // From the middle of the Certificate to the middle of the ServerKeyExchange.
                wire.feed_into(*side, &record[..100], 1.0, &mut events);
                let missing = record.len() - 100 + 20;
                wire.gap_into(*side, missing as u64, 1.0, &mut events);
            } else if i == key_exchange {
                let rest = &record[20..];
                if resume {
                    wire.pass_over(*side, rest.len() as u64);
                    wire.resume_into(*side, 1.0, &mut events);
                } else {
                    wire.feed_into(*side, rest, 1.0, &mut events);
                }
            } else {
                wire.feed_into(*side, record, 1.0, &mut events);
            }
        }
        wire.end_into(Side::Server, 2.0, &mut events);
        events
    };
    let resumed = decode(true);
    let summary = summary(&resumed);
    assert!(summary.contains(&"server certificate_request".to_string()));
    assert!(summary.contains(&"server server_hello_done".to_string()));
    assert!(
        notes_of(&resumed)
            .iter()
            .any(|n| n.contains("records start again")),
        "{resumed:#?}"
    );
    // Told nothing, the decoder reads nothing more of the server, and calls nothing
    // "not TLS".
    let lost = decode(false);
    let server_after_gap: Vec<&Event> = lost
        .iter()
        .skip_while(|e| !matches!(e.what, What::CaptureGap { .. }))
        .filter(|e| e.from == Side::Server)
        .filter(|e| !matches!(e.what, What::Note { .. } | What::CaptureGap { .. }))
        .collect();
    assert!(server_after_gap.is_empty(), "{server_after_gap:#?}");
}

#[test]
fn a_hole_that_may_hold_the_change_cipher_spec_keeps_encrypted_alerts_encrypted() {
    let tls12 = || {
        let mut wire = Wire::new();
        let hello = message(2, &server_hello_body([1; 32], None, 0xc02b));
        wire.feed(Side::Server, &records_of(22, &hello, 1000), 0.0);
        wire
    };
    let after_a_hole = |wire: &mut Wire, bytes: &[u8]| {
        let mut events = Vec::new();
        wire.gap_into(Side::Client, 300, 1.0, &mut events);
        wire.resume_into(Side::Client, 1.0, &mut events);
        wire.feed_into(Side::Client, bytes, 1.0, &mut events);
        events
    };
    // An encrypted close_notify (AES-GCM: 26 bytes) read as plaintext would be 13 alerts.
    let mut wire = tls12();
    let encrypted: Vec<u8> = (0..26).map(|i| (i * 37 + 11) as u8).collect();
    let mut bytes = records_of(21, &encrypted, 100);
    // The encrypted Finished: not a plaintext handshake message.
    bytes.extend(records_of(22, &[0; 40], 100));
    let events = after_a_hole(&mut wire, &bytes);
    assert_eq!(
        records(&events),
        [(Side::Client, 2, 21, true), (Side::Client, 3, 22, true)]
    );
    assert!(summary(&events).iter().all(|s| !s.contains("alert(")));
    // A plaintext alert and handshake message are read as such.
    let mut wire = tls12();
    let mut bytes = records_of(22, &message(11, &[0, 0, 0]), 100);
    bytes.extend(records_of(21, &[2, 40], 100));
    let events = after_a_hole(&mut wire, &bytes);
    assert_eq!(
        summary(&events)[1..],
        [
            "client certificate(0)",
            "client alert(fatal, handshake_failure)"
        ]
    );
}

#[test]
fn after_a_hole_no_bytes_make_a_side_not_tls() {
    // Bytes that start no record, after a hole: the framing is lost, nothing is decoded.
    let mut wire = Wire::new();
    let mut events = Vec::new();
    wire.gap_into(Side::Server, 10, 0.0, &mut events);
    wire.resume_into(Side::Server, 0.0, &mut events);
    wire.feed_into(Side::Server, b"\x99 garbage", 0.0, &mut events);
    assert!(!events.iter().any(|e| matches!(e.what, What::NotTls { .. })));
    // Bytes that start no record at the start of a side's stream, in a capture that lost
    // bytes of that side and found its records again: damage, not a peer without TLS.
    let header = [0x16, 0x03, 0x03, 0x48, 0x01];
    let mut wire = Wire::new();
    wire.resumes_after_damage(Side::Server);
    let events = wire.feed(Side::Server, &header, 0.0);
    assert!(!events.iter().any(|e| matches!(e.what, What::NotTls { .. })));
    assert_eq!(notes_of(&events).len(), 1);
    // Without a loss it is not TLS, as before.
    let events = Wire::new().feed(Side::Server, &header, 0.0);
    assert!(matches!(events[0].what, What::NotTls { .. }));
}

#[test]
fn tls13_records_decrypt_again_after_records_went_missing() {
    let run = handshake(&rustls::version::TLS13, ClientAuth::Presented, false);
    let records = records_in(&run.chunks);
    let server_encrypted: Vec<usize> = (0..records.len())
        .filter(|&i| records[i].0 == Side::Server && records[i].1[0] == 23)
        .collect();
    // The server's encrypted handshake (its Finished with it), or its first record after.
    for (lost, recovery) in [
        (server_encrypted[0], "the end of its handshake"),
        (server_encrypted[1], "held 1 of its records"),
    ] {
        let mut wire = Wire::with_keys(Arc::new(KeyLog::parse(&run.keylog)));
        let mut events = Vec::new();
        for (i, (side, record)) in records.iter().enumerate() {
            if i == lost {
                wire.gap_into(*side, record.len() as u64, 1.0, &mut events);
                wire.resume_into(*side, 1.0, &mut events);
            } else {
                wire.feed_into(*side, record, 1.0, &mut events);
            }
        }
        assert!(
            notes_of(&events)
                .iter()
                .any(|n| n.contains("decrypt again") && n.contains(recovery)),
            "{events:#?}"
        );
        assert!(
            !notes_of(&events)
                .iter()
                .any(|n| n.contains("cannot be decrypted")),
            "{events:#?}"
        );
        // The client's records decrypt as ever.
        assert!(events.iter().any(|e| e.from == Side::Client
            && matches!(
                &e.what,
                What::Certificate {
                    seen: Seen::Decrypted,
                    ..
                }
            )));
    }
}

#[test]
fn oversized_handshake_messages_are_skipped_with_bounded_memory() {
    let mut wire = Wire::new();
    let declared = 1 << 20;
    let mut stream = vec![11];
    stream.extend_from_slice(&u24(declared));
    stream.extend(std::iter::repeat_n(0xab, declared));
    stream.extend(message(14, &[]));
    let bytes = records_of(22, &stream, record::MAX_BODY);
    let mut events = Vec::new();
    for piece in bytes.chunks(5000) {
        events.extend(wire.feed(Side::Server, piece, 0.0));
        assert!(wire.server.record.len() <= RECORD_HEADER + record::MAX_BODY);
        assert!(
            wire.server.handshake.buffered()
                <= handshake::HANDSHAKE_HEADER + handshake::MAX_MESSAGE_LEN + record::MAX_BODY
        );
    }
    let summary = summary(&events);
    assert_eq!(summary.len(), 2, "{summary:?}");
    assert!(summary[0].contains("declares 1048576 bytes"), "{summary:?}");
    assert_eq!(summary[1], "server server_hello_done");
}

/// A peer that never stops sending (warning alerts, then a fatal one) costs a bounded number
/// of events; the fatal alert that ends it is still shown, and what was left out is counted.
#[test]
fn a_flood_is_counted_not_shown() {
    let mut wire = Wire::new();
    let mut events = Vec::new();
    let flood: Vec<u8> = (0..5000).flat_map(|_| [21, 3, 3, 0, 2, 1, 100]).collect();
    for piece in flood.chunks(997) {
        wire.feed_into(Side::Server, piece, 1.0, &mut events);
    }
    wire.feed_into(Side::Server, &[21, 3, 3, 0, 2, 2, 40], 2.0, &mut events);
    wire.end_into(Side::Server, 3.0, &mut events);
    assert!(
        events.len() <= MAX_EVENTS_SHOWN + MAX_ALERTS_PAST_LIMIT + 1,
        "{} events",
        events.len()
    );
    let alerts = summary(&events);
    assert!(
        alerts
            .iter()
            .any(|line| line.contains("fatal") && line.contains("handshake_failure")),
        "the fatal alert is shown: {:?}",
        &alerts[alerts.len() - 3..]
    );
    let last = notes_of(&events)
        .pop()
        .expect("a note on what was left out");
    assert!(
        last.contains("records (") && last.contains("not shown"),
        "{last}"
    );
    let omitted: u64 = last.split(' ').next().unwrap().parse().unwrap();
    let shown = events
        .iter()
        .filter(|e| matches!(e.what, What::Record { .. }))
        .count() as u64;
    assert_eq!(shown + omitted, 5001, "every record is shown or counted");
}

/// Fewer than `max` random bytes.
fn bytes_below(rng: &mut Rng, max: usize) -> Vec<u8> {
    let n = rng.index(max);
    (0..n).map(|_| rng.next() as u8).collect()
}

fn random_side(rng: &mut Rng) -> Side {
    if rng.next() & 1 == 0 {
        Side::Client
    } else {
        Side::Server
    }
}

/// Feeds chunks cut into random pieces; checks only that nothing panics and memory stays
/// bounded.
fn feed_randomly(rng: &mut Rng, chunks: &[(Side, Vec<u8>)]) -> Vec<Event> {
    let mut wire = Wire::new();
    let mut events = Vec::new();
    for (side, bytes) in chunks {
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let (piece, tail) = rest.split_at(1 + rng.index(rest.len().min(3000)));
            events.extend(wire.feed(*side, piece, 0.0));
            rest = tail;
            for dir in [&wire.client, &wire.server] {
                assert!(dir.record.len() <= RECORD_HEADER + record::MAX_BODY);
                assert!(
                    dir.handshake.buffered()
                        <= handshake::HANDSHAKE_HEADER
                            + handshake::MAX_MESSAGE_LEN
                            + record::MAX_BODY
                );
            }
        }
    }
    events
}

/// How many events of each kind, by their serialised `kind` tag.
fn count_kinds(events: &[Event], counts: &mut std::collections::BTreeMap<String, usize>) {
    for event in events {
        let json = serde_json::to_value(&event.what).expect("json");
        let kind = json["kind"].as_str().expect("kind").to_string();
        *counts.entry(kind).or_default() += 1;
    }
}

#[test]
fn hostile_random_bytes() {
    let mut rng = Rng(0x1d0c_7e57_cafe_f00d);
    for _ in 0..300 {
        let chunks: Vec<_> = (0..1 + rng.index(8))
            .map(|_| (random_side(&mut rng), bytes_below(&mut rng, 2000)))
            .collect();
        feed_randomly(&mut rng, &chunks);
    }
}

/// Well-framed records holding random handshake messages, so the message decoders see junk.
#[test]
fn hostile_messages_in_valid_records() {
    let mut rng = Rng(0x5eed_0000_0000_0001);
    let types = [0, 1, 2, 4, 8, 11, 12, 13, 14, 15, 16, 20, 24, 99];
    let mut counts = std::collections::BTreeMap::new();
    for round in 0..300 {
        let mut chunks = Vec::new();
        // Half the rounds negotiate TLS 1.3 first, so the TLS 1.3 formats are tried too.
        let version = if round % 2 == 0 { Some(TLS13) } else { None };
        let random = if round % 3 == 0 {
            HELLO_RETRY_REQUEST_RANDOM
        } else {
            [9; 32]
        };
        let hello = message(2, &server_hello_body(random, version, 0xc02b));
        chunks.push((Side::Server, records_of(22, &hello, 1000)));
        for _ in 0..10 {
            let message_type = types[rng.index(types.len())];
            let mut body = bytes_below(&mut rng, 300);
            // Plausible leading lengths make the decoders go deeper.
            if body.len() > 4 && rng.index(2) == 0 {
                let inner = (body.len() - 3) as u32;
                body[..3].copy_from_slice(&inner.to_be_bytes()[1..]);
            }
            let content_type = [20, 21, 22, 22, 22, 23, 24][rng.index(7)];
            let bytes = records_of(
                content_type,
                &message(message_type, &body),
                1 + rng.index(400),
            );
            chunks.push((random_side(&mut rng), bytes));
        }
        count_kinds(&feed_randomly(&mut rng, &chunks), &mut counts);
    }
    // The junk did reach the message decoders.
    for kind in ["note", "handshake", "alert"] {
        assert!(
            counts.get(kind).is_some_and(|&n| n > 10),
            "{kind}: {counts:?}"
        );
    }
}

#[test]
fn hostile_mutated_handshakes() {
    let runs = [
        handshake(&rustls::version::TLS12, ClientAuth::Presented, false),
        handshake(&rustls::version::TLS12, ClientAuth::Anonymous, false),
        handshake(&rustls::version::TLS13, ClientAuth::Presented, true),
    ];
    let mut rng = Rng(0xbad_5eed_0bad_5eed);
    let mut counts = std::collections::BTreeMap::new();
    for run in &runs {
        for _ in 0..150 {
            let mut chunks = run.chunks.clone();
            for _ in 0..1 + rng.index(4) {
                let which = rng.index(chunks.len());
                let bytes = &mut chunks[which].1;
                match rng.index(4) {
                    0 if !bytes.is_empty() => {
                        let at = rng.index(bytes.len());
                        bytes[at] ^= 1 << rng.index(8);
                    }
                    1 if !bytes.is_empty() => {
                        let at = rng.index(bytes.len());
                        bytes[at] = rng.next() as u8;
                    }
                    2 => bytes.truncate(rng.index(bytes.len() + 1)),
                    _ => {
                        chunks.remove(which);
                    }
                }
                if chunks.is_empty() {
                    break;
                }
            }
            count_kinds(&feed_randomly(&mut rng, &chunks), &mut counts);
        }
    }
    for kind in ["note", "handshake", "certificate", "certificate_request"] {
        assert!(
            counts.get(kind).is_some_and(|&n| n > 10),
            "{kind}: {counts:?}"
        );
    }
    // "not TLS" is not among them: only a damaged first header makes a side so (later ones
    // lose the framing), which the tests of not_tls cover.
}

#[test]
fn tls13_with_a_key_log_is_decoded_and_both_signatures_are_checked() {
    let run = handshake(&rustls::version::TLS13, ClientAuth::Presented, false);
    let keys = Arc::new(KeyLog::parse(&run.keylog));
    let mut wire = Wire::with_keys(keys);
    let mut events = Vec::new();
    for (at, (side, bytes)) in run.chunks.iter().enumerate() {
        events.extend(wire.feed(*side, bytes, at as f64));
    }
    let decrypted = |from: Side, kind: &str| {
        events
            .iter()
            .filter(|e| e.from == from && format!("{:?}", e.what).starts_with(kind))
            .count()
    };
    assert_eq!(
        decrypted(Side::Server, "CertificateRequest"),
        1,
        "{events:#?}"
    );
    assert_eq!(decrypted(Side::Server, "Certificate {"), 1);
    assert_eq!(decrypted(Side::Client, "Certificate {"), 1);
    let verifies: Vec<(Side, Option<bool>, Seen)> = events
        .iter()
        .filter_map(|e| match &e.what {
            What::CertificateVerify { verified, seen, .. } => Some((e.from, *verified, *seen)),
            _ => None,
        })
        .collect();
    assert_eq!(
        verifies,
        [
            (Side::Server, Some(true), Seen::Decrypted),
            (Side::Client, Some(true), Seen::Decrypted)
        ]
    );
    let finished = events
        .iter()
        .filter(|e| {
            matches!(
                &e.what,
                What::Handshake {
                    message: Handshake::Finished,
                    ..
                }
            )
        })
        .count();
    assert_eq!(finished, 2, "both Finished messages decrypted");
    assert!(
        !events.iter().any(|e| matches!(&e.what, What::Note { .. })),
        "{events:#?}"
    );
}

#[test]
fn tls13_with_the_wrong_key_log_says_so_once() {
    let run = handshake(&rustls::version::TLS13, ClientAuth::Presented, false);
    let other = handshake(&rustls::version::TLS13, ClientAuth::Presented, false);
    let mut wire = Wire::with_keys(Arc::new(KeyLog::parse(&other.keylog)));
    let mut events = Vec::new();
    for (at, (side, bytes)) in run.chunks.iter().enumerate() {
        events.extend(wire.feed(*side, bytes, at as f64));
    }
    let notes: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(&e.what, What::Note { .. }))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert!(format!("{:?}", notes[0].what).contains("no TLS 1.3 secrets for this connection"));
}
/// A signature verifies only with its own key, bytes and signature: changing any one of them
/// makes the check fail.
#[test]
fn signature_checks_need_the_key_bytes_and_signature_that_made_them() {
    let provider = aws_lc_rs::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key("client-ec.key"))
        .expect("key");
    let scheme = rustls::SignatureScheme::ECDSA_NISTP256_SHA256;
    let signer = signing_key.choose_scheme(&[scheme]).expect("scheme");
    let message = b"handshake messages".to_vec();
    let signature = signer.sign(&message).expect("sign");
    let cert = CertInfo::from_der(&certs("client-ec.pem")[0]).expect("cert");
    let other = CertInfo::from_der(&certs("server.pem")[0]).expect("cert");
    let check = |cert: &CertInfo, message: &[u8], signature: &[u8]| {
        SignatureCheck {
            cert: cert.clone(),
            scheme: u16::from(scheme),
            message: message.to_vec(),
            signature: signature.to_vec(),
        }
        .run()
        .0
    };
    let mut tampered = signature.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(check(&cert, &message, &signature), Some(true));
    assert_eq!(check(&cert, b"other messages", &signature), Some(false));
    assert_eq!(check(&cert, &message, &tampered), Some(false));
    assert_eq!(check(&other, &message, &signature), Some(false));
}

/// Below TLS 1.3, an alert record after a change_cipher_spec that was not seen is encrypted: an
/// 18-byte ChaCha20 alert is one record, not nine alerts.
#[test]
fn an_alert_record_that_holds_no_plaintext_alert_is_encrypted() {
    let mut record = vec![0x15, 0x03, 0x03, 0x00, 18];
    record.extend([
        0x5c, 0x1f, 0x93, 0x02, 0xa8, 0x41, 0x07, 0xee, 0x12, 0x9b, 0x33, 0xd0, 0x6a, 0x80, 0x01,
        0xc4, 0x75, 0x2e,
    ]);
    let events = Wire::new().feed(Side::Client, &record, 1.0);
    assert!(
        !events.iter().any(|e| matches!(e.what, What::Alert { .. })),
        "{events:?}"
    );
    assert_eq!(records(&events), [(Side::Client, 1, 21, true)]);
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.what, What::Note { message } if message.contains("encrypted"))),
        "{events:?}"
    );
    // Two plaintext alerts in one record are still read.
    let events = Wire::new().feed(Side::Server, &[0x15, 3, 3, 0, 4, 1, 100, 2, 40], 1.0);
    assert_eq!(
        summary(&events),
        [
            "server alert(warning, no_renegotiation)",
            "server alert(fatal, handshake_failure)"
        ]
    );
}

/// A second ClientHello that no HelloRetryRequest asked for is noted; the one that answers a
/// HelloRetryRequest is not.
#[test]
fn a_second_client_hello_not_asked_for_is_noted() {
    let second = |events: &[Event]| {
        events.iter().any(
            |e| matches!(&e.what, What::Note { message } if message.contains("second ClientHello")),
        )
    };
    let run = handshake(&rustls::version::TLS12, ClientAuth::NotAsked, false);
    let hello = &run.chunks[0];
    assert_eq!(hello.0, Side::Client);
    let (_, events) = decode(&[hello.clone(), hello.clone()]);
    assert!(second(&events), "{events:?}");
    let retried = handshake(&rustls::version::TLS13, ClientAuth::NotAsked, true);
    let (_, events) = decode(&retried.chunks);
    assert!(!second(&events), "{events:?}");
}
