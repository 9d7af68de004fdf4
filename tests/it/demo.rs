//! `iotdoctor demo` runs to completion with no files and no network, and names each cause.

use crate::common::*;
use serde_json::Value;

#[test]
fn demo_diagnoses_its_three_devices() {
    let run = iotdoctor(&["demo", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let reports: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON report per line"))
        .collect();
    let tops: Vec<Option<&str>> = reports
        .iter()
        .map(|r| r["diagnosis"]["causes"][0]["id"].as_str())
        .collect();
    assert_eq!(
        tops,
        [
            Some("client-cert-not-sent"),
            Some("client-key-mismatch"),
            None
        ]
    );
    assert!(reports.iter().all(|r| {
        r["target"]["address"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    }));
}

#[test]
fn demo_text_tells_the_story() {
    let run = iotdoctor(&["demo"]);
    assert_eq!(run.code, 0);
    for expected in [
        "Demo 1 of 3: a device that sends no client certificate",
        "Certificate: EMPTY, no certificate",
        "1. client-cert-not-sent",
        "wolfSSL_new()",
        "Demo 2 of 3: a device whose private key does not belong to its certificate",
        "1. client-key-mismatch",
        "Demo 3 of 3: a device with the right certificate and key",
        "OK: no problems found",
    ] {
        assert!(run.stdout.contains(expected), "missing {expected:?}");
    }
}
