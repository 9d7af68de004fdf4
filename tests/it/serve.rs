//! `iotdoctor serve --once` with real clients on loopback: openssl s_client, iotdoctor connect
//! with a key that is not its certificate's, a wolfSSL client with the classic bug, plain TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;
use serde_json::Value;

impl Serve {
    /// Runs `openssl s_client` against the server with SNI `localhost` and the fixture root as
    /// its CA, plus `args`.
    fn s_client(&self, args: &[&str]) {
        let root = pki("root-ca.pem");
        let mut all = vec!["-servername", "localhost", "-CAfile", &root];
        all.extend_from_slice(args);
        self.s_client_with(&all);
    }

    /// [`Serve::s_client`] with `flags` and these files of the test PKI.
    fn s_client_files(&self, flags: &[&str], files: &[(&str, &str)]) {
        let files = pki_flags(files);
        let mut all = flags.to_vec();
        all.extend(strs(&files));
        self.s_client(&all);
    }

    /// Waits for the one report: exit code 1 with the top cause `top`. `case` names the case
    /// when it is not.
    fn refused(self, top: &str, case: &str) -> Value {
        let (code, report) = self.report();
        assert_eq!(code, 1, "{case}: {report:#}");
        assert_top_cause_in(case, &report, top);
        report
    }

    /// Runs `openssl s_client -connect` to the server with exactly `args`.
    fn s_client_with(&self, args: &[&str]) {
        self.s_client_output(args);
    }

    /// Runs `openssl s_client -connect` to the server with exactly `args`; returns what it
    /// printed, stdout then stderr.
    fn s_client_output(&self, args: &[&str]) -> String {
        let connect = self.endpoint();
        // Line-buffered: s_client writes its stdout through stdio, which holds what it prints
        // about session tickets until it exits when stdout is a pipe.
        let mut client = Command::new("stdbuf")
            .args(["-oL", "openssl", "s_client", "-connect", &connect])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl is installed (tests/run installs it)");
        let stdin = client.stdin.take();
        let stdout = Collector::new(client.stdout.take().unwrap());
        let stderr = Collector::new(client.stderr.take().unwrap());
        // s_client ends its connection when its stdin closes: keep it open until the server's
        // verdict has come. A refusal is an alert, after which s_client exits by itself; an
        // acceptance is the end of a TLS 1.2 handshake, or in TLS 1.3 the session tickets a
        // server sends only once it has accepted the client's certificate (or its lack of one).
        poll_until(Duration::from_secs(10), || {
            matches!(client.try_wait(), Ok(Some(_))) || {
                let printed = stdout.text();
                printed.contains("New, TLSv1.2,")
                    || printed.contains("Post-Handshake New Session Ticket arrived")
            }
        });
        drop(stdin);
        client.wait().unwrap();
        String::from_utf8_lossy(&stdout.finish()).into_owned()
            + &String::from_utf8_lossy(&stderr.finish())
    }
}

