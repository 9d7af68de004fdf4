//! `iotdoctor connect` against real `openssl s_server` processes on loopback, TLS 1.2 and 1.3:
//! for each mistake a device makes, the top cause must be the right one, with evidence.

use crate::common::*;
use serde_json::Value;

fn tls_flag(version: &str) -> &'static str {
    if version == "1.2" {
        "-tls1_2"
    } else {
        "-tls1_3"
    }
}

/// Connects to `server` with TLS `version`, trusting the test root, with SNI localhost and
/// these files of the test PKI.
fn connect(server: &OpenSslServer, version: &str, files: &[(&str, &str)]) -> (i32, Value) {
    let files = pki_flags(files);
    let mut all = vec!["--sni", "localhost", "--tls", version];
    all.extend(files.iter().map(String::as_str));
    let root = pki("root-ca.pem");
    all.extend(["--ca", &root]);
    connect_json(&server.endpoint(), &all)
}

/// Connects with `files` to a server that requires a client certificate and has `server_flags`:
/// the handshake must fail with the top cause `top`.
fn refused(version: &str, server_flags: &[&str], files: &[(&str, &str)], top: &str) -> Value {
    let mut flags = vec![tls_flag(version)];
    flags.extend_from_slice(server_flags);
    let server = mutual_tls_server(&flags);
    let (code, report) = connect(&server, version, files);
    assert_eq!(code, 1, "TLS {version}, {files:?}: {report:#}");
    assert_top(&report, top);
    report
}

/// How many certificates the client's last Certificate message carried.
fn certificates_sent(report: &Value) -> usize {
    let sent = events_of(report, "client", "certificate");
    sent.last().expect("a client Certificate")["certificates"]
        .as_array()
        .unwrap()
        .len()
}

fn assert_top(report: &Value, expected: &str) {
    assert_top_cause(report, expected);
    let top = &report["diagnosis"]["causes"][0];
    assert!(
        !top["evidence"].as_array().unwrap().is_empty(),
        "a cause without evidence: {top:#}"
    );
    assert!(
        !top["fixes"].as_array().unwrap().is_empty(),
        "a cause without fixes: {top:#}"
    );
}

#[test]
fn mutual_tls_success_both_versions() {
    for version in ["1.2", "1.3"] {
        let server = mutual_tls_server(&[tls_flag(version)]);
        let (code, report) = connect(
            &server,
            version,
            &[
                ("--cert", "client-ec-chain.pem"),
                ("--key", "client-ec.key"),
            ],
        );
        assert_eq!(code, 0, "TLS {version}: {report:#}");
        assert_eq!(report["outcome"], "ok");
        assert_eq!(
            report["transcript"]["tls_version"],
            format!("TLSv{version}")
        );
        let ours = events_of(&report, "client", "certificate_verify");
        assert_eq!(
            ours.len(),
            1,
            "TLS {version}: our CertificateVerify is logged"
        );
        assert_eq!(
            ours[0]["verified"], true,
            "our signature checks against our certificate"
        );
        assert_eq!(certificates_sent(&report), 2, "leaf and intermediate sent");
        let verification = events_of(&report, "client", "verification");
        assert_eq!(verification[0]["ok"], true);
        if version == "1.3" {
            let theirs = events_of(&report, "server", "certificate_verify");
            assert_eq!(theirs.len(), 1);
            assert_eq!(
                theirs[0]["verified"], true,
                "the server's CertificateVerify is verified"
            );
        }
    }
}

#[test]
fn no_client_certificate_openssl_sends_40_in_tls12_and_116_in_tls13() {
    for (version, alert) in [("1.2", 40), ("1.3", 116)] {
        let report = refused(version, &[], &[], "client-cert-not-sent");
        let alerts = events_of(&report, "server", "alert");
        assert_eq!(
            alerts[0]["description"]["code"], alert,
            "TLS {version}: {alerts:?}"
        );
        assert_eq!(
            certificates_sent(&report),
            0,
            "the empty Certificate is shown"
        );
        let evidence = top_evidence(&report);
        assert!(evidence.contains("carried 0 certificates"), "{evidence}");
        assert!(
            evidence.contains("iotdoctor Test Root CA"),
            "names the CA the server asked for: {evidence}"
        );
        let fixes = report["diagnosis"]["causes"][0]["fixes"].to_string();
        assert!(fixes.contains("wolfSSL_new()"), "{fixes}");
    }
}

#[test]
fn client_certificate_from_an_untrusted_ca() {
    for version in ["1.2", "1.3"] {
        refused(
            version,
            &[],
            &[
                ("--cert", "client-unrelated-chain.pem"),
                ("--key", "client-unrelated.key"),
            ],
            "client-ca-untrusted",
        );
    }
}

#[test]
fn leaf_only_when_the_server_trusts_only_the_root() {
    for version in ["1.2", "1.3"] {
        let report = refused(
            version,
            &[],
            &[("--cert", "client-ec.pem"), ("--key", "client-ec.key")],
            "client-chain-incomplete",
        );
        assert_evidence_says(&report, &["iotdoctor Test Intermediate CA"]);
    }
}

