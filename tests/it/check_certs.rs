//! `iotdoctor check-certs` as a user runs it: verdicts on the fixture PKI, in text and JSON,
//! with the exit codes of the contract.

use crate::common::*;
use serde_json::Value;

fn check(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["check-certs"];
    all.extend_from_slice(args);
    iotdoctor_json(&all)
}

// ---------------------------------------------------------------- healthy credentials

#[test]
fn healthy_ec_chain_is_ok_and_trusted() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec-chain.pem"),
        "--key",
        &pki("client-ec.key"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["outcome"], "ok");
    assert_eq!(report["credentials"]["chain"]["status"], "trusted");
    assert!(
        report["credentials"]["chain"]["anchor"]
            .as_str()
            .unwrap()
            .contains("iotdoctor Test Root CA")
    );
    assert_eq!(
        report["credentials"]["key"]["matches_certificate"],
        "matches"
    );
    assert_eq!(report["credentials"]["key"]["key"]["type"], "ec");
    assert_eq!(report["credentials"]["key"]["key"]["curve"], "P-256");
    assert!(report["diagnosis"]["causes"].as_array().unwrap().is_empty());
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] != "error" && f["severity"] != "warning")
    );

    let leaf = &report["credentials"]["certificates"][0];
    assert_eq!(leaf["leaf"], true);
    assert_eq!(leaf["role"], "device");
    assert!(
        leaf["subject"]
            .as_str()
            .unwrap()
            .contains("CN=iotdoctor test device ec")
    );
    assert_eq!(
        leaf["extended_key_usage"],
        serde_json::json!(["clientAuth"])
    );
    assert_eq!(leaf["not_after"], "2126-01-01T00:00:00Z");
    assert_eq!(leaf["version"], 3);
    assert_eq!(leaf["signature_algorithm"]["name"], "ecdsa-with-SHA256");
    assert_eq!(leaf["sha256"].as_str().unwrap().len(), 32 * 3 - 1);
    assert!(leaf["days_left"].as_i64().unwrap() > 30_000);
}

#[test]
fn healthy_rsa_pkcs1_key_matches() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-rsa-chain.pem"),
        "--key",
        &pki("client-rsa-pkcs1.key"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["credentials"]["key"]["encoding"], "pkcs1");
    assert_eq!(report["credentials"]["key"]["key"]["bits"], 2048);
    assert_eq!(
        report["credentials"]["key"]["matches_certificate"],
        "matches"
    );
}

#[test]
fn healthy_text_output_shows_each_certificate_and_the_verdict() {
    let run = iotdoctor(&[
        "check-certs",
        "--cert",
        &pki("client-ec-chain.pem"),
        "--key",
        &pki("client-ec.key"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for expected in [
        "CN=iotdoctor test device ec",
        "(device certificate)",
        "issuer      O=iotdoctor test PKI, CN=iotdoctor Test Intermediate CA",
        "valid       2026-01-01 to 2126-01-01",
        "key         EC P-256",
        "signature   ecdsa-with-SHA256",
        "ext. usage  clientAuth",
        "CA          no",
        "sha256      ",
        "PKCS#8 (PEM), EC P-256, matches the device certificate",
        "iotdoctor test device ec -> iotdoctor Test Intermediate CA -> trusted CA 'iotdoctor Test Root CA'",
        "OK: no problems found",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected:?} in:\n{}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains("\x1b["), "piped output must be plain");
}

#[test]
fn private_key_material_never_appears_in_output() {
    let key_pem = std::fs::read_to_string(pki("client-ec.key")).unwrap();
    let secret_lines: Vec<&str> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let run = iotdoctor(&[
        "check-certs",
        "--cert",
        &pki("client-ec-chain.pem"),
        "--key",
        &pki("client-ec.key"),
        "-vvv",
    ]);
    let (_, json) = check(&[
        "--cert",
        &pki("client-ec-chain.pem"),
        "--key",
        &pki("client-ec.key"),
    ]);
    let everything = format!("{}{}{}", run.stdout, run.stderr, json);
    for line in secret_lines {
        assert!(!everything.contains(line), "key material leaked: {line}");
    }
}

// ---------------------------------------------------------------- formats

#[test]
fn der_certificate_and_der_key_are_read() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec.der"),
        "--key",
        &pki("client-ec.key.der"),
        "--chain",
        &pki("intermediate-ca.pem"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["credentials"]["key"]["container"], "der");
    assert_eq!(report["credentials"]["certificates"][1]["role"], "chain");
}

#[test]
fn crlf_pem_with_leading_text_and_sec1_key() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec-crlf.pem"),
        "--key",
        &pki("client-ec-sec1.key"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["credentials"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(report["credentials"]["key"]["encoding"], "sec1");
}

#[test]
fn ec_parameters_block_is_ignored_and_said_so() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec-chain.pem"),
        "--key",
        &pki("client-ec-with-params.key"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 0, "{report:#}");
    let note = finding(&report, "ignored-pem-block");
    assert_eq!(note["severity"], "info");
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .contains("EC PARAMETERS block ignored")
    );
}

