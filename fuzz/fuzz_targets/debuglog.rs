//! Debug log bytes through what `explain --log` does: the line reader of every stack (wolfSSL,
//! mbedTLS, OpenSSL, GnuTLS, console prefixes, socket errors), the log diagnosis and both
//! renderers.
#![no_main]

use iotdoctor::debuglog;
use iotdoctor::diagnose;
use iotdoctor::report::Report;
use iotdoctor_fuzz::render;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let log = debuglog::read(data, "fuzz.log").expect("reading from memory cannot fail");
    // `explain --log` stops with an input error on a log with no recognised line.
    if log.events.is_empty() {
        return;
    }
    let diagnosis = diagnose::log::diagnose(&log);
    render(&Report::new("explain", vec![], diagnosis).with_log(log));
});
