//! Credential file bytes (PEM, DER, PKCS#12, encrypted PKCS#8) through what `check-certs` does:
//! loading as a certificate file and as a key file, the offline checks, diagnosis and both
//! renderers. Mirrors the deterministic mutations of `tests/hostile_bytes.rs`, unguided there.
#![no_main]

use iotdoctor::credentials::checks::{CheckOptions, check};
use iotdoctor::credentials::load;
use iotdoctor::credentials::{Credentials, LoadRequest};
use iotdoctor::diagnose::diagnose;
use iotdoctor::report::Report;
use iotdoctor_fuzz::{FixturePassword, fixture, render, scratch_file};
use libfuzzer_sys::fuzz_target;

fn exercise(request: &LoadRequest) {
    let Ok(creds) = Credentials::load(request, &FixturePassword) else {
        return;
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
    render(&Report::new("check-certs", findings, diagnosis).with_credentials(summary));
}

fuzz_target!(|data: &[u8]| {
    let path = scratch_file(data);
    // `--p12`: read as a bundle whatever it looks like.
    let _ = load::read_pkcs12(path, data, &FixturePassword);
    // `--cert FILE --ca root-ca.pem`: the file as the device's certificate (and key) file.
    exercise(&LoadRequest {
        cert: Some(path.to_path_buf()),
        cas: vec![fixture("pki/root-ca.pem")],
        ..Default::default()
    });
    // `--cert client-ec.pem --key FILE`: the file as the key of a good certificate.
    exercise(&LoadRequest {
        cert: Some(fixture("pki/client-ec.pem")),
        key: Some(path.to_path_buf()),
        ..Default::default()
    });
    // `--ca FILE`: the file as the CA the device chains to.
    exercise(&LoadRequest {
        cert: Some(fixture("pki/client-ec-chain.pem")),
        key: Some(fixture("pki/client-ec.key")),
        cas: vec![path.to_path_buf()],
        ..Default::default()
    });
});