#[test]
fn encrypted_pkcs8_key_with_password_from_env() {
    let (code, report) = iotdoctor_json_env(
        &[
            "check-certs",
            "--cert",
            &pki("client-ec-chain.pem"),
            "--key",
            &pki("client-ec-encrypted.key"),
            "--key-pass-env",
            "DEVICE_KEY_PASS",
        ],
        &[("DEVICE_KEY_PASS", "iotdoctor")],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["credentials"]["key"]["encrypted"], true);
    assert_eq!(
        report["credentials"]["key"]["matches_certificate"],
        "matches"
    );
}

#[test]
fn pkcs12_bundle_with_password_from_env() {
    let (code, report) = iotdoctor_json_env(
        &[
            "check-certs",
            "--p12",
            &pki("client-ec.p12"),
            "--key-pass-env",
            "P12_PASS",
            "--ca",
            &pki("root-ca.pem"),
        ],
        &[("P12_PASS", "iotdoctor")],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["credentials"]["chain"]["status"], "trusted");
    assert_eq!(report["credentials"]["key"]["container"], "pkcs12");
    assert_eq!(
        report["credentials"]["key"]["matches_certificate"],
        "matches"
    );
}

// ---------------------------------------------------------------- findings

#[test]
fn key_that_belongs_to_another_certificate() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec-chain.pem"),
        "--key",
        &pki("stranger.key"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(report["outcome"], "problems");
    assert_eq!(top_cause(&report), Some("client-key-mismatch"));
    assert_eq!(
        report["credentials"]["key"]["matches_certificate"],
        "does-not-match"
    );
    let f = finding(&report, "client-key-mismatch");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("both are EC P-256, but they are different keys")
    );
}

#[test]
fn key_of_another_type_says_both_types() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec.pem"),
        "--key",
        &pki("client-rsa.key"),
    ]);
    assert_eq!(code, 1);
    let message = finding(&report, "client-key-mismatch")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("the key is RSA 2048, the certificate's key is EC P-256"),
        "{message}"
    );
}

#[test]
fn certificate_from_an_unrelated_ca() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-unrelated-chain.pem"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(top_cause(&report), Some("client-ca-untrusted"));
    assert_eq!(report["credentials"]["chain"]["status"], "untrusted-root");
    assert_eq!(
        finding(&report, "key-not-checked")["severity"],
        "info",
        "no --key: said so"
    );
    let message = finding(&report, "client-ca-untrusted")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("ends at root 'Unrelated Root CA'"),
        "{message}"
    );
    assert!(message.contains("iotdoctor Test Root CA"), "{message}");
}

#[test]
fn leaf_only_names_the_missing_intermediate() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec.pem"),
        "--key",
        &pki("client-ec.key"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(top_cause(&report), Some("client-chain-incomplete"));
    assert_eq!(report["credentials"]["chain"]["status"], "missing-issuer");
    assert!(
        report["credentials"]["chain"]["missing_issuer"]
            .as_str()
            .unwrap()
            .contains("iotdoctor Test Intermediate CA")
    );
    let message = finding(&report, "client-chain-incomplete")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message
            .contains("its issuer 'iotdoctor Test Intermediate CA' is in none of the files given"),
        "{message}"
    );
}

