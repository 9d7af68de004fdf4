//! `analyze --keylog` on real openssl captures (fixtures/pcaps/gen-keylogs.sh): TLS 1.3 with
//! the AES-CCM suites, TLS 1.2 with AES-GCM, ChaCha20-Poly1305 and AES-CBC (both MAC orders),
//! a TLS 1.2 renegotiation refused with encrypted alerts, and key logs that do not help, each
//! saying why.

use crate::common::*;
use serde_json::Value;

/// `analyze --keylog KEYS CAPTURE.pcap` as JSON: exit code and the one handshake.
fn analyze(capture: &str, keys: &str) -> (i32, Value) {
    let path = pcap(&format!("{capture}.pcap"));
    let (code, report) = iotdoctor_json(&["analyze", &path, "--keylog", keys]);
    let handshakes = report["handshakes"].as_array().expect("handshakes");
    assert_eq!(handshakes.len(), 1, "{capture}: {report:#}");
    (code, handshakes[0].clone())
}

/// With the capture's own key log.
fn with_own_keys(capture: &str) -> (i32, Value) {
    analyze(capture, &pcap(&format!("{capture}.keys")))
}

fn events(handshake: &Value) -> &Vec<Value> {
    handshake["transcript"]["events"]
        .as_array()
        .expect("events")
}

/// The decrypted alerts, as (sender, code).
fn decrypted_alerts(handshake: &Value) -> Vec<(String, u64)> {
    events(handshake)
        .iter()
        .filter(|e| e["kind"] == "alert" && e["seen"] == "decrypted")
        .map(|e| {
            let from = e["from"].as_str().unwrap_or_default().to_string();
            (from, e["description"]["code"].as_u64().unwrap_or(999))
        })
        .collect()
}

