//! `iotdoctor check-certs` as a user runs it: verdicts on the fixture PKI, in text and JSON,
//! with the exit codes of the contract.

use crate::common::*;
use serde_json::Value;

fn check(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["check-certs"];
    all.extend_from_slice(args);
    iotdoctor_json(&all)
}

/// `check-certs` with these files of the test PKI, then `extra`.
fn check_pki(files: &[(&str, &str)], extra: &[&str]) -> (i32, Value) {
    let files = pki_flags(files);
    let mut all: Vec<&str> = files.iter().map(String::as_str).collect();
    all.extend_from_slice(extra);
    check(&all)
}

/// The EC device of the test PKI, and the test root as CA.
const EC_DEVICE_AND_ROOT: [(&str, &str); 3] = [EC_DEVICE[0], EC_DEVICE[1], ("--ca", "root-ca.pem")];

/// The certificate `cert` and key `key` of the test PKI, and the test root as CA.
fn with_root<'a>(cert: &'a str, key: &'a str) -> [(&'static str, &'a str); 3] {
    [("--cert", cert), ("--key", key), ("--ca", "root-ca.pem")]
}

/// Checks `files`, which must pass with exit code 0.
fn check_ok(files: &[(&str, &str)]) -> Value {
    let (code, report) = check_pki(files, &[]);
    assert_eq!(code, 0, "{report:#}");
    report
}

