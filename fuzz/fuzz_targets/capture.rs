//! pcap and pcapng bytes through `analyze`: capture reading, TCP reassembly, record framing and
//! resynchronisation, decoding (decrypting TLS 1.3 with a key log on inputs of odd length),
//! signature checks, diagnosis and both renderers.
#![no_main]

use iotdoctor::diagnose::{Context, diagnose};
use iotdoctor::model::Target;
use iotdoctor::produce::analyze;
use iotdoctor::report::Report;
use iotdoctor_fuzz::{fixture_keys, render, scratch_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = scratch_file(data);
    // Without keys, application data bodies are skipped uncopied: a path of its own.
    let keys = (data.len() % 2 == 1).then(|| fixture_keys());
    let _ = analyze::analyze(path, keys, |pending| {
        let mut found = pending.decode();
        found.settle_signature_checks();
        let context = Context {
            observed: true,
            own_hello: vec![],
            insecure: false,
            ..Context::default()
        };
        let diagnosis = diagnose(&[], Some(&found.transcript), &context);
        let target = Target {
            endpoint: found.server.to_string(),
            sni: None,
            address: Some(found.server),
        };
        let report = Report::new("analyze", vec![], diagnosis).with_connection(
            target,
            found.transcript,
            false,
        );
        render(&report);
    });
});
