//! `iotdoctor connect` against an in-process rustls server on loopback: mutual TLS that works,
//! a missing client certificate, and a TLS 1.3 server that sends nothing after the handshake
//! (the verdict on the client certificate must then be forced, not waited for).

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;

use common::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

fn server_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    tickets: usize,
) -> ServerConfig {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(pki("root-ca.pem")).unwrap())
        .unwrap();
    let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .unwrap();
    let chain: Vec<CertificateDer> = CertificateDer::pem_file_iter(pki("server-chain.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(pki("server.key")).unwrap();
    let mut config = ServerConfig::builder_with_protocol_versions(versions)
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    config.send_tls13_tickets = tickets;
    config
}

/// Serves one connection with rustls in a thread: handshake, then read until the client leaves.
fn rustls_server(config: ServerConfig) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let conn = ServerConnection::new(Arc::new(config)).unwrap();
        let mut tls = StreamOwned::new(conn, stream);
        let mut buf = [0u8; 1024];
        while let Ok(n) = tls.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    });
    port
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