fn notes(handshake: &Value) -> Vec<String> {
    events(handshake)
        .iter()
        .filter(|e| e["kind"] == "note")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn top_cause(handshake: &Value) -> &Value {
    &handshake["diagnosis"]["causes"][0]
}

/// openssl's TLS_AES_128_CCM_SHA256 and TLS_AES_128_CCM_8_SHA256: the server's refusal is
/// decrypted, and the cause is read from it.
#[test]
fn tls13_aes_ccm_refusals_are_decrypted() {
    for (capture, alert, cause) in [
        ("ccm-tls13-no-cert", 116, "client-cert-not-sent"),
        ("ccm8-tls13-expired", 45, "client-cert-expired"),
    ] {
        let (code, handshake) = with_own_keys(capture);
        assert_eq!(code, 1, "{capture}");
        assert_eq!(
            top_cause(&handshake)["id"],
            cause,
            "{capture}: {handshake:#}"
        );
        assert!(
            decrypted_alerts(&handshake).contains(&("server".into(), alert)),
            "{capture}: {:?}",
            decrypted_alerts(&handshake)
        );
        let evidence = top_cause(&handshake)["evidence"].to_string();
        assert!(!evidence.contains("no key log was given"), "{evidence}");
    }
}

/// TLS 1.2 sessions of each record protection: both Finished messages and both close_notify
/// alerts are read from inside the records, and the session is ok.
#[test]
fn tls12_records_are_decrypted_with_the_master_secret() {
    for capture in [
        "gcm-tls12",
        "chacha-tls12",
        "cbc-tls12",
        "cbc-etm-off-tls12",
    ] {
        let (code, handshake) = with_own_keys(capture);
        assert_eq!(code, 0, "{capture}: {handshake:#}");
        assert_eq!(handshake["outcome"], "ok", "{capture}");
        assert_eq!(
            decrypted_alerts(&handshake),
            [("client".to_string(), 0), ("server".to_string(), 0)],
            "{capture}: close_notify both ways"
        );
        let finished = events(&handshake)
            .iter()
            .filter(|e| e["kind"] == "handshake" && e["message"] == "finished")
            .count();
        assert_eq!(finished, 2, "{capture}: {:#?}", events(&handshake));
        assert!(
            notes(&handshake).is_empty(),
            "{capture}: {:?}",
            notes(&handshake)
        );
    }
}

/// A client asks to renegotiate and OpenSSL 3's server refuses: the encrypted ClientHello and
/// both encrypted alerts (the server's no_renegotiation, the client's handshake_failure) are
/// read, and the connection is not ok.
#[test]
fn tls12_refused_renegotiation_shows_its_encrypted_alerts() {
    let (code, handshake) = with_own_keys("renegotiation-refused-tls12");
    assert_eq!(code, 1, "{handshake:#}");
    assert_ne!(handshake["outcome"], "ok");
    assert_eq!(
        decrypted_alerts(&handshake),
        [("server".to_string(), 100), ("client".to_string(), 40)]
    );
    let hellos = events(&handshake)
        .iter()
        .filter(|e| e["from"] == "client" && e["message"] == "client_hello")
        .count();
    assert_eq!(hellos, 2, "the renegotiation's ClientHello, decrypted");
    let evidence = handshake["diagnosis"].to_string();
    assert!(evidence.contains("no_renegotiation"), "{evidence}");
}

/// A renegotiation that goes through: its ServerHello and Finished messages are read under
/// the first keys, and each side's records after its encrypted ChangeCipherSpec under the new
/// ones (the key log's second line, by the second ClientHello's random).
#[test]
fn tls12_renegotiation_switches_to_its_own_keys() {
    let (code, handshake) = with_own_keys("renegotiation-tls12");
    assert_eq!(code, 0, "{handshake:#}");
    assert_eq!(handshake["outcome"], "ok");
    let count = |from: &str, message: &str| {
        events(&handshake)
            .iter()
            .filter(|e| e["from"] == from && e["message"] == message)
            .count()
    };
    assert_eq!(count("client", "client_hello"), 2);
    assert_eq!(count("server", "server_hello"), 2);
    // A second ClientHello no HelloRetryRequest asked for is worth saying.
    assert!(
        notes(&handshake)
            .iter()
            .any(|n| n.contains("a second ClientHello on this connection")),
        "{:?}",
        notes(&handshake)
    );
    assert_eq!(
        (count("client", "finished"), count("server", "finished")),
        (2, 2)
    );
    assert_eq!(
        decrypted_alerts(&handshake),
        [("client".to_string(), 0), ("server".to_string(), 0)],
        "close_notify both ways, under the renegotiated keys"
    );
    assert!(
        !notes(&handshake).iter().any(|n| n.contains("decrypt")),
        "{:?}",
        notes(&handshake)
    );
}

/// A key log without this connection's client random: the evidence says so, not that no key
/// log was given.
#[test]
fn a_key_log_of_other_connections_says_it_has_no_line_for_this_one() {
    let (code, handshake) = analyze("no-cert-tls13", &pcap("ok-tls13.keys"));
    assert_eq!(code, 1);
    let cause = top_cause(&handshake);
    // Read from the record sizes, as without a key log.
    assert_eq!(cause["id"], "client-cert-not-sent", "{cause:#}");
    let evidence = cause["evidence"].to_string();
    assert!(
        evidence.contains("the key log given does not decrypt this connection")
            && evidence.contains("no line for this connection's client random"),
        "{evidence}"
    );
    assert!(!evidence.contains("no key log was given"), "{evidence}");

    // A client refusing the server's encrypted flight: the same, in that cause's evidence.
    let (code, handshake) = analyze("wrong-server-ca-tls13", &pcap("ok-tls13.keys"));
    assert_eq!(code, 1);
    let cause = top_cause(&handshake);
    assert_eq!(cause["id"], "server-ca-untrusted", "{cause:#}");
    let evidence = cause["evidence"].to_string();
    assert!(
        evidence.contains("TLS 1.3, the key log given does not decrypt it"),
        "{evidence}"
    );
    assert!(!evidence.contains("no key log"), "{evidence}");
}

/// The right client random with the wrong secrets: the evidence says decryption failed.
#[test]
fn a_key_log_with_wrong_secrets_says_they_do_not_decrypt() {
    let own = std::fs::read_to_string(pcap("no-cert-tls13.keys")).expect("keys");
    // Each secret with its last hex digit changed: same lines, same lengths, wrong keys.
    let wrong: String = own
        .lines()
        .map(|line| {
            let mut line = line.trim_end().to_string();
            let last = if line.ends_with('0') { "1" } else { "0" };
            line.pop();
            line + last + "\n"
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("wrong.keys");
    std::fs::write(&keys, wrong).expect("write");
    let (code, handshake) = analyze("no-cert-tls13", keys.to_str().expect("path"));
    assert_eq!(code, 1);
    let cause = top_cause(&handshake);
    assert_eq!(cause["id"], "client-cert-not-sent", "{cause:#}");
    let evidence = cause["evidence"].to_string();
    assert!(
        evidence.contains("cannot be decrypted with this connection's secrets")
            && evidence.contains("they are wrong"),
        "{evidence}"
    );
    assert!(!evidence.contains("no key log was given"), "{evidence}");
}

/// A TLS 1.2 suite iotdoctor does not decrypt (ARIA): the note names it.
#[test]
fn a_suite_that_is_not_decrypted_is_named() {
    let (_, handshake) = with_own_keys("aria-tls12");
    let notes = notes(&handshake);
    assert!(
        notes.iter().any(|n| n.starts_with("key log: ")
            && n.contains("TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256")
            && n.contains("is not one iotdoctor decrypts")),
        "{notes:?}"
    );
    assert!(decrypted_alerts(&handshake).is_empty());
}
