//! `iotdoctor explain` on the command line: codes, names and messages as users paste them, text
//! and JSON, exit codes; and `explain --log` on the real debug logs of `fixtures/logs`.

use crate::common::*;
use serde_json::Value;

fn readings(report: &Value) -> &Vec<Value> {
    report["explanation"]["readings"].as_array().unwrap()
}

fn reading_names(report: &Value) -> Vec<String> {
    readings(report)
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["stack"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn an_alert_number_without_a_stack_lists_every_reading() {
    let (code, report) = iotdoctor_json(&["explain", "42"]);
    assert_eq!(code, 0);
    assert_eq!(report["command"], "explain");
    let names = reading_names(&report);
    assert_eq!(names[0], "tls:bad_certificate", "{names:?}");
    assert!(
        names.len() > 1,
        "42 is also a negative code of some stack: {names:?}"
    );
    let alert = &readings(&report)[0];
    assert_eq!(alert["causes"][0]["id"], "client-cert-not-sent");
    assert!(
        alert["causes"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("client")
    );
    assert!(alert["next"].as_str().unwrap().starts_with("iotdoctor "));

    let text = iotdoctor(&["explain", "42", "--color", "never"]);
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("readings (narrow them with --stack)"));
    assert!(text.stdout.contains("TLS alert 42  bad_certificate"));
    assert!(text.stdout.contains("client-cert-not-sent"));
}

#[test]
fn negative_and_hex_codes_are_codes_not_options() {
    let (code, report) = iotdoctor_json(&["explain", "-313", "--stack", "wolfssl"]);
    assert_eq!(code, 0);
    assert_eq!(reading_names(&report), ["wolfssl:FATAL_ERROR"]);
    assert_eq!(report["explanation"]["stack"], "wolfssl");

    let (_, report) = iotdoctor_json(&["explain", "--stack", "mbedtls", "-0x7780"]);
    assert_eq!(
        reading_names(&report)[0],
        "mbedtls:MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE"
    );
}

#[test]
fn mbedtls_codes_renumbered_in_3x_show_both_versions() {
    let (_, report) = iotdoctor_json(&["explain", "-0x7580"]);
    let versions: Vec<(&str, &str)> = readings(&report)
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["versions"].as_str().unwrap()))
        .collect();
    assert_eq!(
        versions,
        [
            ("MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED", "2.x"),
            ("MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL", "3.x"),
        ]
    );
    let text = iotdoctor(&["explain", "-0x7580", "--color", "never"]);
    assert!(text.stdout.contains("mbedTLS 2.x -0x7580"));
    assert!(text.stdout.contains("mbedTLS 3.x -0x7580"));
}

#[test]
fn an_openssl_1_1_code_of_decimal_digits_is_read_as_the_packed_code() {
    for (query, reason, alert) in [
        (
            "14094412",
            "openssl:SSL_R_SSLV3_ALERT_BAD_CERTIFICATE",
            "tls:bad_certificate",
        ),
        (
            "14094410",
            "openssl:SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE",
            "tls:handshake_failure",
        ),
    ] {
        let (code, report) = iotdoctor_json(&["explain", query]);
        assert_eq!(code, 0, "{query}: {report:#}");
        let names = reading_names(&report);
        assert_eq!(names[0], reason, "{query}");
        assert!(names.contains(&alert.to_string()), "{query}: {names:?}");
    }
    let text = iotdoctor(&["explain", "14094412", "--color", "never"]);
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("received alert 42 bad_certificate"));
}

#[test]
fn messages_are_read_with_or_without_quotes() {
    let quoted = iotdoctor_json(&["explain", "unable to get local issuer certificate"]).1;
    let words = iotdoctor_json(&[
        "explain",
        "unable",
        "to",
        "get",
        "local",
        "issuer",
        "certificate",
    ])
    .1;
    assert_eq!(quoted["explanation"], words["explanation"]);
    assert_eq!(
        reading_names(&quoted)[0],
        "openssl:X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
    );
    // A whole OpenSSL error line, as s_client prints it.
    let (_, report) = iotdoctor_json(&[
        "explain",
        "40D04DE9157F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/record/rec_layer_s3.c:1602:SSL alert number 40",
    ]);
    let names = reading_names(&report);
    assert!(
        names.contains(&"tls:handshake_failure".to_string()),
        "{names:?}"
    );
}

