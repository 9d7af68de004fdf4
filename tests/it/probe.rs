//! `iotdoctor probe` against real servers on loopback restricted to a few versions, suites,
//! groups and schemes (openssl s_server, gnutls-serv, mosquitto): the probe must report exactly
//! what each allows.

use crate::common::*;
use serde_json::Value;

fn probe_json(endpoint: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["probe", endpoint];
    args.extend_from_slice(extra);
    iotdoctor_json(&args)
}

/// The names of one section's checks that came out `result`.
fn named(report: &Value, section: &str, result: &str) -> Vec<String> {
    report["probe"][section]
        .as_array()
        .unwrap_or_else(|| panic!("no probe.{section}: {report:#}"))
        .iter()
        .filter(|c| c["result"] == result)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn check<'a>(report: &'a Value, section: &str, name: &str) -> &'a Value {
    report["probe"][section]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in probe.{section}: {report:#}"))
}

#[test]
fn probe_reports_exactly_what_an_openssl_server_allows() {
    let root = pki("root-ca.pem");
    let server = OpenSslServer::start(&[
        "-ciphersuites",
        "TLS_AES_128_GCM_SHA256",
        "-cipher",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "-groups",
        "P-256",
        "-sigalgs",
        "ecdsa_secp256r1_sha256",
        "-alpn",
        "mqtt",
        "-Verify",
        "1",
        "-CAfile",
        &root,
        "-naccept",
        "100",
    ]);
    let (code, report) = probe_json(&server.endpoint(), &["--ca", &root]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["command"], "probe");
    assert_eq!(report["probe"]["chain"]["verified"], true, "{report:#}");
    assert_eq!(
        named(&report, "versions", "accepted"),
        ["TLSv1.2", "TLSv1.3"]
    );
    assert_eq!(
        named(&report, "cipher_suites", "accepted"),
        [
            "TLS_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
        ]
    );
    // 7 of rustls's suites, and the 11 offered in iotdoctor's own ClientHello.
    assert_eq!(named(&report, "cipher_suites", "refused").len(), 18);
    assert!(named(&report, "cipher_suites", "not-tested").is_empty());
    assert_eq!(named(&report, "groups", "accepted"), ["secp256r1"]);
    assert_eq!(named(&report, "groups", "refused").len(), 3);
    assert_eq!(
        named(&report, "signature_schemes", "accepted"),
        ["ecdsa_secp256r1_sha256"]
    );
    assert_eq!(named(&report, "signature_schemes", "unknown").len(), 0);

    let cc = &report["probe"]["client_certificate"];
    assert_eq!(cc["requested"], true, "{cc:#}");
    assert_eq!(cc["required"], true, "{cc:#}");
    assert!(
        cc["ca_names"][0]
            .as_str()
            .unwrap()
            .contains("iotdoctor Test Root CA"),
        "{cc:#}"
    );
    assert!(
        cc["detail"]
            .as_str()
            .unwrap()
            .contains("certificate_required"),
        "{cc:#}"
    );

    // No SNI is sent to an IP address: every connection was made without it.
    assert_eq!(report["probe"]["without_sni"]["result"], "accepted");
    let mqtt = check(&report, "alpn", "ALPN mqtt");
    assert_eq!(mqtt["result"], "accepted");
    assert_eq!(mqtt["detail"], "selected mqtt");
    assert_eq!(
        check(&report, "alpn", "ALPN x-amzn-mqtt-ca")["result"],
        "refused"
    );

    let chain = &report["probe"]["chain"];
    let subjects: Vec<&str> = chain["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects.len(), 2, "{chain:#}");
    assert!(subjects[0].contains("CN=localhost"), "{chain:#}");
    assert!(subjects[1].contains("Intermediate"), "{chain:#}");
    assert_eq!(chain["certificates"][0]["key"], "EC P-256");
    let each: u64 = chain["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bytes"].as_u64().unwrap())
        .sum();
    assert!(
        each > 400 && chain["bytes"].as_u64() == Some(each),
        "{chain:#}"
    );
    let record = &report["probe"]["largest_record"];
    assert!(
        record["length"].as_u64().unwrap() >= chain["bytes"].as_u64().unwrap(),
        "the chain came in one record: {record:#}"
    );
    let connections = report["probe"]["connections"].as_u64().unwrap();
    assert!((20..=60).contains(&connections), "{connections}");
}

#[test]
fn probe_sees_a_tls12_only_server_that_asks_for_a_certificate_without_requiring_it() {
    let server = OpenSslServer::start(&[
        "-no_tls1_3",
        "-cipher",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "-verify",
        "1",
        "-naccept",
        "100",
    ]);
    let (code, report) = probe_json(&server.endpoint(), &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(named(&report, "versions", "accepted"), ["TLSv1.2"]);
    assert_eq!(named(&report, "versions", "refused"), ["TLSv1.3"]);
    assert_eq!(
        named(&report, "cipher_suites", "accepted"),
        ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"]
    );
    // Without --ca the chain is checked against the bundled roots, and no probe stops on it.
    assert_eq!(report["probe"]["chain"]["verified"], false, "{report:#}");
    // In TLS 1.2 the groups offered also name the curves the server's ECDSA key may be on:
    // its P-256 certificate can be used only when secp256r1 is offered (X25519MLKEM768 exists
    // only in TLS 1.3).
    assert_eq!(named(&report, "groups", "accepted"), ["secp256r1"]);
    assert_eq!(
        check(&report, "groups", "X25519MLKEM768")["detail"],
        "alert 70 protocol_version"
    );
    let cc = &report["probe"]["client_certificate"];
    assert_eq!(cc["requested"], true, "{cc:#}");
    assert_eq!(cc["required"], false, "{cc:#}");
}

#[test]
fn probe_reads_a_gnutls_server_without_tls13() {
    let server = gnutls_server(&["--priority", "NORMAL:-VERS-TLS1.3"]);
    let (code, report) = probe_json(&server.endpoint(), &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(named(&report, "versions", "accepted"), ["TLSv1.2"]);
    assert_eq!(named(&report, "versions", "refused"), ["TLSv1.3"]);
    let accepted = named(&report, "cipher_suites", "accepted");
    assert!(
        !accepted.is_empty() && accepted.iter().all(|s| s.starts_with("TLS_ECDHE_ECDSA_")),
        "{accepted:?}"
    );
    // gnutls-serv asks for a client certificate unless told not to, and goes on without one.
    let cc = &report["probe"]["client_certificate"];
    assert_eq!(cc["requested"], true, "{cc:#}");
    assert_eq!(cc["required"], false, "{cc:#}");
}

#[test]
fn probe_of_a_mosquitto_tls12_listener_with_one_cipher() {
    let broker = Mosquitto::start(
        MqttListener::Tls,
        "tls_version tlsv1.2\nciphers ECDHE-ECDSA-AES128-GCM-SHA256\nallow_anonymous true",
    );
    let root = pki("root-ca.pem");
    let (code, report) = probe_json(
        &broker.endpoint(),
        &["--address", "127.0.0.1", "--ca", &root],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["probe"]["chain"]["verified"], true, "{report:#}");
    // mosquitto's tls_version is the lowest version it accepts; `ciphers` narrows TLS 1.2 only.
    assert_eq!(
        named(&report, "versions", "accepted"),
        ["TLSv1.2", "TLSv1.3"]
    );
    let accepted = named(&report, "cipher_suites", "accepted");
    let tls12: Vec<&String> = accepted
        .iter()
        .filter(|s| s.starts_with("TLS_ECDHE"))
        .collect();
    assert_eq!(
        tls12,
        ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
        "{accepted:?}"
    );
    let cc = &report["probe"]["client_certificate"];
    assert_eq!(cc["requested"], true, "{cc:#}");
    assert_eq!(cc["required"], true, "{cc:#}");
    // The host is a name: one connection went without SNI, and mosquitto does not need it.
    assert_eq!(report["probe"]["without_sni"]["result"], "accepted");
}

#[test]
fn probe_of_a_closed_port_exits_4_and_accepts_nothing() {
    let port = free_port();
    let (code, report) = probe_json(&format!("127.0.0.1:{port}"), &[]);
    assert_eq!(code, 4, "{report:#}");
    assert!(named(&report, "versions", "accepted").is_empty());
    assert_eq!(named(&report, "versions", "unknown").len(), 2);
    assert!(named(&report, "cipher_suites", "accepted").is_empty());
    assert!(report["probe"]["client_certificate"].is_null());
}

#[test]
fn probe_text_is_a_table_and_usage_errors_are_errors() {
    let server = OpenSslServer::start(&["-no_tls1_3", "-naccept", "100"]);
    let run = iotdoctor(&["probe", "--endpoint", &server.endpoint()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for expected in [
        "TLS versions",
        "TLSv1.3",
        "refused",
        "Cipher suites",
        "MBEDTLS_SSL_IN_CONTENT_LEN",
    ] {
        assert!(run.stdout.contains(expected), "{expected}: {}", run.stdout);
    }
    assert_usage_error(&["probe", "host:0"], "--endpoint host:0");
}

/// A rustls server that has a certificate only for clients that send SNI, and speaks only the
/// ALPN protocol AWS IoT Core's port 443 speaks; it serves every connection made to it for 30 s.
fn sni_requiring_server() -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use rustls::server::{ClientHello, ResolvesServerCert};
    use rustls::sign::CertifiedKey;
    use std::sync::Arc;

    #[derive(Debug)]
    struct OnlyWithSni(Arc<CertifiedKey>);
    impl ResolvesServerCert for OnlyWithSni {
        fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            hello.server_name().is_some().then(|| self.0.clone())
        }
    }

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(pki("server-chain.pem"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki("server.key")).unwrap();
    let key = provider.key_provider.load_private_key(key).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(OnlyWithSni(Arc::new(CertifiedKey::new(
            chain, key,
        )))));
    config.alpn_protocols = vec![b"x-amzn-mqtt-ca".to_vec()];
    let config = Arc::new(config);
    serve_rustls(config)
}

#[test]
fn probe_finds_that_sni_is_required_and_which_alpn_is_selected() {
    let port = sni_requiring_server();
    let (code, report) = probe_json(&format!("localhost:{port}"), &["--address", "127.0.0.1"]);
    assert_eq!(code, 0, "{report:#}");
    let without = &report["probe"]["without_sni"];
    assert_eq!(without["result"], "refused", "{without:#}");
    assert!(
        without["detail"]
            .as_str()
            .unwrap()
            .starts_with("SNI is required"),
        "{without:#}"
    );
    let aws = check(&report, "alpn", "ALPN x-amzn-mqtt-ca");
    assert_eq!(aws["result"], "accepted", "{aws:#}");
    assert_eq!(aws["detail"], "selected x-amzn-mqtt-ca");
    // rustls goes on without ALPN when no protocol matches (openssl refuses: see above).
    let mqtt = check(&report, "alpn", "ALPN mqtt");
    assert_eq!(mqtt["result"], "accepted", "{mqtt:#}");
    assert_eq!(
        mqtt["detail"],
        "no protocol selected (the server ignores ALPN)"
    );
    assert_eq!(report["probe"]["client_certificate"]["requested"], false);
    assert_eq!(
        named(&report, "versions", "accepted"),
        ["TLSv1.2", "TLSv1.3"]
    );
}

#[test]
fn probe_of_a_silent_server_ends_by_max_time() {
    // Connections wait in the listener's backlog: TCP is up, and nothing ever answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    let started = std::time::Instant::now();
    let (code, report) = probe_json(&endpoint, &["--timeout", "1", "--max-time", "3"]);
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert_eq!(code, 4, "{report:#}");
    assert!(named(&report, "versions", "accepted").is_empty());
    let connections = report["probe"]["connections"].as_u64().unwrap();
    assert!((1..29).contains(&connections), "{connections}");
    let notes = report["probe"]["notes"].to_string();
    assert!(notes.contains("--max-time (3 s) ran out"), "{notes}");
    drop(listener);
}

#[test]
fn probe_like_a_preset_says_which_of_the_device_offers_the_server_refuses() {
    let takes_one = OpenSslServer::start(&[
        "-no_tls1_3",
        "-cipher",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "-naccept",
        "100",
    ]);
    let (code, report) = probe_json(&takes_one.endpoint(), &["--like", "esp-idf-default"]);
    assert_eq!(code, 0, "{report:#}");
    let like = &report["probe"]["like"];
    assert_eq!(like["source"], "the preset esp-idf-default");
    assert_eq!(like["together"]["result"], "accepted", "{like:#}");
    let item = |name: &str| {
        like["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {like:#}"))
            .clone()
    };
    assert_eq!(
        item("cipher suite TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")["result"],
        "accepted"
    );
    let refused = item("cipher suite TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    assert_eq!(refused["result"], "refused");
    assert_eq!(refused["detail"], "alert 40 handshake_failure");
    assert_eq!(
        item("cipher suite TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8")["result"],
        "refused"
    );

    // A server whose only suite the device does not offer refuses the device's whole offer.
    let takes_other = OpenSslServer::start(&[
        "-no_tls1_3",
        "-cipher",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "-naccept",
        "100",
    ]);
    let (code, report) = probe_json(&takes_other.endpoint(), &["--like", "esp-idf-default"]);
    assert_eq!(code, 0, "{report:#}");
    let like = &report["probe"]["like"];
    assert_eq!(like["together"]["result"], "refused", "{like:#}");
    let accepted: Vec<&Value> = like["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] == "accepted" && c["name"].as_str().unwrap().starts_with("cipher"))
        .collect();
    assert!(accepted.is_empty(), "{accepted:?}");
}
