//! Tests of `explain`: every query form, every alert, the notes against the tables, and the
//! tables against the headers installed on the machine.

use std::collections::HashMap;
use std::path::Path;

use super::*;
use crate::model::CauseId::*;

fn one(query: &str, stack: Option<Stack>) -> Reading {
    let readings = lookup(query, stack);
    assert!(!readings.is_empty(), "no reading for {query:?}");
    readings[0].clone()
}

fn names(readings: &[Reading]) -> Vec<(Stack, String)> {
    readings.iter().map(|r| (r.stack, r.name.clone())).collect()
}

fn has(readings: &[Reading], stack: Stack, name: &str) -> bool {
    readings.iter().any(|r| r.stack == stack && r.name == name)
}

#[test]
fn an_alert_number_is_the_alert_and_every_other_reading_of_it() {
    let readings = lookup("42", None);
    assert_eq!(readings[0].stack, Stack::Tls);
    assert_eq!(readings[0].name, "bad_certificate");
    assert_eq!(readings[0].code, "42");
    assert_eq!(
        readings[0].causes[..5],
        [
            ClientCertNotSent,
            ClientKeyMismatch,
            ClientCaUntrusted,
            ClientCertExpired,
            ClientCertUsage
        ]
    );
    assert!(
        readings[0]
            .sender
            .as_deref()
            .unwrap()
            .contains("From the server")
    );
    assert!(has(
        &readings,
        Stack::OpenSsl,
        "X509_V_ERR_INVALID_POLICY_EXTENSION"
    ));
    let stacks: Vec<Stack> = readings.iter().map(|r| r.stack).collect();
    assert!(stacks.len() >= 2, "{:?}", names(&readings));
}

#[test]
fn with_a_stack_only_its_readings_and_the_alert_remain() {
    let readings = lookup("42", Some(Stack::WolfSsl));
    assert!(
        readings
            .iter()
            .all(|r| matches!(r.stack, Stack::WolfSsl | Stack::Tls))
    );
    assert_eq!(readings[0].name, "bad_certificate");
    let readings = lookup("42", Some(Stack::OpenSsl));
    assert!(has(
        &readings,
        Stack::OpenSsl,
        "X509_V_ERR_INVALID_POLICY_EXTENSION"
    ));
    assert!(has(&readings, Stack::Tls, "bad_certificate"));
    assert!(lookup("-313", Some(Stack::MbedTls)).is_empty());
}

#[test]
fn wolfssl_313_is_a_received_fatal_alert_with_causes() {
    for query in ["-313", "313"] {
        let readings = lookup(query, Some(Stack::WolfSsl));
        assert_eq!(readings.len(), 1, "{query}");
        let r = &readings[0];
        assert_eq!(r.stack, Stack::WolfSsl);
        assert_eq!(r.code, "-313");
        assert_eq!(r.name, "FATAL_ERROR");
        assert_eq!(r.message.as_deref(), Some("received alert fatal error"));
        assert_eq!(r.causes[0], ClientCertNotSent);
        assert!(r.causes.len() >= 4);
        assert!(r.meaning.contains("alert number"));
        assert!(r.meaning.contains("wolfSSL_get_alert_history"));
        assert!(r.sender.is_some());
        assert!(r.next.contains("iotdoctor connect") && r.next.contains("iotdoctor analyze"));
    }
    // Without a stack, a positive number is read as a negative wolfSSL / GnuTLS code too.
    assert!(has(&lookup("313", None), Stack::WolfSsl, "FATAL_ERROR"));
}

#[test]
fn every_fatal_alert_received_error_points_to_the_alert_number() {
    for (query, stack, name) in [
        ("-313", Stack::WolfSsl, "FATAL_ERROR"),
        (
            "-0x7780",
            Stack::MbedTls,
            "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE",
        ),
        ("-12", Stack::GnuTls, "GNUTLS_E_FATAL_ALERT_RECEIVED"),
    ] {
        let readings = lookup(query, Some(stack));
        let r = readings.iter().find(|r| r.name == name).expect(query);
        assert!(r.meaning.contains("alert number"), "{query}: {}", r.meaning);
        assert!(
            r.next.contains("connect") && r.next.contains("analyze"),
            "{query}"
        );
        assert!(!r.causes.is_empty(), "{query}");
        assert!(r.sender.is_some(), "{query}");
    }
}

#[test]
fn wolfssl_codes_of_connection_failures_have_their_header_names_and_causes() {
    for (query, name, cause) in [
        ("-308", "SOCKET_ERROR_E", PeerClosed),
        ("-322", "DOMAIN_NAME_MISMATCH", ServerNameMismatch),
        ("-326", "VERSION_ERROR", NotTls),
        ("-329", "VERIFY_CERT_ERROR", ServerCaUntrusted),
        ("-188", "ASN_NO_SIGNER_E", ServerCaUntrusted),
        ("-150", "ASN_BEFORE_DATE_E", ServerCertExpired),
        ("-151", "ASN_AFTER_DATE_E", ServerCertExpired),
        ("-397", "SOCKET_PEER_CLOSED_E", MqttClosedAfterConnect),
    ] {
        let r = one(query, Some(Stack::WolfSsl));
        assert_eq!(r.name, name, "{query}");
        assert_eq!(r.causes[0], cause, "{query}");
    }
    // A memory error is no connection failure: no cause.
    assert!(one("-125", Some(Stack::WolfSsl)).causes.is_empty());
}