#[test]
fn unknown_input_is_a_usage_error_with_a_message() {
    assert_usage_error(&["explain", "no-such-thing-xyz"], "nothing iotdoctor knows");
    let run = iotdoctor(&["explain"]);
    assert_eq!(run.code, 2);
    let run = iotdoctor(&["explain", "42", "--stack", "schannel"]);
    assert_eq!(run.code, 2);
}

fn log_path(name: &str) -> String {
    fixture("logs", &format!("{name}.log"))
        .to_string_lossy()
        .into_owned()
}

/// `explain --log` on a fixture: exit code, top cause, and the report.
fn explain_log(name: &str) -> (i32, Option<String>, Value) {
    let (code, report) = iotdoctor_json(&["explain", "--log", &log_path(name)]);
    let top = top_cause(&report).map(str::to_string);
    (code, top, report)
}

/// `explain --log` on `text`, written to `path`: it must end as the original log did, with
/// exit code `code` and top cause `top`. `case` names the case when it does not. The report.
fn explain_rewritten(
    path: &std::path::Path,
    text: String,
    (code, top): (i32, &Option<String>),
    case: &str,
) -> Value {
    std::fs::write(path, text).unwrap();
    let (rewritten_code, report) = iotdoctor_json(&["explain", "--log", path.to_str().unwrap()]);
    assert_eq!(rewritten_code, code, "{case}: {report:#}");
    assert_eq!(top_cause(&report), top.as_deref(), "{case}");
    report
}

