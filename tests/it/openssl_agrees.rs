//! iotdoctor's reading of the fixtures checked against the `openssl` command-line tool, an
//! independent implementation: same fingerprints and serials, same key/certificate pairing,
//! same chain verdicts.

use std::process::Command;

use crate::common::*;

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is installed (tests/run installs it)");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// What `openssl verify` says of `cert` with the fixture intermediate and root.
fn openssl_verify(cert: &str) -> (bool, String) {
    openssl(&[
        "verify",
        "-CAfile",
        &pki("root-ca.pem"),
        "-untrusted",
        &pki("intermediate-ca.pem"),
        cert,
    ])
}

/// `check-certs` on `cert` with the fixture intermediate, then `extra`.
fn check_with_intermediate(cert: &str, extra: &[&str]) -> serde_json::Value {
    let chain = pki("intermediate-ca.pem");
    let mut args = vec!["check-certs", "--cert", cert, "--chain", &chain];
    args.extend_from_slice(extra);
    iotdoctor_json(&args).1
}

const LEAVES: [&str; 12] = [
    "client-ec",
    "client-rsa",
    "client-expired",
    "client-not-yet-valid",
    "client-no-clientauth",
    "client-no-digsig",
    "client-ca-true",
    "client-v1",
    "client-sha1",
    "client-rsa1024",
    "client-secp256k1",
    "client-unrelated",
];

#[test]
fn fingerprints_and_serials_match_openssl() {
    for name in LEAVES {
        let cert = pki(&format!("{name}.pem"));
        let (_, text) = openssl(&[
            "x509",
            "-in",
            &cert,
            "-noout",
            "-fingerprint",
            "-sha256",
            "-serial",
        ]);
        let value_of = |name: &str| {
            text.lines()
                .find_map(|l| l.split_once(name))
                .unwrap_or_else(|| panic!("no {name} in {text}"))
                .1
                .trim()
                .to_string()
        };
        let (fingerprint, serial) = (value_of("Fingerprint="), value_of("serial="));

        let (_, report) = iotdoctor_json(&["check-certs", "--cert", &cert]);
        let leaf = &report["credentials"]["certificates"][0];
        assert_eq!(leaf["sha256"], fingerprint, "{name}");
        assert_eq!(
            leaf["serial"].as_str().unwrap().replace(':', ""),
            serial,
            "{name}"
        );
    }
}

#[test]
fn key_pairing_matches_openssl() {
    let public_key = |args: &[&str]| openssl(args).1;
    for (cert, key) in [
        ("client-ec.pem", "client-ec.key"),
        ("client-ec.pem", "stranger.key"),
        ("client-ec.pem", "client-rsa.key"),
        ("client-rsa.pem", "client-rsa-pkcs1.key"),
        ("client-rsa1024.pem", "client-rsa1024.key"),
        ("client-secp256k1.pem", "client-secp256k1.key"),
        ("client-secp256k1.pem", "client-ec.key"),
    ] {
        let openssl_says = public_key(&["x509", "-in", &pki(cert), "-noout", "-pubkey"])
            == public_key(&["pkey", "-in", &pki(key), "-pubout"]);
        let (_, report) =
            iotdoctor_json(&["check-certs", "--cert", &pki(cert), "--key", &pki(key)]);
        let we_say = report["credentials"]["key"]["matches_certificate"] == "matches";
        assert_eq!(we_say, openssl_says, "{cert} + {key}");
    }
}

#[test]
fn chain_verdicts_match_openssl_verify() {
    for name in [
        "client-ec",
        "client-rsa",
        "client-unrelated",
        "client-no-clientauth",
    ] {
        let cert = pki(&format!("{name}.pem"));
        let (openssl_ok, _) = openssl_verify(&cert);
        let report = check_with_intermediate(&cert, &["--ca", &pki("root-ca.pem")]);
        let trusted = report["credentials"]["chain"]["status"] == "trusted";
        assert_eq!(trusted, openssl_ok, "{name}");
    }
    // Expiry: openssl verify fails on dates, iotdoctor builds the chain and reports the dates.
    for name in ["client-expired", "client-not-yet-valid"] {
        let cert = pki(&format!("{name}.pem"));
        let (openssl_ok, text) = openssl_verify(&cert);
        assert!(!openssl_ok, "{text}");
        let report = check_with_intermediate(&cert, &[]);
        assert_eq!(top_cause(&report), Some("client-cert-expired"), "{name}");
    }
}