#[test]
fn mbedtls_codes_are_read_in_every_notation() {
    for query in ["-0x7780", "0x7780", "-0X7780", "-30592"] {
        let readings = lookup(query, None);
        assert!(
            has(
                &readings,
                Stack::MbedTls,
                "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE"
            ),
            "{query}: {:?}",
            names(&readings)
        );
        let r = readings.iter().find(|r| r.stack == Stack::MbedTls).unwrap();
        assert_eq!(r.code, "-0x7780");
        assert_eq!(
            r.message.as_deref(),
            Some("SSL - A fatal alert message was received from our peer")
        );
    }
    let r = one("-0x2700", None);
    assert_eq!(r.name, "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED");
    assert_eq!(r.causes[..2], [ServerCaUntrusted, ServerChainIncomplete]);
    assert_eq!(one("-0x7200", None).causes, [NotTls]);
    assert_eq!(one("-0x7280", None).causes[0], PeerClosed);
    assert_eq!(one("-0x7300", None).name, "MBEDTLS_ERR_SSL_UNKNOWN_CIPHER");
    // 2.28: -0x7580 is CERTIFICATE_REQUIRED (3.x renumbered the SSL errors).
    assert_eq!(
        one("-0x7580", None).name,
        "MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED"
    );
}

#[test]
fn a_combined_mbedtls_code_is_split_as_mbedtls_strerror_does() {
    let r = one("-0x2762", Some(Stack::MbedTls));
    assert_eq!(
        r.name,
        "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED + MBEDTLS_ERR_ASN1_UNEXPECTED_TAG"
    );
    assert_eq!(r.code, "-0x2762");
    // The text mbedtls_strerror(-0x2762) prints.
    assert_eq!(
        r.message.as_deref(),
        Some(
            "X509 - Certificate verification failed, e.g. CRL, CA or signature check failed : ASN1 - ASN1 tag was of an unexpected value"
        )
    );
    assert_eq!(r.causes[0], ServerCaUntrusted);
}

