//! `iotdoctor connect` against servers that would keep it forever, and what its report says of
//! what came: `--timeout` bounds the whole connection (a server that never stops sending after
//! a real handshake, one that drips a byte at a time), and the evidence shows the bytes that
//! came even when they make no record (cut by a reset, a header no record can have, records
//! before any ServerHello). All on loopback; every server stops by itself.

use std::io::Write;
use std::time::Duration;

use crate::common::*;

/// `--timeout` of every run.
const TIMEOUT: Duration = Duration::from_secs(4);

/// `connect` to a server on this loopback port, with `--timeout 4` and `extra`.
fn connect(port: u16, extra: &[&str]) -> TimedRun {
    connect_timed(port, TIMEOUT, extra)
}

#[test]
fn endless_data_after_a_real_handshake_ends_the_connection_with_the_handshake_ok() {
    let root = pki("root-ca.pem");
    for tls in ["1.2", "1.3"] {
        for mqtt in [false, true] {
            let port = endless_server(tls, &[]);
            let mut args = vec!["--ca", &root, "--sni", "localhost", "--tls", tls];
            if mqtt {
                args.push("--mqtt");
            }
            let run = connect(port, &args);
            let case = format!("TLS {tls}, --mqtt {mqtt}");
            run.assert_in_time(TIMEOUT);
            assert_eq!(run.code, Some(0), "{case}: {run}");
            assert_eq!(run.report["outcome"], "ok", "{case}: {run}");
            let version = if tls == "1.2" { "TLSv1.2" } else { "TLSv1.3" };
            assert_eq!(
                run.report["transcript"]["tls_version"], version,
                "{case}: {run}"
            );
            let notes = run.notes();
            assert!(
                notes.iter().any(|n| n.contains("not shown")),
                "{case}: {notes:?}"
            );
            assert!(
                notes
                    .iter()
                    .any(|n| n.contains("still sending") && n.contains("stopped reading")),
                "{case}: {notes:?}"
            );
        }
    }
}

#[test]
fn a_connack_that_never_ends_is_not_kept_whole() {
    // A CONNACK declaring the most MQTT allows (268 MB), then zeros: the broker's answer is
    // read no further than a CONNACK could reach.
    let port = endless_server("1.3", &[0x20, 0xff, 0xff, 0xff, 0x7f]);
    let root = pki("root-ca.pem");
    let run = connect(port, &["--ca", &root, "--sni", "localhost", "--mqtt"]);
    run.assert_in_time(TIMEOUT);
    let notes = run.notes();
    assert!(
        notes.iter().any(|n| n.contains("without a whole CONNACK")),
        "{notes:?}\n{run}"
    );
}

#[test]
fn a_server_dripping_one_byte_at_a_time_is_a_timeout_within_the_timeout() {
    let port = tcp_server(|mut stream| {
        read_client_hello(&mut stream);
        // A ServerHello record of 16 kB that would take an hour to arrive at this pace.
        let mut drip = vec![22, 3, 3, 0x40, 0x00];
        drip.resize(5 + 0x4000, 0);
        for byte in drip.iter().take(150) {
            if stream.write_all(&[*byte]).is_err() {
                return;
            }
            // The pace is what is tested, not a wait for something.
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let run = connect(port, &[]);
    run.assert_in_time(TIMEOUT);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(top_cause(&run.report), Some("timeout"), "{run}");
    // What came before the deadline is in the evidence and the transcript.
    let evidence = run.evidence();
    assert!(
        evidence.contains("bytes had come from the server"),
        "{evidence}"
    );
    assert!(!evidence.contains("got no answer at all"), "{evidence}");
    let partial = events_of(&run.report, "server", "partial_record");
    assert_eq!(partial.len(), 1, "{run}");
    assert_eq!(partial[0]["declared"], 0x4000, "{run}");
}

#[test]
fn a_server_hello_cut_by_a_reset_is_shown_in_the_evidence() {
    let hello = tls12_server_hello();
    let port = tcp_server(move |mut stream| {
        read_client_hello(&mut stream);
        let _ = stream.write_all(&hello[..30]);
        // Unread bytes in the receive buffer make the close a reset: wait until the client's
        // next bytes come (its alert, or its close) or a moment passes, then leave one unread.
        let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
        let _ = stream.peek(&mut [0u8; 1]);
        socket_reset(stream);
    });
    let run = connect(port, &[]);
    run.assert_in_time(TIMEOUT);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(top_cause(&run.report), Some("peer-closed"), "{run}");
    let evidence = run.evidence();
    assert!(
        evidence.contains("reset the connection")
            && evidence.contains("ends inside a handshake record")
            && evidence.contains("30 bytes came"),
        "{evidence}"
    );
}

#[test]
fn a_record_header_longer_than_tls_allows_is_shown_with_why() {
    // Once as the server's first bytes, once after a ServerHello.
    let oversized = {
        let mut bytes = vec![22, 3, 3, 0x48, 0x01];
        bytes.extend([0u8; 64]);
        bytes
    };
    for after_hello in [false, true] {
        let mut answer = if after_hello {
            tls12_server_hello()
        } else {
            Vec::new()
        };
        answer.extend(&oversized);
        let run = connect(answers(answer), &[]);
        run.assert_in_time(TIMEOUT);
        assert_eq!(run.code, Some(1), "{run}");
        let notes = run.notes();
        assert!(
            notes.iter().any(|n| n.contains("16 03 03 48 01")
                && n.contains("declares 18433 bytes")
                && n.contains("18432")),
            "after a ServerHello: {after_hello}: {notes:?}"
        );
    }
}

#[test]
fn records_before_any_server_hello_are_not_called_encrypted() {
    // application_data, and an alert after a stray change_cipher_spec: before the ServerHello
    // no keys exist, so neither is encrypted.
    let mut answer = record(23, 0x0303, b"hello");
    answer.extend(record(20, 0x0303, &[1]));
    answer.extend(record(21, 0x0303, &[2, 40]));
    let run = connect(answers(answer), &[]);
    run.assert_in_time(TIMEOUT);
    let records = events_of(&run.report, "server", "record");
    assert_eq!(records.len(), 3, "{run}");
    assert!(
        records.iter().all(|r| r["encrypted"] == false),
        "{records:#?}"
    );
    let alerts = events_of(&run.report, "server", "alert");
    assert_eq!(alerts.len(), 1, "{run}");
    assert_eq!(alerts[0]["description"]["code"], 40, "{run}");
    assert!(
        run.notes()
            .iter()
            .any(|n| n.contains("application_data before the server's ServerHello")),
        "{run}"
    );
}

#[test]
fn a_reset_after_a_good_handshake_is_shown_and_is_not_a_failure() {
    let config = std::sync::Arc::new(rustls_server_config(&[&rustls::version::TLS12], false));
    let port = tcp_server(move |mut stream| {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut conn = rustls::ServerConnection::new(config).unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut stream).is_err() {
                return;
            }
        }
        // The client's close_notify arrives; the server leaves it unread and resets.
        let _ = stream.peek(&mut [0u8; 1]);
        socket_reset(stream);
    });
    let root = pki("root-ca.pem");
    let run = connect(port, &["--ca", &root, "--sni", "localhost"]);
    run.assert_in_time(TIMEOUT);
    assert_eq!(run.code, Some(0), "{run}");
    let closes = events_of(&run.report, "server", "close");
    assert!(
        closes.iter().any(|c| c["how"] == "reset"),
        "{closes:#?}\n{run}"
    );
}
