//! `connect` against servers that misbehave, one way each: bytes that are not TLS, records cut
//! short or too long, alerts, silence, resets, a server that drips one byte at a time, one that
//! never stops sending, a chain of a hundred certificates, SSLv3, two HelloRetryRequests. Each
//! run must end with a diagnosis that names what happened, and within `--timeout` plus a margin
//! whatever the server does: the one timing assertion here, and a generous one.
//!
//! Every server stops by itself: it ends when the client goes away, and at the latest after a
//! bounded time or number of writes.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{cause_ids, events_of, pki, tcp_server, top_cause};
use serde_json::Value;

/// `--timeout` of every run.
const TIMEOUT: Duration = Duration::from_secs(3);
/// What a run may take past `--timeout`: process start, the report, a loaded machine.
const MARGIN: Duration = Duration::from_secs(3);
/// A run still going after this is killed, so that a run that never ends fails its test
/// instead of hanging the suite.
const KILL_AFTER: Duration = Duration::from_secs(20);
/// More report than any connection should make: the transcript shows at most 1000 events.
const MAX_REPORT_BYTES: usize = 2 * 1024 * 1024;

/// One `iotdoctor connect` run.
struct Connect {
    /// `None` when the run had to be killed.
    code: Option<i32>,
    report: Value,
    stdout_len: usize,
    stderr: String,
    elapsed: Duration,
}

impl Connect {
    /// Asserts the run ended by itself within `--timeout` plus the margin, with this exit code
    /// and top cause.
    fn assert_ends(&self, code: i32, top: &str) {
        self.assert_in_time();
        assert_eq!(self.code, Some(code), "{self}");
        assert_eq!(top_cause(&self.report), Some(top), "{self}");
    }

    fn assert_in_time(&self) {
        assert!(
            self.code.is_some(),
            "connect was still running after {KILL_AFTER:?} and was killed\n{self}"
        );
        assert!(
            self.elapsed <= TIMEOUT + MARGIN,
            "connect took {:?}, more than --timeout {TIMEOUT:?} plus {MARGIN:?}\n{self}",
            self.elapsed
        );
        assert!(
            self.stdout_len <= MAX_REPORT_BYTES,
            "a report of {} bytes",
            self.stdout_len
        );
    }
}

impl std::fmt::Display for Connect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut report = serde_json::to_string_pretty(&self.report).unwrap_or_default();
        if report.len() > 6000 {
            let mut cut = 6000;
            while !report.is_char_boundary(cut) {
                cut -= 1;
            }
            report.truncate(cut);
            report.push_str("\n... (cut)");
        }
        let stderr = &self.stderr[self.stderr.len().saturating_sub(2000)..];
        write!(
            f,
            "exit {:?} after {:?}, causes {:?}, {} bytes of report\nstderr: {stderr}\n{report}",
            self.code,
            self.elapsed,
            self.report
                .get("diagnosis")
                .map(|_| cause_ids(&self.report))
                .unwrap_or_default(),
            self.stdout_len
        )
    }
}

