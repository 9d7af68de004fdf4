//! The habits users bring from other tools: `connect` takes the server as they type it elsewhere
//! (a URL, a bare HOST:PORT, --port, curl's --resolve as --address, openssl's -servername), saves
//! the chain as `s_client -showcerts` users want it, names its own flag for theirs, and the
//! credential files read PKCS#7 bundles as CAs export chains.

use crate::common::*;

#[test]
fn a_url_or_a_bare_host_port_names_the_server() {
    let server = OpenSslServer::start(&[]);
    let root = pki("root-ca.pem");
    let url = format!("mqtts://127.0.0.1:{}", server.port);
    let port = server.port.to_string();
    for args in [
        vec!["connect", url.as_str(), "--ca", &root],
        vec![
            "connect",
            "--endpoint",
            "ssl://127.0.0.1",
            "--port",
            &port,
            "--ca",
            &root,
        ],
        vec![
            "connect",
            "127.0.0.1",
            "--port",
            &port,
            "--servername",
            "localhost",
            "--ca",
            &root,
        ],
    ] {
        let (code, report) = iotdoctor_json(&[args.as_slice(), &["--timeout", "5"]].concat());
        assert_eq!(code, 0, "{args:?}: {report}");
        assert_eq!(report["outcome"], "ok", "{args:?}");
        assert_eq!(report["target"]["address"], server.endpoint(), "{args:?}");
    }
}

#[test]
fn address_skips_the_name_lookup_and_keeps_the_name() {
    // broker.invalid resolves nowhere: with --address the name is never looked up, and it is
    // still the name sent and checked, so the server's certificate (for localhost) does not
    // cover it.
    let server = OpenSslServer::start(&[]);
    let endpoint = format!("broker.invalid:{}", server.port);
    let (code, report) = connect_json(
        &endpoint,
        &["--address", "127.0.0.1", "--ca", &pki("root-ca.pem")],
    );
    assert_eq!(code, 1, "{report}");
    assert_eq!(top_cause(&report), Some("server-name-mismatch"), "{report}");
    let events = report["transcript"]["events"].as_array().unwrap();
    assert!(!events.iter().any(|e| e["kind"] == "resolved"), "{report}");
    assert_eq!(report["target"]["sni"], "broker.invalid");
    // The same name given as SNI the certificate covers: the handshake is good.
    let (code, report) = connect_json(
        &endpoint,
        &[
            "--address",
            "127.0.0.1",
            "--sni",
            "localhost",
            "--ca",
            &pki("root-ca.pem"),
        ],
    );
    assert_eq!(code, 0, "{report}");
}

