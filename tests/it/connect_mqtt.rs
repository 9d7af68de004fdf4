//! `iotdoctor connect --mqtt` against real peers on loopback: a mosquitto broker requiring client
//! certificates (one listener accepting, one refusing the client), an `openssl s_server` that
//! closes the connection when the CONNECT arrives (as AWS IoT Core does when its policy refuses a
//! client), and `iotdoctor serve --mqtt`. Each must be told apart: a TLS failure, an MQTT
//! refusal, a silent close.

use std::io::{BufReader, Read};
use std::process::Command;

use crate::common::*;
use serde_json::Value;

/// A mosquitto broker requiring a client certificate from the fixture root, with `settings`
/// added to its listener.
fn broker(settings: &str) -> Mosquitto {
    Mosquitto::start(MqttListener::Tls, settings)
}

const ACCEPTING: &str = "allow_anonymous true";
/// Anonymous clients refused: a client with a certificate but no account gets CONNACK "not
/// authorized".
const REFUSING: &str = "allow_anonymous false";

/// `connect --mqtt` with the fixture device credentials (or none) and `extra` arguments.
fn connect_mqtt(endpoint: &str, with_certificate: bool, extra: &[&str]) -> (i32, Value) {
    let (root, cert, key) = (
        pki("root-ca.pem"),
        pki("client-ec-chain.pem"),
        pki("client-ec.key"),
    );
    let mut args = vec!["--address", "127.0.0.1", "--ca", &root, "--mqtt"];
    if with_certificate {
        args.extend(["--cert", &cert, "--key", &key]);
    }
    args.extend_from_slice(extra);
    connect_json(endpoint, &args)
}

fn mqtt_events<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    let from = if kind == "mqtt_connect" {
        "client"
    } else {
        "server"
    };
    events_of(report, from, kind)
}

#[test]
fn a_broker_accepting_the_client_is_healthy_in_both_tls_versions() {
    let broker = broker(ACCEPTING);
    for (tls, version) in [("1.2", "3.1.1"), ("1.3", "5")] {
        let (code, report) = connect_mqtt(
            &broker.endpoint(),
            true,
            &[
                "--tls",
                tls,
                "--mqtt-version",
                version,
                "--client-id",
                "device-7",
            ],
        );
        assert_eq!(code, 0, "TLS {tls}: {report:#}");
        assert!(cause_ids(&report).is_empty(), "{report:#}");
        let connect = mqtt_events(&report, "mqtt_connect");
        assert_eq!(connect.len(), 1);
        assert_eq!(connect[0]["client_id"], "device-7");
        assert_eq!(connect[0]["level"], if version == "5" { 5 } else { 4 });
        let connack = mqtt_events(&report, "mqtt_connack");
        assert_eq!(connack.len(), 1, "{report:#}");
        assert_eq!(connack[0]["code"], 0);
    }
}

#[test]
fn a_broker_refusing_the_client_is_an_mqtt_rejection_by_name() {
    let broker = broker(REFUSING);
    for (version, code, name) in [
        ("3.1.1", 5, "not authorized"),
        ("5", 0x87, "Not authorized"),
    ] {
        let (exit, report) = connect_mqtt(
            &broker.endpoint(),
            true,
            &["--mqtt-version", version, "--username", "nobody"],
        );
        assert_eq!(exit, 1, "{report:#}");
        assert_eq!(cause_ids(&report), ["mqtt-rejected"], "{report:#}");
        let connack = mqtt_events(&report, "mqtt_connack");
        assert_eq!(connack[0]["code"], code);
        assert_eq!(connack[0]["name"], name);
        let cause = &report["diagnosis"]["causes"][0];
        let evidence = cause["evidence"].to_string();
        assert!(
            evidence.contains(&format!("CONNACK {code} '{name}'")),
            "{evidence}"
        );
        assert!(cause["fixes"][0].as_str().unwrap().contains("authorise"));
        assert!(mqtt_events(&report, "mqtt_connect")[0]["username"] == true);
    }
}

#[test]
fn a_broker_refusing_the_client_id_names_it() {
    let broker = broker(&format!("{ACCEPTING}\nclientid_prefixes device-"));
    let (exit, report) = connect_mqtt(&broker.endpoint(), true, &["--client-id", "thing-1"]);
    assert_eq!(exit, 1);
    assert_eq!(top_cause(&report), Some("mqtt-rejected"));
    let (exit, report) = connect_mqtt(&broker.endpoint(), true, &["--client-id", "device-1"]);
    assert_eq!(exit, 0, "{report:#}");
}

#[test]
fn a_tls_failure_is_not_called_an_mqtt_problem() {
    let broker = broker(ACCEPTING);
    for tls in ["1.2", "1.3"] {
        let (exit, report) = connect_mqtt(&broker.endpoint(), false, &["--tls", tls]);
        assert_eq!(exit, 1);
        let causes = cause_ids(&report);
        assert_eq!(causes[0], "client-cert-not-sent", "TLS {tls}: {report:#}");
        assert!(
            !causes.iter().any(|c| c.starts_with("mqtt-")),
            "TLS {tls}: {causes:?}"
        );
        assert!(mqtt_events(&report, "mqtt_connack").is_empty());
    }
}