#[test]
fn leaf_only_is_fine_once_the_intermediate_comes_with_chain() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec.pem"),
        "--chain",
        &pki("intermediate-ca.pem"),
        "--key",
        &pki("client-ec.key"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn same_name_different_key_intermediate_is_not_the_issuer() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec.pem"),
        "--chain",
        &pki("intermediate-ca-rekeyed.pem"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(report["credentials"]["chain"]["status"], "wrong-issuer-key");
    let message = finding(&report, "client-chain-incomplete")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("did not sign it"), "{message}");
    assert!(!finding_ids(&report).contains(&"unrelated-certificate".to_string()));

    let (code, report) = check(&[
        "--cert",
        &pki("client-ec.pem"),
        "--ca",
        &pki("intermediate-ca-rekeyed.pem"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(top_cause(&report), Some("client-ca-untrusted"));
}

#[test]
fn expired_certificate() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-expired.pem"),
        "--chain",
        &pki("intermediate-ca.pem"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(top_cause(&report), Some("client-cert-expired"));
    let message = finding(&report, "client-cert-expired")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("expired on 2021-01-01T00:00:00Z"),
        "{message}"
    );
    assert!(
        report["credentials"]["certificates"][0]["days_left"]
            .as_i64()
            .unwrap()
            < 0
    );
}

#[test]
fn not_yet_valid_certificate() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-not-yet-valid.pem"),
        "--chain",
        &pki("intermediate-ca.pem"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(top_cause(&report), Some("client-cert-expired"));
    let message = finding(&report, "client-cert-expired")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("is not valid yet: valid from 2090-01-01"),
        "{message}"
    );
}

#[test]
fn expiring_within_warn_days_is_a_warning() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec-chain.pem"),
        "--warn-days",
        "100000",
    ]);
    assert_eq!(code, 0, "a warning alone keeps the exit code 0: {report:#}");
    let f = finding(&report, "cert-expiring-soon");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("expires on 2126-01-01")
    );

    let (_, report) = check(&["--cert", &pki("client-ec-chain.pem")]);
    assert!(!finding_ids(&report).contains(&"cert-expiring-soon".to_string()));
}

fn usage_message(cert: &str) -> String {
    let (code, report) = check(&[
        "--cert",
        &pki(cert),
        "--chain",
        &pki("intermediate-ca.pem"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(top_cause(&report), Some("client-cert-usage"));
    finding(&report, "client-cert-usage")["message"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn certificate_without_client_auth_eku() {
    assert!(
        usage_message("client-no-clientauth.pem")
            .contains("extendedKeyUsage serverAuth without clientAuth")
    );
}

#[test]
fn certificate_without_digital_signature_key_usage() {
    assert!(usage_message("client-no-digsig.pem").contains("without digitalSignature"));
}

#[test]
fn ca_certificate_as_client_certificate() {
    assert!(
        usage_message("client-ca-true.pem")
            .contains("is a CA certificate (basicConstraints CA:TRUE)")
    );
}

#[test]
fn x509_v1_certificate() {
    assert!(usage_message("client-v1.pem").contains("X.509 v1 certificate"));
}

#[test]
fn sha1_signature_is_an_error() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-sha1.pem"),
        "--key",
        &pki("client-sha1.key"),
    ]);
    assert_eq!(code, 1);
    let f = finding(&report, "weak-signature");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("ecdsa-with-SHA1 (SHA-1)")
    );
}

#[test]
fn rsa_1024_is_a_weak_key() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-rsa1024.pem"),
        "--key",
        &pki("client-rsa1024.key"),
    ]);
    assert_eq!(code, 1);
    assert!(
        finding(&report, "weak-key")["message"]
            .as_str()
            .unwrap()
            .contains("RSA key of 1024 bits")
    );
    // rustls refuses to load the key, yet the pair is still compared through the modulus.
    assert_eq!(
        report["credentials"]["key"]["matches_certificate"],
        "matches"
    );
}

#[test]
fn secp256k1_is_unsupported() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-secp256k1.pem"),
        "--key",
        &pki("client-secp256k1.key"),
    ]);
    assert_eq!(code, 1);
    assert!(
        finding(&report, "unsupported-key")["message"]
            .as_str()
            .unwrap()
            .contains("EC secp256k1")
    );
    assert_eq!(
        report["credentials"]["key"]["matches_certificate"],
        "matches"
    );
}

#[test]
fn leaf_not_first_in_file() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec-fullchain-wrong-order.pem"),
        "--key",
        &pki("client-ec.key"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 0, "order is a warning: {report:#}");
    let f = finding(&report, "chain-order");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("is certificate 2 of the file")
    );
    assert_eq!(report["credentials"]["chain"]["status"], "trusted");
}

