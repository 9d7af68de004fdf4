//! `connect` against servers that misbehave, one way each: bytes that are not TLS, records cut
//! short or too long, alerts, silence, resets, a flood of alerts, a chain of a hundred
//! certificates, SSLv3, two HelloRetryRequests. Each run must end with a diagnosis that names
//! what happened, and within `--timeout` plus a margin whatever the server does: the one timing
//! assertion here, and a generous one. A server that drips one byte at a time and one that never
//! stops sending are in connect_bounds.rs.
//!
//! Every server stops by itself: it ends when the client goes away, and at the latest after a
//! bounded time or number of writes.

use std::io::Write;
use std::time::Duration;

use crate::common::*;

/// `--timeout` of every run.
const TIMEOUT: Duration = Duration::from_secs(3);

/// `connect` to a server on this loopback port, with `--timeout 3` and `extra`.
fn connect(port: u16, extra: &[&str]) -> TimedRun {
    connect_timed(port, TIMEOUT, extra)
}

/// Asserts the run ended by itself in time, with this exit code and top cause.
fn assert_ends(run: &TimedRun, code: i32, top: &str) {
    run.assert_in_time(TIMEOUT);
    assert_eq!(run.code, Some(code), "{run}");
    assert_eq!(top_cause(&run.report), Some(top), "{run}");
}

#[test]
fn garbage_bytes_are_not_tls() {
    let garbage: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8 | 0x80).collect();
    let port = answers_and_closes(garbage);
    assert_ends(&connect(port, &[]), 1, "not-tls");
}

#[test]
fn an_http_response_is_not_tls() {
    let port = answers_and_closes(
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request"
            .to_vec(),
    );
    assert_ends(&connect(port, &[]), 1, "not-tls");
}

#[test]
fn a_server_hello_cut_short_by_a_close_is_peer_closed_or_incomplete() {
    let hello = record(22, 0x0303, &server_hello(0x0303, [7; 32], &[], 0xc02b, &[]));
    // The record header promises the whole ServerHello; only part of it comes.
    let port = answers_and_closes(hello[..5 + 20].to_vec());
    let run = connect(port, &[]);
    run.assert_in_time(TIMEOUT);
    assert_eq!(run.code, Some(1), "{run}");
    let top = top_cause(&run.report);
    assert!(
        matches!(top, Some("peer-closed" | "handshake-incomplete")),
        "{run}"
    );
    // What came of the record is shown, not dropped.
    assert!(
        !events_of(&run.report, "server", "partial_record").is_empty(),
        "{run}"
    );
}

#[test]
fn a_record_longer_than_tls_allows_is_not_decoded_as_tls() {
    // 18,433 bytes: past the 2^14 + 2048 any TLS record may carry.
    let mut header = vec![22, 0x03, 0x03, 0x48, 0x01];
    header.extend([0u8; 64]);
    let port = answers(header);
    let run = connect(port, &[]);
    assert_ends(&run, 1, "not-tls");
}

#[test]
fn an_alert_as_the_first_answer_is_explained() {
    // Fatal protocol_version (70): the server speaks no version the client offered.
    let port = answers_and_closes(record(21, 0x0303, &[2, 70]));
    assert_ends(&connect(port, &[]), 1, "protocol-version-mismatch");
}

#[test]
fn a_silent_server_is_a_timeout() {
    let port = tcp_server(|mut stream| {
        read_client_hello(&mut stream);
        until_client_leaves(&mut stream, Duration::from_secs(15));
    });
    assert_ends(&connect(port, &[]), 1, "timeout");
}

#[test]
fn a_reset_right_after_accept_is_peer_closed() {
    let port = tcp_server(|stream| {
        // Closing a socket with unread bytes in its buffer sends a reset, not a FIN: wait for
        // the ClientHello to arrive, leave it unread, close.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = stream.peek(&mut [0u8; 1]);
        drop(stream);
    });
    let run = connect(port, &[]);
    assert_ends(&run, 1, "peer-closed");
}

#[test]
fn a_hundred_certificate_chain_is_read_in_full() {
    // The server's certificate followed by 99 copies of its intermediate: 100 certificates,
    // about 50 kB in one Certificate message.
    let dir = tempfile::tempdir().unwrap();
    let chain = dir.path().join("long-chain.pem");
    let intermediate = std::fs::read_to_string(pki("intermediate-ca.pem")).unwrap();
    std::fs::write(&chain, intermediate.repeat(99)).unwrap();
    let root = pki("root-ca.pem");
    for tls in ["1.2", "1.3"] {
        let server = OpenSslServer::start(&[
            "-cert",
            &pki("server.pem"),
            "-key",
            &pki("server.key"),
            "-cert_chain",
            chain.to_str().unwrap(),
        ]);
        let run = connect(server.port, &["--ca", &root, "--tls", tls]);
        run.assert_in_time(TIMEOUT);
        // Duplicated intermediates are odd but valid: the chain still reaches the root.
        assert_eq!(run.code, Some(0), "TLS {tls}: {run}");
        let certificates = events_of(&run.report, "server", "certificate");
        assert_eq!(certificates.len(), 1, "TLS {tls}: {run}");
        let sent = certificates[0]["certificates"].as_array().map(Vec::len);
        assert_eq!(sent, Some(100), "TLS {tls}: {run}");
    }
}

#[test]
fn a_flood_of_warning_alerts_ends_the_connection() {
    let port = tcp_server(|mut stream| {
        read_client_hello(&mut stream);
        let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
        // Warning user_canceled (90), over and over: up to 35 MB of alerts.
        let flood = record(21, 0x0303, &[1, 90]).repeat(1000);
        for _ in 0..5000 {
            if stream.write_all(&flood).is_err() {
                return;
            }
        }
    });
    let run = connect(port, &[]);
    assert_ends(&run, 1, "alert-unexplained");
    // The report shows the first alerts and counts the rest.
    let events = run.report["transcript"]["events"].as_array().unwrap();
    assert!(events.len() <= 1100, "{} events", events.len());
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "note" && e["message"].to_string().contains("not shown")),
        "{run}"
    );
}

#[test]
fn an_sslv3_only_server_is_a_version_mismatch() {
    // SSLv3, TLS_RSA_WITH_AES_128_CBC_SHA, in an SSLv3 record.
    let hello = record(22, 0x0300, &server_hello(0x0300, [3; 32], &[], 0x002f, &[]));
    let port = answers(hello);
    assert_ends(&connect(port, &[]), 1, "protocol-version-mismatch");
}

#[test]
fn two_hello_retry_requests_in_a_row_end_the_handshake() {
    let port = tcp_server(|mut stream| {
        let client_hello = read_client_hello(&mut stream);
        // supported_versions: TLS 1.3; key_share: secp384r1, a group the client supports but
        // sent no share for.
        let extensions = [
            0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x02, 0x00, 0x18,
        ];
        let retry = server_hello(
            0x0303,
            HELLO_RETRY_REQUEST_RANDOM,
            &session_id(&client_hello),
            0x1301,
            &extensions,
        );
        let mut flight = record(22, 0x0303, &retry);
        flight.extend(record(22, 0x0303, &retry));
        let _ = stream.write_all(&flight);
        until_client_leaves(&mut stream, Duration::from_secs(15));
    });
    // No cause names a server that breaks the protocol; the client's alert is what there is.
    let run = connect(port, &[]);
    assert_ends(&run, 1, "alert-unexplained");
    // Both requests are shown.
    let retries = events_of(&run.report, "server", "handshake")
        .into_iter()
        .filter(|e| e["message"] == "hello_retry_request")
        .count();
    assert_eq!(retries, 2, "{run}");
}