/// An `openssl s_server` requiring a client certificate that ends the connection (close_notify)
/// as soon as the client's CONNECT arrives: s_server prints what it receives, and closes when
/// its stdin ends.
fn closing_server(tls: &str) -> OpenSslServer {
    let version = format!("-tls{}", tls.replace('.', "_"));
    let mut server = mutual_tls_echoing_server(&["-naccept", "1", &version]);
    let (stdin, stdout) = server.stdio();
    let stdout = stdout.expect("echoing");
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for byte in BufReader::new(stdout).bytes() {
            let Ok(byte) = byte else { break };
            seen.push(byte);
            if seen.ends_with(b"MQTT") {
                break;
            }
        }
        drop(stdin);
    });
    server
}

#[test]
fn a_close_after_connect_is_told_from_a_refusal_and_a_tls_failure() {
    for tls in ["1.2", "1.3"] {
        let server = closing_server(tls);
        let (exit, report) =
            connect_mqtt(&format!("localhost:{}", server.port), true, &["--tls", tls]);
        assert_eq!(exit, 1, "{report:#}");
        assert_eq!(
            cause_ids(&report),
            ["mqtt-closed-after-connect"],
            "TLS {tls}: {report:#}"
        );
        let cause = &report["diagnosis"]["causes"][0];
        assert!(cause["confidence"].as_f64().unwrap() >= 0.8, "{cause:#}");
        let evidence = cause["evidence"].to_string();
        assert!(evidence.contains("without a CONNACK and without a TLS alert"));
        // Not an AWS endpoint: no AWS advice.
        assert!(!cause["fixes"].to_string().contains("AWSIotLogsV2"));
    }
}

#[test]
fn aws_iot_gets_the_reasons_aws_closes_and_where_to_read_them() {
    let server = closing_server("1.2");
    let (_, report) = connect_mqtt(
        &format!("localhost:{}", server.port),
        true,
        &["--profile", "aws-iot", "--client-id", "my-thing"],
    );
    let cause = cause(&report, "mqtt-closed-after-connect");
    let fixes = cause["fixes"].to_string();
    for expected in [
        "iot:Connect",
        "ACTIVE",
        "AWSIotLogsV2",
        "DUPLICATE_CLIENTID",
    ] {
        assert!(fixes.contains(expected), "{expected} missing from {fixes}");
    }
}

#[test]
fn iotdoctor_serve_mqtt_is_a_broker_too() {
    for (code, expected) in [(0u8, None), (2, Some("identifier rejected"))] {
        let code_arg = code.to_string();
        let serve = Serve::start(&["--mqtt", "--mqtt-return-code", &code_arg]);
        let (exit, report) = connect_mqtt(&format!("localhost:{}", serve.port), true, &[]);
        // serve's own report of the same connection: the CONNECT it read, the CONNACK it sent.
        let (_, served) = serve.report();
        assert_eq!(
            mqtt_events(&served, "mqtt_connect")[0]["client_id"],
            mqtt_events(&report, "mqtt_connect")[0]["client_id"]
        );
        let connack = mqtt_events(&report, "mqtt_connack");
        assert_eq!(connack[0]["code"], code, "{report:#}");
        match expected {
            None => assert_eq!(exit, 0, "{report:#}"),
            Some(name) => {
                assert_eq!(exit, 1);
                assert_eq!(connack[0]["name"], name);
                assert_eq!(top_cause(&report), Some("mqtt-rejected"));
                assert!(
                    report["diagnosis"]["causes"][0]["fixes"][0]
                        .as_str()
                        .unwrap()
                        .contains("client id")
                );
            }
        }
    }
}

#[test]
fn a_password_from_the_environment_logs_in_and_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let passwords = dir.path().join("passwords");
    let made = Command::new("mosquitto_passwd")
        .args([
            "-b",
            "-c",
            passwords.to_str().unwrap(),
            "device-1",
            "s3cret-pass",
        ])
        .status()
        .unwrap();
    assert!(made.success());
    let broker = broker(&format!(
        "{REFUSING}\npassword_file {}",
        passwords.display()
    ));
    let endpoint = broker.endpoint();
    let login = [
        "--username",
        "device-1",
        "--password-env",
        "BROKER_PASSWORD",
        "-vvv",
    ];
    for (password, code, exit) in [("s3cret-pass", 0, 0), ("wrong-pass", 5, 1)] {
        let mut args = vec!["connect", "--endpoint", &endpoint, "--address", "127.0.0.1"];
        let (root, cert, key) = (
            pki("root-ca.pem"),
            pki("client-ec-chain.pem"),
            pki("client-ec.key"),
        );
        args.extend([
            "--ca",
            &root,
            "--cert",
            &cert,
            "--key",
            &key,
            "--mqtt",
            "--timeout",
            "5",
        ]);
        args.extend(login);
        for format in ["json", "text"] {
            let run = iotdoctor_env(
                &[args.as_slice(), &["--format", format]].concat(),
                &[("BROKER_PASSWORD", password)],
            );
            assert_eq!(run.code, exit, "{password} {format}: {}", run.stdout);
            assert!(!run.stdout.contains(password) && !run.stderr.contains(password));
            if format == "json" {
                let report: Value = serde_json::from_str(&run.stdout).unwrap();
                assert_eq!(mqtt_events(&report, "mqtt_connack")[0]["code"], code);
                assert_eq!(mqtt_events(&report, "mqtt_connect")[0]["password"], true);
            }
        }
    }
    // A variable that is not set: a usage error that does not echo what was given.
    let run = iotdoctor(&[
        "connect",
        "localhost:1",
        "--mqtt",
        "--username",
        "u",
        "--password-env",
        "NOT_SET_ANYWHERE",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--password-env") && !run.stderr.contains("NOT_SET_ANYWHERE"));
}