#[test]
fn the_wolfssl_classic_is_found_in_its_debug_log() {
    for name in ["wolfssl-late-cert-tls12", "wolfssl-late-cert-tls13"] {
        let (code, top, report) = explain_log(name);
        assert_eq!(code, 1, "{name}");
        assert_eq!(top.as_deref(), Some("client-cert-not-sent"), "{name}");
        let cause = cause(&report, "client-cert-not-sent");
        assert!(cause["confidence"].as_f64().unwrap() >= 0.9);
        let evidence: Vec<&str> = cause["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        // The session's creation, then the loads into the context, each by line.
        assert!(evidence[0].contains("wolfSSL_new"), "{evidence:?}");
        assert!(evidence[0].contains("before its credentials were loaded"));
        assert!(
            evidence
                .iter()
                .any(|e| e.contains("wolfSSL_CTX_use_certificate_chain_file"))
        );
        assert!(
            evidence
                .iter()
                .any(|e| e.contains("wolfSSL_CTX_use_PrivateKey_file"))
        );
        let fixes = cause["fixes"].to_string();
        assert!(fixes.contains("BEFORE wolfSSL_new()"), "{fixes}");
        assert_eq!(report["log"]["stacks"][0], "wolfssl");
    }
    let text = iotdoctor(&[
        "explain",
        "--log",
        &log_path("wolfssl-late-cert-tls12"),
        "--color",
        "never",
    ]);
    assert!(text.stdout.contains("session created (wolfSSL_new)"));
    assert!(text.stdout.contains("alert 40 handshake_failure"));
    assert!(text.stdout.contains("error -313 FATAL_ERROR"));
    assert!(text.stdout.contains("most likely client-cert-not-sent"));
}

#[test]
fn logs_of_good_handshakes_are_healthy() {
    for name in [
        "wolfssl-ok-tls12",
        "wolfssl-ok-tls13",
        "mbedtls-ok-tls12",
        "openssl-ok-tls12",
        "openssl-ok-tls13",
        "openssl-msg-ok-tls13",
        "gnutls-ok-tls12",
        "gnutls-ok-tls13",
    ] {
        let (code, top, report) = explain_log(name);
        assert_eq!((code, top), (0, None), "{name}: {report:#}");
        assert_eq!(report["outcome"], "ok");
    }
}

#[test]
fn a_missing_client_certificate_is_found_in_every_log_format() {
    for (name, at_least) in [
        ("mbedtls-no-cert-tls12", 0.9),
        ("mbedtls-no-cert-tls12-level3", 0.9),
        ("openssl-msg-no-cert-tls12", 0.9),
        ("openssl-msg-no-cert-tls13", 0.9),
        ("openssl-state-no-cert-tls12", 0.9),
        ("openssl-state-no-cert-tls13", 0.9),
        ("openssl-trace-no-cert-tls12", 0.9),
        ("openssl-trace-no-cert-tls13", 0.9),
        // The alert 116 says it.
        ("openssl-no-cert-tls13", 0.85),
        // The server's own error says it.
        ("openssl-server-no-cert-tls12", 0.75),
        ("openssl-server-no-cert-tls13", 0.75),
        ("gnutls-no-cert-tls12", 0.9),
        ("gnutls-no-cert-tls13", 0.9),
        ("gnutls-no-cert-tls13-d5", 0.9),
        // gnutls-cli without -d: its certificate callback says it gave 0 certificates.
        ("gnutls-plain-no-cert-tls12", 0.9),
    ] {
        let (code, top, report) = explain_log(name);
        assert_eq!(code, 1, "{name}");
        assert_eq!(
            top.as_deref(),
            Some("client-cert-not-sent"),
            "{name}: {report:#}"
        );
        let confidence = cause(&report, "client-cert-not-sent")["confidence"]
            .as_f64()
            .unwrap();
        assert!(confidence >= at_least, "{name}: {confidence}");
    }
    // Plain s_client output in TLS 1.2 shows the CertificateRequest and alert 40, not what the
    // client sent: a low confidence, and it says what would settle it.
    let (_, top, report) = explain_log("openssl-no-cert-tls12");
    assert_eq!(top.as_deref(), Some("client-cert-not-sent"));
    let weak = cause(&report, "client-cert-not-sent");
    assert!(weak["confidence"].as_f64().unwrap() < 0.5);
    assert!(
        weak["evidence"]
            .to_string()
            .contains("does not show whether")
    );
}

#[test]
fn the_server_chain_and_the_key_are_told_apart() {
    for name in [
        "openssl-wrong-ca",
        "openssl-wrong-ca-verify-return-error",
        "gnutls-wrong-ca",
    ] {
        let (code, top, report) = explain_log(name);
        assert_eq!(code, 1);
        assert_eq!(top.as_deref(), Some("server-ca-untrusted"), "{name}");
        assert!(
            cause(&report, "server-ca-untrusted")["evidence"]
                .to_string()
                .contains("depth 1")
        );
    }
    let (code, top, report) = explain_log("mbedtls-bad-key-tls12");
    assert_eq!(code, 1);
    assert_eq!(top.as_deref(), Some("client-key-unusable"), "{report:#}");
    assert!(
        cause(&report, "client-key-unusable")["evidence"]
            .to_string()
            .contains("mbedtls_pk_sign")
    );
}

#[test]
fn gnutls_cli_debug_logs_are_read_line_by_line() {
    for (name, version, alert) in [
        (
            "gnutls-no-cert-tls12",
            "TLSv1.2",
            "alert 40 handshake_failure",
        ),
        (
            "gnutls-no-cert-tls13",
            "TLSv1.3",
            "alert 116 certificate_required",
        ),
    ] {
        let (_, _, report) = explain_log(name);
        assert_eq!(report["log"]["stacks"], serde_json::json!(["gnutls"]));
        assert_eq!(report["log"]["tls_version"], version, "{name}");
        let evidence: Vec<String> = cause(&report, "client-cert-not-sent")["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_string())
            .collect();
        // The CertificateRequest received and the empty Certificate queued, each by its line.
        assert!(
            evidence[0].starts_with("line ") && evidence[0].contains("CERTIFICATE REQUEST (13)"),
            "{name}: {evidence:?}"
        );
        assert!(
            evidence[1].starts_with("line ") && evidence[1].contains("CERTIFICATE was queued ["),
            "{name}: {evidence:?}"
        );
        assert!(evidence[1].contains("was empty"));
        let text = iotdoctor(&["explain", "--log", &log_path(name), "--color", "never"]);
        assert!(
            text.stdout.contains("(GnuTLS client log, "),
            "{}",
            text.stdout
        );
        assert!(text.stdout.contains("client -> Certificate: EMPTY"));
        assert!(
            text.stdout
                .contains("error -12 GNUTLS_E_FATAL_ALERT_RECEIVED")
        );
        assert!(text.stdout.contains(alert), "{name}: {}", text.stdout);
    }
    // The server's chain: the issuer of its last certificate (the intermediate) is unknown.
    let (_, _, report) = explain_log("gnutls-wrong-ca");
    let steps = report["log"]["events"].to_string();
    assert!(steps.contains("GNUTLS_CERT_SIGNER_NOT_FOUND"), "{steps}");
    assert!(steps.contains("iotdoctor Test Intermediate CA"));
    assert!(steps.contains("GNUTLS_E_CERTIFICATE_ERROR"));
}

/// What `explain --log` finds in each log of `fixtures/logs`: its exit code and top cause. A
/// log added without its line here fails `every_fixture_log_has_its_verdict`.
const FIXTURE_LOG_VERDICTS: &[(&str, Option<&str>)] = &[
    ("gnutls-no-cert-tls12", Some("client-cert-not-sent")),
    ("gnutls-no-cert-tls13", Some("client-cert-not-sent")),
    ("gnutls-no-cert-tls13-d5", Some("client-cert-not-sent")),
    ("gnutls-ok-tls12", None),
    ("gnutls-ok-tls13", None),
    ("gnutls-plain-no-cert-tls12", Some("client-cert-not-sent")),
    ("gnutls-wrong-ca", Some("server-ca-untrusted")),
    ("mbedtls-bad-key-tls12", Some("client-key-unusable")),
    ("mbedtls-no-cert-tls12", Some("client-cert-not-sent")),
    ("mbedtls-no-cert-tls12-level3", Some("client-cert-not-sent")),
    ("mbedtls-ok-tls12", None),
    ("openssl-client-expired-tls12", Some("client-cert-expired")),
    ("openssl-client-expired-tls13", Some("client-cert-expired")),
    (
        "openssl-client-unknown-ca-tls12",
        Some("client-ca-untrusted"),
    ),
    ("openssl-msg-no-cert-tls12", Some("client-cert-not-sent")),
    ("openssl-msg-no-cert-tls13", Some("client-cert-not-sent")),
    ("openssl-msg-ok-tls13", None),
    ("openssl-no-cert-tls12", Some("client-cert-not-sent")),
    ("openssl-no-cert-tls13", Some("client-cert-not-sent")),
    ("openssl-ok-tls12", None),
    ("openssl-ok-tls13", None),
    ("openssl-refused", Some("connect-refused")),
    ("openssl-server-no-cert-tls12", Some("client-cert-not-sent")),
    ("openssl-server-no-cert-tls13", Some("client-cert-not-sent")),
    ("openssl-state-no-cert-tls12", Some("client-cert-not-sent")),
    ("openssl-state-no-cert-tls13", Some("client-cert-not-sent")),
    ("openssl-trace-no-cert-tls12", Some("client-cert-not-sent")),
    ("openssl-trace-no-cert-tls13", Some("client-cert-not-sent")),
    ("openssl-wrong-ca", Some("server-ca-untrusted")),
    (
        "openssl-wrong-ca-verify-return-error",
        Some("server-ca-untrusted"),
    ),
    ("wolfssl-late-cert-tls12", Some("client-cert-not-sent")),
    ("wolfssl-late-cert-tls13", Some("client-cert-not-sent")),
    ("wolfssl-ok-tls12", None),
    ("wolfssl-ok-tls13", None),
];

#[test]
fn every_fixture_log_has_its_verdict() {
    let dir = format!("{}/fixtures/logs", env!("CARGO_MANIFEST_DIR"));
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".log").map(str::to_string)
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FIXTURE_LOG_VERDICTS
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "fixtures/logs and FIXTURE_LOG_VERDICTS differ"
    );
    for (name, expected) in FIXTURE_LOG_VERDICTS {
        let (code, top, report) = explain_log(name);
        let expected_code = if expected.is_some() { 1 } else { 0 };
        assert_eq!(
            (code, top.as_deref()),
            (expected_code, *expected),
            "{name}: {report:#}"
        );
    }
}

