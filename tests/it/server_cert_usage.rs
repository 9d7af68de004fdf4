//! Server certificates that verify yet may not serve as one, against real `openssl s_server`
//! processes: one with only the clientAuth extended key usage, and a self-signed CA certificate
//! (what `openssl req -x509` makes) given to the device as its CA, as home brokers often are.

use std::process::Command;

use serde_json::Value;

use crate::common::*;

fn connect_to(server: &OpenSslServer, ca: &str) -> Value {
    let (code, report) = connect_json(&server.endpoint(), &["--ca", ca, "--sni", "localhost"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_cause(&report), Some("server-cert-usage"), "{report:#}");
    report
}

#[test]
fn a_server_certificate_for_client_authentication_only_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut request = vec!["req", "-new"];
    request.extend(NEW_EC_KEY);
    request.extend([
        "-keyout",
        "server.key",
        "-subj",
        "/CN=localhost",
        "-out",
        "server.csr",
    ]);
    openssl_in(dir.path(), &request);
    std::fs::write(
        dir.path().join("ext.cnf"),
        "subjectAltName=DNS:localhost\nextendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    let (ca, ca_key) = (pki("intermediate-ca.pem"), pki("intermediate-ca.key"));
    openssl_in(
        dir.path(),
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            // The serial file in the temporary directory, not beside the fixture CA.
            "-CAserial",
            "ca.srl",
            "-CAcreateserial",
            "-days",
            "365",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.pem",
        ],
    );
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (cert, key) = (path("server.pem"), path("server.key"));
    let server = OpenSslServer::start(&["-cert", &cert, "-key", &key, "-cert_chain", &ca]);
    let report = connect_to(&server, &pki("root-ca.pem"));
    let evidence = report["diagnosis"]["causes"][0]["evidence"].to_string();
    assert!(
        evidence.contains("extended key usage clientAuth"),
        "{evidence}"
    );
}

#[test]
fn a_self_signed_ca_certificate_as_the_servers_own_is_named_not_unexplained() {
    let dir = tempfile::tempdir().unwrap();
    let mut request = vec!["req", "-x509"];
    request.extend(NEW_EC_KEY);
    request.extend([
        "-keyout",
        "broker.key",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-days",
        "365",
        "-out",
        "broker.pem",
    ]);
    openssl_in(dir.path(), &request);
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (cert, key) = (path("broker.pem"), path("broker.key"));
    let server = OpenSslServer::start(&["-cert", &cert, "-key", &key]);
    let report = connect_to(&server, &cert);
    let evidence = report["diagnosis"]["causes"][0]["evidence"].to_string();
    assert!(
        evidence.contains(
            "a CA certificate (basicConstraints CA:TRUE) used as the peer's own certificate"
        ),
        "{evidence}"
    );
    // A device on OpenSSL with the same file as its CA connects: the report says so.
    assert!(
        evidence.contains("a device may connect where iotdoctor cannot"),
        "{evidence}"
    );
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &server.endpoint(), "-CAfile", &cert])
        .args(["-verify_return_error", "-servername", "localhost", "-brief"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        !report.to_string().contains("CaUsedAsEndEntity"),
        "{report:#}"
    );
}