#[test]
fn device_without_a_certificate_both_versions() {
    for version in ["-tls1_2", "-tls1_3"] {
        let serve = Serve::start(&[]);
        serve.s_client(&[version]);
        let (code, report) = serve.report();
        assert_eq!(code, 1, "{version}: {report:#}");
        assert_eq!(report["command"], "serve");
        assert_top_cause_in(version, &report, "client-cert-not-sent");
        let certificates = events_of(&report, "client", "certificate");
        assert!(
            certificates[0]["certificates"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{version}: the empty Certificate is shown"
        );
    }
}

#[test]
fn device_without_a_certificate_on_tls_1_2_gets_116_and_the_report_says_what_a_broker_sends() {
    let serve = Serve::start(&["--tls", "1.2"]);
    let root = pki("root-ca.pem");
    let printed = serve.s_client_output(&["-tls1_2", "-CAfile", &root, "-servername", "localhost"]);
    // rustls lets no server choose this alert: the device receives TLS 1.3's certificate_required.
    assert!(printed.contains("SSL alert number 116"), "{printed}");
    let report = serve.refused("client-cert-not-sent", "");
    let alert = &events_of(&report, "server", "alert")[0];
    assert_eq!(alert["description"]["code"], 116);
    let notes = events_of(&report, "server", "note");
    assert!(
        notes.iter().any(|n| {
            let message = n["message"].as_str().unwrap();
            message.contains("42 bad_certificate") && message.contains("40 handshake_failure")
        }),
        "{report:#}"
    );
    assert_evidence_says(&report, &["in TLS 1.2 too"]);
}

#[test]
fn device_with_a_good_certificate_both_versions() {
    for version in ["-tls1_2", "-tls1_3"] {
        let serve = Serve::start(&[]);
        serve.s_client_files(
            &[version],
            &[
                ("-cert", "client-ec.pem"),
                ("-key", "client-ec.key"),
                ("-cert_chain", "intermediate-ca.pem"),
            ],
        );
        let (code, report) = serve.report();
        assert_eq!(code, 0, "{version}: {report:#}");
        let verify = events_of(&report, "client", "certificate_verify");
        assert_eq!(
            verify[0]["verified"], true,
            "{version}: the device's signature is checked"
        );
    }
}

#[test]
fn device_certificate_from_an_untrusted_ca() {
    let serve = Serve::start(&[]);
    serve.s_client_files(
        &[],
        &[
            ("-cert", "client-unrelated.pem"),
            ("-key", "client-unrelated.key"),
            ("-cert_chain", "unrelated-ca.pem"),
        ],
    );
    serve.refused("client-ca-untrusted", "");
}

#[test]
fn device_whose_key_does_not_match_its_certificate() {
    for version in ["1.2", "1.3"] {
        let serve = Serve::start(&[]);
        let endpoint = serve.endpoint();
        let files = pki_flags(&[
            ("--ca", "root-ca.pem"),
            ("--cert", "client-ec-chain.pem"),
            ("--key", "stranger.key"),
        ]);
        // iotdoctor's own client sends the pair as it is, as a device with the wrong key would.
        let mut args = vec!["connect", "--endpoint", &endpoint, "--sni", "localhost"];
        args.extend(["--tls", version]);
        args.extend(strs(&files));
        iotdoctor(&args);
        serve.refused("client-key-mismatch", version);
    }
}

#[test]
fn device_speaking_plain_mqtt_to_the_tls_port() {
    let serve = Serve::start(&[]);
    let mut socket = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
    // MQTT 3.1.1 CONNECT, client id "dev".
    socket
        .write_all(&[
            0x10, 0x0f, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x03,
            b'd', b'e', b'v',
        ])
        .unwrap();
    let report = serve.refused("not-tls", "");
    assert_evidence_says(&report, &["MQTT CONNECT"]);
}

/// An MQTT 3.1.1 CONNECT, client id "dev1", username "devuser", password "S3cretPassw0rd".
const CONNECT_WITH_PASSWORD: &[u8] =
    b"\x10\x29\x00\x04MQTT\x04\xc2\x00\x3c\x00\x04dev1\x00\x07devuser\x00\x0eS3cretPassw0rd";

/// What `serve --once` printed, stdout and stderr, in `format`, for a device that sent `bytes`
/// over plain TCP, and its exit code.
fn serve_plain_bytes(bytes: &[u8], format: &str) -> (i32, String, String) {
    let serve = Serve::spawn(&["--once", "--timeout", "3", "--format", format]);
    let mut socket = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
    socket.write_all(bytes).unwrap();
    serve.output()
}

#[test]
fn a_plain_mqtt_password_is_never_copied_into_the_report() {
    for format in ["text", "json"] {
        let (code, stdout, stderr) = serve_plain_bytes(CONNECT_WITH_PASSWORD, format);
        assert_eq!(code, 1, "{format}: {stdout}");
        for output in [&stdout, &stderr] {
            assert!(!output.contains("S3cretPassw0rd"), "{format}: {output}");
        }
        assert!(
            stdout.contains("an MQTT 3.1.1 CONNECT in plain text: client id 'dev1', a username and a password (not shown)"),
            "{format}: {stdout}"
        );
        if format == "json" {
            let report: Value = serde_json::from_str(&stdout).unwrap();
            assert_top_cause(&report, "not-tls");
            assert_evidence_says(&report, &["MQTT CONNECT in plain text"]);
        }
    }
}

#[test]
fn a_plain_http_request_is_cut_to_its_request_line() {
    let request =
        b"GET /status?token=Qm9vbXRva2Vu HTTP/1.1\r\nAuthorization: Bearer s3cr3t-t0ken\r\n\r\n";
    for format in ["text", "json"] {
        let (code, stdout, stderr) = serve_plain_bytes(request, format);
        assert_eq!(code, 1, "{format}: {stdout}");
        for output in [&stdout, &stderr] {
            assert!(
                !output.contains("s3cr3t-t0ken") && !output.contains("Qm9vbXRva2Vu"),
                "{format}: {output}"
            );
        }
        assert!(
            stdout
                .contains("GET /status?(query not shown) HTTP/1.1 (an HTTP request in plain text"),
            "{format}: {stdout}"
        );
        if format == "json" {
            let report: Value = serde_json::from_str(&stdout).unwrap();
            assert_top_cause(&report, "not-tls");
            assert!(
                top_evidence(&report).contains("this looks like an HTTP request in plain text"),
                "{report:#}"
            );
        }
    }
}

#[test]
fn silent_device_is_a_timeout_not_a_hang() {
    let serve = Serve::start(&["--timeout", "1"]);
    let _socket = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
    serve.refused("timeout", "");
}

#[test]
fn the_wolfssl_classic_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("wolfssl-late-cert");
    let source = fixture("pcaps", "wolfssl-late-cert.c");
    let built = Command::new("gcc")
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .arg("-lwolfssl")
        .status()
        .expect("gcc is installed (tests/run installs libwolfssl-dev)");
    assert!(
        built.success(),
        "the wolfSSL client builds (tests/run installs libwolfssl-dev)"
    );
    for version in ["1.2", "1.3"] {
        let serve = Serve::start(&[]);
        let port = serve.port.to_string();
        let output = Command::new(&binary)
            .args([
                "127.0.0.1",
                &port,
                &pki("root-ca.pem"),
                &pki("client-ec-chain.pem"),
                &pki("client-ec.key"),
                version,
            ])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("-313"),
            "wolfSSL reports -313"
        );
        let report = serve.refused("client-cert-not-sent", version);
        assert_fixes_say(&report, &["wolfSSL_new()"]);
    }
}

