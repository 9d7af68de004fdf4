//! `iotdoctor connect` as a user runs it: the text ladder, the JSON transcript, key logs,
//! `--insecure`, SNI and ALPN options, usage errors.

use crate::common::*;

/// Trusting the test root with SNI localhost, with these files of the test PKI, then `extra`.
fn device_args(files: &[(&str, &str)], extra: &[&str]) -> Vec<String> {
    let mut args = pki_flags(&[("--ca", "root-ca.pem")]);
    args.extend(["--sni", "localhost"].map(String::from));
    args.extend(pki_flags(files));
    args.extend(extra.iter().map(|arg| arg.to_string()));
    args
}

/// `connect` to `server` with [`device_args`], in text unless `extra` says otherwise.
fn connect_text(server: &OpenSslServer, files: &[(&str, &str)], extra: &[&str]) -> Run {
    let endpoint = server.endpoint();
    let device = device_args(files, extra);
    let mut args = vec!["connect", "--endpoint", &endpoint];
    args.extend(strs(&device));
    iotdoctor(&args)
}

#[test]
fn text_report_draws_the_ladder_and_names_the_cause() {
    let server = mutual_tls_server(&["-tls1_2"]);
    let run = connect_text(&server, &[], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_says_all(
        &run.stdout,
        &[
            "Target 127.0.0.1:",
            "(SNI localhost",
            "ClientHello ---",
            "--- ServerHello  #2",
            "Certificate: 2 certificate(s)",
            "CertificateRequest",
            "accepts certificates issued by 'iotdoctor Test Root CA'",
            "Certificate: EMPTY, no certificate ---",
            "Alert fatal 40 handshake_failure",
            "1. client-cert-not-sent",
            "carried 0 certificates (record 7",
            "wolfSSL_new()",
            "PROBLEMS FOUND: most likely client-cert-not-sent",
        ],
    );
    assert!(!run.stdout.contains("\x1b["), "piped output is plain");
}

#[test]
fn json_transcript_has_every_record_in_wire_order() {
    let server = mutual_tls_server(&["-tls1_3"]);
    let (code, report) = connect_json(&server.endpoint(), &strs(&device_args(&EC_DEVICE, &[])));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["target"]["sni"], "localhost");
    assert_eq!(report["target"]["address"], server.endpoint());
    let events = report["transcript"]["events"].as_array().unwrap();
    let records: Vec<u64> = events
        .iter()
        .filter(|e| e["kind"] == "record")
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert!(records.len() >= 6, "{records:?}");
    assert!(
        records.windows(2).all(|w| w[1] == w[0] + 1),
        "records numbered in wire order: {records:?}"
    );
    let times: Vec<f64> = events
        .iter()
        .map(|e| e["at_ms"].as_f64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "times never go back: {times:?}"
    );
    let kinds = event_kinds(&report);
    let position = |k: &str| {
        kinds
            .iter()
            .position(|x| x == k)
            .unwrap_or_else(|| panic!("no {k} in {kinds:?}"))
    };
    assert!(position("client:handshake") < position("server:certificate_request"));
    assert!(position("server:certificate") < position("server:certificate_verify"));
    assert!(position("server:certificate_verify") < position("client:certificate"));
    // TLS 1.3 hides everything after the ServerHello: the records say so.
    let encrypted = events
        .iter()
        .filter(|e| e["kind"] == "record" && e["encrypted"] == true)
        .count();
    assert!(encrypted >= 3, "{encrypted}");
    // The client's certificate is shown in full in the credentials section too.
    assert_eq!(report["credentials"]["certificates"][0]["leaf"], true);
}

#[test]
fn keylog_file_gets_the_tls13_secrets() {
    let server = mutual_tls_server(&["-tls1_3"]);
    let dir = tempfile::tempdir().unwrap();
    let keylog = dir.path().join("keys.log");
    let keylog_arg = keylog.to_string_lossy().into_owned();
    let args = device_args(&EC_DEVICE, &["--keylog", &keylog_arg]);
    let (code, _) = connect_json(&server.endpoint(), &strs(&args));
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(&keylog).unwrap();
    for label in [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label}: {text}"));
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert_eq!(fields[1].len(), 64, "client random in hex: {line}");
    }
}