#[test]
fn openssl_verify_errors_are_read_by_number_name_and_message() {
    let readings = lookup("20", Some(Stack::OpenSsl));
    // The alert 20 first, then the verification result 20.
    assert_eq!(readings[0].name, "bad_record_mac");
    let r = readings[1].clone();
    assert_eq!(r.name, "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
    assert_eq!(r.causes[..2], [ServerChainIncomplete, ServerCaUntrusted]);
    assert_eq!(
        r.message.as_deref(),
        Some("unable to get local issuer certificate")
    );
    for (code, name) in [
        ("2", "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT"),
        ("9", "X509_V_ERR_CERT_NOT_YET_VALID"),
        ("10", "X509_V_ERR_CERT_HAS_EXPIRED"),
        ("18", "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT"),
        ("19", "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN"),
        ("21", "X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
        ("62", "X509_V_ERR_HOSTNAME_MISMATCH"),
    ] {
        let readings = lookup(code, Some(Stack::OpenSsl));
        let r = readings.iter().find(|r| r.stack == Stack::OpenSsl).unwrap();
        assert_eq!(r.name, name);
        assert!(!r.causes.is_empty(), "{code}");
    }
    let r = one("X509_V_ERR_CERT_HAS_EXPIRED", None);
    assert_eq!(r.code, "10");
    assert_eq!(r.causes[0], ServerCertExpired);
    let r = one("unable to get local issuer certificate", None);
    assert_eq!(r.name, "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
    let r = one("verify error:num=62:hostname mismatch", None);
    assert_eq!(r.name, "X509_V_ERR_HOSTNAME_MISMATCH");
}

#[test]
fn names_are_read_in_any_case_with_or_without_their_prefix() {
    for query in [
        "bad_certificate",
        "BAD_CERTIFICATE",
        "bad certificate",
        "SSL_AD_BAD_CERTIFICATE",
        "GNUTLS_A_BAD_CERTIFICATE",
    ] {
        let r = one(query, None);
        assert_eq!((r.stack, r.code.as_str()), (Stack::Tls, "42"), "{query}");
    }
    let r = one("MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE", None);
    assert_eq!((r.stack, r.code.as_str()), (Stack::MbedTls, "-0x7780"));
    let r = one("mbedtls_err_ssl_fatal_alert_message", None);
    assert_eq!(r.name, "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE");
    let r = one("GNUTLS_E_FATAL_ALERT_RECEIVED", None);
    assert_eq!((r.stack, r.code.as_str()), (Stack::GnuTls, "-12"));
    let r = one("CERT_HAS_EXPIRED", None);
    assert_eq!(r.name, "X509_V_ERR_CERT_HAS_EXPIRED");
    // An exact name wins over a prefix-less one: FATAL_ERROR is -313, not WOLFSSL_FATAL_ERROR.
    let readings = lookup("FATAL_ERROR", None);
    assert_eq!(
        names(&readings),
        [(Stack::WolfSsl, "FATAL_ERROR".to_string())]
    );
    // A header alias.
    assert_eq!(one("GNUTLS_E_X509_CERTIFICATE_ERROR", None).code, "-43");
    assert_eq!(one("MBEDTLS_X509_BADCERT_NOT_TRUSTED", None).code, "0x08");
}

#[test]
fn openssl_alert_reasons_are_the_alert_received() {
    let readings = lookup("sslv3 alert bad certificate", None);
    assert_eq!(readings[0].stack, Stack::OpenSsl);
    assert_eq!(readings[0].name, "SSL_R_SSLV3_ALERT_BAD_CERTIFICATE");
    assert_eq!(readings[0].code, "0A000412");
    assert_eq!(readings[0].causes[0], ClientCertNotSent);
    assert!(readings[0].meaning.contains("received alert 42"));
    assert!(has(&readings, Stack::Tls, "bad_certificate"));

    let line = "40E7A0B1E37F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../ssl/record/rec_layer_s3.c:1605:SSL alert number 116";
    for query in [
        line,
        "SSL routines:ssl3_read_bytes:tlsv13 alert certificate required",
        "TLSV13 ALERT CERTIFICATE REQUIRED",
    ] {
        let readings = lookup(query, None);
        assert_eq!(
            readings[0].name, "SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED",
            "{query}"
        );
        assert_eq!(readings[0].causes, [ClientCertNotSent]);
        assert!(
            has(&readings, Stack::Tls, "certificate_required"),
            "{query}"
        );
    }
    let readings = lookup("tlsv1 alert unknown ca", None);
    assert_eq!(readings[0].name, "SSL_R_TLSV1_ALERT_UNKNOWN_CA");
    let r = readings.iter().find(|r| r.stack == Stack::Tls).unwrap();
    assert_eq!(r.name, "unknown_ca");
    // Both senders: the client certificate's CA when the server sent it, the server's when the
    // client did.
    for cause in [
        ClientCaUntrusted,
        ClientChainIncomplete,
        ServerCaUntrusted,
        ServerChainIncomplete,
    ] {
        assert!(r.causes.contains(&cause));
    }
    assert!(r.sender.as_deref().unwrap().contains("From the client"));
}

#[test]
fn openssl_error_codes_are_read_in_both_packings() {
    // OpenSSL 3: library 20 (ssl) << 23 | reason 134.
    let r = one(
        "error:0A000086:SSL routines::certificate verify failed",
        None,
    );
    assert_eq!(r.name, "SSL_R_CERTIFICATE_VERIFY_FAILED");
    assert_eq!(
        one("0x0A000086", None).name,
        "SSL_R_CERTIFICATE_VERIFY_FAILED"
    );
    // OpenSSL 1.1: library 20 << 24 | function << 12 | reason.
    let readings = lookup("error:14094412", None);
    assert_eq!(readings[0].name, "SSL_R_SSLV3_ALERT_BAD_CERTIFICATE");
    let r = one("error:05800074:x509 certificate routines", None);
    assert_eq!(r.name, "X509_R_KEY_VALUES_MISMATCH");
    assert_eq!(r.causes, [ClientKeyMismatch]);
}

#[test]
fn an_openssl_1_1_packed_code_of_decimal_digits_is_read_as_hex() {
    // As printed in `error:14094412:SSL routines:...`, without the rest of the line.
    for (query, reason, alert) in [
        (
            "14094412",
            "SSL_R_SSLV3_ALERT_BAD_CERTIFICATE",
            "bad_certificate",
        ),
        (
            "14094410",
            "SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE",
            "handshake_failure",
        ),
    ] {
        let readings = lookup(query, None);
        assert_eq!(readings[0].stack, Stack::OpenSsl, "{query}");
        assert_eq!(readings[0].name, reason, "{query}");
        assert!(has(&readings, Stack::Tls, alert), "{query}");
        assert_eq!(
            names(&lookup(query, Some(Stack::OpenSsl))),
            names(&readings)
        );
        assert!(lookup(query, Some(Stack::WolfSsl)).is_empty(), "{query}");
    }
    let r = one("14094412", None);
    assert!(r.meaning.contains("received alert 42"), "{}", r.meaning);
    // Eight digits that are also a decimal code of another table keep that reading too:
    // `00000042` is alert 42 in decimal (as hex, 0x42 packs no known OpenSSL reason).
    assert!(has(
        &lookup("00000042", None),
        Stack::Tls,
        "bad_certificate"
    ));
    // Other lengths are decimal only.
    assert!(lookup("4094412", None).is_empty());
    assert!(lookup("140944120", None).is_empty());
}

#[test]
fn common_openssl_reasons_have_causes() {
    for (query, name, cause) in [
        ("wrong version number", "SSL_R_WRONG_VERSION_NUMBER", NotTls),
        (
            "certificate verify failed",
            "SSL_R_CERTIFICATE_VERIFY_FAILED",
            ServerCaUntrusted,
        ),
        ("no shared cipher", "SSL_R_NO_SHARED_CIPHER", NoCommonCipher),
        (
            "peer did not return a certificate",
            "SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE",
            ClientCertNotSent,
        ),
        (
            "unsupported protocol",
            "SSL_R_UNSUPPORTED_PROTOCOL",
            ProtocolVersionMismatch,
        ),
        (
            "packet length too long",
            "SSL_R_PACKET_LENGTH_TOO_LONG",
            NotTls,
        ),
        (
            "unexpected eof while reading",
            "SSL_R_UNEXPECTED_EOF_WHILE_READING",
            PeerClosed,
        ),
    ] {
        let readings = lookup(query, Some(Stack::OpenSsl));
        assert_eq!(readings[0].name, name, "{query}");
        assert_eq!(readings[0].causes[0], cause, "{query}");
    }
    // wolfSSL prints OpenSSL's text for -188 in OPENSSL_EXTRA builds, -345 always.
    assert!(has(
        &lookup("certificate verify failed", None),
        Stack::WolfSsl,
        "ASN_NO_SIGNER_E"
    ));
    assert!(has(
        &lookup("peer did not return a certificate", None),
        Stack::WolfSsl,
        "NO_PEER_CERT"
    ));
}

#[test]
fn gnutls_messages_are_read_from_a_log() {
    let r = one(
        "*** Fatal error: The TLS connection was non-properly terminated.",
        None,
    );
    assert_eq!((r.stack, r.code.as_str()), (Stack::GnuTls, "-110"));
    assert_eq!(r.name, "GNUTLS_E_PREMATURE_TERMINATION");
    assert_eq!(r.causes[0], PeerClosed);
    let r = one("Error in the pull function.", None);
    assert_eq!(r.name, "GNUTLS_E_PULL_ERROR");
    let r = one("A TLS fatal alert has been received.", None);
    assert_eq!(r.name, "GNUTLS_E_FATAL_ALERT_RECEIVED");
    let readings = lookup(
        "*** Fatal error: A TLS fatal alert has been received.\n*** Received alert [48]: CA is unknown",
        None,
    );
    assert!(has(
        &readings,
        Stack::GnuTls,
        "GNUTLS_E_FATAL_ALERT_RECEIVED"
    ));
    assert!(
        has(&readings, Stack::Tls, "unknown_ca"),
        "{:?}",
        names(&readings)
    );
    let readings = lookup(
        "- Status: The certificate is NOT trusted. The certificate issuer is unknown.",
        None,
    );
    assert_eq!(readings[0].name, "GNUTLS_CERT_SIGNER_NOT_FOUND");
    assert_eq!(readings[0].causes[0], ServerCaUntrusted);
    assert_eq!(
        one("-348", Some(Stack::GnuTls)).causes[0],
        ServerCaUntrusted
    );
}

#[test]
fn log_lines_of_wolfssl_and_mbedtls_are_read() {
    let readings = lookup(
        "wolfSSL_connect error -188, ASN no signer error to confirm failure",
        None,
    );
    assert_eq!(
        names(&readings),
        [(Stack::WolfSsl, "ASN_NO_SIGNER_E".to_string())]
    );
    let readings = lookup(
        "E (1234) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x7780",
        None,
    );
    assert_eq!(
        names(&readings),
        [(
            Stack::MbedTls,
            "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE".to_string()
        )]
    );
    // mbedTLS's debug log gives the alert: "got an alert message, type: [2:48]".
    let readings = lookup("ssl_msg.c:4823: got an alert message, type: [2:48]", None);
    assert!(
        has(&readings, Stack::Tls, "unknown_ca"),
        "{:?}",
        names(&readings)
    );
    let readings = lookup("send alert level=2 message=42", None);
    assert_eq!(readings[0].name, "bad_certificate");
    let readings = lookup(
        "mbedtls verify flags: ! The certificate is not correctly signed by the trusted CA",
        None,
    );
    assert_eq!(readings[0].name, "MBEDTLS_X509_BADCERT_NOT_TRUSTED");
    let readings = lookup("alert 116", None);
    assert_eq!(readings[0].name, "certificate_required");
}

#[test]
fn every_alert_resolves_by_number_and_name() {
    for code in 0..=u8::MAX {
        let Some(name) = alert_name(code) else {
            continue;
        };
        let r = one(&code.to_string(), Some(Stack::Tls));
        assert_eq!((r.stack, r.name.as_str()), (Stack::Tls, name));
        assert!(r.sender.is_some(), "{code}");
        assert_ne!(
            r.meaning, "A TLS alert iotdoctor has no notes on.",
            "{code}"
        );
        let by_name = one(name, None);
        assert_eq!(by_name.code, code.to_string());
    }
    assert_eq!(one("116", None).causes, [ClientCertNotSent]);
    assert_eq!(one("120", None).causes, [AlpnMismatch]);
    assert_eq!(one("112", None).causes, [SniRequired]);
    assert_eq!(one("70", None).causes[0], ProtocolVersionMismatch);
    let r = one("48", None);
    assert_eq!(
        r.causes,
        [
            ClientCaUntrusted,
            ClientChainIncomplete,
            ServerCaUntrusted,
            ServerChainIncomplete
        ]
    );
}

#[test]
fn every_alert_has_one_note_and_every_note_an_alert() {
    for note in notes::ALERTS {
        assert!(
            alert_name(note.code).is_some(),
            "note for unknown alert {}",
            note.code
        );
        assert_eq!(
            notes::ALERTS.iter().filter(|n| n.code == note.code).count(),
            1,
            "{}",
            note.code
        );
    }
    for code in 0..=u8::MAX {
        if alert_name(code).is_some() {
            assert!(alert_note(code).is_some(), "alert {code} has no note");
        }
    }
}

#[test]
fn every_note_names_a_code_of_its_stack_once() {
    let flag_names = |flags: &[tables::Flag]| flags.iter().map(|f| f.name).collect::<Vec<_>>();
    let entry_names =
        |entries: &[tables::Entry]| entries.iter().map(|e| e.name).collect::<Vec<_>>();
    let mut mbed = entry_names(tables::MBEDTLS);
    mbed.extend(entry_names(tables::MBEDTLS3_SSL));
    mbed.extend(flag_names(tables::MBEDTLS_VERIFY_FLAGS));
    let mut gnu = entry_names(tables::GNUTLS);
    gnu.extend(flag_names(tables::GNUTLS_VERIFY_STATUS));
    let mut reasons = entry_names(tables::OPENSSL_REASONS);
    reasons.extend(tables::OPENSSL_OTHER.iter().map(|(_, e)| e.name));
    for (notes, known) in [
        (notes::WOLFSSL, entry_names(tables::WOLFSSL)),
        (notes::MBEDTLS, mbed),
        (notes::OPENSSL_VERIFY, entry_names(tables::OPENSSL_VERIFY)),
        (notes::OPENSSL_REASONS, reasons),
        (
            notes::OPENSSL_SSL_GET_ERROR,
            entry_names(tables::OPENSSL_SSL_GET_ERROR),
        ),
        (notes::MQTT, entry_names(tables::MQTT)),
        (notes::GNUTLS, gnu),
    ] {
        for note in notes {
            assert!(
                known.contains(&note.name),
                "note for unknown code {}",
                note.name
            );
            assert_eq!(
                notes.iter().filter(|n| n.name == note.name).count(),
                1,
                "{}",
                note.name
            );
            let mut causes = note.causes.to_vec();
            causes.dedup();
            assert_eq!(causes.len(), note.causes.len(), "{}", note.name);
        }
    }
}

#[test]
fn tables_have_no_duplicate_names() {
    for table in [
        tables::WOLFSSL,
        tables::MBEDTLS,
        tables::OPENSSL_VERIFY,
        tables::OPENSSL_REASONS,
        tables::GNUTLS,
    ] {
        let mut seen = std::collections::HashSet::new();
        for entry in table {
            assert!(seen.insert(entry.name), "{} twice", entry.name);
        }
    }
}

#[test]
fn unknown_input_gives_nothing() {
    for query in [
        "",
        "   ",
        "hello",
        "77777",
        "-77777",
        "0xFFFFFFFFF",
        "ZZZ_NOT_A_CODE",
        "-0x0",
        "-",
    ] {
        assert!(
            lookup(query, None).is_empty(),
            "{query:?}: {:?}",
            names(&lookup(query, None))
        );
    }
}

#[test]
fn no_input_makes_it_panic() {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: Vec<char> =
        "0123456789abcdefxX-+:=[]() .,_ alertéß€\u{0}\u{10FFFF}ALERT0x-0xerror:"
            .chars()
            .collect();
    for _ in 0..3000 {
        let len = (next() % 40) as usize;
        let query: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        for stack in [None, Some(Stack::WolfSsl), Some(Stack::Tls)] {
            let _ = lookup(&query, stack);
        }
    }
    for query in [
        "-0x",
        "0x",
        "--1",
        "99999999999999999999999999",
        "-99999999999999999999",
        "0xFFFFFFFFFFFFFFFF",
        "-0xFFFFFFFFFFFFFFFF",
        "alert",
        "alert [",
        "alert [2:",
        "alert level=",
        "error:",
        "error:FFFFFFFF",
        "verify error:num=",
        "verify return code: 99999999999999999999999",
        "é alert 42 é",
        "\u{0}",
    ] {
        let _ = lookup(query, None);
    }
}

#[test]
fn stacks_parse_display_and_serialise() {
    for stack in Stack::ALL {
        assert_eq!(stack.id().parse::<Stack>(), Ok(stack));
        assert_eq!(stack.to_string().parse::<Stack>(), Ok(stack));
        assert_eq!(serde_json::to_value(stack).unwrap(), stack.id());
    }
    assert_eq!("wolfSSL".parse(), Ok(Stack::WolfSsl));
    assert_eq!("MbedTLS".parse(), Ok(Stack::MbedTls));
    assert!("boringssl".parse::<Stack>().is_err());
    let json = serde_json::to_value(one("-313", Some(Stack::WolfSsl))).unwrap();
    assert_eq!(json["stack"], "wolfssl");
    assert_eq!(json["causes"][0]["id"], "client-cert-not-sent");
    assert!(
        json["causes"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("certificate")
    );
    assert_eq!(json["code"], "-313");
}

// ---------------------------------------------------------------------------------------------
// The tables against the installed headers.

/// The integer constants a C header defines: `#define NAME VALUE` and enum members (explicit or
/// counted), with aliases (`#define A B`) resolved.
fn c_constants(text: &str) -> HashMap<String, i64> {
    let text = strip_comments(text);
    let mut values: HashMap<String, i64> = HashMap::new();
    let mut aliases: Vec<(String, String)> = Vec::new();
    let mut in_enum = false;
    let mut enum_pending = false;
    let mut counter: i64 = -1;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix('#') {
            let rest = rest.trim_start();
            if let Some(def) = rest.strip_prefix("define") {
                let mut parts = def.split_whitespace();
                if let (Some(name), Some(_)) = (parts.next(), def.split_whitespace().nth(1)) {
                    let value: String = def.trim_start()[name.len()..].trim().to_string();
                    match c_value(&value) {
                        Some(v) => {
                            values.insert(name.to_string(), v);
                        }
                        None if is_identifier(&value) => aliases.push((name.to_string(), value)),
                        None => {}
                    }
                }
            }
            continue;
        }
        if line.contains("enum") {
            enum_pending = true;
        }
        if enum_pending && line.contains('{') {
            in_enum = true;
            enum_pending = false;
            counter = -1;
        }
        if !in_enum {
            continue;
        }
        let body = line.split('{').next_back().unwrap_or(line);
        let body = body.split('}').next().unwrap_or(body);
        for item in body.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (name, value) = match item.split_once('=') {
                Some((name, value)) => (name.trim(), c_value(value.trim())),
                None => (item, Some(counter + 1)),
            };
            if !is_identifier(name) {
                continue;
            }
            if let Some(v) = value {
                counter = v;
                values.insert(name.to_string(), v);
            }
        }
        if line.contains('}') {
            in_enum = false;
        }
    }
    for _ in 0..4 {
        for (name, target) in &aliases {
            if let Some(v) = values.get(target).copied() {
                values.entry(name.clone()).or_insert(v);
            }
        }
    }
    values
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        match rest[start..].find("*/") {
            Some(end) => {
                // Keep the line structure.
                out.extend(rest[start..start + end].chars().filter(|c| *c == '\n'));
                rest = &rest[start + end + 2..];
            }
            None => rest = "",
        }
    }
    out.push_str(rest);
    out.lines()
        .map(|line| line.split("//").next().unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// `-0x7780`, `42`, `(-0x0020)`, `1 << 6`, `MBEDTLS_DEPRECATED_NUMERIC_CONSTANT(-0x005C)`.
fn c_value(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text
        .strip_prefix("MBEDTLS_DEPRECATED_NUMERIC_CONSTANT")
        .unwrap_or(text)
        .trim();
    let text = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text)
        .trim();
    if let Some((a, b)) = text.split_once("<<") {
        return Some(c_value(a)? << c_value(b)?);
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d.trim()),
        None => (false, text),
    };
    let digits = digits.trim_end_matches(['u', 'U', 'l', 'L']);
    let value = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<i64>().ok()?,
    };
    Some(if negative { -value } else { value })
}

