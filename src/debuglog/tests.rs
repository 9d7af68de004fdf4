//! The log reader on hand-made lines in each stack's format: what is recognised, what is not,
//! and that no input makes it panic.

use super::*;
use crate::diagnose::{CauseId, log::diagnose};
use crate::test_support::Rng;

fn read_str(text: &str) -> DebugLog {
    read(text.as_bytes(), "test").unwrap()
}

fn kinds(log: &DebugLog) -> Vec<String> {
    log.events
        .iter()
        .map(|e| match &e.what {
            LogWhat::Message {
                from,
                message,
                certificates,
            } => format!(
                "{from}:{message}{}",
                certificates.map(|n| format!("[{n}]")).unwrap_or_default()
            ),
            LogWhat::Alert { from, code, .. } => format!("{from}:alert {}", code.unwrap_or(255)),
            LogWhat::Error { code, .. } => format!("error {code}"),
            LogWhat::SessionCreated { .. } => "session".into(),
            LogWhat::CredentialLoaded { item, scope, .. } => format!("{item}@{scope}"),
            LogWhat::NoSignature { .. } => "no-signature".into(),
            LogWhat::VerifyError { code, .. } => format!("verify {code}"),
            LogWhat::ConnectionFailed { failure, .. } => format!("connection {failure:?}"),
            LogWhat::HandshakeDone => "done".into(),
            LogWhat::ApplicationData { from } => format!("{from}:data"),
        })
        .collect()
}

fn top(log: &DebugLog) -> Option<CauseId> {
    diagnose(log).causes.first().map(|c| c.id)
}

const WOLFSSL_LATE: &str = "\
wolfSSL Entering wolfSSL_CTX_new_ex
wolfSSL Entering wolfSSL_new
wolfSSL Entering wolfSSL_CTX_use_certificate_file
wolfSSL Entering wolfSSL_CTX_use_PrivateKey_file
wolfSSL Entering wolfSSL_connect
connect state: CLIENT_HELLO_SENT
processing server hello
processing certificate request
sent: certificate
wolfSSL Entering SendCertificateVerify
sent: certificate verify
got ALERT!
Alert type: bad_certificate
wolfSSL error occurred, error = 42
wolfSSL error occurred, error = -313 line:123 file:src/internal.c
";

#[test]
fn wolfssl_session_made_before_its_credentials_is_named() {
    let log = read_str(WOLFSSL_LATE);
    assert_eq!(
        kinds(&log),
        [
            "session",
            "certificate@context",
            "key@context",
            "client:ClientHello",
            "server:ServerHello",
            "server:CertificateRequest",
            "client:Certificate",
            "no-signature",
            "server:alert 42",
            "error -313",
        ]
    );
    let diagnosis = diagnose(&log);
    let cause = &diagnosis.causes[0];
    assert_eq!(cause.id, CauseId::ClientCertNotSent);
    assert!(cause.confidence >= 0.9);
    assert!(cause.evidence[0].starts_with("line 2: wolfSSL Entering wolfSSL_new"));
    assert!(cause.evidence.iter().any(|e| e.starts_with("line 3:")));
}

#[test]
fn wolfssl_credentials_loaded_in_time_or_on_the_session_are_no_cause() {
    // Loaded before wolfSSL_new, and the key used to sign.
    let ok = WOLFSSL_LATE
        .replace("wolfSSL Entering wolfSSL_new\n", "")
        .replace(
            "wolfSSL Entering wolfSSL_connect\n",
            "wolfSSL Entering wolfSSL_new\nwolfSSL Entering wolfSSL_connect\n",
        )
        .replace(
            "sent: certificate verify\n",
            "Using ECC private key\nsent: certificate verify\n",
        );
    let log = read_str(&ok);
    assert!(!kinds(&log).contains(&"no-signature".to_string()));
    // The alert is still there, but nothing in the log says the certificate was missing.
    assert_ne!(top(&log), Some(CauseId::ClientCertNotSent));

    // Loaded late into the context, but also onto the session itself.
    let on_session = WOLFSSL_LATE
        .replace(
            "wolfSSL Entering wolfSSL_connect\n",
            "wolfSSL Entering wolfSSL_use_certificate_file\nwolfSSL Entering wolfSSL_use_PrivateKey_file\nwolfSSL Entering wolfSSL_connect\n",
        )
        .replace(
            "sent: certificate verify\n",
            "Using RSA private key\nsent: certificate verify\n",
        );
    let log = read_str(&on_session);
    let diagnosis = diagnose(&log);
    assert!(
        diagnosis
            .causes
            .iter()
            .all(|c| c.id != CauseId::ClientCertNotSent || c.confidence < 0.5),
        "{diagnosis:?}"
    );
}

