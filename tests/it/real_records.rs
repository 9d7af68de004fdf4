//! `iotdoctor analyze` on real captures (fixtures/pcaps/gen-records.sh) whose verdict rests on
//! what records are, read from their sizes and types when their content is hidden: a TLS 1.3
//! client's alert in place of its Finished, a refused TLS 1.2 renegotiation, small TLS 1.3
//! records that are data and not alerts, and handshakes that stop early.

use crate::common::*;
use serde_json::Value;

fn analyze(capture: &str) -> (i32, Value) {
    let path = pcap(&format!("{capture}.pcap"));
    iotdoctor_json(&["analyze", path.as_str()])
}

/// The only handshake of a one-connection capture.
fn handshake(report: &Value) -> &Value {
    let handshakes = report["handshakes"].as_array().expect("handshakes");
    assert_eq!(handshakes.len(), 1, "{report:#}");
    &handshakes[0]
}

fn top(report: &Value) -> (&str, f64, String) {
    let cause = &handshake(report)["diagnosis"]["causes"][0];
    let evidence = cause["evidence"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    (
        cause["id"].as_str().unwrap_or("(none)"),
        cause["confidence"].as_f64().unwrap_or(0.0),
        evidence,
    )
}

/// `analyze` of a capture whose handshake must have failed (exit code 1, outcome problems).
fn analyze_problems(capture: &str) -> Value {
    let (code, report) = analyze(capture);
    assert_eq!(code, 1, "{capture}: {report:#}");
    assert_eq!(handshake(&report)["outcome"], "problems", "{capture}");
    report
}

#[test]
fn a_tls13_client_alert_in_place_of_its_finished_is_a_refusal_of_the_server() {
    // GnuTLS refuses the server's certificate (a CA it does not trust) with one encrypted
    // 19-byte record: no key log, so only its size says it is an alert and not a Finished.
    let report = analyze_problems("tls13-gnutls-refuses-server");
    let (id, confidence, evidence) = top(&report);
    assert_eq!(id, "server-ca-untrusted", "{report:#}");
    assert!((0.4..0.8).contains(&confidence), "{confidence}");
    assert!(
        evidence.contains("19 bytes")
            && evidence.contains("alert instead of finishing")
            && evidence.contains("not known"),
        "{evidence}"
    );
    // OpenSSL's client sends the same refusal as a plaintext alert 48: read as before.
    let report = analyze_problems("tls13-client-refuses-server");
    assert_eq!(top(&report).0, "server-ca-untrusted");
}

#[test]
fn a_capture_that_ends_after_a_hello_retry_is_incomplete() {
    let report = analyze_problems("hrr-cut-after-server-hello");
    let (id, _, evidence) = top(&report);
    assert_eq!(id, "handshake-incomplete", "{report:#}");
    assert!(evidence.contains("last flight"), "{evidence}");
}

#[test]
fn an_undecodable_client_hello_without_an_answer_is_not_ok() {
    let report = analyze_problems("undecodable-hello");
    let (id, _, evidence) = top(&report);
    assert_eq!(id, "handshake-incomplete", "{report:#}");
    assert!(
        evidence.contains("could be decoded") && evidence.contains("sent no answer"),
        "{evidence}"
    );
}

#[test]
fn a_refused_renegotiation_is_a_failure_after_the_handshake() {
    for (capture, alert) in [
        ("renegotiation-refused-gcm", "26 bytes"),
        ("renegotiation-refused-chacha", "18 bytes"),
    ] {
        let report = analyze_problems(capture);
        let (id, _, evidence) = top(&report);
        assert_eq!(id, "alert-unexplained", "{capture}: {report:#}");
        assert!(
            evidence.contains("asked to renegotiate")
                && evidence.contains(&format!("encrypted alert record of {alert}"))
                && evidence.contains("failed after the handshake"),
            "{capture}: {evidence}"
        );
        // Encrypted alerts are never read as plaintext ones.
        let alerts = events_of(&report["handshakes"][0], "server", "alert");
        assert!(alerts.is_empty(), "{capture}: {alerts:?}");
    }
}

#[test]
fn small_tls13_server_records_after_the_handshake_are_not_alerts() {
    // Six bytes of data (23 encrypted) and a bare MQTT CONNACK (4 bytes, 21 encrypted), each the
    // server's only record after the handshake, then a close: a good session both times.
    for capture in ["tls13-server-says-hello", "tls13-bare-connack"] {
        let (code, report) = analyze(capture);
        assert_eq!(code, 0, "{capture}: {report:#}");
        assert_eq!(handshake(&report)["outcome"], "ok", "{capture}");
    }
}