/// `iotdoctor connect --endpoint 127.0.0.1:PORT --timeout 3 --format json` plus `extra`, timed
/// around the whole process.
fn connect(port: u16, extra: &[&str]) -> Connect {
    let endpoint = format!("127.0.0.1:{port}");
    let timeout = TIMEOUT.as_secs().to_string();
    let mut args = vec![
        "connect",
        "--endpoint",
        &endpoint,
        "--timeout",
        &timeout,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let run = common::run_timed(&args, KILL_AFTER);
    Connect {
        code: run.code,
        report: run.report,
        stdout_len: run.stdout_len,
        stderr: run.stderr,
        elapsed: run.elapsed,
    }
}

/// Reads the client's first record (its ClientHello) and returns it; the server's own reads
/// give up after a while so that the thread ends even if no client comes.
fn read_client_hello(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let want = match got.get(3..5) {
            Some(length) => 5 + usize::from(u16::from_be_bytes([length[0], length[1]])),
            None => 5,
        };
        if got.len() >= want {
            return got;
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Waits for the client to go away (its close or reset), at most `limit`.
fn until_client_leaves(stream: &mut TcpStream, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        match stream.read(&mut buffer) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// A TLS record.
fn record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type];
    out.extend(version.to_be_bytes());
    out.extend((body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A handshake message: type, 24-bit length, body.
fn handshake(message_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![message_type];
    out.extend(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// The legacy_session_id of a ClientHello record, which a TLS 1.3 server echoes.
fn session_id(client_hello: &[u8]) -> Vec<u8> {
    // Record header 5, handshake header 4, version 2, random 32.
    let at = 5 + 4 + 2 + 32;
    let length = usize::from(*client_hello.get(at).unwrap_or(&0));
    client_hello
        .get(at + 1..at + 1 + length)
        .unwrap_or_default()
        .to_vec()
}

/// A ServerHello body.
fn server_hello(
    version: u16,
    random: [u8; 32],
    session_id: &[u8],
    suite: u16,
    extensions: &[u8],
) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend(random);
    body.push(session_id.len() as u8);
    body.extend_from_slice(session_id);
    body.extend(suite.to_be_bytes());
    body.push(0);
    if !extensions.is_empty() {
        body.extend((extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(extensions);
    }
    handshake(2, &body)
}

/// SHA-256("HelloRetryRequest"): the ServerHello random that makes it a HelloRetryRequest.
const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A server that answers the ClientHello with `answer`, then waits for the client to leave.
fn answers(answer: Vec<u8>) -> u16 {
    tcp_server(move |mut stream| {
        read_client_hello(&mut stream);
        let _ = stream.write_all(&answer);
        until_client_leaves(&mut stream, Duration::from_secs(15));
    })
}

/// A server that answers the ClientHello with `answer` and closes.
fn answers_and_closes(answer: Vec<u8>) -> u16 {
    tcp_server(move |mut stream| {
        read_client_hello(&mut stream);
        let _ = stream.write_all(&answer);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        until_client_leaves(&mut stream, Duration::from_secs(15));
    })
}

#[test]
fn garbage_bytes_are_not_tls() {
    let garbage: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8 | 0x80).collect();
    let port = answers_and_closes(garbage);
    connect(port, &[]).assert_ends(1, "not-tls");
}

#[test]
fn an_http_response_is_not_tls() {
    let port = answers_and_closes(
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request"
            .to_vec(),
    );
    connect(port, &[]).assert_ends(1, "not-tls");
}

#[test]
fn a_server_hello_cut_short_by_a_close_is_peer_closed_or_incomplete() {
    let hello = record(22, 0x0303, &server_hello(0x0303, [7; 32], &[], 0xc02b, &[]));
    // The record header promises the whole ServerHello; only part of it comes.
    let port = answers_and_closes(hello[..5 + 20].to_vec());
    let run = connect(port, &[]);
    run.assert_in_time();
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
    run.assert_ends(1, "not-tls");
}

#[test]
fn an_alert_as_the_first_answer_is_explained() {
    // Fatal protocol_version (70): the server speaks no version the client offered.
    let port = answers_and_closes(record(21, 0x0303, &[2, 70]));
    connect(port, &[]).assert_ends(1, "protocol-version-mismatch");
}

#[test]
fn a_silent_server_is_a_timeout() {
    let port = tcp_server(|mut stream| {
        read_client_hello(&mut stream);
        until_client_leaves(&mut stream, Duration::from_secs(15));
    });
    connect(port, &[]).assert_ends(1, "timeout");
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
    run.assert_ends(1, "peer-closed");
}

#[test]
fn a_server_dripping_one_byte_at_a_time_is_bounded_by_the_timeout() {
    let port = tcp_server(|mut stream| {
        read_client_hello(&mut stream);
        // A ServerHello record that would take an hour to arrive at this pace.
        let mut drip = vec![22, 0x03, 0x03, 0x40, 0x00];
        drip.resize(5 + 0x4000, 0);
        for byte in drip.iter().take(300) {
            if stream.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    connect(port, &[]).assert_ends(1, "timeout");
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
        let server = common::OpenSslServer::start(&[
            "-cert",
            &pki("server.pem"),
            "-key",
            &pki("server.key"),
            "-cert_chain",
            chain.to_str().unwrap(),
        ]);
        let run = connect(server.port, &["--ca", &root, "--tls", tls]);
        run.assert_in_time();
        // Duplicated intermediates are odd but valid: the chain still reaches the root.
        assert_eq!(run.code, Some(0), "TLS {tls}: {run}");
        let certificates = events_of(&run.report, "server", "certificate");
        assert_eq!(certificates.len(), 1, "TLS {tls}: {run}");
        let sent = certificates[0]["certificates"].as_array().map(Vec::len);
        assert_eq!(sent, Some(100), "TLS {tls}: {run}");
    }
}

/// A rustls server on loopback that completes the handshake, then sends application data for as
/// long as the client takes it (at most `LIMIT`), never reading again: the client's close_notify
/// goes unanswered, as a server that streams and ignores its peer would leave it.
fn endless_server(tls: &str) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    const LIMIT: Duration = Duration::from_secs(30);

    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(pki("server-chain.pem"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki("server.key")).unwrap();
    let version = match tls {
        "1.2" => &rustls::version::TLS12,
        _ => &rustls::version::TLS13,
    };
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[version])
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let config = std::sync::Arc::new(config);
    tcp_server(move |mut stream| {
        let started = Instant::now();
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
        let mut conn = rustls::ServerConnection::new(config).unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut stream).is_err() {
                return;
            }
        }
        let data = [0u8; 16 * 1024];
        while started.elapsed() < LIMIT {
            let _ = conn.writer().write(&data);
            while conn.wants_write() {
                if conn.write_tls(&mut stream).is_err() {
                    return;
                }
            }
        }
    })
}

#[test]
fn endless_data_after_a_real_handshake_is_bounded() {
    let root = pki("root-ca.pem");
    for tls in ["1.2", "1.3"] {
        let port = endless_server(tls);
        let run = connect(port, &["--ca", &root, "--tls", tls]);
        run.assert_in_time();
        let version = run.report["transcript"]["tls_version"].as_str();
        match run.code {
            // The handshake worked; what came after it does not make it fail.
            Some(0) => assert_eq!(
                version,
                Some(if tls == "1.2" { "TLSv1.2" } else { "TLSv1.3" }),
                "TLS {tls}: {run}"
            ),
            _ => assert!(top_cause(&run.report).is_some(), "TLS {tls}: {run}"),
        }
        let events = run.report["transcript"]["events"].as_array().unwrap().len();
        assert!(events <= 1100, "TLS {tls}: {events} events");
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
    run.assert_ends(1, "alert-unexplained");
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
    connect(port, &[]).assert_ends(1, "protocol-version-mismatch");
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
    run.assert_ends(1, "alert-unexplained");
    // Both requests are shown.
    let retries = events_of(&run.report, "server", "handshake")
        .into_iter()
        .filter(|e| e["message"] == "hello_retry_request")
        .count();
    assert_eq!(retries, 2, "{run}");
}