#[test]
fn many_devices_at_once_each_get_a_report_and_serve_stays_up() {
    use rustls::pki_types::ServerName;

    let mut serve = Serve::spawn(&["--format", "json", "--timeout", "2"]);
    let port = serve.port;

    let good = device_config(true);
    let bad = device_config(false);

    const DEVICES: usize = 200;
    // One device that connects and says nothing must not hold up the others.
    let _silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let clients: Vec<_> = (0..DEVICES)
        .map(|i| {
            let config = if i % 2 == 0 {
                good.clone()
            } else {
                bad.clone()
            };
            std::thread::spawn(move || {
                let Ok(mut socket) = TcpStream::connect(("127.0.0.1", port)) else {
                    return;
                };
                let _ = socket.set_read_timeout(Some(Duration::from_secs(10)));
                let name = ServerName::try_from("localhost").unwrap();
                let mut conn = rustls::ClientConnection::new(config, name).unwrap();
                while conn.is_handshaking() {
                    if conn.complete_io(&mut socket).is_err() {
                        return;
                    }
                }
                // TLS 1.3: the verdict on the certificate comes now; then say goodbye.
                let _ = conn.complete_io(&mut socket);
                conn.send_close_notify();
                let _ = conn.complete_io(&mut socket);
            })
        })
        .collect();
    for client in clients {
        let _ = client.join();
    }

    let stdout = BufReader::new(serve.child.stdout.take().unwrap());
    let mut by_cause = std::collections::BTreeMap::<String, usize>::new();
    for line in stdout.lines().take(DEVICES + 1) {
        let report: Value = serde_json::from_str(&line.unwrap()).expect("one JSON report per line");
        let cause = report["diagnosis"]["causes"][0]["id"]
            .as_str()
            .unwrap_or("ok")
            .to_string();
        *by_cause.entry(cause).or_default() += 1;
    }
    drop(serve);
    assert_eq!(by_cause.get("ok"), Some(&(DEVICES / 2)), "{by_cause:?}");
    assert_eq!(
        by_cause.get("client-cert-not-sent"),
        Some(&(DEVICES / 2)),
        "{by_cause:?}"
    );
    assert_eq!(
        by_cause.get("timeout"),
        Some(&1),
        "the silent device times out on its own: {by_cause:?}"
    );
}

#[test]
fn ctrl_c_ends_with_a_summary() {
    let mut serve = Serve::spawn(&[]);
    serve.s_client(&["-tls1_2"]);
    // The report is written when the connection ends; Ctrl-C once it is out.
    let stdout = Collector::new(serve.child.stdout.take().unwrap());
    assert!(
        stdout.wait_for(Duration::from_secs(10), |out| out
            .contains("1. client-cert-not-sent")),
        "no report of the connection: {}",
        stdout.text()
    );
    let (code, _, _) = serve.interrupt();
    let out = String::from_utf8_lossy(&stdout.finish()).into_owned();
    assert_eq!(code, 1, "problems were seen: {out}");
    assert!(
        out.trim_end()
            .ends_with("Summary: 1 connection(s), 0 ok, 1 with problems (client-cert-not-sent: 1)"),
        "{out}"
    );
}