#[test]
fn duplicate_certificate_in_file() {
    let (code, report) = check(&[
        "--cert",
        &pki("client-ec-duplicate.pem"),
        "--key",
        &pki("client-ec.key"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        finding(&report, "duplicate-certificate")["severity"],
        "warning"
    );
    assert!(!finding_ids(&report).contains(&"unrelated-certificate".to_string()));
}

#[test]
fn certificate_outside_the_chain_in_the_device_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("device.pem");
    let text = std::fs::read_to_string(pki("client-ec-chain.pem")).unwrap()
        + &std::fs::read_to_string(pki("unrelated-ca.pem")).unwrap();
    std::fs::write(&file, text).unwrap();
    let (code, report) = check(&[
        "--cert",
        file.to_str().unwrap(),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 0, "{report:#}");
    let f = finding(&report, "unrelated-certificate");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("'Unrelated Root CA' is not part of")
    );
}

// ---------------------------------------------------------------- AWS IoT profile

#[test]
fn aws_profile_without_amazon_roots_is_an_error() {
    let (code, report) = check(&[
        "--profile",
        "aws-iot",
        "--cert",
        &pki("client-ec-chain.pem"),
        "--key",
        &pki("client-ec.key"),
        "--ca",
        &pki("root-ca.pem"),
    ]);
    assert_eq!(code, 1);
    let f = finding(&report, "aws-root-ca-missing");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("neither Amazon Root CA 1 nor Amazon Root CA 3")
    );
}

#[test]
fn aws_profile_with_one_amazon_root_warns_and_does_not_blame_the_device_chain() {
    let (code, report) = check(&[
        "--profile",
        "aws-iot",
        "--cert",
        &pki("client-ec.pem"),
        "--key",
        &pki("client-ec.key"),
        "--ca",
        &amazon_root(1),
    ]);
    assert_eq!(code, 0, "{report:#}");
    let f = finding(&report, "aws-root-ca-missing");
    assert_eq!(f["severity"], "warning");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("only Amazon Root CA 1")
    );
    // The Amazon root is the device's trust in the server, not the device certificate's anchor.
    let ids = finding_ids(&report);
    assert!(
        !ids.contains(&"client-chain-incomplete".to_string()),
        "{ids:?}"
    );
    assert!(!ids.contains(&"client-ca-untrusted".to_string()), "{ids:?}");
    assert_eq!(finding(&report, "chain-not-checked")["severity"], "info");
}

#[test]
fn aws_profile_with_both_roots_and_an_accepted_key_is_clean() {
    let (code, report) = check(&[
        "--profile",
        "aws-iot",
        "--cert",
        &pki("client-rsa.pem"),
        "--key",
        &pki("client-rsa.key"),
        "--ca",
        &amazon_root(1),
        "--ca",
        &amazon_root(3),
    ]);
    assert_eq!(code, 0, "{report:#}");
    let ids = finding_ids(&report);
    assert!(!ids.iter().any(|id| id.starts_with("aws-")), "{ids:?}");
}

#[test]
fn aws_profile_rejects_what_aws_iot_does_not_accept() {
    let (code, report) = check(&[
        "--profile",
        "aws-iot",
        "--cert",
        &pki("client-secp256k1.pem"),
    ]);
    assert_eq!(code, 1);
    let f = finding(&report, "aws-unsupported-algorithm");
    assert!(f["message"].as_str().unwrap().contains("EC secp256k1"));

    let (_, report) = check(&["--profile", "aws-iot", "--cert", &pki("client-sha1.pem")]);
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "aws-unsupported-algorithm")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("signed with ecdsa-with-SHA1")),
        "{messages:?}"
    );
}

// ---------------------------------------------------------------- bad input

fn input_error(args: &[&str]) -> String {
    let mut all = vec!["check-certs"];
    all.extend_from_slice(args);
    let run = iotdoctor(&all);
    assert_eq!(
        run.code, 3,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(
        run.stdout.is_empty(),
        "text errors go to stderr only: {}",
        run.stdout
    );
    run.stderr
}

fn temp_file(bytes: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.pem");
    std::fs::write(&path, bytes).unwrap();
    let path = path.to_string_lossy().into_owned();
    (dir, path)
}

#[test]
fn missing_file() {
    assert!(
        input_error(&["--cert", "/nonexistent/device.pem"])
            .contains("/nonexistent/device.pem: cannot read: no such file")
    );
}

#[test]
fn empty_file() {
    let (_dir, path) = temp_file(b"");
    assert!(input_error(&["--cert", &path]).contains("the file is empty"));
}

#[test]
fn binary_garbage() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (_dir, path) = temp_file(&garbage);
    assert!(input_error(&["--cert", &path]).contains("not PEM or DER"));
}

#[test]
fn der_looking_garbage() {
    let (_dir, path) = temp_file(&[0x30, 0x82, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef]);
    assert!(input_error(&["--cert", &path]).contains("not PEM or DER"));
}