#[test]
fn wolfssl_late_load_without_a_certificate_request_is_only_a_warning_sign() {
    let log = read_str(
        "wolfSSL Entering wolfSSL_new\nwolfSSL Entering wolfSSL_CTX_use_certificate_chain_file\nconnect state: CLIENT_HELLO_SENT\n",
    );
    let diagnosis = diagnose(&log);
    assert_eq!(diagnosis.causes[0].id, CauseId::ClientCertNotSent);
    assert!(diagnosis.causes[0].confidence <= 0.5);
}

#[test]
fn mbedtls_empty_certificate_and_alert() {
    let log = read_str(
        "\
ssl_cli.c:0994: |2| 0x7ffe: => write client hello
ssl_cli.c:3400: |3| 0x7ffe: got a certificate request
ssl_tls.c:2161: |2| 0x7ffe: => write certificate
ssl_msg.c:2703: |3| 0x7ffe: output record: msgtype = 22, version = [3:3], msglen = 7
ssl_tls.c:2254: |2| 0x7ffe: <= write certificate
ssl_cli.c:4022: |2| 0x7ffe: <= skip write certificate verify
ssl_msg.c:4698: |2| 0x7ffe: got an alert message, type: [2:42]
ssl_msg.c:3847: |1| 0x7ffe: mbedtls_ssl_handle_message_type() returned -30592 (-0x7780)
ssl_cli.c:4161: |1| 0x7ffe: mbedtls_ssl_read_record() returned -30592 (-0x7780)
  ! mbedtls_ssl_handshake returned -0x7780
",
    );
    assert_eq!(
        kinds(&log),
        [
            "client:ClientHello",
            "server:CertificateRequest",
            "client:Certificate[0]",
            "no-signature",
            "server:alert 42",
            "error -0x7780",
        ]
    );
    assert_eq!(top(&log), Some(CauseId::ClientCertNotSent));
}

#[test]
fn openssl_msg_state_and_trace_lines() {
    let log = read_str(
        "\
>>> TLS 1.2, RecordHeader [length 0005]
>>> TLS 1.2, Handshake [length 00c9], ClientHello
<<< TLS 1.2, Handshake [length 0041], ServerHello
<<< TLS 1.2, Handshake [length 0076], CertificateRequest
>>> TLS 1.2, Handshake [length 03e2], Certificate
<<< TLS 1.2, Alert [length 0002], fatal unknown_ca
",
    );
    assert_eq!(
        kinds(&log),
        [
            "client:ClientHello",
            "server:ServerHello",
            "server:CertificateRequest",
            "client:Certificate",
            "server:alert 48",
        ]
    );
    assert_eq!(log.tls_version.as_deref(), Some("TLSv1.2"));

    let state = read_str(
        "\
SSL_connect:SSLv3/TLS read server certificate request
SSL_connect:SSLv3/TLS write client certificate
SSL_connect:SSLv3/TLS write certificate verify
SSL_connect:SSLv3/TLS write finished
SSL3 alert read:fatal:unknown
40C0:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../ssl/record/rec_layer_s3.c:1602:SSL alert number 116
",
    );
    // A CertificateVerify was written: the certificate was not empty. The unnamed alert gets
    // its number from the error line.
    assert_eq!(
        kinds(&state),
        [
            "server:CertificateRequest",
            "client:Certificate",
            "client:CertificateVerify",
            "client:Finished",
            "server:alert 116",
            "error 0A00045C",
        ]
    );

    let trace = read_str(
        "\
Sent Record
    Certificate, Length=4
      certificate_list, length=0
Received Record
    Level=fatal(2), description=unknown(116)
",
    );
    assert_eq!(kinds(&trace), ["client:Certificate[0]", "server:alert 116"]);
    assert_eq!(top(&trace), Some(CauseId::ClientCertNotSent));
}

#[test]
fn openssl_verify_errors_point_at_the_chain_by_depth() {
    let at_root = read_str(
        "depth=1 O = Org, CN = Intermediate\nverify error:num=20:unable to get local issuer certificate\n",
    );
    assert_eq!(top(&at_root), Some(CauseId::ServerCaUntrusted));
    let at_leaf = read_str(
        "depth=0 CN = broker\nverify error:num=20:unable to get local issuer certificate\nVerify return code: 20 (unable to get local issuer certificate)\n",
    );
    assert_eq!(kinds(&at_leaf), ["verify 20"]);
    assert_eq!(top(&at_leaf), Some(CauseId::ServerChainIncomplete));
    let expired = read_str("depth=0 CN = broker\nverify error:num=10:certificate has expired\n");
    assert_eq!(top(&expired), Some(CauseId::ServerCertExpired));
}

