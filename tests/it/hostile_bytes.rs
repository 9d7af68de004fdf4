//! Damaged and hostile credential files: every one ends in a report or a clear input error,
//! never a panic. Mutations are deterministic, so a failure reproduces.

use crate::common::{Fixed, PASSWORD, Rng, fixture, pki_path as pki};
use iotdoctor::credentials::checks::{CheckOptions, check};
use iotdoctor::credentials::{Credentials, LoadRequest};
use iotdoctor::diagnose::diagnose;
use iotdoctor::report::{Report, json, style::Style, text};

fn mutate(original: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = original.to_vec();
    match rng.below(4) {
        0 => {
            for _ in 0..=rng.below(4) {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
        }
        1 => bytes.truncate(rng.below(bytes.len())),
        2 => {
            // A length byte set to something large.
            let i = rng.below(bytes.len());
            bytes[i] = [0x80, 0x81, 0x82, 0x84, 0xff][rng.below(5)];
        }
        _ => {
            let i = rng.below(bytes.len());
            let extra: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
            bytes.splice(i..i, extra);
        }
    }
    bytes
}

/// Loads, checks, diagnoses and renders whatever the file turned into; false when it did not
/// load (an input error, as it should be for most damage).
fn exercise(request: &LoadRequest) -> bool {
    let Ok(creds) = Credentials::load(request, &Fixed(PASSWORD)) else {
        return false;
    };
    let (summary, findings) = check(
        &creds,
        &CheckOptions {
            now: 1_800_000_000,
            warn_days: 30,
            aws_iot: true,
        },
    );
    let diagnosis = diagnose(&findings, None, &Default::default());
    let report = Report::new("check-certs", findings, diagnosis).with_credentials(summary);
    text::render(&report, Style::plain(), &mut Vec::new()).unwrap();
    json::render(&report, &mut Vec::new()).unwrap();
    true
}

/// Asserts that some of the damaged files still loaded: the checks and renderers were reached,
/// not only the loader's refusals.
fn assert_some_loaded(loaded: usize, rounds: usize, what: &str) {
    assert!(loaded > 0, "{what}: none of {rounds} damaged files loaded");
}

fn fuzz(fixture: &str, as_key: bool, rounds: usize) {
    let original = std::fs::read(pki(fixture)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ fixture.len() as u64);
    let mut loaded = 0;
    for _ in 0..rounds {
        std::fs::write(&path, mutate(&original, &mut rng)).unwrap();
        let request = if as_key {
            LoadRequest {
                cert: Some(pki("client-ec.pem")),
                key: Some(path.clone()),
                ..Default::default()
            }
        } else {
            LoadRequest {
                cert: Some(path.clone()),
                cas: vec![pki("root-ca.pem")],
                ..Default::default()
            }
        };
        loaded += usize::from(exercise(&request));
    }
    assert_some_loaded(loaded, rounds, fixture);
}

#[test]
fn damaged_der_certificates() {
    fuzz("client-ec.der", false, 3000);
}

#[test]
fn damaged_der_keys() {
    fuzz("client-ec.key.der", true, 2000);
}

#[test]
fn damaged_pem_chains() {
    fuzz("client-ec-crlf.pem", false, 1000);
}

#[test]
fn damaged_encrypted_keys_and_bundles() {
    fuzz("client-ec-encrypted.key", true, 300);
    let original = std::fs::read(pki("client-ec.p12")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.p12");
    let mut rng = Rng(7);
    let mut loaded = 0;
    for _ in 0..300 {
        std::fs::write(&path, mutate(&original, &mut rng)).unwrap();
        loaded += usize::from(exercise(&LoadRequest {
            p12: Some(path.clone()),
            ..Default::default()
        }));
    }
    assert_some_loaded(loaded, 300, "client-ec.p12");
}

#[test]
fn damaged_captures_never_panic() {
    use iotdoctor::decode::decrypt::KeyLog;
    use iotdoctor::diagnose::Context;
    use iotdoctor::produce::analyze;

    let capture = fixture("pcaps", "all.pcapng");
    let original = std::fs::read(&capture).unwrap();
    let keys = std::fs::read_to_string(capture.with_file_name("no-cert-tls13.keys")).unwrap();
    let keys = std::sync::Arc::new(KeyLog::parse(&keys));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.pcapng");
    let mut rng = Rng(0xC0FFEE);
    let mut handshakes = 0;
    for round in 0..300 {
        std::fs::write(&path, mutate(&original, &mut rng)).unwrap();
        let keys = (round % 2 == 0).then(|| keys.clone());
        let _ = analyze::analyze(&path, keys, |pending| {
            handshakes += 1;
            let mut found = pending.decode();
            found.settle_signature_checks();
            let diagnosis = diagnose(&[], Some(&found.transcript), &Context::default());
            let report = Report::new("analyze", vec![], diagnosis).with_connection(
                iotdoctor::model::Target {
                    endpoint: found.server.to_string(),
                    sni: None,
                    address: None,
                },
                found.transcript,
                false,
            );
            text::render(&report, Style::plain(), &mut Vec::new()).unwrap();
            json::render(&report, &mut Vec::new()).unwrap();
        });
    }
    assert_some_loaded(handshakes, 300, "all.pcapng");
}