/// Checks `files`, which must fail with exit code 1 and the finding `id` saying `expected`.
fn check_problem(files: &[(&str, &str)], id: &str, expected: &str) -> Value {
    let (code, report) = check_pki(files, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_message(&report, id, expected);
    report
}

/// [`check_problem`] where the finding `id` is also the top cause.
fn check_top(files: &[(&str, &str)], id: &str, expected: &str) -> Value {
    let report = check_problem(files, id, expected);
    assert_eq!(top_cause(&report), Some(id), "{report:#}");
    report
}

fn assert_key_matches(report: &Value) {
    assert_eq!(
        report["credentials"]["key"]["matches_certificate"],
        "matches"
    );
}

/// `check-certs` in text with these files of the test PKI, then `extra`.
fn check_text(files: &[(&str, &str)], extra: &[&str]) -> Run {
    let files = pki_flags(files);
    let mut all = vec!["check-certs"];
    all.extend(files.iter().map(String::as_str));
    all.extend_from_slice(extra);
    iotdoctor(&all)
}

// ---------------------------------------------------------------- healthy credentials

#[test]
fn healthy_ec_chain_is_ok_and_trusted() {
    let report = check_ok(&EC_DEVICE_AND_ROOT);
    assert_eq!(report["outcome"], "ok");
    assert_eq!(report["credentials"]["chain"]["status"], "trusted");
    assert!(
        report["credentials"]["chain"]["anchor"]
            .as_str()
            .unwrap()
            .contains("iotdoctor Test Root CA")
    );
    assert_key_matches(&report);
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
    let report = check_ok(&with_root("client-rsa-chain.pem", "client-rsa-pkcs1.key"));
    assert_eq!(report["credentials"]["key"]["encoding"], "pkcs1");
    assert_eq!(report["credentials"]["key"]["key"]["bits"], 2048);
    assert_key_matches(&report);
}

#[test]
fn healthy_text_output_shows_each_certificate_and_the_verdict() {
    let run = check_text(&EC_DEVICE_AND_ROOT, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_says_all(
        &run.stdout,
        &[
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
        ],
    );
    assert!(!run.stdout.contains("\x1b["), "piped output must be plain");
}

#[test]
fn private_key_material_never_appears_in_output() {
    let key_pem = std::fs::read_to_string(pki("client-ec.key")).unwrap();
    let secret_lines: Vec<&str> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let run = check_text(&EC_DEVICE, &["-vvv"]);
    let (_, json) = check_pki(&EC_DEVICE, &[]);
    let everything = format!("{}{}{}", run.stdout, run.stderr, json);
    for line in secret_lines {
        assert!(!everything.contains(line), "key material leaked: {line}");
    }
}

// ---------------------------------------------------------------- formats

#[test]
fn der_certificate_and_der_key_are_read() {
    let report = check_ok(&[
        ("--cert", "client-ec.der"),
        ("--key", "client-ec.key.der"),
        ("--chain", "intermediate-ca.pem"),
        ("--ca", "root-ca.pem"),
    ]);
    assert_eq!(report["credentials"]["key"]["container"], "der");
    assert_eq!(report["credentials"]["certificates"][1]["role"], "chain");
}

#[test]
fn crlf_pem_with_leading_text_and_sec1_key() {
    let report = check_ok(&with_root("client-ec-crlf.pem", "client-ec-sec1.key"));
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
    let report = check_ok(&with_root(
        "client-ec-chain.pem",
        "client-ec-with-params.key",
    ));
    assert_finding(
        &report,
        "ignored-pem-block",
        "info",
        "EC PARAMETERS block ignored",
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
    assert_key_matches(&report);
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
    assert_key_matches(&report);
}

// ---------------------------------------------------------------- findings

#[test]
fn key_that_belongs_to_another_certificate() {
    let report = check_top(
        &[("--cert", "client-ec-chain.pem"), ("--key", "stranger.key")],
        "client-key-mismatch",
        "both are EC P-256, but they are different keys",
    );
    assert_eq!(report["outcome"], "problems");
    assert_eq!(
        report["credentials"]["key"]["matches_certificate"],
        "does-not-match"
    );
    assert_eq!(finding(&report, "client-key-mismatch")["severity"], "error");
}

#[test]
fn key_of_another_type_says_both_types() {
    check_top(
        &[("--cert", "client-ec.pem"), ("--key", "client-rsa.key")],
        "client-key-mismatch",
        "the key is RSA 2048, the certificate's key is EC P-256",
    );
}

#[test]
fn certificate_from_an_unrelated_ca() {
    let report = check_problem(
        &[
            ("--cert", "client-unrelated-chain.pem"),
            ("--ca", "root-ca.pem"),
        ],
        "client-ca-untrusted",
        "ends at root 'Unrelated Root CA'",
    );
    assert_eq!(report["credentials"]["chain"]["status"], "untrusted-root");
    assert_eq!(
        finding(&report, "key-not-checked")["severity"],
        "info",
        "no --key: said so"
    );
    assert_message(&report, "client-ca-untrusted", "iotdoctor Test Root CA");
}

#[test]
fn leaf_only_names_the_missing_intermediate() {
    let report = check_top(
        &with_root("client-ec.pem", "client-ec.key"),
        "client-chain-incomplete",
        "its issuer 'iotdoctor Test Intermediate CA' is in none of the files given",
    );
    assert_eq!(report["credentials"]["chain"]["status"], "missing-issuer");
    assert!(
        report["credentials"]["chain"]["missing_issuer"]
            .as_str()
            .unwrap()
            .contains("iotdoctor Test Intermediate CA")
    );
}

#[test]
fn leaf_only_is_fine_once_the_intermediate_comes_with_chain() {
    check_ok(&[
        ("--cert", "client-ec.pem"),
        ("--chain", "intermediate-ca.pem"),
        ("--key", "client-ec.key"),
        ("--ca", "root-ca.pem"),
    ]);
}

#[test]
fn same_name_different_key_intermediate_is_not_the_issuer() {
    let report = check_top(
        &[
            ("--cert", "client-ec.pem"),
            ("--chain", "intermediate-ca-rekeyed.pem"),
            ("--ca", "root-ca.pem"),
        ],
        "client-chain-incomplete",
        "did not sign it",
    );
    assert_eq!(report["credentials"]["chain"]["status"], "wrong-issuer-key");
    assert!(!finding_ids(&report).contains(&"unrelated-certificate".to_string()));

    let (code, report) = check_pki(
        &[
            ("--cert", "client-ec.pem"),
            ("--ca", "intermediate-ca-rekeyed.pem"),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(top_cause(&report), Some("client-ca-untrusted"));
}

#[test]
fn expired_certificate() {
    let report = check_problem(
        &[
            ("--cert", "client-expired.pem"),
            ("--chain", "intermediate-ca.pem"),
            ("--ca", "root-ca.pem"),
        ],
        "client-cert-expired",
        "expired on 2021-01-01T00:00:00Z",
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
    check_top(
        &[
            ("--cert", "client-not-yet-valid.pem"),
            ("--chain", "intermediate-ca.pem"),
        ],
        "client-cert-expired",
        "is not valid yet: valid from 2090-01-01",
    );
}

#[test]
fn expiring_within_warn_days_is_a_warning() {
    let (code, report) = check_pki(
        &[("--cert", "client-ec-chain.pem")],
        &["--warn-days", "100000"],
    );
    assert_eq!(code, 0, "a warning alone keeps the exit code 0: {report:#}");
    assert_finding(
        &report,
        "cert-expiring-soon",
        "warning",
        "expires on 2126-01-01",
    );

    let (_, report) = check(&["--cert", &pki("client-ec-chain.pem")]);
    assert!(!finding_ids(&report).contains(&"cert-expiring-soon".to_string()));
}

/// Checks the certificate `cert` with its chain: its top cause is a usage that TLS clients
/// refuse, and the finding says `expected`.
fn assert_usage_message(cert: &str, expected: &str) {
    check_top(
        &[
            ("--cert", cert),
            ("--chain", "intermediate-ca.pem"),
            ("--ca", "root-ca.pem"),
        ],
        "client-cert-usage",
        expected,
    );
}

#[test]
fn certificate_without_client_auth_eku() {
    assert_usage_message(
        "client-no-clientauth.pem",
        "extendedKeyUsage serverAuth without clientAuth",
    );
}

#[test]
fn certificate_without_digital_signature_key_usage() {
    assert_usage_message("client-no-digsig.pem", "without digitalSignature");
}

#[test]
fn ca_certificate_as_client_certificate() {
    assert_usage_message(
        "client-ca-true.pem",
        "is a CA certificate (basicConstraints CA:TRUE)",
    );
}

#[test]
fn x509_v1_certificate() {
    assert_usage_message("client-v1.pem", "X.509 v1 certificate");
}

#[test]
fn sha1_signature_is_an_error() {
    let report = check_problem(
        &[("--cert", "client-sha1.pem"), ("--key", "client-sha1.key")],
        "weak-signature",
        "ecdsa-with-SHA1 (SHA-1)",
    );
    assert_eq!(finding(&report, "weak-signature")["severity"], "error");
}

#[test]
fn rsa_1024_is_a_weak_key() {
    let report = check_problem(
        &[
            ("--cert", "client-rsa1024.pem"),
            ("--key", "client-rsa1024.key"),
        ],
        "weak-key",
        "RSA key of 1024 bits",
    );
    // rustls refuses to load the key, yet the pair is still compared through the modulus.
    assert_key_matches(&report);
}

#[test]
fn secp256k1_is_unsupported() {
    let report = check_problem(
        &[
            ("--cert", "client-secp256k1.pem"),
            ("--key", "client-secp256k1.key"),
        ],
        "unsupported-key",
        "EC secp256k1",
    );
    assert_key_matches(&report);
}

#[test]
fn leaf_not_first_in_file() {
    let (code, report) = check_pki(
        &with_root("client-ec-fullchain-wrong-order.pem", "client-ec.key"),
        &[],
    );
    assert_eq!(code, 0, "order is a warning: {report:#}");
    assert_finding(
        &report,
        "chain-order",
        "warning",
        "is certificate 2 of the file",
    );
    assert_eq!(report["credentials"]["chain"]["status"], "trusted");
}

#[test]
fn duplicate_certificate_in_file() {
    let report = check_ok(&with_root("client-ec-duplicate.pem", "client-ec.key"));
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
    assert_message(
        &report,
        "unrelated-certificate",
        "'Unrelated Root CA' is not part of",
    );
}

// ---------------------------------------------------------------- AWS IoT profile

/// `check-certs --profile aws-iot` with these files of the test PKI, then `extra`.
fn check_aws(files: &[(&str, &str)], extra: &[&str]) -> (i32, Value) {
    let mut all = vec!["--profile", "aws-iot"];
    all.extend_from_slice(extra);
    check_pki(files, &all)
}

#[test]
fn aws_profile_without_amazon_roots_is_an_error() {
    let (code, report) = check_aws(&EC_DEVICE_AND_ROOT, &[]);
    assert_eq!(code, 1);
    assert_finding(
        &report,
        "aws-root-ca-missing",
        "error",
        "neither Amazon Root CA 1 nor Amazon Root CA 3",
    );
}

#[test]
fn aws_profile_with_one_amazon_root_warns_and_does_not_blame_the_device_chain() {
    let (code, report) = check_aws(
        &[("--cert", "client-ec.pem"), ("--key", "client-ec.key")],
        &["--ca", &amazon_root(1)],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_finding(
        &report,
        "aws-root-ca-missing",
        "warning",
        "only Amazon Root CA 1",
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
    let (code, report) = check_aws(
        &[("--cert", "client-rsa.pem"), ("--key", "client-rsa.key")],
        &["--ca", &amazon_root(1), "--ca", &amazon_root(3)],
    );
    assert_eq!(code, 0, "{report:#}");
    let ids = finding_ids(&report);
    assert!(!ids.iter().any(|id| id.starts_with("aws-")), "{ids:?}");
}

#[test]
fn aws_profile_rejects_what_aws_iot_does_not_accept() {
    let (code, report) = check_aws(&[("--cert", "client-secp256k1.pem")], &[]);
    assert_eq!(code, 1);
    assert_message(&report, "aws-unsupported-algorithm", "EC secp256k1");

    let (_, report) = check_aws(&[("--cert", "client-sha1.pem")], &[]);
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
    assert_usage_error(&["check-certs", "--key", &pki("client-ec.key")], "--cert");
}

#[test]
fn help_teaches_with_examples() {
    assert_help_says(
        "check-certs",
        &[
            "Examples:",
            "--key-pass-env",
            "--profile",
            "aws-iot",
            "--cafile",
            "--warn-days",
        ],
    );
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