/// The constants of the given headers. A header that cannot be read fails the test (tests/run
/// installs them all), unless IOTDOCTOR_SKIP_HEADERS=1 says to skip its stack: then None.
fn header_constants(paths: &[&str]) -> Option<HashMap<String, i64>> {
    let mut all = HashMap::new();
    for path in paths {
        match std::fs::read_to_string(path) {
            Ok(text) => all.extend(c_constants(&text)),
            Err(error) => {
                missing_header(path, &error);
                return None;
            }
        }
    }
    Some(all)
}

/// Fails the test for a header it cannot read, or with IOTDOCTOR_SKIP_HEADERS=1 says which
/// stack goes unchecked.
fn missing_header(path: &str, error: &std::io::Error) {
    if std::env::var_os("IOTDOCTOR_SKIP_HEADERS").is_some_and(|v| v == "1") {
        eprintln!("note: {path}: {error}; its codes were not checked (IOTDOCTOR_SKIP_HEADERS=1)");
        return;
    }
    panic!(
        "{path}: {error}: the tables are checked against the installed headers; tests/run \
         installs them (libwolfssl-dev, libmbedtls-dev, libssl-dev, libgnutls28-dev, \
         libmosquitto-dev), or IOTDOCTOR_SKIP_HEADERS=1 skips what is missing"
    );
}