#[test]
fn a_refused_connection_is_named_from_the_error_line() {
    let (code, top, report) = explain_log("openssl-refused");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top.as_deref(), Some("connect-refused"));
    let evidence = cause(&report, "connect-refused")["evidence"].to_string();
    assert!(evidence.contains("line 1: "), "{evidence}");
    assert!(evidence.contains("Connection refused"), "{evidence}");
    assert_eq!(report["log"]["events"][0]["kind"], "connection_failed");
    assert_eq!(report["log"]["events"][0]["failure"], "refused");
}

#[test]
fn a_client_certificate_the_server_refused_is_named_by_its_alert() {
    for (name, top_cause, certificate_line, alert_line) in [
        (
            "openssl-client-expired-tls12",
            "client-cert-expired",
            127,
            215,
        ),
        (
            "openssl-client-expired-tls13",
            "client-cert-expired",
            155,
            291,
        ),
        (
            "openssl-client-unknown-ca-tls12",
            "client-ca-untrusted",
            127,
            184,
        ),
    ] {
        let (code, top, report) = explain_log(name);
        assert_eq!(code, 1, "{name}");
        assert_eq!(top.as_deref(), Some(top_cause), "{name}: {report:#}");
        let cause = cause(&report, top_cause);
        let confidence = cause["confidence"].as_f64().unwrap();
        // The log shows that a certificate was sent, never the certificate itself.
        assert!((0.7..0.9).contains(&confidence), "{name}: {confidence}");
        let evidence = cause["evidence"].to_string();
        for line in [certificate_line, alert_line] {
            assert!(
                evidence.contains(&format!("line {line}: ")),
                "{name}: {evidence}"
            );
        }
        assert!(evidence.contains("Certificate"), "{name}: {evidence}");
        assert!(!evidence.contains("does not show more"), "{name}");
    }
}

