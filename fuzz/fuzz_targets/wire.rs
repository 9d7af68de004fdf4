//! The record and handshake decoder ([`Wire`]) on both directions of a made-up connection, then
//! diagnosis and both renderers.
//!
//! Input: a first byte choosing the decoder (odd: with the fixture captures' TLS 1.3 secrets,
//! so that records can decrypt), then chunks, each a header byte and a 16-bit big-endian length
//! (cut to what is left) followed by that many bytes. Header bit 0: the side (0 client, 1
//! server); bit 1: the chunk is a hole in that side's stream of `length` bytes, as a capture
//! that lost packets reports it, and carries no bytes; bit 2: that side's stream ends after it.
//! `examples/wire_seeds.rs` writes the fixture captures in this form.
#![no_main]

use iotdoctor::decode::wire::Wire;
use iotdoctor::diagnose::{Context, diagnose};
use iotdoctor::model::{Side, Target, Transcript};
use iotdoctor::report::Report;
use iotdoctor_fuzz::{fixture_keys, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let mut wire = if mode & 1 == 1 {
        Wire::with_keys(fixture_keys())
    } else {
        Wire::new()
    };
    // As `analyze` does: the checks run after decoding, through `DeferredChecks::settle`.
    wire.defer_signature_checks();
    let mut events = Vec::new();
    let mut at_ms = 0.0;
    let mut ended = [false; 2];
    while let [header, hi, lo, tail @ ..] = rest {
        let side = if header & 1 == 0 {
            Side::Client
        } else {
            Side::Server
        };
        let index = usize::from(side == Side::Server);
        let length = usize::from(u16::from_be_bytes([*hi, *lo]));
        at_ms += 1.0;
        let (bytes, after) = if header & 2 == 2 {
            (None, tail)
        } else {
            let (bytes, after) = tail.split_at(length.min(tail.len()));
            (Some(bytes), after)
        };
        rest = after;
        // A stream that ended sends nothing more, as on a real connection.
        if ended[index] {
            continue;
        }
        match bytes {
            Some(bytes) => wire.feed_into(side, bytes, at_ms, &mut events),
            None => wire.gap_into(side, length as u64, at_ms, &mut events),
        }
        if header & 4 == 4 {
            ended[index] = true;
            wire.end_into(side, at_ms, &mut events);
        }
    }
    for (index, side) in [Side::Client, Side::Server].into_iter().enumerate() {
        if !ended[index] {
            wire.end_into(side, at_ms, &mut events);
        }
    }
    wire.take_deferred_checks().settle(&mut events);
    let transcript = Transcript {
        events,
        ..Transcript::default()
    };
    let diagnosis = diagnose(&[], Some(&transcript), &Context::default());
    let target = Target {
        endpoint: "127.0.0.1:8883".into(),
        sni: None,
        address: None,
    };
    let report =
        Report::new("connect", vec![], diagnosis).with_connection(target, transcript, false);
    render(&report);
});
