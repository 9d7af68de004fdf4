//! `iotdoctor analyze` on captures of real handshakes (fixtures/pcaps, made with tcpdump on
//! loopback): each capture's top cause, with and without the client's key log.

use crate::common::*;
use serde_json::Value;

fn analyze(capture: &str, extra: &[&str]) -> (i32, Value) {
    let path = pcap(&format!("{capture}.pcap"));
    let mut args = vec!["analyze", path.as_str()];
    args.extend_from_slice(extra);
    iotdoctor_json(&args)
}

fn with_keys(capture: &str) -> (i32, Value) {
    let keys = pcap(&format!("{capture}.keys"));
    analyze(capture, &["--keylog", &keys])
}

/// The only handshake of a one-connection capture.
fn handshake(report: &Value) -> &Value {
    let handshakes = report["handshakes"].as_array().expect("handshakes");
    assert_eq!(handshakes.len(), 1, "{report:#}");
    &handshakes[0]
}

fn top(report: &Value) -> Option<&str> {
    top_cause(handshake(report))
}

fn causes(report: &Value) -> Vec<String> {
    cause_ids(handshake(report))
}

/// Asserts that the capture's one handshake failed (exit code 1) with the top cause `expected`.
fn assert_failed_with(capture: &str, (code, report): &(i32, Value), expected: &str) {
    assert_eq!(*code, 1, "{capture}");
    assert_eq!(
        top(report),
        Some(expected),
        "{capture}: {:?}",
        causes(report)
    );
}

#[test]
fn good_handshakes_are_ok() {
    for capture in ["ok-tls12", "ok-tls13"] {
        let (code, report) = analyze(capture, &[]);
        assert_eq!(code, 0, "{capture}: {report:#}");
        assert_eq!(report["outcome"], "ok");
        assert_eq!(
            handshake(&report)["outcome"],
            "ok",
            "{capture}: {:?}",
            causes(&report)
        );
        assert_eq!(handshake(&report)["sni"], "localhost");
    }
}

#[test]
fn tls12_captures_name_their_cause() {
    for (capture, expected) in [
        ("no-cert-tls12", "client-cert-not-sent"),
        ("wolfssl-late-cert-tls12", "client-cert-not-sent"),
        ("untrusted-client-ca", "client-ca-untrusted"),
        ("missing-intermediate", "client-chain-incomplete"),
        ("expired-client", "client-cert-expired"),
        ("wrong-server-ca", "server-ca-untrusted"),
        ("key-mismatch-tls12", "client-key-mismatch"),
        ("client-sigalgs", "client-cert-not-sent"),
        ("not-tls", "not-tls"),
    ] {
        assert_failed_with(capture, &analyze(capture, &[]), expected);
    }
}