#[test]
fn mqtt_connect_is_read_and_answered() {
    use rustls::pki_types::ServerName;

    for (code, expected) in [(0u8, "Connection Accepted"), (5, "not authorized")] {
        let code_arg = code.to_string();
        let serve = Serve::start(&["--mqtt", "--mqtt-return-code", &code_arg]);
        let socket = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let conn = rustls::ClientConnection::new(
            device_config(true),
            ServerName::try_from("localhost").unwrap(),
        )
        .unwrap();
        let mut tls = rustls::StreamOwned::new(conn, socket);
        // MQTT 3.1.1 CONNECT, client id "dev", username set.
        tls.write_all(&[
            0x10, 0x14, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x82, 0x00, 0x3c, 0x00, 0x03,
            b'd', b'e', b'v', 0x00, 0x03, b'u', b's', b'r',
        ])
        .unwrap();
        let mut connack = [0u8; 4];
        tls.read_exact(&mut connack).unwrap();
        assert_eq!(connack, [0x20, 0x02, 0x00, code]);
        tls.conn.send_close_notify();
        let _ = tls.flush();
        drop(tls);
        let (_, report) = serve.report();
        let events = report["transcript"]["events"].as_array().unwrap();
        let connect = events
            .iter()
            .find(|e| e["kind"] == "mqtt_connect")
            .expect("the CONNECT is reported");
        assert_eq!(connect["client_id"], "dev");
        assert_eq!(connect["level"], 4);
        assert_eq!(connect["username"], true);
        let answer = events
            .iter()
            .find(|e| e["kind"] == "mqtt_connack")
            .expect("the CONNACK is reported");
        assert_eq!(answer["name"], expected);
    }
}

#[test]
fn device_rejecting_the_server_certificate_and_a_device_without_sni() {
    let serve = Serve::start(&["--tls", "1.2"]);
    let unrelated = pki("unrelated-ca.pem");
    // No -servername: no SNI. -verify_return_error: the device refuses a server it does not trust.
    serve.s_client_with(&[
        "-CAfile",
        &unrelated,
        "-verify_return_error",
        "-noservername",
    ]);
    let report = serve.refused("server-ca-untrusted", "");
    let alert = report["transcript"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == "client" && e["kind"] == "alert")
        .expect("the device's alert");
    assert_eq!(alert["description"]["code"], 48);
    assert_eq!(finding(&report, "sni-not-sent")["severity"], "warning");
    // Without SNI, the name the device checked is unknown: no mismatch is claimed.
    assert!(
        !cause_ids(&report).contains(&"server-name-mismatch".to_string()),
        "{report:#}"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("sent no SNI") && evidence.contains("cannot be known"),
        "{evidence}"
    );
}

#[test]
fn device_checking_a_name_the_server_certificate_does_not_cover_both_versions() {
    for version in ["-tls1_2", "-tls1_3"] {
        let serve = Serve::start(&[]);
        let root = pki("root-ca.pem");
        serve.s_client_with(&[
            version,
            "-servername",
            "broker.invalid",
            "-verify_hostname",
            "broker.invalid",
            "-CAfile",
            &root,
            "-verify_return_error",
        ]);
        let (code, report) = serve.report();
        assert_eq!(code, 1, "{version}: {report:#}");
        // OpenSSL's alert for a name mismatch blames the certificate, not the name.
        assert_eq!(
            events_of(&report, "client", "alert")[0]["description"]["code"],
            42,
            "{version}"
        );
        assert_top_cause_in(version, &report, "server-name-mismatch");
        let cause = &report["diagnosis"]["causes"][0];
        let evidence = cause["evidence"].to_string();
        assert!(
            evidence.contains("'broker.invalid'") && evidence.contains("localhost, 127.0.0.1, ::1"),
            "{version}: {evidence}"
        );
        let fix = cause["fixes"][0].as_str().unwrap();
        assert!(
            fix.contains("must cover the name the device connects to")
                && fix.contains("DNS:broker.invalid"),
            "{version}: {fix}"
        );
    }
}