fn check_entries(stack: &str, entries: &[tables::Entry], header: &HashMap<String, i64>) {
    for entry in entries {
        for name in std::iter::once(&entry.name).chain(entry.alt_names) {
            assert_eq!(
                header.get(*name),
                Some(&entry.code),
                "{stack}: {name} is {} in the table, {:?} in the header",
                entry.code,
                header.get(*name)
            );
        }
    }
}

fn check_flags(stack: &str, flags: &[tables::Flag], header: &HashMap<String, i64>) {
    for flag in flags {
        assert_eq!(
            header.get(flag.name),
            Some(&i64::from(flag.bit)),
            "{stack}: {} is {} in the table",
            flag.name,
            flag.bit
        );
        assert_eq!(
            c_value(flag.literal),
            Some(i64::from(flag.bit)),
            "{}",
            flag.name
        );
    }
}

#[test]
fn the_header_parser_reads_defines_enums_and_aliases() {
    let header = "#define A_E -0x7780 /* doc */\n#define B_E MBEDTLS_DEPRECATED_NUMERIC_CONSTANT(-0x005C)\n\
        #  define C 42\n#define D C\nenum {\n    E_ONE = -301,   /* x */\n    E_TWO,\n\n    E_SIX = 1 << 6,\n};\n\
        typedef enum { F_ZERO, F_TEN = 10, F_ELEVEN } f_t;\n";
    let values = c_constants(header);
    assert_eq!(values["A_E"], -0x7780);
    assert_eq!(values["B_E"], -0x5C);
    assert_eq!(values["D"], 42);
    assert_eq!(values["E_ONE"], -301);
    assert_eq!(values["E_TWO"], -300);
    assert_eq!(values["E_SIX"], 64);
    assert_eq!(values["F_ZERO"], 0);
    assert_eq!(values["F_ELEVEN"], 11);
}