#[test]
fn truncated_pem() {
    let text = std::fs::read(pki("client-ec-chain.pem")).unwrap();
    let (_dir, path) = temp_file(&text[..text.len() / 2]);
    assert!(input_error(&["--cert", &path]).contains("has no END line: the file is truncated"));
}

#[test]
fn damaged_certificate_inside_pem() {
    let text = std::fs::read_to_string(pki("client-ec.pem")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let damaged = [&lines[..3], &lines[5..]].concat().join("\n");
    let (_dir, path) = temp_file(damaged.as_bytes());
    assert!(input_error(&["--cert", &path]).contains("not a valid X.509 certificate"));
}

#[test]
fn key_given_as_certificate_and_certificate_as_key() {
    assert!(
        input_error(&["--cert", &pki("client-ec.key")])
            .contains("this file holds a private key, not a certificate")
    );
    assert!(
        input_error(&[
            "--cert",
            &pki("client-ec.pem"),
            "--key",
            &pki("client-ec.pem")
        ])
        .contains("this file holds a certificate, not a private key")
    );
}

#[test]
fn encrypted_key_without_password_says_how_to_give_one() {
    let message = input_error(&[
        "--cert",
        &pki("client-ec.pem"),
        "--key",
        &pki("client-ec-encrypted.key"),
    ]);
    assert!(
        message.contains("encrypted key: give the password with --key-pass-env"),
        "{message}"
    );
}

#[test]
fn wrong_password() {
    let mut args = vec!["check-certs", "--key-pass-env", "PASS"];
    let (cert, key) = (pki("client-ec.pem"), pki("client-ec-encrypted.key"));
    args.extend(["--cert", &cert, "--key", &key]);
    let run = iotdoctor_env(&args, &[("PASS", "not-the-password")]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("cannot decrypt: wrong password"),
        "{}",
        run.stderr
    );

    let p12 = pki("client-ec.p12");
    let run = iotdoctor_env(
        &["check-certs", "--p12", &p12, "--key-pass-env", "PASS"],
        &[("PASS", "nope")],
    );
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("wrong password"), "{}", run.stderr);
}

#[test]
fn password_variable_not_set() {
    let message = input_error(&[
        "--cert",
        &pki("client-ec.pem"),
        "--key",
        &pki("client-ec-encrypted.key"),
        "--key-pass-env",
        "IOTDOCTOR_TEST_UNSET_VARIABLE",
    ]);
    assert!(
        message.contains("--key-pass-env: no environment variable of that name is set"),
        "{message}"
    );
}

#[test]
fn input_errors_in_json_are_reports_too() {
    let (code, report) = check(&["--cert", "/nonexistent/device.pem"]);
    assert_eq!(code, 3);
    assert_eq!(report["schema"], "iotdoctor.report/1");
    assert_eq!(report["outcome"], "error");
    assert_eq!(report["error"]["kind"], "input");
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no such file")
    );
}

// ---------------------------------------------------------------- command line

#[test]
fn missing_cert_is_a_usage_error() {
    let run = iotdoctor(&["check-certs", "--key", &pki("client-ec.key")]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--cert"), "{}", run.stderr);
}

#[test]
fn help_teaches_with_examples() {
    let run = iotdoctor(&["check-certs", "--help"]);
    assert_eq!(run.code, 0);
    for expected in [
        "Examples:",
        "--key-pass-env",
        "--profile",
        "aws-iot",
        "--cafile",
        "--warn-days",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected} in --help"
        );
    }
}

#[test]
fn color_is_for_terminals_or_when_asked() {
    let args = [
        "check-certs",
        "--cert",
        &pki("client-ec.pem"),
        "--key",
        &pki("stranger.key"),
    ];
    let plain = iotdoctor(&args);
    assert!(!plain.stdout.contains("\x1b["));
    let mut always = args.to_vec();
    always.extend(["--color", "always"]);
    assert!(iotdoctor(&always).stdout.contains("\x1b["));
    assert!(
        iotdoctor_env(&always, &[("NO_COLOR", "1")])
            .stdout
            .contains("\x1b["),
        "--color always wins over NO_COLOR"
    );
}

#[test]
fn global_options_work_after_the_command() {
    let run = iotdoctor(&[
        "check-certs",
        "--cert",
        &pki("client-ec.pem"),
        "--format",
        "json",
        "-q",
    ]);
    assert!(
        serde_json::from_str::<Value>(&run.stdout).is_ok(),
        "{}",
        run.stdout
    );
}
