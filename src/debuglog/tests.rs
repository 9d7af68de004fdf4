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
fn ordinary_text_is_not_a_log() {
    let log = read_str(
        "Hello world\nThe server returned 42 rows\nerror: something else\nsent: mail\nprocessing payroll\n",
    );
    assert!(log.events.is_empty(), "{:?}", kinds(&log));
    assert_eq!(log.lines, 5);
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