/// The report on a device trusting only `device_ca` that connects with `version` to `serve`
/// presenting `serve_cert`, and rejects it with alert 48 unknown_ca.
fn device_rejecting(serve_cert: &str, device_ca: &str, version: &str) -> Value {
    let cert = pki(serve_cert);
    let serve = Serve::start(&["--cert", &cert]);
    let ca = pki(device_ca);
    serve.s_client_with(&[
        version,
        "-CAfile",
        &ca,
        "-verify_return_error",
        "-servername",
        "localhost",
    ]);
    let (code, report) = serve.report();
    assert_eq!(code, 1, "{version}: {report:#}");
    let alerts = events_of(&report, "client", "alert");
    assert_eq!(
        alerts.len(),
        1,
        "{version}: the device's one alert, once: {report:#}"
    );
    assert_eq!(alerts[0]["description"]["code"], 48, "{version}");
    let server_chains = events_of(&report, "server", "certificate");
    assert_eq!(
        server_chains.len(),
        1,
        "{version}: the server's Certificate is shown, encrypted or not: {report:#}"
    );
    report
}

#[test]
fn device_trusting_another_ca_rejects_the_server_both_versions() {
    for version in ["-tls1_2", "-tls1_3"] {
        let report = device_rejecting("server-chain.pem", "unrelated-ca.pem", version);
        assert_top_cause_in(version, &report, "server-ca-untrusted");
        // The device asked for localhost, which the certificate covers: the name is not in question.
        assert!(
            !cause_ids(&report).contains(&"server-name-mismatch".to_string()),
            "{version}: {report:#}"
        );
    }
}

#[test]
fn server_sending_only_its_leaf_is_an_incomplete_chain_both_versions() {
    for version in ["-tls1_2", "-tls1_3"] {
        let report = device_rejecting("server.pem", "root-ca.pem", version);
        assert_top_cause_in(version, &report, "server-chain-incomplete");
        let certificates = &events_of(&report, "server", "certificate")[0]["certificates"];
        assert_eq!(certificates.as_array().unwrap().len(), 1, "{version}");
    }
}