#[test]
fn expired_client_certificate() {
    for version in ["1.2", "1.3"] {
        let report = refused(
            version,
            &[],
            &[
                ("--cert", "client-expired.pem"),
                ("--chain", "intermediate-ca.pem"),
                ("--key", "client-expired.key"),
            ],
            "client-cert-expired",
        );
        assert_eq!(
            events_of(&report, "server", "alert")[0]["description"]["code"],
            45
        );
    }
}

#[test]
fn server_accepts_only_rsa_pss_and_the_key_is_ecdsa() {
    for version in ["1.2", "1.3"] {
        let report = refused(
            version,
            &["-client_sigalgs", "RSA-PSS+SHA256"],
            &[
                ("--cert", "client-ec-chain.pem"),
                ("--key", "client-ec.key"),
            ],
            "client-sigalg-mismatch",
        );
        assert_eq!(
            events_of(&report, "client", "certificate_withheld")[0]["reason"],
            "no-matching-scheme"
        );
    }
}

#[test]
fn wrong_ca_for_the_server() {
    for version in ["1.2", "1.3"] {
        let server = OpenSslServer::start(&[tls_flag(version)]);
        let unrelated = pki("unrelated-ca.pem");
        let (code, report) = connect_json(
            &server.endpoint(),
            &["--ca", &unrelated, "--sni", "localhost", "--tls", version],
        );
        assert_eq!(code, 1, "TLS {version}");
        assert_top(&report, "server-ca-untrusted");
        assert_eq!(events_of(&report, "client", "verification")[0]["ok"], false);
    }
}

#[test]
fn server_certificate_for_another_name() {
    let (cert, key, chain) = (
        pki("server-other-name.pem"),
        pki("server-other-name.key"),
        pki("intermediate-ca.pem"),
    );
    for version in ["1.2", "1.3"] {
        let server = OpenSslServer::start(&[
            "-cert",
            &cert,
            "-key",
            &key,
            "-cert_chain",
            &chain,
            tls_flag(version),
        ]);
        let (code, report) = connect(&server, version, &[]);
        assert_eq!(code, 1, "TLS {version}");
        assert_top(&report, "server-name-mismatch");
        assert_evidence_says(&report, &["not-localhost.example", "'localhost'"]);
    }
}

#[test]
fn key_that_does_not_match_the_certificate() {
    for version in ["1.2", "1.3"] {
        let report = refused(
            version,
            &[],
            &[("--cert", "client-ec-chain.pem"), ("--key", "stranger.key")],
            "client-key-mismatch",
        );
        assert!(
            finding_ids(&report).contains(&"client-key-mismatch".to_string()),
            "reported by the preflight"
        );
        let ours = events_of(&report, "client", "certificate_verify");
        assert_eq!(
            ours.last().unwrap()["verified"],
            false,
            "our own signature fails against our certificate"
        );
    }
}

/// A key iotdoctor's TLS library refuses (RSA 1024, secp256k1): iotdoctor cannot present the
/// certificate, so the server's refusal is to no certificate at all. The cause is the key, not
/// the device's load order.
#[test]
fn key_iotdoctor_cannot_sign_with() {
    for (name, finding) in [
        ("client-rsa1024", "weak-key"),
        ("client-secp256k1", "unsupported-key"),
    ] {
        for version in ["1.2", "1.3"] {
            let report = refused(
                version,
                &[],
                &[
                    ("--cert", &format!("{name}.pem")),
                    ("--chain", "intermediate-ca.pem"),
                    ("--key", &format!("{name}.key")),
                ],
                "client-key-unusable",
            );
            let causes = report["diagnosis"]["causes"].as_array().unwrap();
            assert!(
                causes.iter().all(|c| c["id"] != "client-cert-not-sent"),
                "{name}, TLS {version}: the device's load order is not in question: {causes:#?}"
            );
            let evidence = causes[0]["evidence"].to_string();
            assert!(
                evidence.contains("cannot sign with the client key"),
                "{evidence}"
            );
            assert!(evidence.contains("preflight:"), "{evidence}");
            assert_eq!(
                events_of(&report, "client", "certificate_withheld")[0]["reason"],
                "key-unusable"
            );
            assert!(
                report["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["id"] == finding),
                "{name}: {finding}"
            );
        }
    }
}

/// A server that signs only with SHA-1 schemes, which iotdoctor does not offer: it refuses the
/// ClientHello, and the report names what the ClientHello offered, signature schemes included.
#[test]
fn server_restricted_to_signature_schemes_the_client_does_not_offer() {
    let server = OpenSslServer::start(&["-tls1_2", "-sigalgs", "ECDSA+SHA1"]);
    let (code, report) = connect(&server, "1.2", &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_top(&report, "no-common-cipher");
    let evidence = top_evidence(&report);
    assert!(evidence.contains("signature schemes ecdsa_"), "{evidence}");
    assert!(
        !evidence.contains("rustls"),
        "a capture's client is not iotdoctor: {evidence}"
    );
}
