//! `iotdoctor explain` on the command line: codes, names and messages as users paste them, text
//! and JSON, exit codes; and `explain --log` on the real debug logs of `fixtures/logs`.

mod common;

use common::*;
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
    let run = iotdoctor(&["explain", "no-such-thing-xyz"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("nothing iotdoctor knows"),
        "{}",
        run.stderr
    );
    let run = iotdoctor(&["explain"]);
    assert_eq!(run.code, 2);
    let run = iotdoctor(&["explain", "42", "--stack", "schannel"]);
    assert_eq!(run.code, 2);
}
