//! Client certificates judged against real servers: a certificate from a CA of its own (the
//! "Rogue CA", made here with the openssl CLI) against strict and lenient `openssl s_server`,
//! `gnutls-serv` and `serve`, in a capture, and offline with `check-certs`.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::*;

/// A self-signed "Rogue CA" (another organisation than the fixture PKI's) and a device
/// certificate it issued, in a temporary directory.
struct RoguePki {
    dir: tempfile::TempDir,
}

impl RoguePki {
    fn new() -> RoguePki {
        let dir = tempfile::tempdir().unwrap();
        let openssl = |args: &[&str]| openssl_in(dir.path(), args);
        let ec = NEW_EC_KEY;
        let mut ca = vec!["req", "-x509"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "rogue-ca.key",
            "-out",
            "rogue-ca.pem",
            "-days",
            "3650",
            "-subj",
            "/O=Rogue Org/CN=Rogue CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(&ca);
        let mut csr = vec!["req"];
        csr.extend(ec);
        csr.extend([
            "-keyout",
            "device.key",
            "-out",
            "device.csr",
            "-subj",
            "/O=Rogue Org/CN=rogue device",
        ]);
        openssl(&csr);
        std::fs::write(
            dir.path().join("device.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "device.csr",
            "-CA",
            "rogue-ca.pem",
            "-CAkey",
            "rogue-ca.key",
            "-set_serial",
            "7",
            "-days",
            "3650",
            "-extfile",
            "device.ext",
            "-out",
            "device.pem",
        ]);
        RoguePki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// `connect` in TLS `version` with the rogue device's certificate to a server on `port` that
    /// must refuse it as untrusted (see [`assert_untrusted_with_both_readings`]).
    fn connect_refused(&self, port: u16, version: &str, context: &str) -> Value {
        let (code, report) = connect_with(
            port,
            version,
            &self.path("device.pem"),
            &self.path("device.key"),
        );
        assert_eq!(code, 1, "{context}");
        assert_untrusted_with_both_readings(&report, context);
        report
    }
}

fn evidence(report: &Value, index: usize) -> String {
    report["diagnosis"]["causes"][index]["evidence"].to_string()
}

fn all_evidence(report: &Value) -> String {
    report["diagnosis"]["causes"]
        .as_array()
        .map(|causes| {
            causes
                .iter()
                .map(|c| c["evidence"].to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn connect_with(port: u16, version: &str, cert: &str, key: &str) -> (i32, Value) {
    let root = pki("root-ca.pem");
    connect_json(
        &format!("127.0.0.1:{port}"),
        &[
            "--ca",
            &root,
            "--sni",
            "localhost",
            "--tls",
            version,
            "--cert",
            cert,
            "--key",
            key,
        ],
    )
}

/// Untrusted first, the incomplete-chain reading kept below it, the stranger named.
fn assert_untrusted_with_both_readings(report: &Value, context: &str) {
    assert_eq!(
        top_cause(report),
        Some("client-ca-untrusted"),
        "{context}: {:?}\n{report:#}",
        cause_ids(report)
    );
    assert!(
        cause_ids(report).contains(&"client-chain-incomplete".to_string()),
        "{context}: the other reading stays: {:?}",
        cause_ids(report)
    );
    let top = evidence(report, 0);
    assert!(
        top.contains("'Rogue Org' is none of theirs"),
        "{context}: {top}"
    );
}

#[test]
fn connect_a_leaf_from_a_ca_the_server_did_not_name_is_untrusted_not_incomplete() {
    let rogue = RoguePki::new();
    for version in ["1.2", "1.3"] {
        let server = mutual_tls_server(&[if version == "1.2" {
            "-tls1_2"
        } else {
            "-tls1_3"
        }]);
        rogue.connect_refused(server.port, version, &format!("TLS {version}"));
    }
}

#[test]
fn connect_reads_both_alerts_of_a_gnutls_refusal_and_never_claims_a_named_ca() {
    let rogue = RoguePki::new();
    let root = pki("root-ca.pem");
    for version in ["1.2", "1.3"] {
        let server = gnutls_server(&[
            "--x509cafile",
            &root,
            "--require-client-cert",
            "--verify-client-cert",
        ]);
        let report = rogue.connect_refused(server.port, version, &format!("gnutls, TLS {version}"));
        let top = evidence(&report, 0);
        assert!(top.contains("49 access_denied"), "TLS {version}: {top}");
        if version == "1.2" {
            // Both alerts are plaintext in TLS 1.2: the second, 42, is read too.
            assert!(
                top.contains("and then the server sent alert 42 bad_certificate"),
                "{top}"
            );
        }
        let all = all_evidence(&report);
        assert!(
            !all.contains("reaches a CA the server named"),
            "TLS {version}: false evidence: {all}"
        );
    }
}

#[test]
fn connect_to_a_lenient_server_stays_ok_and_warns_the_chain_was_not_verified() {
    let rogue = RoguePki::new();
    let root = pki("root-ca.pem");
    // -Verify without -verify_return_error: s_server asks, names its CA, and accepts anything.
    let lenient = |version: &str| {
        OpenSslServer::start(&[
            "-CAfile",
            &root,
            "-Verify",
            "2",
            if version == "1.2" {
                "-tls1_2"
            } else {
                "-tls1_3"
            },
        ])
    };
    let cases = [
        (
            rogue.path("device.pem"),
            rogue.path("device.key"),
            "the chain's issuer 'Rogue CA' is not one of them",
        ),
        (
            pki("client-ec.pem"),
            pki("client-ec.key"),
            "the intermediate 'iotdoctor Test Intermediate CA' was not sent",
        ),
    ];
    for version in ["1.2", "1.3"] {
        for (cert, key, missing) in &cases {
            let server = lenient(version);
            let (code, report) = connect_with(server.port, version, cert, key);
            assert_eq!(
                code, 0,
                "TLS {version} {cert}: the handshake succeeded\n{report:#}"
            );
            assert_eq!(report["outcome"], "ok", "TLS {version} {cert}");
            let warning = finding(&report, "client-chain-unverified");
            assert_eq!(warning["severity"], "warning");
            let message = warning["message"].as_str().unwrap();
            assert!(message.contains(missing), "TLS {version}: {message}");
            assert!(message.contains("AWS IoT Core"), "{message}");
        }
        // The whole chain, reaching the named root: nothing to warn about.
        let server = lenient(version);
        let (code, report) = connect_with(
            server.port,
            version,
            &pki("client-ec-chain.pem"),
            &pki("client-ec.key"),
        );
        assert_eq!(code, 0, "{report:#}");
        assert!(
            !finding_ids(&report).contains(&"client-chain-unverified".to_string()),
            "{report:#}"
        );
    }
}

#[test]
fn serve_a_device_leaf_from_a_ca_it_did_not_name_is_untrusted_not_incomplete() {
    let rogue = RoguePki::new();
    let serve = Serve::start(&[]);
    let connect = serve.endpoint();
    let root = pki("root-ca.pem");
    let status = Command::new("openssl")
        .args(["s_client", "-connect", &connect, "-servername", "localhost"])
        .args(["-CAfile", &root, "-tls1_2"])
        .args(["-cert", &rogue.path("device.pem")])
        .args(["-key", &rogue.path("device.key")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed");
    assert!(!status.success(), "serve refuses the device");
    let (code, report) = serve.report();
    assert_eq!(code, 1);
    assert_untrusted_with_both_readings(&report, "serve");
}

/// `analyze` of the capture `name`, whose one handshake must be refused as untrusted (see
/// [`assert_untrusted_with_both_readings`]); that handshake's report.
fn analyze_untrusted(name: &str, context: &str) -> Value {
    let (code, mut report) = iotdoctor_json(&["analyze", &pcap(name)]);
    assert_eq!(code, 1, "{context}: {report:#}");
    let handshake = report["handshakes"][0].take();
    assert_untrusted_with_both_readings(&handshake, context);
    handshake
}

#[test]
fn analyze_a_capture_of_a_leaf_from_a_ca_the_server_did_not_name() {
    analyze_untrusted("rogue-ca-leaf-tls12.pcap", "analyze");
}

#[test]
fn analyze_a_capture_of_a_gnutls_refusal_reads_both_alerts() {
    let handshake = analyze_untrusted("gnutls-rogue-ca-tls12.pcap", "analyze gnutls");
    let top = evidence(&handshake, 0);
    assert!(top.contains("49 access_denied"), "{top}");
    assert!(top.contains("42 bad_certificate"), "{top}");
    assert!(!all_evidence(&handshake).contains("reaches a CA the server named"));
}

#[test]
fn check_certs_a_leaf_from_a_stranger_ca_is_untrusted_when_the_given_pki_is_complete() {
    let rogue = RoguePki::new();
    // The CA file holds the root and the intermediate: nothing of that PKI is missing.
    let bundle = rogue.dir.path().join("root-and-intermediate.pem");
    let both = std::fs::read_to_string(pki("root-ca.pem")).unwrap()
        + &std::fs::read_to_string(pki("intermediate-ca.pem")).unwrap();
    std::fs::write(&bundle, both).unwrap();
    let bundle = bundle.display().to_string();
    let (code, report) = iotdoctor_json(&[
        "check-certs",
        "--cert",
        &rogue.path("device.pem"),
        "--key",
        &rogue.path("device.key"),
        "--ca",
        &bundle,
    ]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        top_cause(&report),
        Some("client-ca-untrusted"),
        "{report:#}"
    );
    assert!(!finding_ids(&report).contains(&"client-chain-incomplete".to_string()));
    let message = finding(&report, "client-ca-untrusted")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("'Rogue Org' is none of theirs"),
        "{message}"
    );
    assert!(
        message.contains("nothing of theirs is missing"),
        "{message}"
    );
    assert!(
        message.contains("Only if 'Rogue CA' were an intermediate"),
        "both readings: {message}"
    );
}

#[test]
fn check_certs_a_leaf_of_the_given_pki_without_its_intermediate_stays_incomplete() {
    let (code, report) = iotdoctor_json(&[
        "check-certs",
        "--cert",
        &pki("client-ec.pem"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(top_cause(&report), Some("client-chain-incomplete"));
}

/// mosquitto names no CAs in its CertificateRequest: a leaf sent alone is either missing its
/// intermediate or from a CA the broker does not accept. The CA given for the server is the one
/// hint, and neither reading is claimed with more than a coin's confidence.
#[test]
fn connect_a_leaf_alone_to_a_broker_that_names_no_cas_keeps_both_readings() {
    let broker = Mosquitto::start(MqttListener::Tls, "");
    let causes = |name: &str| {
        let (cert, key) = (pki(&format!("{name}.pem")), pki(&format!("{name}.key")));
        let (code, report) = connect_with(broker.port(), "1.3", &cert, &key);
        assert_eq!(code, 1, "{report:#}");
        let ids = cause_ids(&report);
        let confidence = |i: usize| {
            report["diagnosis"]["causes"][i]["confidence"]
                .as_f64()
                .unwrap()
        };
        assert!(confidence(0) <= 0.5, "{report:#}");
        (ids, report)
    };

    // The device's issuer, 'iotdoctor Test Intermediate CA', is of the organisation of the
    // server's CA: likely the intermediate left out.
    let (ids, report) = causes("client-ec");
    assert_eq!(
        ids[..2],
        ["client-chain-incomplete", "client-ca-untrusted"],
        "{report:#}"
    );
    let top = evidence(&report, 0);
    assert!(top.contains("the server named no CAs"), "{top}");
    assert!(
        top.contains(
            "belongs to 'iotdoctor test PKI', the organisation of the CA given for the server"
        ),
        "{top}"
    );

    // Issued by 'Unrelated Root CA' of 'some other PKI': nothing ties it to the server's CA.
    let (ids, report) = causes("client-unrelated");
    assert_eq!(
        ids[..2],
        ["client-ca-untrusted", "client-chain-incomplete"],
        "{report:#}"
    );
    assert!(!all_evidence(&report).contains("the organisation of the CA given"));
}
