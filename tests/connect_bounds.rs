//! `iotdoctor connect` against servers that would keep it forever, and what its report says of
//! what came: `--timeout` bounds the whole connection (a server that never stops sending after
//! a real handshake, one that drips a byte at a time), and the evidence shows the bytes that
//! came even when they make no record (cut by a reset, a header no record can have, records
//! before any ServerHello). All on loopback; every server stops by itself.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{events_of, pki, tcp_server, top_cause};
use serde_json::Value;

/// `--timeout` of every run, in seconds.
const TIMEOUT: u64 = 4;
/// What a run may take past `--timeout`: process start, the report, a loaded machine.
const MARGIN: Duration = Duration::from_secs(3);
/// A run still going after this is killed, so that a run that never ends fails its test.
const KILL_AFTER: Duration = Duration::from_secs(30);
/// More report than any connection should make: a transcript shows at most 1000 decoded events.
const MAX_REPORT_BYTES: usize = 2 * 1024 * 1024;

/// One `iotdoctor connect --format json` run, timed around the whole process.
struct Run {
    /// `None` when the run had to be killed.
    code: Option<i32>,
    report: Value,
    report_bytes: usize,
    elapsed: Duration,
}

impl Run {
    fn assert_bounded(&self) {
        assert!(self.code.is_some(), "still running after {KILL_AFTER:?}");
        assert!(
            self.elapsed <= Duration::from_secs(TIMEOUT) + MARGIN,
            "took {:?} with --timeout {TIMEOUT}\n{self}",
            self.elapsed
        );
        assert!(
            self.report_bytes < MAX_REPORT_BYTES,
            "a report of {} bytes",
            self.report_bytes
        );
    }

    /// The messages of the report's notes.
    fn notes(&self) -> Vec<String> {
        self.report["transcript"]["events"]
            .as_array()
            .map(|events| {
                events
                    .iter()
                    .filter(|e| e["kind"] == "note")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn evidence(&self) -> String {
        self.report["diagnosis"]["causes"][0]["evidence"].to_string()
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut report = serde_json::to_string_pretty(&self.report).unwrap_or_default();
        if report.len() > 8000 {
            let mut cut = 8000;
            while !report.is_char_boundary(cut) {
                cut -= 1;
            }
            report.truncate(cut);
            report.push_str("\n... (cut)");
        }
        write!(
            f,
            "exit {:?} after {:?}, {} bytes of report\n{report}",
            self.code, self.elapsed, self.report_bytes
        )
    }
}

fn connect(port: u16, extra: &[&str]) -> Run {
    let endpoint = format!("127.0.0.1:{port}");
    let timeout = TIMEOUT.to_string();
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
    Run {
        code: run.code,
        report: run.report,
        report_bytes: run.stdout_len,
        elapsed: run.elapsed,
    }
}

/// Reads the client's first record, its ClientHello.
fn read_client_hello(stream: &mut TcpStream) -> Vec<u8> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
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

/// Waits for the client to go away, at most `limit`.
fn until_client_leaves(stream: &mut TcpStream, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut buffer = [0u8; 4096];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    while Instant::now() < deadline {
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

fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![content_type, 3, 3];
    out.extend((body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A TLS 1.2 ServerHello record (ECDHE-ECDSA-AES128-GCM-SHA256, no extensions).
fn server_hello() -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend([7u8; 32]);
    body.extend([0, 0xc0, 0x2b, 0]);
    let mut message = vec![2, 0, 0, body.len() as u8];
    message.extend(body);
    record(22, &message)
}

/// A server that answers the ClientHello with `answer`, then waits for the client to leave.
fn answers(answer: Vec<u8>) -> u16 {
    tcp_server(move |mut stream| {
        read_client_hello(&mut stream);
        let _ = stream.write_all(&answer);
        until_client_leaves(&mut stream, Duration::from_secs(20));
    })
}

/// A rustls server that completes a real handshake (`tls` "1.2" or "1.3"), sends `first` as
/// application data, then zeros for as long as the client takes them (at most a minute),
/// never reading again: the client's close_notify goes unanswered.
fn endless_server(tls: &str, first: &'static [u8]) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

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
        let _ = conn.writer().write_all(first);
        let data = [0u8; 16 * 1024];
        while started.elapsed() < Duration::from_secs(60) {
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
            run.assert_bounded();
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
    run.assert_bounded();
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
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let run = connect(port, &[]);
    run.assert_bounded();
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
    let hello = server_hello();
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
    run.assert_bounded();
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

/// Closes `stream` with a reset: SO_LINGER with a zero timeout.
fn socket_reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    #[repr(C)]
    struct Linger {
        onoff: i32,
        linger: i32,
    }
    unsafe extern "C" {
        fn setsockopt(fd: i32, level: i32, name: i32, value: *const Linger, len: u32) -> i32;
    }
    const SOL_SOCKET: i32 = 1;
    const SO_LINGER: i32 = 13;
    let linger = Linger {
        onoff: 1,
        linger: 0,
    };
    // SAFETY: a valid socket and a properly sized struct linger.
    let done = unsafe {
        setsockopt(
            stream.as_raw_fd(),
            SOL_SOCKET,
            SO_LINGER,
            &linger,
            std::mem::size_of::<Linger>() as u32,
        )
    };
    assert_eq!(done, 0, "setsockopt(SO_LINGER)");
    drop(stream);
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
            server_hello()
        } else {
            Vec::new()
        };
        answer.extend(&oversized);
        let run = connect(answers(answer), &[]);
        run.assert_bounded();
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
    let mut answer = record(23, b"hello");
    answer.extend(record(20, &[1]));
    answer.extend(record(21, &[2, 40]));
    let run = connect(answers(answer), &[]);
    run.assert_bounded();
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
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(pki("server-chain.pem"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS12])
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let config = std::sync::Arc::new(config);
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
    run.assert_bounded();
    assert_eq!(run.code, Some(0), "{run}");
    let closes = events_of(&run.report, "server", "close");
    assert!(
        closes.iter().any(|c| c["how"] == "reset"),
        "{closes:#?}\n{run}"
    );
}