#[test]
fn the_wolfssl_classic_shows_the_empty_certificate_and_the_alert() {
    let (_, report) = analyze("wolfssl-late-cert-tls12", &[]);
    let h = handshake(&report);
    let client_certs = events_of(h, "client", "certificate");
    assert_eq!(client_certs.len(), 1);
    assert!(
        client_certs[0]["certificates"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let evidence = top_evidence(h);
    assert!(
        evidence.contains("carried 0 certificates (record"),
        "{evidence}"
    );
    assert!(
        evidence.contains("alert 40 handshake_failure"),
        "{evidence}"
    );
    assert_fixes_say(h, &["wolfSSL_new()"]);
}

#[test]
fn restricted_client_schemes_are_named_as_the_likely_reason() {
    let (_, report) = analyze("client-sigalgs", &[]);
    assert!(
        causes(&report).contains(&"client-sigalg-mismatch".to_string()),
        "{:?}",
        causes(&report)
    );
}

#[test]
fn a_signature_that_does_not_verify_is_shown_in_the_transcript() {
    let (_, report) = analyze("key-mismatch-tls12", &[]);
    let verifies: Vec<Value> = handshake(&report)["transcript"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "certificate_verify")
        .map(|e| e["verified"].clone())
        .collect();
    assert_eq!(verifies, [Value::Bool(false)]);
}

#[test]
fn tls13_without_keys_says_what_is_hidden_with_low_confidence() {
    let (code, report) = analyze("key-mismatch-tls13", &[]);
    assert_eq!(code, 1);
    let cause = &handshake(&report)["diagnosis"]["causes"][0];
    assert_eq!(cause["id"], "alert-unexplained", "{cause:#}");
    assert!(cause["confidence"].as_f64().unwrap() < 0.5);
    let evidence = cause["evidence"].to_string();
    assert!(evidence.contains("the size of an alert"), "{evidence}");
    assert!(cause["fixes"].to_string().contains("--keylog"), "{cause:#}");
}

/// Without keys, an empty Certificate still shows in its size: 8 bytes of plaintext, then a
/// Finished, no CertificateVerify. OpenSSL and wolfSSL (the certificate loaded after
/// `wolfSSL_new()`) alike.
#[test]
fn tls13_without_keys_an_empty_certificate_is_read_from_its_size() {
    for (capture, sizes) in [
        ("no-cert-tls13", "25 and 69"),
        ("wolfssl-late-cert-tls13", "25 and 53"),
        ("ccm-tls13-no-cert", "25 and 53"),
    ] {
        let (code, report) = analyze(capture, &[]);
        assert_eq!(code, 1, "{capture}");
        let cause = &handshake(&report)["diagnosis"]["causes"][0];
        assert_eq!(cause["id"], "client-cert-not-sent", "{capture}: {cause:#}");
        let confidence = cause["confidence"].as_f64().unwrap();
        assert!((0.5..0.95).contains(&confidence), "{capture}: {confidence}");
        let evidence = cause["evidence"].to_string();
        assert!(
            evidence.contains(&format!(
                "encrypted records of {sizes} bytes: exactly an empty Certificate"
            )),
            "{capture}: {evidence}"
        );
        assert!(
            evidence.contains("the size of an alert"),
            "{capture}: {evidence}"
        );
    }
    // With its key log the same capture is certain, from the decrypted messages themselves.
    let (_, report) = analyze("no-cert-tls13", &["--keylog", &pcap("no-cert-tls13.keys")]);
    let cause = &handshake(&report)["diagnosis"]["causes"][0];
    assert_eq!(cause["id"], "client-cert-not-sent", "{cause:#}");
    assert!(cause["confidence"].as_f64().unwrap() >= 0.95, "{cause:#}");
}

/// Seen without keys, the end of a good TLS 1.3 session can look like a refusal: the client's
/// close_notify and the server's are both the size of an alert, and the server's FIN may come
/// first. Tickets (records bigger than an alert) after the client's flight, or the client's own
/// close_notify before the server's, say the session was fine.
#[test]
fn tls13_sessions_that_end_well_are_ok_whichever_side_closes_first() {
    for name in ["ok-tls13-client-closes", "ok-tls13-server-closes"] {
        let (code, report) = analyze(name, &[]);
        assert_eq!(code, 0, "{name}: {:?}", causes(&report));
        assert_eq!(handshake(&report)["outcome"], "ok", "{name}");
    }
}

/// A client that sends data at once: its first record of data is the size of an alert (and
/// comes before the server's), yet the server's alert-sized answer and close are still read as
/// the likely refusal, at low confidence; the key log settles it.
#[test]
fn tls13_client_data_before_the_refusal_does_not_hide_it() {
    let (code, report) = analyze("no-cert-tls13-with-data", &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top(&report), Some("client-cert-not-sent"));
    let cause = &handshake(&report)["diagnosis"]["causes"][0];
    assert!(cause["confidence"].as_f64().unwrap() < 0.95);
    assert!(
        cause["evidence"]
            .to_string()
            .contains("began with encrypted records of 25 and 69 bytes"),
        "{cause:#}"
    );
}

/// A TLS 1.3 client that refuses the server's chain answers the server's encrypted flight with
/// its alert before any flight of its own: without keys that still names the cause, less
/// surely than with them.
#[test]
fn tls13_client_refusing_the_server_chain_without_keys() {
    let (code, report) = analyze("wrong-server-ca-tls13", &[]);
    assert_eq!(code, 1);
    assert_eq!(top(&report), Some("server-ca-untrusted"));
    let without = handshake(&report)["diagnosis"]["causes"][0]["confidence"]
        .as_f64()
        .unwrap();
    let (_, report) = with_keys("wrong-server-ca-tls13");
    assert_eq!(top(&report), Some("server-ca-untrusted"));
    let with = handshake(&report)["diagnosis"]["causes"][0]["confidence"]
        .as_f64()
        .unwrap();
    assert!(without < with, "{without} vs {with}");
}

#[test]
fn tls13_with_the_key_log_is_diagnosed_fully() {
    for (capture, expected) in [
        ("no-cert-tls13", "client-cert-not-sent"),
        ("key-mismatch-tls13", "client-key-mismatch"),
    ] {
        let run = with_keys(capture);
        assert_failed_with(capture, &run, expected);
        let report = run.1;
        let events = handshake(&report)["transcript"]["events"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            events
                .iter()
                .any(|e| e["kind"] == "alert" && e["seen"] == "decrypted"),
            "{capture}: the alert is decrypted"
        );
    }
    let (code, report) = with_keys("ok-tls13");
    assert_eq!(code, 0, "{report:#}");
    let verified: Vec<&Value> = handshake(&report)["transcript"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "certificate_verify")
        .collect();
    assert_eq!(
        verified.len(),
        2,
        "both CertificateVerify messages decrypted"
    );
    assert!(
        verified.iter().all(|e| e["verified"] == true),
        "{verified:#?}"
    );
}

#[test]
fn ca_verifies_the_server_chains_in_the_capture() {
    let unrelated = pki("unrelated-ca.pem");
    let (code, report) = analyze("ok-tls12", &["--ca", &unrelated]);
    assert_eq!(code, 1);
    assert_eq!(
        top(&report),
        Some("server-ca-untrusted"),
        "{:?}",
        causes(&report)
    );
    // The handshake went on: the device does not check the chain against this CA.
    let evidence = top_evidence(handshake(&report));
    assert!(
        evidence.contains("the client went on with the handshake all the same"),
        "{evidence}"
    );
    // A client that refused the chain itself (alert 48) did not go on.
    let (_, refused) = analyze("wrong-server-ca", &["--ca", &unrelated]);
    let evidence = top_evidence(handshake(&refused));
    assert!(!evidence.contains("went on"), "{evidence}");
    let root = pki("root-ca.pem");
    let (code, _) = analyze("ok-tls12", &["--ca", &root]);
    assert_eq!(code, 0);
}

#[test]
fn text_report_lists_handshakes_and_draws_the_failed_ones() {
    let path = pcap("no-cert-tls12.pcap");
    let run = iotdoctor(&["analyze", &path]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_says_all(
        &run.stdout,
        &[
            "Capture  1 TCP connection(s), 1 with a TLS handshake",
            "127.0.0.1:",
            "localhost",
            "TLSv1.2",
            "client-cert-not-sent (95%)",
            "Certificate: EMPTY, no certificate",
            "Alert fatal 40 handshake_failure",
            "PROBLEMS FOUND in 1 of 1 handshake(s)",
        ],
    );
}

#[test]
fn flow_selects_one_handshake() {
    let (code, report) = analyze("no-cert-tls12", &["--flow", "1"]);
    assert_eq!(code, 1);
    assert_eq!(handshake(&report)["flow"], 1);
    let path = pcap("no-cert-tls12.pcap");
    assert_usage_error(
        &["analyze", &path, "--flow", "7"],
        "no TLS handshake on flow 7",
    );
}

#[test]
fn files_that_are_not_captures_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("empty", &b""[..]),
        ("text", &b"hello, not a capture\n"[..]),
        ("binary", &[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4][..]),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let run = iotdoctor(&["analyze", path.to_str().unwrap()]);
        assert_eq!(run.code, 3, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(path.to_str().unwrap()),
            "{}",
            run.stderr
        );
    }
    let run = iotdoctor(&["analyze", "/nonexistent.pcap"]);
    assert_eq!(run.code, 3);
}

#[test]
fn a_truncated_capture_still_reports_what_it_holds() {
    let bytes = std::fs::read(pcap("no-cert-tls12.pcap")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    std::fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
    let (code, report) = iotdoctor_json(&["analyze", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        report["capture"]["notes"]
            .to_string()
            .contains("stops early"),
        "{report:#}"
    );
    assert_eq!(top(&report), Some("client-cert-not-sent"));
}

#[test]
fn a_key_log_that_is_not_one_exits_3() {
    let path = pcap("ok-tls13.pcap");
    let not_keys = pki("root-ca.pem");
    let run = iotdoctor(&["analyze", &path, "--keylog", &not_keys]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("NSS key log"), "{}", run.stderr);
}

/// OpenSSL writes only its header line when no handshake reached a secret: analyse anyway.
#[test]
fn a_key_log_of_comments_only_is_a_note_not_an_error() {
    let (code, report) = iotdoctor_json(&[
        "analyze",
        &pcap("wrong-server-ca.pcap"),
        "--keylog",
        &pcap("wrong-server-ca.keys"),
    ]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top(&report), Some("server-ca-untrusted"));
    assert!(
        report["capture"]["notes"]
            .to_string()
            .contains("holds no secrets"),
        "{report:#}"
    );
}

#[test]
fn many_handshakes_in_one_pcapng_each_get_their_verdict() {
    let dir = tempfile::tempdir().unwrap();
    // All the key logs in one file, as SSLKEYLOGFILE collects them across runs.
    let mut keys = String::new();
    for entry in std::fs::read_dir(pcap("")).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "keys") {
            keys.push_str(&std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    let keylog = dir.path().join("all.keys");
    std::fs::write(&keylog, keys).unwrap();
    let all = pcap("all.pcapng");
    let (code, report) = iotdoctor_json(&["analyze", &all, "--keylog", keylog.to_str().unwrap()]);
    assert_eq!(code, 1);
    let handshakes = report["handshakes"].as_array().unwrap();
    assert_eq!(handshakes.len(), 18);
    assert_eq!(report["capture"]["tls_flows"], 18);
    let flows: Vec<u64> = handshakes
        .iter()
        .map(|h| h["flow"].as_u64().unwrap())
        .collect();
    assert_eq!(
        flows,
        (1..=18).collect::<Vec<_>>(),
        "flows numbered from 1 in capture order"
    );
    let verdict = |port: u16| -> String {
        let h = handshakes
            .iter()
            .find(|h| h["server"].as_str().unwrap().ends_with(&format!(":{port}")))
            .unwrap();
        h["diagnosis"]["causes"][0]["id"]
            .as_str()
            .unwrap_or("ok")
            .to_string()
    };
    // The ports generate.sh gives each scenario, in order.
    let expected = [
        "ok",
        "ok",
        "client-cert-not-sent",
        "client-cert-not-sent",
        "client-ca-untrusted",
        "client-chain-incomplete",
        "client-cert-expired",
        "client-cert-not-sent",
        "server-ca-untrusted",
        "client-key-mismatch",
        "client-key-mismatch",
        "client-cert-not-sent",
        // wolfSSL wrote no key log: its empty Certificate is read from its size.
        "client-cert-not-sent",
        "not-tls",
        "ok",
        "ok",
        "client-cert-not-sent",
        "server-ca-untrusted",
    ];
    let got: Vec<String> = (19101..=19118).map(verdict).collect();
    assert_eq!(got, expected);
}

#[test]
fn json_report_of_a_capture_follows_the_contract() {
    let all = pcap("all.pcapng");
    let (_, report) = iotdoctor_json(&["analyze", &all]);
    let top: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for field in [
        "schema",
        "command",
        "outcome",
        "capture",
        "handshakes",
        "findings",
        "diagnosis",
    ] {
        assert!(top.contains(&field), "{field} missing: {top:?}");
    }
    assert_eq!(report["schema"], "iotdoctor.report/1");
    assert_eq!(report["command"], "analyze");
    for h in report["handshakes"].as_array().unwrap() {
        let mut keys: Vec<&str> = h.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "client",
                "diagnosis",
                "flow",
                "outcome",
                "server",
                "sni",
                "transcript"
            ]
        );
        assert!(
            h["client"]
                .as_str()
                .unwrap()
                .parse::<std::net::SocketAddr>()
                .is_ok()
        );
        assert!(["ok", "problems"].contains(&h["outcome"].as_str().unwrap()));
    }
    let capture = report["capture"].as_object().unwrap();
    let mut keys: Vec<&str> = capture.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["notes", "tcp_flows", "tls_flows"]);
}

#[test]
fn a_tls_client_against_an_http_server_is_not_tls() {
    let (_, report) = analyze("not-tls", &[]);
    let evidence = top_evidence(handshake(&report));
    assert!(evidence.contains("an HTTP server"), "{evidence}");
}

/// A pcap (Ethernet, IPv4, TCP) of one connection on loopback, written by hand: the client's
/// ClientHello, the server's ServerHello, then `flood` from the server in 32 KiB segments, a
/// fatal handshake_failure alert unless `final_alert` is false, and both sides' FIN.
fn hostile_capture(path: &std::path::Path, flood: &[u8], final_alert: bool) {
    fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![content_type, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }
    fn hello(message_type: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![message_type, 0];
        m.extend_from_slice(&(body.len() as u16).to_be_bytes());
        m.extend_from_slice(body);
        record(22, &m)
    }
    let client_hello = hello(
        1,
        &[[3, 3].as_slice(), &[7; 32], &[0, 0, 2, 0xc0, 0x2f, 1, 0]].concat(),
    );
    let server_hello = hello(
        2,
        &[[3, 3].as_slice(), &[9; 32], &[0, 0xc0, 0x2f, 0]].concat(),
    );
    let mut out = Vec::new();
    out.extend_from_slice(&0xA1B2_C3D4u32.to_le_bytes());
    out.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    let mut seq = [1000u32, 5000u32];
    let mut packet_number = 0u32;
    let mut packet = |out: &mut Vec<u8>, from_server: bool, flags: u8, payload: &[u8]| {
        let (src, dst, sport, dport) = if from_server {
            ([127, 0, 0, 2], [127, 0, 0, 1], 443u16, 40000u16)
        } else {
            ([127, 0, 0, 1], [127, 0, 0, 2], 40000, 443)
        };
        let (mine, theirs) = if from_server { (1, 0) } else { (0, 1) };
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[8, 0]);
        frame.extend_from_slice(&[0x45, 0]);
        frame.extend_from_slice(&((40 + payload.len()) as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
        frame.extend_from_slice(&src);
        frame.extend_from_slice(&dst);
        frame.extend_from_slice(&sport.to_be_bytes());
        frame.extend_from_slice(&dport.to_be_bytes());
        frame.extend_from_slice(&seq[mine].to_be_bytes());
        frame.extend_from_slice(&seq[theirs].to_be_bytes());
        frame.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        frame.extend_from_slice(payload);
        seq[mine] = seq[mine].wrapping_add(payload.len() as u32 + u32::from(flags & 0x03 != 0));
        packet_number += 1;
        out.extend_from_slice(&1_764_000_000u32.to_le_bytes());
        out.extend_from_slice(&(packet_number * 10).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    };
    packet(&mut out, false, 0x02, &[]);
    packet(&mut out, true, 0x12, &[]);
    packet(&mut out, false, 0x18, &client_hello);
    packet(&mut out, true, 0x18, &server_hello);
    for segment in flood.chunks(32 * 1024) {
        packet(&mut out, true, 0x18, segment);
    }
    if final_alert {
        packet(&mut out, true, 0x18, &record(21, &[2, 40]));
    }
    packet(&mut out, true, 0x11, &[]);
    packet(&mut out, false, 0x11, &[]);
    std::fs::write(path, out).unwrap();
}

/// Floods of a few MB of small records a server sends after its ServerHello (1-byte handshake
/// and alert records, warning alerts, with and without a key log): the report says that what
/// followed the first MiB was only counted, shows a bounded number of events, and still ends
/// with the server's fatal alert and the closes; the verdict is never ok, also when the flood
/// ends with no alert at all.
#[test]
fn a_flood_of_small_records_is_counted_past_what_is_kept_of_a_connection() {
    let dir = tempfile::tempdir().unwrap();
    let keylog = dir.path().join("keys.log");
    let random: String = [7u8; 32].iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(
        &keylog,
        format!(
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET {random} {}\n",
            "ab".repeat(32)
        ),
    )
    .unwrap();
    let tiny = [[22u8, 3, 3, 0, 1, 0], [21, 3, 3, 0, 1, 1]].concat();
    let warnings = [21u8, 3, 3, 0, 2, 1, 90];
    for (name, flood) in [
        ("tiny records", tiny.repeat(500_000)),
        ("warning alerts", warnings.repeat(450_000)),
    ] {
        for final_alert in [true, false] {
            let path = dir.path().join("flood.pcap");
            hostile_capture(&path, &flood, final_alert);
            let path = path.to_str().unwrap();
            for extra in [vec![], vec!["--keylog", keylog.to_str().unwrap()]] {
                let mut args = vec!["analyze", path];
                args.extend(extra.iter().copied());
                let (code, report) = iotdoctor_json(&args);
                let what = format!("{name}, final alert {final_alert}, {extra:?}");
                assert_eq!(code, 1, "{what}");
                let h = handshake(&report);
                assert_eq!(h["outcome"], "problems", "{what}");
                let events = h["transcript"]["events"].as_array().unwrap();
                assert!(events.len() < 1100, "{what}: {} events", events.len());
                let past = events.iter().find(|e| {
                    e["kind"] == "note"
                        && e["message"].as_str().unwrap().starts_with(
                            "the server sent more than iotdoctor keeps of one connection",
                        )
                });
                assert!(past.is_some(), "{what}: no note says what was only counted");
                let fatal = events.iter().any(|e| {
                    e["kind"] == "alert" && e["from"] == "server" && e["level"]["code"] == 2
                });
                assert_eq!(fatal, final_alert, "{what}");
                let closes = events.iter().filter(|e| e["kind"] == "close").count();
                assert_eq!(closes, 2, "{what}");
            }
        }
    }
}

/// Reads `capture` of a device refusing the server's certificate without and with `--ca` (the
/// fixture root): the top cause is `top` both ways, `never` is never among the causes, and the
/// top evidence (the second time with `--ca`) says each of `says`. Returns that evidence both
/// ways.
fn device_refusal(capture: &str, top_id: &str, never: &str, says: &[&str]) -> [String; 2] {
    let root = pki("root-ca.pem");
    [&[][..], &["--ca", root.as_str()][..]].map(|extra| {
        let (code, report) = analyze(capture, extra);
        assert_eq!(code, 1, "{extra:?}");
        assert_eq!(top(&report), Some(top_id), "{extra:?}: {report:#}");
        assert!(
            !causes(&report).contains(&never.to_string()),
            "{extra:?}: {:?}",
            causes(&report)
        );
        let evidence = handshake(&report)["diagnosis"]["causes"][0]["evidence"].to_string();
        assert_says_all(&evidence, says);
        evidence
    })
}

/// An mbedTLS device whose CA file holds another PKI's root refuses the server's chain with
/// alert 48. Checked with `--ca` and the server's real root, the chain passes iotdoctor's own
/// check: the refusal is still the device's trust store, never the server's close after the
/// alert.
#[test]
fn a_device_refusing_a_chain_that_passes_with_ca_is_its_trust_store() {
    let [without, with] = device_refusal(
        "mbedtls-wrong-ca-tls12",
        "server-ca-untrusted",
        "peer-closed",
        &["alert 48 unknown_ca"],
    );
    let passed = "iotdoctor's own check of the server's chain passed";
    assert!(!without.contains(passed), "{without}");
    assert!(with.contains(passed), "{with}");
}

/// mbedTLS refuses a server certificate without serverAuth with alert 43: the capture shows
/// the certificate, so the cause is its usage, with or without `--ca`, and never its CA.
#[test]
fn a_device_refusing_a_server_certificate_without_server_auth_names_its_usage() {
    device_refusal(
        "mbedtls-server-eku-tls12",
        "server-cert-usage",
        "server-ca-untrusted",
        &[
            "alert 43 unsupported_certificate",
            "extended key usage clientAuth",
        ],
    );
}