#[test]
fn openssl_connection_failures_beneath_tls_are_named() {
    for (text, kind, cause) in [
        // OpenSSL 3.0 s_client, nothing listening.
        (
            "40F0:error:8000006F:system library:BIO_connect:Connection refused:../crypto/bio/bio_sock2.c:117:calling connect()\n40F0:error:10000067:BIO routines:BIO_connect:connect error:../crypto/bio/bio_sock2.c:119:\nconnect:errno=111\n",
            "connection Refused",
            CauseId::ConnectRefused,
        ),
        // OpenSSL 1.1.1.
        (
            "1403:error:0200206F:system library:connect:Connection refused:crypto/bio/b_sock2.c:110:\nconnect:errno=111\n",
            "connection Refused",
            CauseId::ConnectRefused,
        ),
        (
            "40E0:error:8000006E:system library:BIO_connect:Connection timed out:../crypto/bio/bio_sock2.c:117:calling connect()\n",
            "connection TimedOut",
            CauseId::Timeout,
        ),
        (
            "4077:error:10080002:BIO routines:BIO_lookup_ex:system lib:../crypto/bio/bio_addr.c:746:Name or service not known\nconnect:errno=0\n",
            "connection NameNotResolved",
            CauseId::DnsFailed,
        ),
        (
            "1407:error:2008F002:BIO routines:BIO_lookup_ex:system lib:crypto/bio/b_addr.c:726:Temporary failure in name resolution\n",
            "connection NameNotResolved",
            CauseId::DnsFailed,
        ),
        (
            "40E0:error:80000071:system library:BIO_connect:No route to host:../crypto/bio/bio_sock2.c:117:calling connect()\n",
            "connection Unreachable",
            CauseId::NetworkUnreachable,
        ),
        // The server resets the connection on the ClientHello.
        ("write:errno=104\n", "connection Reset", CauseId::PeerClosed),
        // OpenSSL 1.1.1: the server closed it.
        ("read:errno=0\n", "connection Closed", CauseId::PeerClosed),
        (
            "4027:error:0A000126:SSL routines:ssl3_read_n:unexpected eof while reading:../ssl/record/rec_layer_s3.c:318:\n",
            "connection Closed",
            CauseId::PeerClosed,
        ),
    ] {
        let log = read_str(&format!(
            ">>> TLS 1.3, Handshake [length 0124], ClientHello\n{text}"
        ));
        assert_eq!(kinds(&log)[1], kind, "{text}");
        let diagnosis = diagnose(&log);
        let first = &diagnosis.causes[0];
        assert_eq!(first.id, cause, "{text}");
        assert!(first.evidence[0].starts_with("line 2: "), "{text}");
    }
    // A failure said twice (error line, then errno) is one step.
    let log = read_str(
        "1403:error:0200206F:system library:connect:Connection refused:x.c:1:\nconnect:errno=111\n",
    );
    assert_eq!(kinds(&log), ["connection Refused"]);
    // Other errno values and other calls are no failure of the connection.
    let log = read_str("connect:errno=0\nread:errno=11\nfoo:errno=104\n");
    assert!(kinds(&log).is_empty(), "{:?}", kinds(&log));
}

#[test]
fn gnutls_cli_connection_failures_are_named() {
    // gnutls-cli 3.7 writes its error on stderr, before its progress lines on stdout.
    let refused = read_str(
        "Could not connect to 127.0.0.1:1: Connection refused\nProcessed 144 CA certificate(s).\nResolving '127.0.0.1:1'...\nConnecting to '127.0.0.1:1'...\n",
    );
    assert_eq!(kinds(&refused), ["connection Refused"]);
    assert_eq!(top(&refused), Some(CauseId::ConnectRefused));
    let unresolved = read_str("Cannot resolve broker.example:8883: Name or service not known\n");
    assert_eq!(top(&unresolved), Some(CauseId::DnsFailed));
    assert!(kinds(&read_str("Could not connect to x: something else\n")).is_empty());
}

#[test]
fn a_close_after_the_peer_s_alert_or_handshake_is_not_the_cause() {
    let after_alert = read_str(
        "<<< TLS 1.2, Handshake [length 0076], CertificateRequest\n>>> TLS 1.2, Handshake [length 0007], Certificate\n<<< TLS 1.2, Alert [length 0002], fatal handshake_failure\nread:errno=0\n",
    );
    let diagnosis = diagnose(&after_alert);
    assert_eq!(diagnosis.causes[0].id, CauseId::ClientCertNotSent);
    assert!(diagnosis.causes.iter().all(|c| c.id != CauseId::PeerClosed));

    let after_handshake = read_str(
        "SSL_connect:SSLv3/TLS write finished\nSSL_connect:SSL negotiation finished successfully\nread:errno=0\n",
    );
    let diagnosis = diagnose(&after_handshake);
    assert_eq!(diagnosis.causes[0].id, CauseId::PeerClosed);
    assert!(diagnosis.causes[0].confidence <= 0.5);
}