#[test]
fn tables_agree_with_the_installed_headers() {
    if let Some(header) = header_constants(&[
        "/usr/include/wolfssl/error-ssl.h",
        "/usr/include/wolfssl/wolfcrypt/error-crypt.h",
        "/usr/include/wolfssl/ssl.h",
    ]) {
        check_entries("wolfSSL", tables::WOLFSSL, &header);
    }

    let mbedtls_dir = Path::new("/usr/include/mbedtls");
    match std::fs::read_dir(mbedtls_dir) {
        Ok(dir) => {
            let mut header = HashMap::new();
            for file in dir.flatten() {
                if file.path().extension().is_some_and(|e| e == "h") {
                    let text = std::fs::read_to_string(file.path()).unwrap_or_default();
                    header.extend(c_constants(&text));
                }
            }
            check_entries("mbedTLS", tables::MBEDTLS, &header);
            check_flags("mbedTLS", tables::MBEDTLS_VERIFY_FLAGS, &header);
        }
        Err(error) => missing_header("/usr/include/mbedtls", &error),
    }

    if let Some(header) = header_constants(&[
        "/usr/include/openssl/x509_vfy.h",
        "/usr/include/openssl/sslerr.h",
        "/usr/include/openssl/x509err.h",
        "/usr/include/openssl/pemerr.h",
        "/usr/include/openssl/err.h",
        "/usr/include/openssl/ssl.h",
    ]) {
        check_entries("OpenSSL", tables::OPENSSL_VERIFY, &header);
        check_entries("OpenSSL", tables::OPENSSL_SSL_GET_ERROR, &header);
        check_entries("OpenSSL", tables::OPENSSL_REASONS, &header);
        for (lib, entry) in tables::OPENSSL_OTHER {
            check_entries("OpenSSL", std::slice::from_ref(entry), &header);
            let lib_name = if entry.name.starts_with("X509_R_") {
                "ERR_LIB_X509"
            } else {
                "ERR_LIB_PEM"
            };
            assert_eq!(header.get(lib_name), Some(&i64::from(*lib)), "{lib_name}");
        }
        assert_eq!(header.get("ERR_LIB_SSL"), Some(&i64::from(ERR_LIB_SSL)));
        assert_eq!(
            header.get("SSL_AD_REASON_OFFSET"),
            Some(&SSL_AD_REASON_OFFSET)
        );
    }

    if let Some(header) = header_constants(&["/usr/include/mqtt_protocol.h"]) {
        check_entries("mosquitto", tables::MQTT, &header);
    }

    if let Some(header) = header_constants(&["/usr/include/gnutls/gnutls.h"]) {
        check_entries("GnuTLS", tables::GNUTLS, &header);
        check_flags("GnuTLS", tables::GNUTLS_VERIFY_STATUS, &header);
        for (code, strname, _) in tables::GNUTLS_ALERTS {
            assert_eq!(header.get(*strname), Some(&i64::from(*code)), "{strname}");
            // GnuTLS and the TLS alert table agree on the numbers.
            assert!(
                alert_name(*code).is_some(),
                "GnuTLS alert {code} unknown to model/codes.rs"
            );
        }
    }
}

