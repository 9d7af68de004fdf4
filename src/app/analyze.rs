//! `analyze`: every TLS handshake of a capture, diagnosed and written as it is found.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::TrySendError;

use super::credentials::read_cas;
use super::output::report_write_error;
use crate::credentials::aws_iot;
use crate::credentials::inspect::CertInfo;
use crate::decode::decrypt::KeyLog;
use crate::diagnose::{self, Context, Diagnosis};
use crate::error::{Error, InputProblem};
use crate::produce::analyze;
use crate::report::capture::{CaptureWriter, RenderedHandshake};
use crate::report::{HandshakeReport, Outcome, Report};

/// What `analyze` reads.
#[derive(Debug, Clone)]
pub struct Options {
    /// The pcap or pcapng file.
    pub capture: PathBuf,
    /// The NSS key log that decrypts TLS 1.3 handshakes.
    pub keylog: Option<PathBuf>,
    /// CAs to verify the server chains against.
    pub ca: Vec<PathBuf>,
    /// Only this flow's handshakes.
    pub flow: Option<u64>,
}

/// A handshake as the decoding thread hands it to the writing one.
enum Handoff {
    /// Decoded, to be diagnosed by the writing thread.
    Found(analyze::FlowHandshake),
    /// Diagnosed by the decoding thread already (text reports).
    Diagnosed(HandshakeReport),
    /// Diagnosed and serialised by the decoding thread already (JSON reports).
    Rendered(std::io::Result<RenderedHandshake>),
}

/// Handshakes handed from one thread to the next at a time. Two batches may wait
/// in the channel, so at most about three batches are decoded ahead of the one being written.
const HANDOFF: usize = 64;

/// Writes each handshake to `writer` as it is found, and returns the report of the whole capture.
pub fn run(options: &Options, writer: &mut CaptureWriter<'_>) -> Result<Report, Error> {
    let mut keylog_note = None;
    let keys = match &options.keylog {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::input(path, InputProblem::Unreadable(e)))?;
            let keys = KeyLog::parse(&text);
            // A key log of comments only is what OpenSSL leaves when no handshake got as far
            // as its first secret: analyse without keys, and say so.
            let only_comments = text
                .lines()
                .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'));
            if keys.is_empty() && only_comments {
                keylog_note = Some(format!(
                    "the key log {} holds no secrets (a client writes them only once a handshake gets far enough): analysed without keys",
                    path.display()
                ));
                None
            } else if keys.is_empty() {
                return Err(Error::input(
                    path,
                    InputProblem::WrongKind {
                        expected: "an NSS key log (SSLKEYLOGFILE)",
                        found: "no TLS secrets".into(),
                    },
                ));
            } else {
                Some(Arc::new(keys))
            }
        }
        None => None,
    };
    let anchors = read_cas(&options.ca, &[])?;

    // Three stages, one thread each, in a pipeline: a reading thread reads the capture,
    // reassembles TCP and keeps what each TLS flow's decoder needs; a decoding thread decodes
    // each flow when it ends; this thread checks the deferred signatures, verifies server
    // chains, diagnoses and writes. Decoding is the cheapest stage, so when this thread falls
    // behind (the channel is full) the decoding thread takes its batch all the way, up to the
    // text of the JSON report: the two threads share the costliest work whichever it is
    // (signatures, serialising). The channels are FIFO with one consumer each, so handshakes
    // come out in capture order; they are bounded, so memory stays bounded whichever stage is
    // slower.
    let json = writer.writes_transcripts();
    let stack = writer.stack();
    let finish = |mut found: analyze::FlowHandshake| {
        found.settle_signature_checks();
        if !anchors.is_empty() {
            analyze::verify_server_chain(&mut found, &anchors);
        }
        diagnose_handshake(found, &anchors).for_stack(stack)
    };
    let mut shown = 0u64;
    let mut write_error = None;
    let mut summary = std::thread::scope(|scope| {
        let (send_read, receive_read) = std::sync::mpsc::sync_channel::<Vec<_>>(2);
        let (send_decoded, receive_decoded) = std::sync::mpsc::sync_channel::<Vec<Handoff>>(2);
        let reader = scope.spawn(move || {
            // Handed over in batches: one per handshake would wake the next thread for each.
            let mut batch = Vec::with_capacity(HANDOFF);
            let summary = analyze::analyze(&options.capture, keys, |pending| {
                if options.flow.is_none_or(|n| n == pending.flow()) {
                    batch.push(pending);
                    if batch.len() == HANDOFF {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(HANDOFF));
                        // Only fails when the next thread is gone (unwinding).
                        let _ = send_read.send(full);
                    }
                }
            });
            let _ = send_read.send(batch);
            summary
        });
        let decoder = scope.spawn(move || {
            for batch in receive_read {
                let decoded: Vec<Handoff> = batch
                    .into_iter()
                    .map(|pending| Handoff::Found(pending.decode()))
                    .collect();
                let decoded = match send_decoded.try_send(decoded) {
                    Ok(()) => continue,
                    Err(TrySendError::Disconnected(_)) => break,
                    Err(TrySendError::Full(decoded)) => decoded
                        .into_iter()
                        .map(|handoff| match handoff {
                            Handoff::Found(found) if json => {
                                Handoff::Rendered(RenderedHandshake::json(&finish(found)))
                            }
                            Handoff::Found(found) => Handoff::Diagnosed(finish(found)),
                            other => other,
                        })
                        .collect(),
                };
                if send_decoded.send(decoded).is_err() {
                    break;
                }
            }
        });
        for handoff in receive_decoded.into_iter().flatten() {
            if write_error.is_some() {
                continue;
            }
            shown += 1;
            write_error = match handoff {
                Handoff::Found(found) => writer.handshake(finish(found)).err(),
                Handoff::Diagnosed(report) => writer.handshake(report).err(),
                Handoff::Rendered(rendered) => rendered.and_then(|r| writer.rendered(r)).err(),
            };
        }
        decoder
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    if let Some(n) = options.flow
        && shown == 0
    {
        return Err(Error::Usage(format!(
            "--flow {n}: the capture has no TLS handshake on flow {n}"
        )));
    }
    report_write_error(write_error.map_or(Ok(()), Err));
    summary.notes.extend(keylog_note);
    Ok(Report::new("analyze", vec![], Diagnosis::default()).with_capture(summary, writer.failed()))
}

fn diagnose_handshake(found: analyze::FlowHandshake, anchors: &[CertInfo]) -> HandshakeReport {
    let sni = found.transcript.sni().map(str::to_string);
    let alpn_offered = found.transcript.alpn_offered();
    let context = Context {
        server_name: sni.clone(),
        trusted_cas: anchors.iter().map(|a| a.subject.clone()).collect(),
        alpn_offered,
        at: Some(found.started as i64),
        aws_iot: sni.as_deref().is_some_and(aws_iot::is_endpoint),
        observed: true,
        own_hello: vec![],
        insecure: false,
    };
    let diagnosis = diagnose::diagnose(&[], Some(&found.transcript), &context);
    let outcome = if diagnosis.causes.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Problems
    };
    HandshakeReport {
        flow: found.flow,
        client: found.client,
        server: found.server,
        sni,
        outcome,
        transcript: found.transcript,
        diagnosis,
    }
}