/// A TLS 1.2 client that sent its certificate and signed, then the server's alert `alert`.
fn client_certificate_refused_with(alert: &str) -> DebugLog {
    read_str(&format!(
        "\
<<< TLS 1.2, Handshake [length 0076], CertificateRequest
<<< TLS 1.2, Handshake [length 0004], ServerHelloDone
>>> TLS 1.2, Handshake [length 03e1], Certificate
>>> TLS 1.2, Handshake [length 0025], ClientKeyExchange
>>> TLS 1.2, Handshake [length 004e], CertificateVerify
>>> TLS 1.2, Handshake [length 0010], Finished
<<< TLS 1.2, Alert [length 0002], fatal {alert}
"
    ))
}

#[test]
fn a_server_alert_on_the_client_certificate_names_its_reason() {
    for (alert, cause, at_most) in [
        ("certificate_expired", CauseId::ClientCertExpired, 0.9),
        ("unknown_ca", CauseId::ClientCaUntrusted, 0.8),
        ("certificate_revoked", CauseId::ClientCertRevoked, 0.8),
        ("unsupported_certificate", CauseId::ClientCertUsage, 0.6),
    ] {
        let diagnosis = diagnose(&client_certificate_refused_with(alert));
        let first = &diagnosis.causes[0];
        assert_eq!(first.id, cause, "{alert}: {diagnosis:?}");
        assert!(first.confidence <= at_most, "{alert}");
        assert!(first.evidence[0].starts_with("line 3: "), "{alert}");
        assert!(first.evidence[1].starts_with("line 7: "), "{alert}");
    }
    let unknown_ca = diagnose(&client_certificate_refused_with("unknown_ca"));
    assert!(
        unknown_ca
            .causes
            .iter()
            .any(|c| c.id == CauseId::ClientChainIncomplete)
    );
    // 42 and 46 name no reason: the alert alone, saying the log shows the handshake.
    for alert in ["bad_certificate", "certificate_unknown"] {
        let diagnosis = diagnose(&client_certificate_refused_with(alert));
        assert_eq!(diagnosis.causes[0].id, CauseId::AlertUnexplained, "{alert}");
        let evidence = diagnosis.causes[0].evidence.join("\n");
        assert!(
            evidence.contains("shows the handshake messages"),
            "{evidence}"
        );
        assert!(!evidence.contains("does not show"), "{evidence}");
    }
    // Without the messages, the alert alone says what is missing.
    let bare = read_str(
        "40C0:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:x.c:1:SSL alert number 42\n",
    );
    let diagnosis = diagnose(&bare);
    assert_eq!(diagnosis.causes[0].id, CauseId::AlertUnexplained);
    assert!(
        diagnosis.causes[0]
            .evidence
            .join("\n")
            .contains("does not show the handshake messages")
    );
}

#[test]
fn an_alert_about_a_certificate_the_client_did_not_send_is_not_its_certificate_s_fault() {
    // The server went on after the client's Certificate: its alert is about something later.
    let later = read_str(
        ">>> TLS 1.2, Handshake [length 03e1], Certificate\n>>> TLS 1.2, Handshake [length 004e], CertificateVerify\n<<< TLS 1.2, Handshake [length 0010], Finished\n<<< TLS 1.2, Alert [length 0002], fatal certificate_expired\n",
    );
    assert_ne!(top(&later), Some(CauseId::ClientCertExpired));
    // An empty Certificate: the missing certificate, whatever the alert says.
    let empty = read_str(
        "<<< TLS 1.2, Handshake [length 0076], CertificateRequest\n>>> TLS 1.2, Handshake [length 0007], Certificate\n<<< TLS 1.2, Alert [length 0002], fatal unknown_ca\n",
    );
    assert_eq!(top(&empty), Some(CauseId::ClientCertNotSent));
}

#[test]
fn ordinary_text_is_not_a_log() {
    let log = read_str(
        "Hello world\nThe server returned 42 rows\nerror: something else\nsent: mail\nprocessing payroll\n- Status: fine\n*** note: lunch at noon\n- Successfully sent 3 parcels to server.\n",
    );
    assert!(log.events.is_empty(), "{:?}", kinds(&log));
    assert_eq!(log.lines, 8);
}