#[test]
fn mbedtls_codes_that_3x_renumbered_give_both_readings() {
    let readings = lookup("-0x7580", None);
    let names: Vec<(&str, Option<&str>)> = readings
        .iter()
        .map(|r| (r.name.as_str(), r.versions))
        .collect();
    assert_eq!(
        names,
        [
            ("MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED", Some("2.x")),
            ("MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL", Some("3.x")),
        ]
    );
    assert_eq!(readings[1].causes, [AlpnMismatch]);
    // A code 3.x did not change has one reading, with no version.
    let fatal = lookup("-0x7780", Some(Stack::MbedTls));
    assert_eq!(fatal[0].versions, None);
    // 3.x names are found by name too.
    assert_eq!(one("MBEDTLS_ERR_SSL_BAD_CERTIFICATE", None).code, "-0x7A00");
}

#[test]
fn ssl_get_error_results_are_found_by_name_not_by_number() {
    let r = one("SSL_ERROR_SYSCALL", None);
    assert_eq!((r.stack, r.code.as_str()), (Stack::OpenSsl, "5"));
    assert_eq!(r.causes[0], PeerClosed);
    assert_eq!(
        one("ssl_error_zero_return", None).causes,
        [MqttClosedAfterConnect]
    );
    assert!(
        lookup("5", None)
            .iter()
            .all(|r| !r.name.starts_with("SSL_ERROR_"))
    );
}