#[test]
fn a_timestamp_or_console_prefix_on_every_line_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "wolfssl-late-cert-tls12",
        "openssl-msg-no-cert-tls12",
        "mbedtls-no-cert-tls12",
    ] {
        let (code, top, report) = explain_log(name);
        let original = std::fs::read_to_string(log_path(name)).unwrap();
        for prefix in [
            "[00:01:02.345] ",
            "[  12.345678] ",
            "2026-11-26 12:34:56.789 ",
            "2026-11-26T12:34:56Z ",
            "12:34:56.789 ",
            "12:34:56.789 -> ",
            "I (1234) tls: ",
            "Nov 26 12:34:56 host device[123]: ",
            "[RX] ",
        ] {
            let prefixed: String = original
                .lines()
                .map(|line| format!("{prefix}{line}\n"))
                .collect();
            let path = dir.path().join(format!("{name}.log"));
            let prefixed_report =
                explain_rewritten(&path, prefixed, (code, &top), &format!("{name} {prefix:?}"));
            // The same steps from the same lines, and the same evidence: the prefix is not
            // part of the text cited.
            assert_eq!(
                prefixed_report["log"]["events"], report["log"]["events"],
                "{name} {prefix:?}"
            );
            assert_eq!(prefixed_report["diagnosis"], report["diagnosis"]);
        }
    }
}

#[test]
fn a_log_can_come_on_standard_input() {
    let log = std::fs::read(log_path("openssl-msg-no-cert-tls13")).unwrap();
    let output = assert_cmd::Command::cargo_bin("iotdoctor")
        .unwrap()
        .args(["explain", "--log", "-", "--format", "json"])
        .write_stdin(log)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["log"]["source"], "-");
    assert_eq!(top_cause(&report), Some("client-cert-not-sent"));
}

