//! `iotdoctor connect` when the other end is not a working TLS server: nothing listening, an HTTP
//! server, a server that never answers, a server that hangs up. All on loopback.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

/// A server on loopback that reads what the client sends first, answers `answer` and hangs up.
fn answers_once(answer: &'static [u8]) -> u16 {
    tcp_server(move |mut stream| {
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf);
        let _ = stream.write_all(answer);
    })
}

/// `connect` to a port of the loopback address.
fn connect_port(port: u16) -> (i32, Value) {
    connect_json(&format!("127.0.0.1:{port}"), &[])
}

#[test]
fn closed_port_is_connect_refused_with_exit_code_4() {
    let port = free_port();
    let (code, report) = connect_port(port);
    assert_eq!(code, 4, "{report:#}");
    assert_top_cause(&report, "connect-refused");
    let kinds = event_kinds(&report);
    assert!(
        !kinds.iter().any(|k| k.ends_with(":connected")),
        "{kinds:?}"
    );
}

#[test]
fn an_ipv6_endpoint_is_reported_in_brackets() {
    let port = free_port();
    let endpoint = format!("[::1]:{port}");
    let (code, report) = connect_json(&endpoint, &[]);
    assert_eq!(code, 4, "{report:#}");
    assert_eq!(report["target"]["endpoint"], endpoint.as_str());
}

#[test]
fn unresolvable_name_is_dns_failed_with_exit_code_4() {
    // `.invalid` is reserved (RFC 6761): it never resolves, and the resolver answers locally.
    let (code, report) = connect_json("no-such-host.invalid:8883", &[]);
    assert_eq!(code, 4, "{report:#}");
    assert_top_cause(&report, "dns-failed");
}

#[test]
fn http_server_is_not_tls() {
    let port =
        answers_once(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let (code, report) = connect_port(port);
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "not-tls");
    let not_tls = events_of(&report, "server", "not_tls");
    assert!(
        not_tls[0]["preview"]
            .as_str()
            .unwrap()
            .starts_with("HTTP/1.1 400"),
        "{not_tls:?}"
    );
    assert_evidence_says(&report, &["an HTTP server"]);
}

#[test]
fn an_http_server_s_cookie_is_not_copied_into_the_report() {
    let port = answers_once(
        b"HTTP/1.1 401 Unauthorized\r\nSet-Cookie: sid=0ddc0ffee\r\nContent-Length: 0\r\n\r\n",
    );
    let (_, report) = connect_port(port);
    assert_top_cause(&report, "not-tls");
    let preview = events_of(&report, "server", "not_tls")[0]["preview"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        preview.starts_with("HTTP/1.1 401 Unauthorized\\x0d\\x0aSet-Cookie: (not shown)"),
        "{preview}"
    );
    assert!(!report.to_string().contains("0ddc0ffee"), "{report:#}");
}

#[test]
fn plain_mqtt_broker_is_not_tls() {
    // CONNACK, return code 1: what a plain MQTT broker answers to bytes it cannot parse.
    let port = answers_once(&[0x20, 0x02, 0x00, 0x01]);
    let (_, report) = connect_port(port);
    assert_top_cause(&report, "not-tls");
    assert_evidence_says(&report, &["MQTT"]);
}

#[test]
fn silent_server_times_out_within_the_timeout() {
    let port = tcp_server(|mut stream| {
        until_client_leaves(&mut stream, Duration::from_secs(10));
    });
    let started = Instant::now();
    let (code, report) = iotdoctor_json(&[
        "connect",
        "--endpoint",
        &format!("127.0.0.1:{port}"),
        "--timeout",
        "1",
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the timeout bounds the wait"
    );
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "timeout");
}

#[test]
fn server_that_hangs_up_after_the_client_hello_is_peer_closed() {
    let port = tcp_server(|mut stream| {
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        drop(stream);
    });
    let (code, report) = connect_port(port);
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "peer-closed");
    assert_evidence_says(&report, &["after the client's ClientHello"]);
}