#[test]
fn a_keylog_that_cannot_be_written_says_so() {
    let run = iotdoctor(&[
        "connect",
        "--endpoint",
        "127.0.0.1:1",
        "--keylog",
        "/nonexistent-dir/keys.log",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("cannot write"), "{}", run.stderr);
}

#[test]
fn insecure_is_loud_and_still_reports_the_bad_server_certificate() {
    let server = OpenSslServer::start(&["-tls1_3"]);
    let unrelated = pki("unrelated-ca.pem");
    let args = [
        "--ca",
        unrelated.as_str(),
        "--sni",
        "localhost",
        "--insecure",
    ];
    let (code, report) = connect_json(&server.endpoint(), &args);
    assert_eq!(
        code, 1,
        "a server that fails verification is a problem even with --insecure"
    );
    assert_eq!(report["insecure"], true);
    assert_eq!(
        finding(&report, "verification-disabled")["severity"],
        "warning"
    );
    assert_eq!(top_cause(&report), Some("server-ca-untrusted"));
    let run = iotdoctor(&[
        "connect",
        "--endpoint",
        &server.endpoint(),
        "--ca",
        &unrelated,
        "--sni",
        "localhost",
        "--insecure",
    ]);
    assert!(run.stdout.contains("WARNING: --insecure"), "{}", run.stdout);
}

#[test]
fn no_sni_and_alpn_are_what_the_client_hello_carries() {
    let server = OpenSslServer::start(&["-tls1_2", "-alpn", "x-amzn-mqtt-ca"]);
    let args = device_args(&[], &["--alpn", "x-amzn-mqtt-ca"]);
    let (code, report) = connect_json(&server.endpoint(), &strs(&args));
    assert_eq!(code, 0, "{report:#}");
    let hello = &events_of(&report, "client", "handshake")[0];
    assert_eq!(hello["sni"], "localhost");
    assert_eq!(hello["alpn"], serde_json::json!(["x-amzn-mqtt-ca"]));
    assert_eq!(report["transcript"]["alpn"], "x-amzn-mqtt-ca");

    let server = OpenSslServer::start(&["-tls1_2"]);
    let endpoint = format!("localhost:{}", server.port);
    let root = pki("root-ca.pem");
    let (_, report) = connect_json(
        &endpoint,
        &["--ca", &root, "--no-sni", "--address", "127.0.0.1"],
    );
    let hello = &events_of(&report, "client", "handshake")[0];
    assert!(hello["sni"].is_null(), "{hello:#}");
    assert_eq!(
        report["outcome"], "ok",
        "the certificate is still checked against the host name"
    );
}

#[test]
fn private_key_material_never_appears_in_connect_output() {
    let server = mutual_tls_server(&["-tls1_3"]);
    let run = connect_text(&server, &EC_DEVICE, &["--format", "json", "-vvv"]);
    let secret: Vec<String> = std::fs::read_to_string(pki("client-ec.key"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(String::from)
        .collect();
    for line in secret {
        assert!(
            !run.stdout.contains(&line) && !run.stderr.contains(&line),
            "key material leaked"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["connect", "--endpoint", "host:notaport"],
        vec!["connect", "--endpoint", "[::1"],
        vec!["connect", "--endpoint", "127.0.0.1:1", "--timeout", "-1"],
        vec!["connect", "--endpoint", "127.0.0.1:1", "--timeout", "0"],
        vec![
            "serve",
            "--cert",
            "c.pem",
            "--client-ca",
            "ca.pem",
            "--timeout",
            "0",
        ],
    ] {
        let run = iotdoctor(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("--endpoint") || run.stderr.contains("--timeout"),
            "{}",
            run.stderr
        );
    }
    let key = pki("client-ec.key");
    assert_usage_error(
        &["connect", "--endpoint", "127.0.0.1:1", "--key", &key],
        "--key needs --cert",
    );
}

#[test]
fn connect_help_teaches() {
    assert_help_says(
        "connect",
        &[
            "Examples:",
            "--endpoint",
            "8883",
            "--grace",
            "--keylog",
            "--insecure",
            "x-amzn-mqtt-ca",
        ],
    );
}

#[test]
fn aws_iot_profile_checks_sni_alpn_and_the_amazon_roots() {
    // Port 443 on loopback: nothing listens, the preflight findings are what this is about.
    let root = pki("root-ca.pem");
    let (code, report) = connect_json(
        "127.0.0.1:443",
        &["--profile", "aws-iot", "--no-sni", "--ca", &root],
    );
    assert!(code == 4 || code == 1, "problems either way: {code}");
    let ids = finding_ids(&report);
    for expected in ["aws-sni-missing", "aws-alpn-missing", "aws-root-ca-missing"] {
        assert!(
            ids.contains(&expected.to_string()),
            "{expected} missing: {ids:?}"
        );
    }
    assert_eq!(finding(&report, "aws-root-ca-missing")["severity"], "error");
}
