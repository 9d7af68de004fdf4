//! `iotdoctor connect` against an in-process rustls server on loopback: mutual TLS that works,
//! a missing client certificate, and a TLS 1.3 server that sends nothing after the handshake
//! (the verdict on the client certificate must then be forced, not waited for).

use std::io::Read;
use std::sync::Arc;

use crate::common::*;
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// A server requiring a client certificate of the fixture root, sending `tickets` TLS 1.3
/// session tickets after the handshake.
fn server_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    tickets: usize,
) -> ServerConfig {
    let mut config = rustls_server_config(versions, true);
    config.send_tls13_tickets = tickets;
    config
}

/// Serves one connection with rustls in a thread: handshake, then read until the client leaves.
fn rustls_server(config: ServerConfig) -> u16 {
    tcp_server(move |stream| {
        let conn = ServerConnection::new(Arc::new(config)).unwrap();
        let mut tls = StreamOwned::new(conn, stream);
        let mut buf = [0u8; 1024];
        while let Ok(n) = tls.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    })
}

fn connect(port: u16, version: &str, with_cert: bool) -> (i32, serde_json::Value) {
    connect_with(port, &["--tls", version], with_cert)
}

fn connect_with(port: u16, extra: &[&str], with_cert: bool) -> (i32, serde_json::Value) {
    let (root, cert, key) = (
        pki("root-ca.pem"),
        pki("client-ec-chain.pem"),
        pki("client-ec.key"),
    );
    let mut args = vec!["--ca", &root, "--sni", "localhost"];
    if with_cert {
        args.extend(["--cert", &cert, "--key", &key]);
    }
    args.extend_from_slice(extra);
    connect_json(&format!("127.0.0.1:{port}"), &args)
}

#[test]
fn mutual_tls_with_rustls() {
    for (version, versions) in [
        ("1.2", [&rustls::version::TLS12]),
        ("1.3", [&rustls::version::TLS13]),
    ] {
        let port = rustls_server(server_config(&versions, 2));
        let (code, report) = connect(port, version, true);
        assert_eq!(code, 0, "TLS {version}: {report:#}");
        assert_eq!(report["outcome"], "ok");
    }
}

#[test]
fn missing_client_certificate_with_rustls() {
    for (version, versions) in [
        ("1.2", [&rustls::version::TLS12]),
        ("1.3", [&rustls::version::TLS13]),
    ] {
        let port = rustls_server(server_config(&versions, 2));
        let (code, report) = connect(port, version, false);
        assert_eq!(code, 1, "TLS {version}: {report:#}");
        assert_eq!(
            top_cause(&report),
            Some("client-cert-not-sent"),
            "TLS {version}: {:?}",
            cause_ids(&report)
        );
    }
}

#[test]
fn silent_tls13_server_leaves_the_verdict_unconfirmed_after_the_grace_period() {
    let port = rustls_server(server_config(&[&rustls::version::TLS13], 0));
    let (code, report) = connect_with(port, &["--grace", "0.3"], true);
    assert_eq!(code, 0, "no alert came: the handshake stands: {report:#}");
    let notes: Vec<String> = events_of(&report, "client", "note")
        .iter()
        .map(|n| n["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("sent nothing within 300 ms") && n.contains("not confirmed")),
        "{notes:?}"
    );
}

#[test]
fn tickets_settle_the_tls13_verdict_without_waiting_for_the_grace_period() {
    let port = rustls_server(server_config(&[&rustls::version::TLS13], 2));
    let started = std::time::Instant::now();
    let (code, report) = connect_with(port, &["--grace", "30"], true);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the first ticket settles it, not the 30 s grace"
    );
    let notes = events_of(&report, "client", "note");
    assert!(
        notes.iter().any(|n| n["message"]
            .as_str()
            .unwrap()
            .contains("accepted the handshake")),
        "{notes:?}"
    );
}
