//! `connect` offering what a device offers: --ciphers, --groups and --sigalgs, --like with a
//! capture of a device's ClientHello or a preset of a TLS stack's defaults, against real
//! `openssl s_server` peers on loopback.

use crate::common::*;
use serde_json::Value;

/// Every suite name `openssl ciphers` knows is read as the suite of the same code.
#[test]
fn every_openssl_cipher_name_is_understood() {
    let out = std::process::Command::new("openssl")
        .args(["ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
        .output()
        .expect("openssl is installed");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(code), Some(_), Some(name)) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let hex = code.replace("0x", "").replace(',', "");
        let code = u16::from_str_radix(&hex, 16).unwrap();
        let parsed = iotdoctor::produce::offer::parse_suites(name);
        if parsed != Ok(vec![code]) {
            wrong.push(format!("{name} 0x{code:04x}: {parsed:?}"));
        }
        checked += 1;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked > 50, "openssl listed {checked} suites");
}

/// The codes of one list of the client's ClientHello in a report.
fn offered(report: &Value, list: &str) -> Vec<u64> {
    let hello = events_of(report, "client", "handshake")
        .into_iter()
        .find(|e| e["message"] == "client_hello")
        .unwrap_or_else(|| panic!("no ClientHello: {report:#}"));
    hello[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list}: {hello:#}"))
        .iter()
        .map(|n| n["code"].as_u64().unwrap())
        .collect()
}

/// `connect` to `server` trusting the test root, with SNI localhost and `extra`.
fn connect(server: &OpenSslServer, extra: &[&str]) -> (i32, Value) {
    let root = pki("root-ca.pem");
    let mut all = vec!["--sni", "localhost", "--ca", &root];
    all.extend_from_slice(extra);
    connect_json(&server.endpoint(), &all)
}

fn assert_note(report: &Value, expected: &str) {
    let notes = notes(report);
    assert!(
        notes.iter().any(|n| n.contains(expected)),
        "no note says '{expected}': {notes:#?}"
    );
}

#[test]
fn a_cipher_suite_the_server_lacks_is_no_common_cipher_and_one_it_has_succeeds() {
    let server = OpenSslServer::start(&["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"]);
    let (code, report) = connect(
        &server,
        &["--tls", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"],
    );
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "no-common-cipher");
    // Exactly that suite (rustls adds the renegotiation SCSV, as every client does).
    assert_eq!(offered(&report, "cipher_suites"), [0xc02b, 0x00ff]);

    let server = OpenSslServer::start(&["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"]);
    let (code, report) = connect(
        &server,
        &[
            "--tls",
            "1.2",
            "--ciphers",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["outcome"], "ok");
}

#[test]
fn a_tls13_suite_the_server_lacks_is_no_common_cipher() {
    let server = OpenSslServer::start(&["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"]);
    let (code, report) = connect(&server, &["--ciphers", "TLS_AES_128_GCM_SHA256"]);
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "no-common-cipher");
    // A TLS 1.3 offer alone has no renegotiation to signal.
    assert_eq!(offered(&report, "cipher_suites"), [0x1301]);
    assert_eq!(offered(&report, "versions"), [0x0304]);

    let server = OpenSslServer::start(&["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"]);
    let (code, report) = connect(&server, &["--ciphers", "TLS_AES_256_GCM_SHA384"]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_group_the_server_lacks_is_no_common_cipher_and_one_it_has_succeeds() {
    let server = OpenSslServer::start(&["-tls1_3", "-groups", "secp384r1"]);
    let (code, report) = connect(&server, &["--groups", "x25519"]);
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "no-common-cipher");
    assert_eq!(offered(&report, "groups"), [0x001d]);

    let server = OpenSslServer::start(&["-tls1_3", "-groups", "secp384r1"]);
    let (code, report) = connect(&server, &["--groups", "x25519:P-384"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(offered(&report, "groups"), [0x001d, 0x0018]);
}

#[test]
fn signature_schemes_the_server_lacks_are_refused_and_one_it_has_succeeds() {
    for version in ["1.2", "1.3"] {
        let server = OpenSslServer::start(&["-sigalgs", "ecdsa_secp256r1_sha256"]);
        let (code, report) = connect(
            &server,
            &[
                "--tls",
                version,
                "--sigalgs",
                "rsa_pss_rsae_sha256,RSA+SHA256",
            ],
        );
        assert_eq!(code, 1, "TLS {version}: {report:#}");
        assert_top_cause(&report, "no-common-cipher");
        assert_eq!(offered(&report, "signature_schemes"), [0x0804, 0x0401]);

        let server = OpenSslServer::start(&["-sigalgs", "ecdsa_secp256r1_sha256"]);
        let (code, report) = connect(
            &server,
            &["--tls", version, "--sigalgs", "ecdsa_secp256r1_sha256"],
        );
        assert_eq!(code, 0, "TLS {version}: {report:#}");
    }
}

#[test]
fn unknown_names_are_usage_errors_that_name_the_close_ones() {
    let base = ["connect", "127.0.0.1:1"];
    let with = |flag: &'static str, value: &'static str| {
        let mut args = base.to_vec();
        args.extend([flag, value]);
        args
    };
    assert_usage_error(
        &with("--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA265"),
        "ECDHE-ECDSA-AES128-GCM-SHA256",
    );
    assert_usage_error(&with("--groups", "x25591"), "did you mean x25519");
    assert_usage_error(
        &with("--sigalgs", "ecdsa_secp256r1_sha384"),
        "ecdsa_secp256r1_sha256",
    );
    assert_usage_error(&with("--like", "mbedtls-2.28"), "mbedtls-2.28-default");
    // A TLS 1.3 suite cannot make a TLS 1.2 offer.
    let mut args = with("--ciphers", "TLS_AES_128_GCM_SHA256");
    args.extend(["--tls", "1.2"]);
    assert_usage_error(&args, "no suite of the version(s) offered");
}

#[test]
fn a_suite_rustls_lacks_is_sent_in_a_hello_of_our_own_not_dropped() {
    let server = OpenSslServer::start(&["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"]);
    let (code, report) = connect(
        &server,
        &["--tls", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-SHA256"],
    );
    assert_eq!(offered(&report, "cipher_suites"), [0xc023]);
    assert_note(
        &report,
        "rustls cannot offer TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    );
    assert_note(
        &report,
        "the server chose TLSv1.2 and TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    );
    // The handshake was not finished: never ok.
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "handshake-incomplete");
}

/// The capture of a device offering TLS 1.2 and ECDHE-ECDSA-AES128-CCM8 alone (gen-like.sh).
fn ccm8_device() -> String {
    pcap("like-ccm8-device.pcap")
}

#[test]
fn like_a_captured_device_a_server_without_its_suite_refuses_it() {
    let server = OpenSslServer::start(&["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]);
    let (code, report) = connect(&server, &["--like", &ccm8_device()]);
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "no-common-cipher");
    // What the device offered, as it offered it.
    assert_eq!(offered(&report, "cipher_suites"), [0xc0ae, 0x00ff]);
    assert_eq!(offered(&report, "versions"), [0x0303]);
    assert_note(&report, "the ClientHello of flow 1 of");
    assert_note(
        &report,
        "the server refused the device's offer with alert 40",
    );
    let top = &report["diagnosis"]["causes"][0];
    let evidence = top["evidence"].to_string();
    assert!(
        evidence.contains("TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"),
        "{top:#}"
    );
}

#[test]
fn like_a_captured_device_a_server_with_its_suite_chooses_it_and_the_verdict_is_not_ok() {
    let server = OpenSslServer::start(&["-cipher", "ECDHE-ECDSA-AES128-CCM8:@SECLEVEL=0"]);
    let (code, report) = connect(&server, &["--like", &ccm8_device()]);
    assert_eq!(code, 1, "{report:#}");
    assert_ne!(report["outcome"], "ok");
    assert_top_cause(&report, "handshake-incomplete");
    let top = &report["diagnosis"]["causes"][0];
    assert!(
        top["evidence"][0]
            .as_str()
            .unwrap()
            .contains("the server chose TLSv1.2 and TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"),
        "{top:#}"
    );
    assert!(
        top["summary"]
            .as_str()
            .unwrap()
            .contains("the server accepts the device's offer"),
        "{top:#}"
    );
}

#[test]
fn each_preset_offers_its_list_to_a_real_server() {
    for (preset, first_suite, suites) in [
        ("mbedtls-2.28-default", 0xcca8, 80),
        ("esp-idf-default", 0xc02c, 39),
        ("wolfssl-5-default", 0xc02c, 53),
        ("aws-iot-sdk-c", 0xcca8, 80),
    ] {
        let server = OpenSslServer::start(&[]);
        let (code, report) = connect(&server, &["--like", preset]);
        let offered_suites = offered(&report, "cipher_suites");
        assert_eq!(offered_suites.len(), suites, "{preset}");
        assert_eq!(offered_suites[0], first_suite, "{preset}");
        assert_eq!(offered(&report, "versions"), [0x0303], "{preset}");
        assert_note(&report, &format!("the preset {preset}"));
        // OpenSSL takes these stacks' offers: it chooses an ECDHE-ECDSA suite for its P-256 key.
        assert_note(
            &report,
            "the server chose TLSv1.2 and TLS_ECDHE_ECDSA_WITH_",
        );
        assert_eq!(code, 1, "{preset}: {report:#}");
        assert_top_cause(&report, "handshake-incomplete");
    }
}

/// The presets say what the stacks' clients send: the captures of mbedTLS 2.28's and wolfSSL
/// 5's own clients (gen-like.sh) offer the same lists.
#[test]
fn presets_match_the_stacks_own_client_hellos() {
    for (preset, capture) in [
        ("mbedtls-2.28-default", "like-mbedtls-2.28.pcap"),
        ("wolfssl-5-default", "like-wolfssl-5.pcap"),
    ] {
        let preset = iotdoctor::produce::presets::like(preset, None, 8883).unwrap();
        let captured = iotdoctor::produce::presets::like(&pcap(capture), None, 8883).unwrap();
        assert_eq!(preset.suites, captured.suites, "{capture}");
        assert_eq!(preset.groups, captured.groups, "{capture}");
        assert_eq!(preset.sigalgs, captured.sigalgs, "{capture}");
        assert_eq!(preset.versions, captured.versions, "{capture}");
    }
}

#[test]
fn like_a_tls10_device_the_server_refuses_its_version() {
    let server = OpenSslServer::start(&[]);
    let (code, report) = connect(&server, &["--like", &pcap("like-tls10-device.pcap")]);
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "protocol-version-mismatch");
    assert_eq!(offered(&report, "versions"), [0x0301]);
    assert_note(&report, "rustls cannot offer TLSv1.0");
    assert_note(&report, "the server refused the device's offer with alert");
    let evidence = top_evidence(&report);
    assert!(evidence.contains("offers only TLSv1.0"), "{evidence}");
}

#[test]
fn a_tls13_suite_rustls_lacks_gets_the_servers_choice() {
    let server = OpenSslServer::start(&["-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_8_SHA256"]);
    let (code, report) = connect(
        &server,
        &["--tls", "1.3", "--ciphers", "TLS_AES_128_CCM_8_SHA256"],
    );
    assert_eq!(offered(&report, "cipher_suites"), [0x1305]);
    assert_eq!(offered(&report, "key_shares"), [0x001d]);
    assert_note(
        &report,
        "the server chose TLSv1.3 and TLS_AES_128_CCM_8_SHA256 with group x25519",
    );
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "handshake-incomplete");
}

#[test]
fn the_help_teaches_the_offer_options() {
    assert_help_says(
        "connect",
        &[
            "--ciphers",
            "--groups",
            "--sigalgs",
            "--like",
            "esp-idf-default",
            "--ciphers ECDHE-ECDSA-AES128-GCM-SHA256 --groups secp256r1",
            "--like device.pcap",
        ],
    );
}

#[test]
fn a_flow_without_a_client_hello_is_an_input_error() {
    let run = iotdoctor(&[
        "connect",
        "127.0.0.1:1",
        "--like",
        &pcap("like-ccm8-device.pcap"),
        "--flow",
        "2",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("flow 2 of the capture holds no ClientHello"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_hello_retry_to_our_own_hello_is_the_servers_choice() {
    let server = OpenSslServer::start(&[
        "-tls1_3",
        "-ciphersuites",
        "TLS_AES_128_CCM_8_SHA256",
        "-groups",
        "secp384r1",
    ]);
    let (code, report) = connect(
        &server,
        &[
            "--tls",
            "1.3",
            "--ciphers",
            "TLS_AES_128_CCM_8_SHA256",
            "--groups",
            "x25519,secp384r1",
        ],
    );
    assert_note(
        &report,
        "the server chose TLS_AES_128_CCM_8_SHA256 and asked for a key share for secp384r1",
    );
    assert_eq!(code, 1, "{report:#}");
    assert_top_cause(&report, "handshake-incomplete");
}