#[test]
fn what_is_not_a_log_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "shopping list\nmilk\n").unwrap();
    let run = iotdoctor(&["explain", "--log", text.to_str().unwrap()]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("none of its 2 lines"), "{}", run.stderr);
    let run = iotdoctor(&["explain", "--log", "/no/such/file.log"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("no such file"));
    // Binary garbage: still no panic, still exit 3.
    let binary = dir.path().join("core");
    std::fs::write(
        &binary,
        (0..=255u8).cycle().take(100_000).collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(
        iotdoctor(&["explain", "--log", binary.to_str().unwrap()]).code,
        3
    );
    // A code and a log at once is a usage error.
    assert_eq!(iotdoctor(&["explain", "42", "--log", "x"]).code, 2);
}

#[test]
fn a_broker_s_refusal_is_explained_too() {
    let (code, report) =
        iotdoctor_json(&["explain", "Connection", "Refused:", "not", "authorised."]);
    assert_eq!(code, 0);
    assert_eq!(
        reading_names(&report)[0],
        "mqtt:CONNACK_REFUSED_NOT_AUTHORIZED"
    );
    assert_eq!(readings(&report)[0]["causes"][0]["id"], "mqtt-rejected");
    assert!(
        readings(&report)[0]["next"]
            .as_str()
            .unwrap()
            .contains("--mqtt")
    );
    let (_, report) = iotdoctor_json(&["explain", "0x87", "--stack", "mqtt"]);
    assert_eq!(reading_names(&report), ["mqtt:MQTT_RC_NOT_AUTHORIZED"]);
    assert_eq!(readings(&report)[0]["versions"], "5");
}

/// An mbedTLS debug line as the library's callback gets it: the text before it on the same
/// line (an application's progress dots), the file, the line number, the level and the message.
fn mbedtls_debug_parts(line: &str) -> Option<(&str, &str, &str, u8, &str)> {
    let bar = line.find(": |")?;
    let (before, number) = line[..bar].rsplit_once(':')?;
    // `  . Performing the SSL/TLS handshake...ssl_tls.c`: the file begins after the last "..."
    // or space.
    let file_start = before
        .rfind("...")
        .map(|i| i + 3)
        .or_else(|| before.rfind(' ').map(|i| i + 1))
        .unwrap_or(0);
    let (level, message) = line[bar + 3..].split_once("| ")?;
    let message = match message.split_once(": ") {
        Some((address, text)) if address.starts_with("0x") => text,
        _ => message,
    };
    Some((
        &before[..file_start],
        &before[file_start..],
        number,
        level.trim().parse().ok()?,
        message,
    ))
}

/// ESP-IDF's callback (`mbedtls_esp_enable_debug_log`) prints `file:line message` under a log
/// header whose letter is the level, and newer Zephyr's `file:line: message`: neither has the
/// `|level|` of mbedTLS's example programs. The same logs in those shapes give the same verdicts.
#[test]
fn mbedtls_lines_without_their_level_as_esp_idf_and_zephyr_print_them() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "mbedtls-no-cert-tls12",
        "mbedtls-no-cert-tls12-level3",
        "mbedtls-ok-tls12",
    ] {
        let (code, top, report) = explain_log(name);
        let original = std::fs::read_to_string(log_path(name)).unwrap();
        let esp_idf = |line: &str| match mbedtls_debug_parts(line) {
            Some((before, file, number, level, message)) => {
                let letter = ["W", "W", "I", "D", "V"][usize::from(level.min(4))];
                let number = number.trim_start_matches('0');
                format!("{before}\n{letter} (1234) mbedtls: {file}:{number} {message}\n")
            }
            None => format!("{line}\n"),
        };
        let zephyr = |line: &str| match mbedtls_debug_parts(line) {
            Some((before, file, number, _, message)) => {
                format!("{before}\n[00:00:01.234,000] <dbg> mbedtls: {file}:{number}: {message}\n")
            }
            None => format!("{line}\n"),
        };
        for (shape, convert) in [
            ("esp-idf", &esp_idf as &dyn Fn(&str) -> String),
            ("zephyr", &zephyr),
        ] {
            let converted: String = original.lines().map(convert).collect();
            assert!(
                !converted.contains(": |"),
                "{name} {shape}: every debug line converted"
            );
            let path = dir.path().join(format!("{name}-{shape}.log"));
            let converted_report =
                explain_rewritten(&path, converted, (code, &top), &format!("{name} {shape}"));
            let kinds = |r: &Value| -> Vec<String> {
                r["log"]["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| format!("{} {}", e["kind"], e["message"]))
                    .collect()
            };
            assert_eq!(kinds(&converted_report), kinds(&report), "{name} {shape}");
        }
    }
}

/// Some serial consoles save lines ending in a lone CR, or in CRLF: the log reads the same.
#[test]
fn line_endings_cr_and_crlf_read_like_lf() {
    let dir = tempfile::tempdir().unwrap();
    let name = "wolfssl-late-cert-tls12";
    let (code, top, report) = explain_log(name);
    let original = std::fs::read_to_string(log_path(name)).unwrap();
    for (ending, label) in [("\r", "cr"), ("\r\n", "crlf")] {
        let path = dir.path().join(format!("{name}-{label}.log"));
        let text: String = original.lines().map(|l| format!("{l}{ending}")).collect();
        let converted = explain_rewritten(&path, text, (code, &top), label);
        assert_eq!(
            converted["log"]["events"], report["log"]["events"],
            "{label}"
        );
    }
}