#[test]
fn hostile_bytes_never_panic() {
    let mut bytes = Vec::new();
    for line in WOLFSSL_LATE.lines().chain([
        "ssl_tls.c:1: |9| 0x: ",
        "x.c:: |",
        ": |",
        ">>> [length ",
        "<<< TLS 1.3, Handshake [length zz], Certificate",
        "Level=",
        "verify error:num=",
        "depth=",
        "SSL3 alert read:",
        "Alert type: ",
        "SendAlert: ",
        "0:error:",
        "::error:0A000410:::",
    ]) {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(&[0xff, 0xfe, 0x00, b'\r', b'\n', 0x80]);
    for cut in 0..bytes.len() {
        let log = read(&bytes[..cut], "cut").unwrap();
        let _ = diagnose(&log);
    }
    let alphabet = b"wolfSSL Entering: |0x[]>=<-, \n123abc";
    let mut rng = Rng(0x2545_f491);
    for _ in 0..200 {
        let noise: Vec<u8> = (0..256)
            .map(|_| alphabet[rng.index(alphabet.len())])
            .collect();
        let _ = diagnose(&read(&noise[..], "noise").unwrap());
    }
}

#[test]
fn a_server_log_speaks_of_the_client_as_its_peer() {
    let log = read_str(
        "wolfSSL Entering wolfSSL_accept\nprocessing client hello\nsent: server hello\nprocessing certificate\n",
    );
    assert_eq!(log.side, Side::Server);
    assert_eq!(
        kinds(&log),
        [
            "client:ClientHello",
            "server:ServerHello",
            "client:Certificate"
        ]
    );
    let mbed = read_str(
        "ssl_srv.c:1000: |2| => parse client hello\nssl_srv.c:1001: |2| <= parse client hello\n",
    );
    assert_eq!(mbed.side, Side::Server);
    assert_eq!(kinds(&mbed), ["client:ClientHello"]);
}

/// gnutls-cli -d 4 in TLS 1.2 without a client certificate (lines from a real run, shortened).
const GNUTLS_NO_CERT_TLS12: &str = "\
Processed 1 CA certificate(s).
|<2>| added 5 protocols, 29 ciphersuites, 16 sig algos and 10 groups into priority list
|<4>| HSK[0x5593dc94c010]: Adv. version: 3.3
|<4>| EXT[0x5593dc94c010]: Sending extension Extended Master Secret/23 (0 bytes)
|<4>| HSK[0x5593dc94c010]: CLIENT HELLO was queued [197 bytes]
|<3>| ASSERT: ../../lib/buffers.c[get_last_packet]:1196
|<4>| HSK[0x5593dc94c010]: SERVER HELLO (2) was received. Length 61[61], frag offset 0, frag length: 61, sequence: 0
|<4>| HSK[0x5593dc94c010]: Server's version: 3.3
|<4>| HSK[0x5593dc94c010]: CERTIFICATE (11) was received. Length 1018[1018], frag offset 0, frag length: 1018, sequence: 0
- Got a certificate list of 2 certificates.
- Status: The certificate is trusted. 
|<4>| HSK[0x5593dc94c010]: SERVER KEY EXCHANGE (12) was received. Length 144[144], frag offset 0, frag length: 144, sequence: 0
|<4>| HSK[0x5593dc94c010]: CERTIFICATE REQUEST (13) was received. Length 114[114], frag offset 0, frag length: 114, sequence: 0
|<4>| EXT[0x5593dc94c010]: rcvd signature algo (4.3) ECDSA-SHA256
|<3>| Peer requested CA: CN=iotdoctor Test Root CA,O=iotdoctor test PKI
- Successfully sent 0 certificate(s) to server.
|<4>| HSK[0x5593dc94c010]: SERVER HELLO DONE (14) was received. Length 0[0], frag offset 0, frag length: 0, sequence: 0
|<4>| HSK[0x5593dc94c010]: CERTIFICATE was queued [7 bytes]
|<4>| HSK[0x5593dc94c010]: CLIENT KEY EXCHANGE was queued [70 bytes]
|<4>| REC[0x5593dc94c010]: Sent ChangeCipherSpec
|<4>| HSK[0x5593dc94c010]: FINISHED was queued [16 bytes]
*** Fatal error: A TLS fatal alert has been received.
*** Received alert [40]: Handshake failed
|<3>| ASSERT: ../../lib/alert.c[gnutls_alert_send_appropriate]:396
";

#[test]
fn gnutls_empty_certificate_after_a_request_is_found_by_line() {
    let log = read_str(GNUTLS_NO_CERT_TLS12);
    assert_eq!(
        kinds(&log),
        [
            "client:ClientHello",
            "server:ServerHello",
            "server:Certificate",
            "server:ServerKeyExchange",
            "server:CertificateRequest",
            "server:ServerHelloDone",
            "client:Certificate[0]",
            "client:ClientKeyExchange",
            "client:ChangeCipherSpec",
            "client:Finished",
            "error -12",
            "server:alert 40",
        ]
    );
    assert_eq!(log.stacks, [Stack::GnuTls]);
    assert_eq!(log.tls_version.as_deref(), Some("TLSv1.2"));
    let error = log.events.iter().find_map(|e| match &e.what {
        LogWhat::Error { name, .. } => name.clone(),
        _ => None,
    });
    assert_eq!(error.as_deref(), Some("GNUTLS_E_FATAL_ALERT_RECEIVED"));
    // The alert's level comes from the error line before it.
    assert!(log.events.iter().any(|e| matches!(
        &e.what,
        LogWhat::Alert { level: Some(level), code: Some(40), .. } if level == "fatal"
    )));

    let diagnosis = diagnose(&log);
    let cause = &diagnosis.causes[0];
    assert_eq!(cause.id, CauseId::ClientCertNotSent);
    assert!(cause.confidence >= 0.9);
    assert!(
        cause.evidence[0].starts_with("line 13: |<4>| HSK"),
        "{cause:?}"
    );
    assert!(
        cause.evidence[1].starts_with("line 18: |<4>| HSK"),
        "{cause:?}"
    );
    assert!(cause.evidence[1].contains("CERTIFICATE was queued [7 bytes]"));
    assert!(cause.evidence[2].starts_with("line 22: *** Fatal error"));
}

#[test]
fn gnutls_cli_output_without_debug_lines_still_tells_an_empty_certificate() {
    // Without -d, only the program's lines: its certificate callback runs on a
    // CertificateRequest and says how many certificates it gave.
    let plain: String = GNUTLS_NO_CERT_TLS12
        .lines()
        .filter(|l| !l.starts_with("|<"))
        .map(|l| format!("{l}\n"))
        .collect();
    let log = read_str(&plain);
    assert_eq!(
        kinds(&log),
        [
            "server:CertificateRequest",
            "client:Certificate[0]",
            "error -12",
            "server:alert 40",
        ]
    );
    assert_eq!(top(&log), Some(CauseId::ClientCertNotSent));
}

#[test]
fn gnutls_good_tls13_handshake_with_a_certificate_is_no_cause() {
    let log = read_str(
        "\
|<4>| HSK[0x55cb325e5360]: CLIENT HELLO was queued [368 bytes]
|<5>| REC[0x55cb325e5360]: Sent Packet[1] Handshake(22) in epoch 0 and length: 373
|<4>| HSK[0x55cb325e5360]: SERVER HELLO (2) was received. Length 151[151], frag offset 0, frag length: 151, sequence: 0
|<4>| HSK[0x55cb325e5360]: Server's version: 3.3
|<4>| EXT[0x55cb325e5360]: Negotiated version: 3.4
|<4>| HSK[0x55cb325e5360]: ENCRYPTED EXTENSIONS (8) was received. Length 28[28], frag offset 0, frag length: 28, sequence: 0
|<4>| HSK[0x55cb325e5360]: CERTIFICATE REQUEST (13) was received. Length 113[113], frag offset 0, frag length: 113, sequence: 0
|<3>| Peer requested CA: CN=iotdoctor Test Root CA,O=iotdoctor test PKI
- Successfully sent 2 certificate(s) to server.
|<4>| HSK[0x55cb325e5360]: CERTIFICATE (11) was received. Length 1023[1023], frag offset 0, frag length: 1023, sequence: 0
|<4>| HSK[0x55cb325e5360]: CERTIFICATE VERIFY (15) was received. Length 75[75], frag offset 0, frag length: 75, sequence: 0
- Server has requested a certificate.
- Status: The certificate is trusted. 
|<4>| HSK[0x55cb325e5360]: FINISHED (20) was received. Length 48[48], frag offset 0, frag length: 48, sequence: 0
|<4>| HSK[0x55cb325e5360]: CERTIFICATE was queued [994 bytes]
|<4>| HSK[0x55cb325e5360]: CERTIFICATE VERIFY was queued [80 bytes]
|<4>| HSK[0x55cb325e5360]: FINISHED was queued [52 bytes]
- Description: (TLS1.3-X.509)-(ECDHE-SECP256R1)-(ECDSA-SECP256R1-SHA256)-(AES-256-GCM)
- Handshake was completed
|<4>| HSK[0x55cb325e5360]: NEW SESSION TICKET (4) was received. Length 725[725], frag offset 0, frag length: 725, sequence: 0
- Peer has closed the GnuTLS connection
",
    );
    assert_eq!(
        kinds(&log),
        [
            "client:ClientHello",
            "server:ServerHello",
            "server:EncryptedExtensions",
            "server:CertificateRequest",
            "server:Certificate",
            "server:CertificateVerify",
            "server:Finished",
            "client:Certificate[2]",
            "client:CertificateVerify",
            "client:Finished",
            "done",
            "server:NewSessionTicket",
        ]
    );
    assert_eq!(log.tls_version.as_deref(), Some("TLSv1.3"));
    assert!(diagnose(&log).causes.is_empty());
}

#[test]
fn gnutls_alert_116_alone_says_it_and_keys_never_reach_the_events() {
    // -d 9 prints the traffic keys and secrets (INT: lines): never recognised, never copied.
    let log = read_str(
        "\
|<9>| INT: CLIENT WRITE KEY [32]: 6d28f7da77b110b04cd2e7cf9bc4deb8c67ff2925441b25bceb08b5f0890882b
|<9>| INT: SERVER WRITE IV [12]: b26921d84586239524c25c62
|<9>| INT: MASTER SECRET[48]: bcccae609adc3dd11394813a3d174b0000000000000000000000000000000000
|<9>| ENC[0x55d3c9190f30]: cipher: AES-256-GCM, MAC: AEAD, Epoch: 1
|<10>| READ: Got 5 bytes from 0x3
|<5>| REC[0x55d3c9190f30]: Decrypted Packet[0] Alert(21) with length: 2
|<5>| REC[0x55d3c9190f30]: Alert[2|116] - Certificate is required - was received
*** Fatal error: A TLS fatal alert has been received.
*** Received alert [116]: Certificate is required
*** Server has terminated the connection abnormally.
",
    );
    // The alert is recorded once, from the record layer's line, with its level.
    assert_eq!(kinds(&log), ["server:alert 116", "error -12"]);
    assert!(matches!(
        &log.events[0].what,
        LogWhat::Alert { level: Some(level), .. } if level == "fatal"
    ));
    let diagnosis = diagnose(&log);
    assert_eq!(diagnosis.causes[0].id, CauseId::ClientCertNotSent);
    assert!(diagnosis.causes[0].evidence[0].starts_with("line 7: "));
    let json = serde_json::to_string(&log).unwrap();
    for secret in [
        "6d28f7da77b1",
        "b26921d84586",
        "bcccae609adc",
        "INT:",
        "READ:",
    ] {
        assert!(!json.contains(secret), "{secret} in {json}");
    }
}

/// The server's chain as gnutls-cli lists it, then its verdict.
fn gnutls_status_log(chain: &[&str], status: &str) -> DebugLog {
    let mut text = format!(
        "- Got a certificate list of {} certificates.\n",
        chain.len()
    );
    for (i, subject) in chain.iter().enumerate() {
        text.push_str(&format!(
            "- Certificate[{i}] info:\n - subject `{subject}', issuer `CN=Somebody', serial 0x1100, EC/ECDSA key 256 bits\n"
        ));
    }
    text.push_str(&format!("- Status: {status} \n"));
    text.push_str("*** PKI verification of server certificate failed...\n");
    text.push_str("*** Fatal error: Error in the certificate.\n");
    text.push_str("|<5>| REC: Sending Alert[2|42] - Certificate is bad\n");
    read_str(&text)
}

#[test]
fn gnutls_verification_status_names_the_chain_s_fault() {
    let unknown = "The certificate is NOT trusted. The certificate issuer is unknown.";
    let wrong_ca = gnutls_status_log(&["CN=broker", "CN=Intermediate"], unknown);
    assert_eq!(
        kinds(&wrong_ca),
        ["verify 64", "error -43", "client:alert 42"]
    );
    let LogWhat::VerifyError {
        depth,
        subject,
        message,
        ..
    } = &wrong_ca.events[0].what
    else {
        panic!("{:?}", wrong_ca.events[0]);
    };
    // The issuer of the last certificate sent was not found: depth 1, a CA of the chain.
    assert_eq!(
        (*depth, subject.as_deref()),
        (Some(1), Some("CN=Intermediate"))
    );
    assert!(message.starts_with("GNUTLS_CERT_SIGNER_NOT_FOUND: "));
    assert_eq!(top(&wrong_ca), Some(CauseId::ServerCaUntrusted));

    // Only the leaf was sent: its issuer, the intermediate, is what is missing.
    let leaf_only = gnutls_status_log(&["CN=broker"], unknown);
    assert_eq!(top(&leaf_only), Some(CauseId::ServerChainIncomplete));

    let expired = gnutls_status_log(
        &["CN=broker", "CN=Intermediate"],
        "The certificate is NOT trusted. The certificate chain uses expired certificate.",
    );
    assert_eq!(kinds(&expired)[0], "verify 1024");
    assert_eq!(top(&expired), Some(CauseId::ServerCertExpired));

    let name = gnutls_status_log(
        &["CN=broker"],
        "The certificate is NOT trusted. The name in the certificate does not match the expected.",
    );
    assert_eq!(top(&name), Some(CauseId::ServerNameMismatch));

    // "NOT trusted" with no reason given (or one this version does not know).
    let bare = gnutls_status_log(&["CN=broker"], "The certificate is NOT trusted.");
    assert_eq!(kinds(&bare)[0], "verify 2");

    let trusted = read_str("- Status: The certificate is trusted. \n");
    assert!(trusted.events.is_empty());
}

#[test]
fn gnutls_warnings_and_unknown_texts() {
    let warning = read_str(
        "*** Non fatal error: A TLS warning alert has been received.\n*** Received alert [90]: User canceled\n",
    );
    assert_eq!(kinds(&warning), ["server:alert 90"]);
    assert!(matches!(
        &warning.events[0].what,
        LogWhat::Alert { level: Some(level), .. } if level == "warning"
    ));
    // An error text GnuTLS does not have is not its line.
    let unknown = read_str("*** Fatal error: the coffee machine is empty\n");
    assert!(unknown.events.is_empty());
    let perror = read_str("GnuTLS error: Error in the certificate.\n");
    assert_eq!(kinds(&perror), ["error -43"]);
}

#[test]
fn gnutls_server_log_speaks_of_the_client_as_its_peer() {
    let log = read_str(
        "\
|<4>| HSK[0x1]: CLIENT HELLO (1) was received. Length 200[200], frag offset 0, frag length: 200, sequence: 0
|<4>| HSK[0x1]: SERVER HELLO was queued [90 bytes]
|<4>| HSK[0x1]: CERTIFICATE REQUEST was queued [113 bytes]
|<4>| HSK[0x1]: CERTIFICATE (11) was received. Length 4[4], frag offset 0, frag length: 4, sequence: 0
|<5>| REC: Sending Alert[2|116] - Certificate is required
",
    );
    assert_eq!(log.side, Side::Server);
    assert_eq!(
        kinds(&log),
        [
            "client:ClientHello",
            "server:ServerHello",
            "server:CertificateRequest",
            "client:Certificate[0]",
            "server:alert 116",
        ]
    );
    assert_eq!(top(&log), Some(CauseId::ClientCertNotSent));
}

#[test]
fn gnutls_garbled_lines_never_panic() {
    let mut bytes = Vec::new();
    for line in GNUTLS_NO_CERT_TLS12.lines().chain([
        "|<",
        "|<4>|",
        "|<4>| ",
        "|<99999999999999999999>| HSK[0x1]: CLIENT HELLO was queued [1 bytes]",
        "|<4>| HSK[",
        "|<4>| HSK[0x1]",
        "|<4>| HSK[0x1]: ",
        "|<4>| HSK[0x1]: CERTIFICATE was queued [",
        "|<4>| HSK[0x1]: CERTIFICATE was queued [-7 bytes]",
        "|<4>| HSK[0x1]: CERTIFICATE was queued [99999999999999999999999 bytes]",
        "|<4>| HSK[0x1]:  (2) was received. Length ",
        "|<4>| HSK[0x1]: Server's version: ",
        "|<4>| EXT[0x1]: Negotiated version: 3.",
        "|<5>| REC: Sending Alert[",
        "|<5>| REC: Sending Alert[2|",
        "|<5>| REC: Sending Alert[2|999] - x",
        "|<5>| REC[0x1]: Alert[|] -  - was received",
        "|<4>| HSK[é]: CERTIFICATE was queued [7 bytes]",
        "|<4>| ÉHSK[0x1]: x",
        "*** ",
        "*** Received alert [",
        "*** Received alert [300]: x",
        "*** Received alert []: ",
        "*** Fatal error: ",
        "*** Non fatal error: ",
        "- ",
        "- Status: ",
        "- Status: The certificate issuer is unknown.",
        "- Successfully sent  certificate(s) to server.",
        "- Successfully sent -1 certificate(s) to server.",
        "- Got a certificate list of 99999999999999999999999 certificates.",
        "- Got a certificate list of 0 certificates.",
        "- Certificate[99999999999999999999] info:",
        "- Certificate[] info:",
        " - subject `",
        " - subject `', issuer `",
        "- Description: (",
        "- Version: ",
    ]) {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(&[0xff, b'|', b'<', 0x80, b'>', b'|', b'\n']);
    for cut in 0..bytes.len() {
        let log = read(&bytes[..cut], "cut").unwrap();
        let _ = diagnose(&log);
    }
    let alphabet =
        b"|<4>| HSK[0x]: CERTIFICATE was queued [7 bytes]*** Received alert (2)-Status\n";
    let mut rng = Rng(0x9e37_79b9);
    for _ in 0..300 {
        let noise: Vec<u8> = (0..256)
            .map(|_| alphabet[rng.index(alphabet.len())])
            .collect();
        let _ = diagnose(&read(&noise[..], "noise").unwrap());
    }
}
