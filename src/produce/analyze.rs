//! Packet captures to transcripts: each TCP flow that opens with a ClientHello becomes one
//! transcript, decoded by the same [`Wire`] the live client uses.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use super::capture::{CaptureEvent, CaptureReader, Close, Dir};
use crate::credentials::chain::{self, ChainEnd};
use crate::credentials::inspect::{CertInfo, short_dn};
use crate::error::{Error, InputProblem};
use crate::transcript::decrypt::KeyLog;
use crate::transcript::wire::{DeferredChecks, Wire};
use crate::transcript::{
    CaptureSummary, CloseKind, Event, Handshake, Side, Transcript, What, names,
};

/// One TLS connection found in a capture.
#[derive(Debug)]
pub struct FlowHandshake {
    /// 1-based, in the order the flows started in the capture.
    pub flow: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Capture time of the flow's first packet, seconds since the Unix epoch.
    pub started: f64,
    pub transcript: Transcript,
    /// TLS 1.2 CertificateVerify checks still to run: see [`FlowHandshake::settle_signature_checks`].
    signature_checks: DeferredChecks,
}

impl FlowHandshake {
    /// Runs the CertificateVerify checks the decoder set aside (the ones the server did not
    /// accept) and records their verdicts in the transcript. Each is an elliptic-curve
    /// verification: the costly part of a handshake, left to the consumer so that it can run on
    /// another thread than the one reading the capture. Until then those events say "check
    /// deferred".
    pub fn settle_signature_checks(&mut self) {
        std::mem::take(&mut self.signature_checks).settle(&mut self.transcript.events);
    }
}

/// Reads the capture at `path` and hands over each TLS connection as soon as it ends, so memory
/// holds only the connections still open. The receiver must call
/// [`FlowHandshake::settle_signature_checks`] on each.
pub fn analyze(
    path: &Path,
    keys: Option<Arc<KeyLog>>,
    mut on_handshake: impl FnMut(FlowHandshake),
) -> Result<CaptureSummary, Error> {
    let reader = CaptureReader::open(path)
        .map_err(|e| Error::input(path, InputProblem::Unparsable(e.to_string())))?;
    let mut summary = CaptureSummary::default();
    let mut flows: HashMap<u64, Flow> = HashMap::new();
    let mut events_seen = false;
    // Visited rather than iterated: a segment's bytes go to the TLS decoder straight from the
    // packet, without a copy.
    let read = reader.visit(|event| {
        events_seen = true;
        match event {
            CaptureEvent::FlowStarted { flow, a, b, at, .. } => {
                summary.tcp_flows += 1;
                flows.insert(flow, Flow::new(a, b, at, keys.clone()));
            }
            CaptureEvent::Data {
                flow,
                dir,
                at,
                bytes,
            } => {
                if let Some(state) = flows.get_mut(&flow) {
                    state.data(dir, at, bytes);
                }
            }
            CaptureEvent::Gap {
                flow,
                dir,
                at,
                missing,
            } => {
                if let Some(state) = flows.get_mut(&flow) {
                    state.note(
                        dir,
                        at,
                        format!("{missing} bytes of this direction are missing from the capture"),
                    );
                }
            }
            CaptureEvent::Closed { flow, dir, at, how } => {
                if let Some(state) = flows.get_mut(&flow) {
                    state.closed(dir, at, how);
                }
            }
            CaptureEvent::FlowEnded { flow, .. } => {
                if let Some(state) = flows.remove(&flow)
                    && let Some(handshake) = state.finish(flow)
                {
                    summary.tls_flows += 1;
                    on_handshake(handshake);
                }
            }
            CaptureEvent::Note { message, .. } => summary.notes.push(message),
        }
    });
    match read {
        Ok(()) => {}
        // A damaged file: what came before the damage is still worth reporting.
        Err(e) if events_seen => summary.notes.push(format!("the capture stops early: {e}")),
        Err(e) => return Err(Error::input(path, InputProblem::Unparsable(e.to_string()))),
    }
    // Whatever the reader did not end (it ends every flow at the end of a good capture).
    let mut rest: Vec<(u64, Flow)> = flows.into_iter().collect();
    rest.sort_by_key(|(id, _)| *id);
    for (id, state) in rest {
        if let Some(handshake) = state.finish(id) {
            summary.tls_flows += 1;
            on_handshake(handshake);
        }
    }
    Ok(summary)
}

/// What a flow turned out to be.
enum Kind {
    /// No payload yet.
    Undecided,
    /// The first bytes were a ClientHello from the client side.
    Tls { client: Dir },
    /// Not TLS, or TLS whose handshake is not in the capture: ignored.
    Other,
}

struct Flow {
    a: SocketAddr,
    b: SocketAddr,
    start: f64,
    kind: Kind,
    /// The first bytes, kept until there are enough to recognise a ClientHello.
    prefix: Vec<u8>,
    wire: Wire,
    transcript: Transcript,
}

/// A ClientHello starts: handshake record (22), version 3.x, then handshake type 1.
const CLIENT_HELLO_PREFIX: usize = 6;

impl Flow {
    fn new(a: SocketAddr, b: SocketAddr, start: f64, keys: Option<Arc<KeyLog>>) -> Flow {
        let mut wire = match keys {
            Some(keys) => Wire::with_keys(keys),
            None => Wire::new(),
        };
        wire.defer_signature_checks();
        Flow {
            a,
            b,
            start,
            kind: Kind::Undecided,
            prefix: Vec::new(),
            wire,
            transcript: Transcript::default(),
        }
    }

    fn ms(&self, at: f64) -> f64 {
        ((at - self.start) * 1_000_000.0).round().max(0.0) / 1000.0
    }

