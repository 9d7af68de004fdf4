//! Peers that do not speak TLS, for real: an echo service answering `connect`, a plain MQTT
//! broker, and captures of plain-text clients and of TLS started after a plain-text dialogue.

use std::io::{Read, Write};

use crate::common::*;

/// A TCP echo service: every byte the client sends comes back.
fn echo_server() -> u16 {
    tcp_server(|mut stream| {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 || stream.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    })
}

#[test]
fn connect_to_an_echo_service_is_not_tls() {
    let port = echo_server();
    let (code, report) = connect_json(&format!("127.0.0.1:{port}"), &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_cause(&report), Some("not-tls"), "{report:#}");
    let evidence = top_evidence(&report);
    assert!(evidence.contains("client's own random"), "{evidence}");
    assert!(evidence.contains("echo service"), "{evidence}");
}

/// A mosquitto broker with one plain-text (no TLS) listener on a loopback port.
fn plain_broker() -> Mosquitto {
    Mosquitto::start(MqttListener::Plain, "allow_anonymous true")
}

#[test]
fn connect_mqtt_to_a_plain_broker_probes_once_and_names_it() {
    let broker = plain_broker();
    let (code, report) = connect_json(&format!("127.0.0.1:{}", broker.port()), &["--mqtt"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_cause(&report), Some("not-tls"), "{report:#}");
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("this port speaks plain MQTT"),
        "{evidence}"
    );
    assert!(evidence.contains("CONNACK 0"), "{evidence}");
    let probes: Vec<String> = notes(&report)
        .into_iter()
        .filter(|n| n.contains("iotdoctor-probe"))
        .collect();
    assert_eq!(probes.len(), 1, "{report:#}");
}

#[test]
fn without_mqtt_on_another_port_no_probe_is_made() {
    let broker = plain_broker();
    let (code, report) = connect_json(&format!("127.0.0.1:{}", broker.port()), &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_cause(&report), Some("peer-closed"), "{report:#}");
    assert!(
        !notes(&report).iter().any(|n| n.contains("iotdoctor-probe")),
        "{report:#}"
    );
}

/// `analyze --format json` of a capture made by fixtures/pcaps/gen-not-tls.sh.
fn analyze(name: &str) -> serde_json::Value {
    let (_, report) = iotdoctor_json(&["analyze", &pcap(name)]);
    report
}

#[test]
fn a_plain_mqtt_client_against_a_tls_listener_is_not_tls() {
    let report = analyze("plain-mqtt-to-tls.pcap");
    let handshakes = report["handshakes"].as_array().unwrap();
    assert_eq!(handshakes.len(), 1, "{report:#}");
    assert_eq!(handshakes[0]["outcome"], "problems", "{report:#}");
    assert_eq!(top_cause(&handshakes[0]), Some("not-tls"), "{report:#}");
    let evidence = top_evidence(&handshakes[0]);
    assert!(
        evidence.contains("MQTT 3.1.1 CONNECT in plain text"),
        "{evidence}"
    );
    assert!(evidence.contains("client id 'plain-device'"), "{evidence}");
    assert!(
        evidence.contains("reset the connection without answering"),
        "{evidence}"
    );
    assert_eq!(report["outcome"], "problems");
}

#[test]
fn tls_after_starttls_and_tunnels_is_found_and_named() {
    let report = analyze("starttls.pcap");
    let handshakes = report["handshakes"].as_array().unwrap();
    let names = [
        "SMTP (STARTTLS)",
        "POP3 (STLS)",
        "IMAP (STARTTLS)",
        "XMPP (STARTTLS)",
        "PostgreSQL (SSLRequest)",
        "MySQL (SSL request)",
        "LDAP (StartTLS)",
        "an HTTP CONNECT tunnel",
        "a SOCKS5 tunnel",
    ];
    assert_eq!(handshakes.len(), names.len(), "{report:#}");
    for (handshake, name) in handshakes.iter().zip(names) {
        let notes = notes(handshake);
        assert!(
            notes
                .iter()
                .any(|n| n.contains(&format!("{name} upgraded the connection to TLS"))),
            "{name}: {notes:?}"
        );
        // The handshake after the plain text is decoded: a ServerHello, and the verdict.
        assert!(
            !events_of(handshake, "server", "handshake").is_empty(),
            "{name}: {handshake:#}"
        );
        assert_eq!(handshake["outcome"], "ok", "{name}: {handshake:#}");
    }
}

#[test]
fn an_sslv2_format_client_hello_is_decoded_and_named() {
    let report = analyze("sslv2-hello.pcap");
    let handshakes = report["handshakes"].as_array().unwrap();
    assert_eq!(handshakes.len(), 1, "{report:#}");
    assert_eq!(top_cause(&handshakes[0]), Some("not-tls"), "{report:#}");
    let evidence = top_evidence(&handshakes[0]);
    assert!(evidence.contains("SSLv2-compatible format"), "{evidence}");
    assert!(evidence.contains("highest version TLSv1.2"), "{evidence}");
    assert!(
        evidence.contains("TLS_RSA_WITH_AES_128_CBC_SHA"),
        "{evidence}"
    );
}

#[test]
fn flows_without_tls_are_counted_and_named() {
    let report = analyze("plain-flows.pcap");
    let notes = report["capture"]["notes"].to_string();
    assert!(
        notes.contains("3 TCP connection(s) without a TLS handshake from their start: plain MQTT, HTTP, unknown"),
        "{report:#}"
    );
    // A plain MQTT client and its plain broker agree: nothing to report about TLS.
    assert_eq!(report["handshakes"].as_array().map(Vec::len), Some(0));
}