#[test]
fn mqtt_refusals_are_read_by_name_and_text_and_by_number_only_when_asked() {
    let r = one("Connection Refused: not authorised.", None);
    assert_eq!(
        (r.stack, r.code.as_str(), r.versions),
        (Stack::Mqtt, "5", Some("3.1.1"))
    );
    assert_eq!(r.causes, [MqttRejected]);
    assert_eq!(one("MQTT_RC_CLIENTID_NOT_VALID", None).code, "0x85");
    assert_eq!(
        one("session taken over", None).name,
        "MQTT_RC_SESSION_TAKEN_OVER"
    );
    assert_eq!(
        lookup("0x87", Some(Stack::Mqtt))[0].name,
        "MQTT_RC_NOT_AUTHORIZED"
    );
    assert_eq!(
        lookup("2", Some(Stack::Mqtt))[0].name,
        "CONNACK_REFUSED_IDENTIFIER_REJECTED"
    );
    // Small numbers are alerts and error codes first: no MQTT reading unless asked.
    for n in ["1", "2", "5", "135"] {
        assert!(
            lookup(n, None).iter().all(|r| r.stack != Stack::Mqtt),
            "{n}"
        );
    }
}

#[test]
fn mqtt_texts_agree_with_what_connect_and_serve_print() {
    // The 3.1.1 entries carry the specification's words, which the transcript's CONNACK names
    // use; the 5 entries libmosquitto's, which are the specification's too.
    // Keep-alive timeout, session taken over, administrative action: DISCONNECT only.
    const DISCONNECT_ONLY: [i64; 3] = [0x8D, 0x8E, 0x98];
    for entry in tables::MQTT
        .iter()
        .filter(|e| !DISCONNECT_ONLY.contains(&e.code))
    {
        let code = u8::try_from(entry.code).unwrap();
        let (level, text) = if code < 0x80 {
            (4, entry.alt_messages[0])
        } else {
            (5, entry.message)
        };
        assert_eq!(
            crate::decode::mqtt::connack_name(level, code).to_ascii_lowercase(),
            text.to_ascii_lowercase(),
            "{}",
            entry.name
        );
    }
}

#[test]
fn gnutls_texts_are_named_exactly() {
    assert_eq!(
        gnutls_error_code("A TLS fatal alert has been received."),
        Some(-12)
    );
    assert_eq!(gnutls_error_code(" Error in the certificate. "), Some(-43));
    // Only the whole text: a part of it, or another stack's, is not a GnuTLS error.
    assert_eq!(gnutls_error_code("A TLS fatal alert"), None);
    assert_eq!(gnutls_error_code("certificate verify failed"), None);

    let statuses =
        gnutls_statuses("The certificate is NOT trusted. The certificate issuer is unknown.");
    let names: Vec<&str> = statuses.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        ["GNUTLS_CERT_INVALID", "GNUTLS_CERT_SIGNER_NOT_FOUND"]
    );
    assert_eq!(statuses[1].bit, 64);
    assert_eq!(gnutls_status(64), Some(statuses[1]));
    assert_eq!(gnutls_status(3), None);
    assert!(gnutls_statuses("The certificate is trusted.").is_empty());
}

#[test]
fn err_get_error_printed_in_decimal_is_an_openssl_packed_code() {
    // 336151570 = 0x14094412, as `printf("%lu", ERR_get_error())` prints it.
    let readings = lookup("336151570", None);
    assert_eq!(readings[0].stack, Stack::OpenSsl);
    assert_eq!(readings[0].name, "SSL_R_SSLV3_ALERT_BAD_CERTIFICATE");
    // Small numbers stay what they were.
    assert!(
        lookup("42", Some(Stack::OpenSsl))
            .iter()
            .all(|r| r.name != "SSL_R_SSLV3_ALERT_BAD_CERTIFICATE")
    );
}

#[test]
fn a_generic_handshake_failed_is_no_alert_unless_the_line_says_alert() {
    // "handshake failed" is GnuTLS's text for alert 40, and every stack's word for any failed
    // handshake: only a line that speaks of an alert is read as one.
    for query in [
        "handshake failed",
        "ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED",
        "mbedtls_ssl_handshake failed",
    ] {
        assert!(
            !has(&lookup(query, None), Stack::Tls, "handshake_failure"),
            "{query}: {:?}",
            names(&lookup(query, None))
        );
    }
    for query in [
        "*** Received alert [40]: Handshake failed",
        "handshake failure",
        "handshake_failure",
    ] {
        assert!(
            has(&lookup(query, None), Stack::Tls, "handshake_failure"),
            "{query}: {:?}",
            names(&lookup(query, None))
        );
    }
}
