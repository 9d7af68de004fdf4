//! `iotdoctor probe`'s ClientHellos of its own against real servers on loopback: the suites
//! rustls cannot offer (CCM, CCM_8, CBC, RSA key exchange, PSK) each alone, and
//! max_fragment_length 512, which openssl s_server and gnutls-serv honour and rustls ignores.

use crate::common::*;
use serde_json::Value;

fn probe(endpoint: &str, extra: &[&str]) -> Value {
    let mut args = vec!["probe", endpoint];
    args.extend_from_slice(extra);
    let (code, report) = iotdoctor_json(&args);
    assert_eq!(code, 0, "{report:#}");
    let connections = report["probe"]["connections"].as_u64().unwrap();
    assert!(connections <= 60, "{connections} connections");
    report
}

fn suite<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["probe"]["cipher_suites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name}: {report:#}"))
}

fn results(report: &Value, result: &str) -> Vec<String> {
    report["probe"]["cipher_suites"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == result)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn probe_offers_the_ccm_suites_rustls_lacks_and_reads_openssls_answer() {
    let server = OpenSslServer::start(&[
        "-cipher",
        "ECDHE-ECDSA-AES128-CCM8",
        "-ciphersuites",
        "TLS_AES_128_CCM_8_SHA256:TLS_AES_128_GCM_SHA256",
        "-naccept",
        "100",
    ]);
    let report = probe(&server.endpoint(), &[]);
    let ccm8 = suite(&report, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8");
    assert_eq!(ccm8["result"], "accepted", "{report:#}");
    assert_eq!(ccm8["version"], "TLSv1.2");
    assert!(
        ccm8["detail"]
            .as_str()
            .unwrap()
            .contains("the handshake not completed"),
        "{ccm8}"
    );
    let tls13 = suite(&report, "TLS_AES_128_CCM_8_SHA256");
    assert_eq!(tls13["result"], "accepted", "{report:#}");
    assert_eq!(tls13["version"], "TLSv1.3");
    assert_eq!(
        results(&report, "accepted"),
        [
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_128_CCM_8_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"
        ]
    );
    let ccm = suite(&report, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM");
    assert_eq!(ccm["result"], "refused");
    assert!(
        ccm["detail"]
            .as_str()
            .unwrap()
            .starts_with("alert 40 handshake_failure"),
        "{ccm}"
    );
    assert_eq!(
        suite(&report, "TLS_AES_128_CCM_SHA256")["result"],
        "refused"
    );
    assert!(results(&report, "not-tested").is_empty(), "{report:#}");
    assert!(results(&report, "unknown").is_empty(), "{report:#}");
}

#[test]
fn probe_reports_a_ccm8_suite_refused_by_a_server_without_it() {
    let server = OpenSslServer::start(&[
        "-no_tls1_3",
        "-cipher",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "-naccept",
        "100",
    ]);
    let report = probe(&server.endpoint(), &[]);
    assert_eq!(
        suite(&report, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8")["result"],
        "refused",
        "{report:#}"
    );
    assert_eq!(
        results(&report, "accepted"),
        ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
    );
    assert!(results(&report, "not-tested").is_empty(), "{report:#}");
}

#[test]
fn openssl_honours_max_fragment_length_and_the_text_says_so() {
    let server = OpenSslServer::start(&["-naccept", "100"]);
    let report = probe(&server.endpoint(), &[]);
    let mfl = &report["probe"]["max_fragment_length"];
    assert_eq!(mfl["requested"], 512, "{report:#}");
    assert_eq!(mfl["result"], "honoured", "{mfl}");

    let run = iotdoctor(&["probe", &server.endpoint()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Max fragment length (RFC 6066, TLS 1.2)"),
        "{}",
        run.stdout
    );
    let line = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("512 bytes"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(line.contains("honoured"), "{line}");
}

#[test]
fn gnutls_honours_max_fragment_length_and_takes_ccm_but_not_ccm8() {
    let server = gnutls_server(&[]);
    let report = probe(&server.endpoint(), &[]);
    assert_eq!(
        report["probe"]["max_fragment_length"]["result"], "honoured",
        "{report:#}"
    );
    // GnuTLS's default priorities (NORMAL) have CCM, not CCM_8.
    assert_eq!(
        suite(&report, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM")["result"],
        "accepted"
    );
    assert_eq!(
        suite(&report, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8")["result"],
        "refused"
    );
}

/// A rustls server (which has no max_fragment_length) serving each connection for up to 30 s.
fn rustls_server() -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::sync::Arc;

    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(pki("server-chain.pem"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let config = Arc::new(config);
    serve_rustls(config)
}

#[test]
fn a_rustls_server_ignores_max_fragment_length() {
    let port = rustls_server();
    let report = probe(&format!("127.0.0.1:{port}"), &[]);
    let mfl = &report["probe"]["max_fragment_length"];
    assert_eq!(mfl["result"], "ignored", "{report:#}");
    assert!(mfl["detail"].as_str().unwrap().contains("16384"), "{mfl}");
    // rustls has no suite of these: each is refused, none left untested.
    assert_eq!(
        suite(&report, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA")["result"],
        "refused"
    );
    assert!(results(&report, "not-tested").is_empty(), "{report:#}");
}