#[test]
fn endpoints_that_cannot_be_used_are_usage_errors() {
    for (args, says) in [
        (vec!["connect", "mqtt://broker.example.com"], "plain text"),
        (
            vec!["connect", "broker.example.com:443", "--port", "8883"],
            "--port says 8883",
        ),
        (vec!["connect"], "--endpoint"),
    ] {
        let run = iotdoctor(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn openssl_flags_get_the_name_of_ours() {
    for (flag, ours) in [
        ("-connect", "--endpoint"),
        ("-servername", "--sni"),
        ("-CAfile", "--ca FILE"),
        ("-keylogfile", "--keylog"),
    ] {
        let run = iotdoctor(&["connect", "broker.example.com", flag, "x"]);
        assert_eq!(run.code, 2, "{flag}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("tip: iotdoctor spells `{flag}` as {ours}")),
            "{flag}: {}",
            run.stderr
        );
    }
}

#[test]
fn save_chain_writes_what_the_server_sent() {
    let server = OpenSslServer::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("chain.pem");
    let saved_arg = saved.to_str().unwrap();
    // Not trusted (no --ca): the chain is still saved, which is when it is most wanted.
    let (code, report) = connect_json(&server.endpoint(), &["--save-chain", saved_arg]);
    assert_eq!(code, 1, "{report}");
    let der = |text: &[u8]| -> Vec<Vec<u8>> {
        pem::parse_many(text)
            .unwrap()
            .into_iter()
            .map(|block| block.into_contents())
            .collect()
    };
    let written = std::fs::read(&saved).unwrap();
    assert!(!written.contains(&b'\r'));
    let sent = der(&std::fs::read(pki_path("server-chain.pem")).unwrap());
    assert_eq!(der(&written), sent);
    assert_eq!(sent.len(), 2);
}

#[test]
fn pkcs7_bundles_hold_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    for (form, name) in [("PEM", "chain.p7b"), ("DER", "chain.p7c")] {
        let bundle = dir.path().join(name);
        let made = std::process::Command::new("openssl")
            .args([
                "crl2pkcs7",
                "-nocrl",
                "-certfile",
                &pki("client-ec-chain.pem"),
            ])
            .args(["-outform", form, "-out", bundle.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(made.success());
        let (code, report) = iotdoctor_json(&[
            "check-certs",
            "--cert",
            bundle.to_str().unwrap(),
            "--key",
            &pki("client-ec.key"),
            "--ca",
            &pki("root-ca.pem"),
        ]);
        assert_eq!(code, 0, "{form}: {report}");
        let certificates = report["credentials"]["certificates"].as_array().unwrap();
        let device = certificates
            .iter()
            .filter(|c| c["role"] == "device")
            .count();
        assert_eq!(device, 2, "{form}: {report}");
        assert_eq!(
            report["credentials"]["chain"]["status"], "trusted",
            "{form}: {report}"
        );
    }
}

#[test]
fn analyze_reads_a_capture_from_stdin() {
    use std::io::Write;
    use std::process::Stdio;
    let capture = pcap("no-cert-tls12.pcap");
    let from_file = iotdoctor(&["--format", "json", "analyze", &capture]);
    let mut child = binary()
        .args(["--format", "json", "analyze", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read(&capture).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Written from a thread of its own: the reader may answer before all of it is read.
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(output.status.code(), Some(from_file.code));
    // The same report, but for the second it was made in.
    let timeless = |text: &str| -> String {
        text.lines()
            .filter(|line| !line.contains("\"generated_at\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let from_stdin = String::from_utf8(output.stdout).unwrap();
    assert!(from_stdin.contains("\"generated_at\""), "{from_stdin}");
    assert_eq!(timeless(&from_stdin), timeless(&from_file.stdout));
    assert_eq!(from_file.code, 1, "{}", from_file.stdout);
}

#[test]
fn ca_system_is_the_systems_bundle() {
    let server = OpenSslServer::start(&[]);
    let endpoint = server.endpoint();
    let args = [
        "connect",
        &endpoint,
        "--ca",
        "system",
        "--timeout",
        "5",
        "--format",
        "json",
    ];
    // SSL_CERT_FILE names the system's bundle, as OpenSSL reads it.
    let run = iotdoctor_env(&args, &[("SSL_CERT_FILE", &pki("root-ca.pem"))]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // The machine's own bundle (tests/run installs ca-certificates) lacks the test PKI's root.
    let (code, report) = iotdoctor_json(&args[..6]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(top_cause(&report), Some("server-ca-untrusted"), "{report}");
}

#[test]
fn a_credential_file_can_come_from_stdin() {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = binary()
        .args(["--format", "json", "check-certs", "--cert", "-"])
        .args(["--key", &pki("client-ec.key"), "--ca", &pki("root-ca.pem")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let chain = std::fs::read(pki_path("client-ec-chain.pem")).unwrap();
    child.stdin.take().unwrap().write_all(&chain).unwrap();
    let output = child.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{report}");
    assert_eq!(
        report["credentials"]["chain"]["status"], "trusted",
        "{report}"
    );
    assert_eq!(report["credentials"]["certificates"][0]["file"], "-");
}