    fn data(&mut self, dir: Dir, at: f64, bytes: &[u8]) {
        if let Kind::Undecided = self.kind {
            self.prefix.extend_from_slice(bytes);
            if self.prefix.len() < CLIENT_HELLO_PREFIX {
                return;
            }
            let p = &self.prefix;
            self.kind = if p[0] == 22 && p[1] == 3 && p[5] == 1 {
                Kind::Tls { client: dir }
            } else {
                Kind::Other
            };
            let prefix = std::mem::take(&mut self.prefix);
            if let Kind::Tls { .. } = self.kind {
                self.feed(dir, at, &prefix);
            }
            return;
        }
        if let Kind::Tls { .. } = self.kind {
            self.feed(dir, at, bytes);
        }
    }

    fn side(&self, dir: Dir) -> Side {
        match &self.kind {
            Kind::Tls { client } if *client == dir => Side::Client,
            _ => Side::Server,
        }
    }

    fn feed(&mut self, dir: Dir, at: f64, bytes: &[u8]) {
        let (side, at_ms) = (self.side(dir), self.ms(at));
        self.wire
            .feed_into(side, bytes, at_ms, &mut self.transcript.events);
    }

    fn note(&mut self, dir: Dir, at: f64, message: String) {
        if let Kind::Tls { .. } = self.kind {
            let (side, at_ms) = (self.side(dir), self.ms(at));
            self.transcript.push(at_ms, side, What::Note { message });
        }
    }

    fn closed(&mut self, dir: Dir, at: f64, how: Close) {
        if let Kind::Tls { .. } = self.kind {
            let how = match how {
                Close::Fin => CloseKind::Eof,
                Close::Rst => CloseKind::Reset,
            };
            let (side, at_ms) = (self.side(dir), self.ms(at));
            self.transcript.push(at_ms, side, What::Close { how });
        }
    }

    fn finish(mut self, flow: u64) -> Option<FlowHandshake> {
        let Kind::Tls { client } = self.kind else {
            return None;
        };
        let signature_checks = self.wire.take_deferred_checks();
        self.transcript.tls_version = self.wire.version().map(|v| names::version(v).to_string());
        self.transcript.cipher_suite = self
            .wire
            .cipher_suite()
            .map(|s| names::cipher_suite(s).to_string());
        let (client_addr, server_addr) = match client {
            Dir::AtoB => (self.a, self.b),
            Dir::BtoA => (self.b, self.a),
        };
        Some(FlowHandshake {
            // The reader counts from 0; people count from 1.
            flow: flow + 1,
            client: client_addr,
            server: server_addr,
            started: self.start,
            transcript: self.transcript,
            signature_checks,
        })
    }
}

/// Verifies the server chain a capture shows against `anchors`, at the time of the capture and
/// for the SNI the client sent, and records the verdict right after the server's Certificate,
/// as a client would have reached it.
pub fn verify_server_chain(found: &mut FlowHandshake, anchors: &[CertInfo]) {
    let events = &found.transcript.events;
    let Some(position) = events.iter().position(|e| {
        e.from == Side::Server
            && matches!(&e.what, What::Certificate { certificates, .. } if !certificates.is_empty())
    }) else {
        return;
    };
    let What::Certificate { certificates, .. } = &events[position].what else {
        return;
    };
    let sni = events.iter().find_map(|e| match &e.what {
        What::Handshake {
            message: Handshake::ClientHello { sni, .. },
            ..
        } => sni.clone(),
        _ => None,
    });
    let pool: Vec<&CertInfo> = certificates.iter().collect();
    let anchor_refs: Vec<&CertInfo> = anchors.iter().collect();
    let built = chain::build(&pool, 0, &anchor_refs);
    let now = found.started as i64;
    let leaf = &certificates[0];
    let (ok, problem, detail) = match built.end {
        ChainEnd::Trusted { anchor } => {
            let stale = built
                .path
                .iter()
                .map(|&i| pool[i])
                .find(|c| now < c.not_before.0 || now > c.not_after.0);
            match (stale, &sni) {
                (Some(cert), _) => (
                    false,
                    Some("expired"),
                    format!(
                        "'{}' was not valid at the time of the capture (valid {} to {})",
                        cert.short_name(),
                        cert.not_before.date(),
                        cert.not_after.date()
                    ),
                ),
                (None, Some(name)) if !covers(leaf, name) => (
                    false,
                    Some("name-mismatch"),
                    format!("'{}' does not cover the SNI '{name}'", leaf.short_name()),
                ),
                _ => (
                    true,
                    None,
                    format!(
                        "the server's chain verifies against --ca '{}'",
                        short_dn(&anchors[anchor].subject)
                    ),
                ),
            }
        }
        _ => (
            false,
            Some("unknown-issuer"),
            "unknown issuer: the server's chain does not lead to a CA given with --ca".to_string(),
        ),
    };
    let at_ms = events[position].at_ms;
    found.transcript.events.insert(
        position + 1,
        Event {
            at_ms,
            from: Side::Client,
            what: What::Verification {
                ok,
                detail,
                problem: problem.map(str::to_string),
            },
        },
    );
}

/// Whether a certificate covers a host name: its DNS subjectAltNames (one leading wildcard
/// label allowed) or, without any, its common name.
fn covers(cert: &CertInfo, name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let dns: Vec<String> = cert
        .subject_alt_names
        .iter()
        .filter_map(|san| san.strip_prefix("DNS:").map(str::to_ascii_lowercase))
        .collect();
    let matches = |pattern: &str| match pattern.strip_prefix("*.") {
        Some(suffix) => name
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == name,
    };
    if dns.is_empty() {
        matches(&cert.short_name().to_ascii_lowercase())
    } else {
        dns.iter().any(|pattern| matches(pattern))
    }
}