#[test]
fn device_offering_only_tls_1_1_is_a_version_mismatch() {
    let serve = Serve::start(&[]);
    serve.s_client(&["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]);
    serve.refused("protocol-version-mismatch", "");
}

#[test]
fn restricted_client_schemes_and_an_optional_certificate() {
    // Only RSA-PSS for the client's signature: an EC device has no certificate it can use.
    let serve = Serve::start(&["--tls", "1.2", "--client-sigalgs", "rsa_pss_rsae_sha256"]);
    serve.s_client_files(
        &[],
        &[
            ("-cert", "client-ec.pem"),
            ("-key", "client-ec.key"),
            ("-cert_chain", "intermediate-ca.pem"),
        ],
    );
    let (code, report) = serve.report();
    assert_eq!(code, 1);
    let ids = cause_ids(&report);
    assert_eq!(
        ids.first().map(String::as_str),
        Some("client-cert-not-sent"),
        "{ids:?}"
    );
    assert!(
        ids.iter().any(|id| id == "client-sigalg-mismatch"),
        "{ids:?}"
    );

    // Asked for, not required: a device without one is fine.
    let serve = Serve::start(&["--optional-client-cert"]);
    serve.s_client(&[]);
    let (code, report) = serve.report();
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn unknown_signature_scheme_names_are_usage_errors() {
    let args = Serve::arguments(&["--client-sigalgs", "rsa_sha1024"]);
    let run = iotdoctor(&strs(&args));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unknown signature scheme 'rsa_sha1024'"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_server_key_that_is_not_its_certificates_is_refused_at_start() {
    let (cert, key) = (pki("server-chain.pem"), pki("stranger.key"));
    let args = Serve::arguments(&["--key", &key, "--once"]);
    let run = iotdoctor(&strs(&args));
    assert_eq!(run.code, 3, "an input problem: {}", run.stderr);
    assert!(!run.stderr.contains("serving TLS"), "{}", run.stderr);
    for named in [&key, &cert] {
        assert!(run.stderr.contains(named.as_str()), "{}", run.stderr);
    }
    assert!(
        run.stderr
            .contains("does not belong to certificate 'localhost'"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_listen_address_already_in_use_is_a_network_failure() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (cert, key, ca) = (
        pki("server-chain.pem"),
        pki("server.key"),
        pki("root-ca.pem"),
    );
    let args = [
        "serve",
        "--listen",
        &address,
        "--cert",
        &cert,
        "--key",
        &key,
        "--client-ca",
        &ca,
        "--once",
    ];
    let run = iotdoctor(&args);
    assert_eq!(run.code, 4, "network failure before TLS: {}", run.stderr);
    assert!(
        run.stderr.contains(&format!("cannot listen on {address}"))
            && run.stderr.contains("already in use"),
        "{}",
        run.stderr
    );
    let (code, report) = iotdoctor_json(&args);
    assert_eq!(code, 4);
    assert_eq!(report["error"]["kind"], "network", "{report:#}");
}

#[test]
fn client_ca_is_required_and_the_usage_line_says_so() {
    let help = iotdoctor(&["serve", "--help"]);
    let usage = help
        .stdout
        .lines()
        .find(|l| l.starts_with("Usage:"))
        .unwrap();
    assert!(usage.contains("--client-ca <FILE>"), "{usage}");
    // Also with --optional-client-cert: a certificate that is sent is verified against them.
    let (cert, key) = (pki("server-chain.pem"), pki("server.key"));
    assert_usage_error(
        &[
            "serve",
            "--cert",
            &cert,
            "--key",
            &key,
            "--optional-client-cert",
        ],
        "--client-ca <FILE>",
    );
}

/// A device that completes its handshake with `serve` on `port`, sends `first`, then streams
/// records of `chunk` bytes until its connection breaks or `limit` passes. Returns whether the
/// connection broke (serve stopped reading) and how many records it streamed.
fn stream_after_handshake(port: u16, first: &[u8], chunk: usize, limit: Duration) -> (bool, u64) {
    let socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(device_config(true), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, socket);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    tls.write_all(first).unwrap();
    let record = vec![b'x'; chunk];
    let start = std::time::Instant::now();
    let mut sent = 0;
    while start.elapsed() < limit {
        // One record per write: rustls seals what each write gives it.
        if tls.write_all(&record).and_then(|_| tls.flush()).is_err() {
            return (true, sent);
        }
        sent += 1;
    }
    (false, sent)
}

/// Checks the report of a connection whose records were too many to show.
fn assert_bounded(report: &Value) {
    let events = report["transcript"]["events"].as_array().unwrap();
    assert!(
        events.len() <= 1000 + 20,
        "{} events: the report is not bounded",
        events.len()
    );
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "note"
                && e["message"].as_str().unwrap().contains("more records (")),
        "no note says what was left out: {:#}",
        Value::from(events[events.len().saturating_sub(5)..].to_vec())
    );
}

#[test]
fn a_device_streaming_records_after_its_handshake_is_cut_off_at_the_deadline() {
    let serve = Serve::start(&["--timeout", "2"]);
    // 1-byte records, 23 bytes each on the wire: far more than a report shows, for as long as
    // serve reads them.
    let (cut_off, sent) = stream_after_handshake(serve.port, b"", 1, Duration::from_secs(30));
    let (code, report) = serve.report();
    assert!(
        cut_off,
        "serve read the device's stream until the device gave up ({sent} records)"
    );
    assert!(sent > 1000, "{sent} records");
    assert_eq!(
        code,
        0,
        "the handshake succeeded: {}",
        top_cause(&report).unwrap_or("ok")
    );
    assert_bounded(&report);
    let events = event_kinds(&report);
    assert!(events.contains(&"client:close".to_string()), "{events:?}");
}

#[test]
fn an_mqtt_connect_that_never_ends_is_not_buffered() {
    let serve = Serve::start(&["--timeout", "2", "--mqtt"]);
    // A CONNECT whose remaining length says 200 MB, then data for as long as serve reads it.
    let (cut_off, sent) = stream_after_handshake(
        serve.port,
        b"\x10\xff\xff\xff\x5f",
        16 * 1024,
        Duration::from_secs(30),
    );
    let (_, report) = serve.report();
    assert!(
        cut_off,
        "serve read the device's stream until the device gave up ({sent} records)"
    );
    assert_bounded(&report);
    assert!(
        events_of(&report, "client", "note")
            .iter()
            .any(|n| n["message"]
                .as_str()
                .unwrap()
                .contains("not a whole MQTT CONNECT within its first 65536 bytes")),
        "{:#}",
        report["transcript"]
    );
    assert!(events_of(&report, "server", "mqtt_connack").is_empty());
}

#[test]
fn a_device_dripping_its_client_hello_is_a_timeout_at_the_deadline() {
    // The start of a real ClientHello, one byte every 200 ms.
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut hello = Vec::new();
    rustls::ClientConnection::new(device_config(true), name)
        .unwrap()
        .write_tls(&mut hello)
        .unwrap();
    let start = std::time::Instant::now();
    let serve = Serve::start(&["--timeout", "2"]);
    let port = serve.port;
    let device = std::thread::spawn(move || {
        let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
        for byte in hello.iter().take(150) {
            if socket.write_all(&[*byte]).is_err() {
                return;
            }
            // The pace is what is tested, not a wait for something.
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let (code, report) = serve.report();
    let elapsed = start.elapsed();
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "timeout");
    assert!(
        elapsed < Duration::from_secs(2 + 3),
        "serve held the dripping device for {elapsed:?} with --timeout 2"
    );
    let evidence = top_evidence(&report);
    assert!(
        evidence.contains("the handshake had not finished when --timeout ran out")
            && evidence.contains("bytes came of the")
            && evidence.contains("\\\\x16\\\\x03\\\\x01"),
        "the cause says what the device sent: {evidence}"
    );
    assert!(
        !evidence.contains("sent nothing"),
        "the device did send bytes: {evidence}"
    );
    assert_eq!(events_of(&report, "client", "partial_record").len(), 1);
    drop(device);
}

#[test]
fn a_device_closing_inside_its_first_record_is_an_incomplete_handshake() {
    for format in ["text", "json"] {
        let serve = Serve::spawn(&["--once", "--timeout", "3", "--format", format]);
        let mut socket = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
        socket.write_all(b"\x16\x03\x01").unwrap();
        drop(socket);
        let (code, stdout, _) = serve.output();
        assert_eq!(code, 1, "{format}: {stdout}");
        if format == "text" {
            // Evidence lines wrap: their words are compared, not their line breaks.
            let words = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                stdout.contains("1. handshake-incomplete")
                    && stdout.contains("handshake record cut off: 3 bytes its header cut short")
                    && words.contains(
                        r#"3 bytes came (not even its whole 5-byte header): "\x16\x03\x01""#
                    ),
                "{stdout}"
            );
            continue;
        }
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["outcome"], "problems");
        assert_top_cause(&report, "handshake-incomplete");
        let partial = events_of(&report, "client", "partial_record");
        assert_eq!(partial.len(), 1, "{report:#}");
        assert_eq!(partial[0]["received"], 3);
        assert_eq!(partial[0]["preview"], "\\x16\\x03\\x01");
        assert_evidence_says(&report, &["\\\\x16\\\\x03\\\\x01"]);
    }
}

/// What one device that sends `bytes` and closes gets from `serve --once --format json`: the
/// exit code and the report.
fn one_device(bytes: &[u8]) -> (i32, Value) {
    let serve = Serve::spawn(&["--once", "--timeout", "3", "--format", "json"]);
    let mut socket = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
    socket.write_all(bytes).unwrap();
    let _ = socket.shutdown(std::net::Shutdown::Write);
    // Whatever serve answers is read, so that its close is not a reset.
    let _ = std::io::copy(&mut socket, &mut std::io::sink());
    drop(socket);
    serve.report()
}

/// A device that connects and closes without a byte did not get a handshake: not ok.
#[test]
fn a_device_that_closes_without_a_byte_is_not_ok() {
    let (code, report) = one_device(b"");
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "peer-closed");
    let evidence = top_evidence(&report);
    assert!(evidence.contains("without sending a byte"), "{evidence}");
}

/// rustls refuses a ClientHello declaring 70,000 bytes without an alert of its own: its error
/// is the evidence, and the verdict is not ok.
#[test]
fn a_handshake_the_server_library_refused_without_an_alert_is_not_ok() {
    let (code, report) = one_device(b"\x16\x03\x01\x00\x04\x01\x01\x11\x70");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["outcome"], "problems");
    assert_evidence_says(&report, &["rustls"]);
}

/// `iotdoctor serve` (fixture server chain, fixture root for devices, `--format json`, plus
/// `extra`) under a limit of `open_files` open files.
fn serve_with_open_files(open_files: u32, extra: &[&str]) -> Serve {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let limit = format!("ulimit -n {open_files} && exec \"$0\" \"$@\"");
    let mut command = Command::new("sh");
    command
        .args(["-c", &limit])
        .arg(assert_cmd::cargo::cargo_bin("iotdoctor"))
        .args(Serve::arguments(&args));
    Serve::run(command)
}

/// CPU seconds process `pid` has used (user and system; /proc counts in 1/100 s on Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// CPU seconds process `pid` uses over two seconds.
fn cpu_over_two_seconds(pid: u32) -> f64 {
    let before = cpu_seconds(pid);
    // The window measured, not a wait for something.
    std::thread::sleep(Duration::from_secs(2));
    cpu_seconds(pid) - before
}

/// Connects a device that sends an HTTP request and waits for the not-tls report that says so
/// among the next reports (after those of `before` other connections, at most).
fn a_device_is_still_served(serve: &mut Serve, before: usize) {
    let mut device = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
    device.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let stdout = BufReader::new(serve.child.stdout.as_mut().unwrap());
    for line in stdout.lines().take(before + 1) {
        let report: Value = serde_json::from_str(&line.unwrap()).unwrap();
        if top_cause(&report) == Some("not-tls") {
            return;
        }
    }
    panic!("no report for the device that came after the others");
}

/// How many times serve has said it cannot accept a connection.
fn accept_warnings(serve: &Serve) -> usize {
    serve
        .stderr
        .text()
        .matches("cannot accept a connection")
        .count()
}

#[test]
fn at_the_open_files_limit_serve_pauses_says_so_once_and_keeps_serving() {
    // 40 open files cannot hold 100 connections: accepting fails past about 35 of them.
    let mut serve = serve_with_open_files(40, &["--max-connections", "100", "--timeout", "30"]);
    let devices: Vec<TcpStream> = (0..60)
        .map(|_| TcpStream::connect(("127.0.0.1", serve.port)).unwrap())
        .collect();
    serve
        .stderr
        .wait_for(Duration::from_secs(10), |log| log.contains("cannot accept"));
    let log = serve.stderr.text();
    let warning = log
        .lines()
        .find(|line| line.contains("cannot accept"))
        .unwrap_or_default();
    assert!(
        warning.contains("WARN")
            && warning.contains("cannot accept a connection")
            && warning.contains("the process's limit of open files is 40"),
        "{warning}"
    );
    let cpu = cpu_over_two_seconds(serve.child.id());
    assert!(
        cpu < 0.5,
        "{cpu} s of CPU in 2 s while accepting fails: it spins"
    );
    drop(devices);
    a_device_is_still_served(&mut serve, 60);
    assert_eq!(
        accept_warnings(&serve),
        1,
        "said once per run of failures, not once per failure: {}",
        serve.stderr.text()
    );
}

#[test]
fn the_default_max_connections_fits_the_open_files_limit() {
    // (40 - 32) / 2: 4 devices at once; the others wait in the listen backlog.
    let mut serve = serve_with_open_files(40, &["--timeout", "30"]);
    let devices: Vec<TcpStream> = (0..60)
        .map(|_| TcpStream::connect(("127.0.0.1", serve.port)).unwrap())
        .collect();
    let pid = serve.child.id();
    // The listener and 4 devices.
    poll_until(Duration::from_secs(10), || sockets_of(pid) > 4);
    let cpu = cpu_over_two_seconds(pid);
    assert_eq!(sockets_of(pid), 1 + 4, "the listener and 4 devices");
    assert!(cpu < 0.5, "{cpu} s of CPU in 2 s with devices waiting");
    drop(devices);
    a_device_is_still_served(&mut serve, 60);
    assert_eq!(accept_warnings(&serve), 0, "{}", serve.stderr.text());
}

#[test]
fn max_connections_makes_the_next_device_wait_until_one_ends() {
    let mut serve = Serve::spawn(&[
        "--max-connections",
        "2",
        "--timeout",
        "30",
        "--format",
        "json",
    ]);
    let (pid, port) = (serve.child.id(), serve.port);
    let first = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let second = TcpStream::connect(("127.0.0.1", port)).unwrap();
    poll_until(Duration::from_secs(10), || sockets_of(pid) >= 3);
    assert_eq!(sockets_of(pid), 3, "the listener and the first two devices");
    // The third says something no TLS server accepts: served, it would be reported at once.
    let mut third = TcpStream::connect(("127.0.0.1", port)).unwrap();
    third.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let (lines, reports) = std::sync::mpsc::channel();
    let stdout = BufReader::new(serve.child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = lines.send(serde_json::from_str::<Value>(&line).unwrap());
        }
    });
    // That it is not served can only be seen over a while.
    assert!(
        reports.recv_timeout(Duration::from_millis(1500)).is_err(),
        "the third device was served with two already being served"
    );
    assert_eq!(sockets_of(pid), 3, "the third device was accepted");
    let first_port = first.local_addr().unwrap().port();
    drop(first);
    let report = reports.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(
        report["target"]["address"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{first_port}")),
        "{report:#}"
    );
    let report = reports.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_top_cause(&report, "not-tls");
    drop((second, third, serve));
}
