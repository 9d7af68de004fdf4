//! Packet captures to transcripts: each TCP flow that opens with a ClientHello becomes one
//! transcript, decoded by the same [`Wire`] the live client uses.
//!
//! In two steps, which may run on two threads: reading the capture keeps, for each TLS flow,
//! the bytes the decoder will look at (everything but the bodies of application_data records,
//! which without keys are only counted) and hands the flow over as a [`PendingFlow`] when it
//! ends; [`PendingFlow::decode`] then makes its transcript.
//!
//! Where the capture lost bytes of a direction across a record boundary, the framer looks for
//! where records start again ([`resync::record_start`]) and tells the decoder, which decodes
//! nothing of that direction until then.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use super::capture::{CaptureEvent, CaptureReader, Close, Dir};
use crate::credentials::chain::{self, ChainEnd};
use crate::credentials::inspect::{CertInfo, short_dn};
use crate::error::{Error, InputProblem};
use crate::transcript::decrypt::KeyLog;
use crate::transcript::resync::{self, RecordStart};
use crate::transcript::wire::{self, DeferredChecks, Wire};
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
/// holds only the connections still open. The receiver decodes each with
/// [`PendingFlow::decode`], then calls [`FlowHandshake::settle_signature_checks`] on it.
pub fn analyze(
    path: &Path,
    keys: Option<Arc<KeyLog>>,
    on_handshake: impl FnMut(PendingFlow),
) -> Result<CaptureSummary, Error> {
    // With keys, application data may be decrypted: every byte is kept.
    let skip = keys.is_none();
    read(path, keys, skip, on_handshake)
}

/// [`analyze`], saying whether application_data record bodies are left out of the flows.
fn read(
    path: &Path,
    keys: Option<Arc<KeyLog>>,
    skip_application_data: bool,
    mut on_handshake: impl FnMut(PendingFlow),
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
                flows.insert(
                    flow,
                    Flow::new(a, b, at, keys.clone(), skip_application_data),
                );
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
                    state.gap(dir, at, missing);
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

/// A flow while the capture is read.
struct Flow {
    a: SocketAddr,
    b: SocketAddr,
    start: f64,
    kind: Kind,
    /// The first bytes, kept until there are enough to recognise a ClientHello.
    prefix: Vec<u8>,
    keys: Option<Arc<KeyLog>>,
    /// Record framing of each direction, indexed by [`Dir::index`].
    framers: [Framer; 2],
    replay: Replay,
}

/// A ClientHello starts: handshake record (22), version 3.x, then handshake type 1.
const CLIENT_HELLO_PREFIX: usize = 6;

impl Flow {
    fn new(
        a: SocketAddr,
        b: SocketAddr,
        start: f64,
        keys: Option<Arc<KeyLog>>,
        skip_application_data: bool,
    ) -> Flow {
        let framer = Framer {
            skip_application_data,
            ..Framer::default()
        };
        Flow {
            a,
            b,
            start,
            kind: Kind::Undecided,
            prefix: Vec::new(),
            keys,
            framers: [framer.clone(), framer],
            replay: Replay::default(),
        }
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
                self.framers[dir.index()].frame(dir, at, &prefix, &mut self.replay);
            }
            return;
        }
        if let Kind::Tls { .. } = self.kind {
            self.framers[dir.index()].frame(dir, at, bytes, &mut self.replay);
        }
    }

    fn gap(&mut self, dir: Dir, at: f64, missing: u64) {
        match self.kind {
            Kind::Tls { .. } => self.framers[dir.index()].gap(dir, at, missing, &mut self.replay),
            // Bytes missing before the first ones were recognised: they cannot be.
            Kind::Undecided => self.kind = Kind::Other,
            Kind::Other => {}
        }
    }

    fn closed(&mut self, dir: Dir, at: f64, how: Close) {
        if let Kind::Tls { .. } = self.kind {
            self.framers[dir.index()].end(dir, at, &mut self.replay);
            self.replay.steps.push(Step::Closed { dir, at, how });
        }
    }

    fn finish(mut self, flow: u64) -> Option<PendingFlow> {
        let Kind::Tls { client } = self.kind else {
            return None;
        };
        for dir in [Dir::AtoB, Dir::BtoA] {
            let at = self.framers[dir.index()].last_at;
            self.framers[dir.index()].end(dir, at, &mut self.replay);
        }
        Some(PendingFlow {
            flow,
            a: self.a,
            b: self.b,
            start: self.start,
            client,
            keys: self.keys,
            replay: self.replay,
        })
    }
}

/// What a TLS flow showed, in capture order, for the decoder to go through again: the bytes it
/// decodes, and what it skips, counts or notes.
#[derive(Debug, Default)]
struct Replay {
    /// The bytes of all `Bytes` steps, one after the other.
    bytes: Vec<u8>,
    steps: Vec<Step>,
}

#[derive(Debug)]
enum Step {
    /// The next `len` bytes of [`Replay::bytes`], sent in direction `dir`.
    Bytes {
        dir: Dir,
        at: f64,
        len: usize,
    },
    /// `len` bytes of application_data record bodies.
    Skip {
        dir: Dir,
        at: f64,
        len: usize,
    },
    Gap {
        dir: Dir,
        at: f64,
        missing: u64,
    },
    /// `len` bytes after lost framing that start no record: not kept.
    PassOver {
        dir: Dir,
        len: usize,
    },
    /// After lost framing, a record starts with the next bytes of `dir`.
    Resume {
        dir: Dir,
        at: f64,
    },
    Closed {
        dir: Dir,
        at: f64,
        how: Close,
    },
}

/// Follows the TLS records of one direction, as the decoder will, to tell the bodies of
/// application_data records (skipped) from everything else (kept). Once the bytes stop looking
/// like TLS records, the decoder stops decoding them, and everything is kept (it shows the
/// first of them).
///
/// When bytes go missing across a record boundary, or stop looking like records after records
/// were seen, the framing is lost: the framer holds the bytes that follow until it finds where
/// records start again, passes over the ones before, and resumes there, telling the decoder,
/// which loses its framing at the same byte for the same reasons.
#[derive(Debug, Clone, Default)]
struct Framer {
    skip_application_data: bool,
    /// The header of the current record, as far as it has arrived.
    header: [u8; wire::RECORD_HEADER],
    have: usize,
    /// Body bytes of the current record still to come.
    body_left: usize,
    /// The current record's body is skipped.
    skipping: bool,
    not_tls: bool,
    /// A whole record was framed, or bytes went missing: bytes that then start no record mean
    /// the framing was lost, not that this side does not speak TLS.
    tls_seen: bool,
    /// The framing is lost: looking for the next record. Boxed: every open flow has two
    /// framers, and hardly any ever searches.
    search: Option<Box<Search>>,
    /// The capture time of the last bytes or gap of this direction.
    last_at: f64,
}

/// How far [`Framer`] looks for a record after lost framing before it gives up on the
/// direction: records are at most about 16 KiB, so one starts well within this.
const SEARCH_LIMIT: usize = 64 * 1024;

/// The bytes of a direction since its framing was lost, not yet ruled out as the start of the
/// next record.
#[derive(Debug, Clone, Default)]
struct Search {
    held: Vec<u8>,
    /// Where each piece of `held` starts, and its capture time.
    pieces: Vec<(usize, f64)>,
    /// Bytes ruled out so far.
    passed: usize,
    /// The bytes searched are kept for the decoder too.
    keep: bool,
    /// Nothing like a record within [`SEARCH_LIMIT`] bytes: the rest of the direction is dropped.
    given_up: bool,
}

impl Search {
    fn hold(&mut self, bytes: &[u8], at: f64) {
        if !bytes.is_empty() {
            self.pieces.push((self.held.len(), at));
            self.held.extend_from_slice(bytes);
        }
    }

    /// Drops the first `n` held bytes, ruled out.
    fn pass(&mut self, n: usize) {
        self.held.drain(..n);
        self.passed += n;
        let first_kept = self.pieces.partition_point(|&(start, _)| start <= n);
        self.pieces.drain(..first_kept.saturating_sub(1));
        for (start, _) in &mut self.pieces {
            *start = start.saturating_sub(n);
        }
    }

    /// The held bytes from `from` on, piece by piece with their capture times.
    fn pieces_from(&self, from: usize) -> impl Iterator<Item = (&[u8], f64)> {
        self.pieces
            .iter()
            .enumerate()
            .filter_map(move |(i, &(start, at))| {
                let end = self
                    .pieces
                    .get(i + 1)
                    .map_or(self.held.len(), |&(next, _)| next);
                let start = start.max(from);
                (start < end).then(|| (&self.held[start..end], at))
            })
    }
}

impl Framer {
    fn frame(&mut self, dir: Dir, at: f64, bytes: &[u8], replay: &mut Replay) {
        self.last_at = at;
        if let Some(lost_at) = self.frame_records(dir, at, bytes, replay) {
            self.search_through(dir, vec![(bytes[lost_at..].to_vec(), at)], replay);
        }
    }

    /// Frames records, keeping and skipping bytes; returns where the framing was lost (or
    /// `Some(0)` when it already was): the bytes from there on are for the search.
    fn frame_records(
        &mut self,
        dir: Dir,
        at: f64,
        bytes: &[u8],
        replay: &mut Replay,
    ) -> Option<usize> {
        if self.search.is_some() {
            return Some(0);
        }
        // The start of the bytes not yet handed to `replay`.
        let mut kept = 0;
        let mut i = 0;
        while i < bytes.len() && !self.not_tls {
            if self.body_left > 0 {
                let n = self.body_left.min(bytes.len() - i);
                if self.skipping {
                    replay.keep(dir, at, &bytes[kept..i]);
                    replay.skip(dir, at, n);
                    kept = i + n;
                }
                self.body_left -= n;
                i += n;
                if self.body_left == 0 {
                    self.record_done();
                }
                continue;
            }
            self.header[self.have] = bytes[i];
            self.have += 1;
            i += 1;
            if !wire::record_header_plausible(&self.header[..self.have]) {
                // The decoder sees the same bytes up to this one: it loses its framing too, or,
                // at the start of the stream, takes the side for "not TLS" unless the capture
                // lost bytes of it and records start again.
                replay.keep(dir, at, &bytes[kept..i]);
                self.not_tls = !self.tls_seen;
                self.lose_framing(at);
                return Some(i);
            } else if self.have == wire::RECORD_HEADER {
                let length = u16::from_be_bytes([self.header[3], self.header[4]]);
                self.body_left = usize::from(length);
                self.skipping =
                    self.skip_application_data && self.header[0] == wire::APPLICATION_DATA;
                if self.body_left == 0 {
                    self.record_done();
                }
            }
        }
        replay.keep(dir, at, &bytes[kept..]);
        None
    }

    fn record_done(&mut self) {
        self.have = 0;
        self.tls_seen = true;
    }

    /// Bytes that start no record: a search begins. At the start of the stream (`not_tls`) the
    /// bytes are kept too: the decoder shows the first of them when the side is not TLS.
    fn lose_framing(&mut self, at: f64) {
        let mut search = Search {
            keep: self.not_tls,
            ..Search::default()
        };
        // The header bytes seen so far may hold the start of the next record but at their first.
        search.hold(&self.header[..self.have], at);
        self.have = 0;
        self.search = Some(Box::new(search));
    }

    /// Feeds pieces of bytes to the search, or to the framing once it has resumed, until all
    /// are taken. A loop rather than recursion: hostile bytes may lose and find the framing
    /// again many times in one packet.
    fn search_through(&mut self, dir: Dir, pieces: Vec<(Vec<u8>, f64)>, replay: &mut Replay) {
        let mut queue = std::collections::VecDeque::from(pieces);
        while let Some((bytes, at)) = queue.pop_front() {
            match self.frame_records(dir, at, &bytes, replay) {
                None => {}
                Some(lost_at) => {
                    if let Some(resumed) = self.search_on(dir, at, &bytes[lost_at..], false, replay)
                    {
                        for piece in resumed.into_iter().rev() {
                            queue.push_front(piece);
                        }
                    }
                }
            }
        }
    }

    /// `missing` bytes of this direction are not in the capture.
    fn gap(&mut self, dir: Dir, at: f64, missing: u64, replay: &mut Replay) {
        self.end(dir, at, replay);
        replay.steps.push(Step::Gap { dir, at, missing });
        self.tls_seen = true;
        let inside_record = self.search.is_none()
            && self.have == wire::RECORD_HEADER
            && missing <= self.body_left as u64;
        if inside_record {
            // The decoder counts the rest of the record; the next starts right after it.
            self.body_left -= missing as usize;
            if self.body_left == 0 {
                self.record_done();
            }
        } else {
            self.have = 0;
            self.body_left = 0;
            self.search = Some(Box::default());
        }
    }

    /// No bytes follow those seen, for now (a gap) or for good: a held record that ends
    /// exactly with them is taken, the rest passed over.
    fn end(&mut self, dir: Dir, at: f64, replay: &mut Replay) {
        self.last_at = at;
        while self
            .search
            .as_ref()
            .is_some_and(|search| !search.given_up && !search.held.is_empty())
        {
            if let Some(resumed) = self.search_on(dir, at, &[], true, replay) {
                self.search_through(dir, resumed, replay);
            }
        }
    }

    /// Adds bytes to the search. Once a record start is found, says so in `replay` and returns
    /// the held bytes from there on, with their capture times, for framing.
    fn search_on(
        &mut self,
        dir: Dir,
        at: f64,
        bytes: &[u8],
        complete: bool,
        replay: &mut Replay,
    ) -> Option<Vec<(Vec<u8>, f64)>> {
        let search = self.search.as_mut()?;
        if search.given_up {
            return None;
        }
        if search.keep {
            replay.keep(dir, at, bytes);
        }
        search.hold(bytes, at);
        match resync::record_start(&search.held, complete) {
            RecordStart::At(start) => {
                replay.pass_over(dir, start);
                replay.steps.push(Step::Resume { dir, at });
                self.not_tls = false;
                let search = self.search.take()?;
                Some(
                    search
                        .pieces_from(start)
                        .map(|(piece, piece_at)| (piece.to_vec(), piece_at))
                        .collect(),
                )
            }
            RecordStart::NotBefore(start) => {
                replay.pass_over(dir, start);
                search.pass(start);
                if search.passed >= SEARCH_LIMIT || complete {
                    replay.pass_over(dir, search.held.len());
                    **search = Search {
                        given_up: search.passed >= SEARCH_LIMIT,
                        ..Search::default()
                    };
                }
                None
            }
        }
    }
}

impl Replay {
    fn keep(&mut self, dir: Dir, at: f64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.bytes.extend_from_slice(bytes);
        // Bytes right after the last ones kept, from the same packet: one step, so that the
        // decoder sees them in one piece (a "not TLS" preview shows the bytes after the first).
        if let Some(Step::Bytes {
            dir: last_dir,
            at: last_at,
            len,
        }) = self.steps.last_mut()
            && *last_dir == dir
            && *last_at == at
        {
            *len += bytes.len();
            return;
        }
        self.steps.push(Step::Bytes {
            dir,
            at,
            len: bytes.len(),
        });
    }

    fn skip(&mut self, dir: Dir, at: f64, len: usize) {
        if len > 0 {
            self.steps.push(Step::Skip { dir, at, len });
        }
    }

    fn pass_over(&mut self, dir: Dir, len: usize) {
        if len > 0 {
            self.steps.push(Step::PassOver { dir, len });
        }
    }

    /// The directions that lost bytes and where records were found again after bytes that
    /// start none: see [`Wire::resumes_after_damage`].
    fn resumed_after_loss(&self) -> Vec<Dir> {
        let (mut lost, mut resumed) = ([false; 2], [false; 2]);
        for step in &self.steps {
            match step {
                Step::Gap { dir, .. } => lost[dir.index()] = true,
                Step::Resume { dir, .. } => resumed[dir.index()] = true,
                _ => {}
            }
        }
        [Dir::AtoB, Dir::BtoA]
            .into_iter()
            .filter(|dir| lost[dir.index()] && resumed[dir.index()])
            .collect()
    }
}

/// A TLS flow of the capture, read but not yet decoded.
#[derive(Debug)]
pub struct PendingFlow {
    /// As the capture reader counts, from 0.
    flow: u64,
    a: SocketAddr,
    b: SocketAddr,
    start: f64,
    client: Dir,
    keys: Option<Arc<KeyLog>>,
    replay: Replay,
}

impl PendingFlow {
    /// 1-based, in the order the flows started in the capture (as [`FlowHandshake::flow`]).
    pub fn flow(&self) -> u64 {
        self.flow + 1
    }

    /// Decodes the flow's TLS into its transcript.
    pub fn decode(self) -> FlowHandshake {
        let mut wire = match self.keys {
            Some(keys) => Wire::with_keys(keys),
            None => Wire::new(),
        };
        wire.defer_signature_checks();
        let mut transcript = Transcript::default();
        let side = |dir: Dir| {
            if dir == self.client {
                Side::Client
            } else {
                Side::Server
            }
        };
        for dir in self.replay.resumed_after_loss() {
            wire.resumes_after_damage(side(dir));
        }
        let ms = |at: f64| ((at - self.start) * 1_000_000.0).round().max(0.0) / 1000.0;
        let mut offset = 0;
        for step in self.replay.steps {
            match step {
                Step::Bytes { dir, at, len } => {
                    let bytes = &self.replay.bytes[offset..offset + len];
                    offset += len;
                    wire.feed_into(side(dir), bytes, ms(at), &mut transcript.events);
                }
                Step::Skip { dir, at, len } => {
                    wire.skip_into(side(dir), len, ms(at), &mut transcript.events);
                }
                Step::Gap { dir, at, missing } => {
                    wire.gap_into(side(dir), missing, ms(at), &mut transcript.events);
                }
                Step::PassOver { dir, len } => wire.pass_over(side(dir), len as u64),
                Step::Resume { dir, at } => {
                    wire.resume_into(side(dir), ms(at), &mut transcript.events);
                }
                Step::Closed { dir, at, how } => {
                    wire.end_into(side(dir), ms(at), &mut transcript.events);
                    let how = match how {
                        Close::Fin => CloseKind::Eof,
                        Close::Rst => CloseKind::Reset,
                    };
                    transcript.push(ms(at), side(dir), What::Close { how });
                }
            }
        }
        let end = transcript.events.last().map_or(0.0, |e| e.at_ms);
        for side in [Side::Client, Side::Server] {
            wire.end_into(side, end, &mut transcript.events);
        }
        let signature_checks = wire.take_deferred_checks();
        transcript.tls_version = wire.version().map(|v| names::version(v).to_string());
        transcript.cipher_suite = wire
            .cipher_suite()
            .map(|s| names::cipher_suite(s).to_string());
        let (client, server) = match self.client {
            Dir::AtoB => (self.a, self.b),
            Dir::BtoA => (self.b, self.a),
        };
        FlowHandshake {
            // The reader counts from 0; people count from 1.
            flow: self.flow + 1,
            client,
            server,
            started: self.start,
            transcript,
            signature_checks,
        }
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
                (None, Some(name)) if !leaf.covers(name) => (
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every flow of `path`, decoded, as JSON: the whole transcript and the addresses.
    fn decoded(path: &Path, skip: bool) -> Vec<String> {
        let mut flows = Vec::new();
        read(path, None, skip, |pending| {
            let found = pending.decode();
            flows.push(format!(
                "{} {} {} {}",
                found.flow,
                found.client,
                found.server,
                serde_json::to_string(&found.transcript).expect("json")
            ));
        })
        .expect("capture reads");
        flows
    }

    #[test]
    fn skipping_application_data_changes_no_transcript() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pcaps");
        let mut captures = 0;
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("fixture").path();
            if !path
                .extension()
                .is_some_and(|e| e == "pcap" || e == "pcapng")
            {
                continue;
            }
            captures += 1;
            let kept = decoded(&path, false);
            assert!(
                !kept.is_empty() || path.ends_with("not-tls.pcap"),
                "{path:?}"
            );
            assert_eq!(decoded(&path, true), kept, "{path:?}");
        }
        assert!(captures >= 10);
    }

    /// A client and a server exchanging records of every type, application data among them,
    /// cut into pieces at random, some of them lost from the capture, then bytes that are not
    /// TLS: the same transcript whether the application data bodies are kept or skipped.
    #[test]
    fn skipping_application_data_in_any_chunking() {
        let a: SocketAddr = "10.0.0.1:40000".parse().expect("address");
        let b: SocketAddr = "10.0.0.2:443".parse().expect("address");
        let record = |content_type: u8, body: &[u8]| {
            let mut r = vec![content_type, 3, 3];
            r.extend_from_slice(&(body.len() as u16).to_be_bytes());
            r.extend_from_slice(body);
            r
        };
        let mut client = record(22, &[1, 0, 0, 2, 3, 3]);
        let mut server = record(22, &[2, 0, 0, 1, 9]);
        for n in [0usize, 1, 5, 300, 17000] {
            client.extend(record(23, &vec![0xAB; n]));
            server.extend(record(20, &[1]));
            server.extend(record(23, &vec![0xCD; n / 2]));
            client.extend(record(21, &[2, 40]));
        }
        // A cut header, then bytes that are not a record header.
        server.extend([23, 3, 3, 0]);
        server.extend(b"HTTP/1.1 400 Bad Request\r\n".iter());
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut random = |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below as u64) as usize
        };
        for _ in 0..200 {
            // Some rounds the server's stream starts with bytes that are no record (as a
            // packet with bytes cut out of it would leave it).
            let junk = random(5) == 0;
            let server = if junk {
                [&[0x99, 0x98, 0x97][..], &server].concat()
            } else {
                server.clone()
            };
            // The ClientHello's start comes first, so that the flow is taken for TLS.
            let mut chunks = vec![(Dir::AtoB, client[..6].to_vec())];
            let (mut c, mut s) = (6, 0);
            while c < client.len() || s < server.len() {
                let from_client = s == server.len() || (c < client.len() && random(2) == 0);
                let (stream, at, dir) = if from_client {
                    (&client, &mut c, Dir::AtoB)
                } else {
                    (&server, &mut s, Dir::BtoA)
                };
                let most = if random(4) == 0 { 20_000 } else { 12 };
                let n = (1 + random(most)).min(stream.len() - *at);
                chunks.push((dir, stream[*at..*at + n].to_vec()));
                *at += n;
            }
            // Every few rounds some pieces go missing (never the first: it makes the flow TLS).
            let lossy = random(3) == 0;
            let lost: Vec<bool> = (0..chunks.len())
                .map(|i| lossy && i > 0 && random(6) == 0)
                .collect();
            let transcript = |skip: bool| {
                let mut flow = Flow::new(a, b, 0.0, None, skip);
                for (i, (dir, bytes)) in chunks.iter().enumerate() {
                    let at = i as f64 / 1000.0;
                    if lost[i] {
                        flow.gap(*dir, at, bytes.len() as u64);
                    } else {
                        flow.data(*dir, at, bytes);
                    }
                }
                flow.closed(Dir::AtoB, 1.0, Close::Fin);
                let pending = flow.finish(0).expect("a TLS flow");
                let kept = pending.replay.bytes.len();
                let found = pending.decode();
                (
                    serde_json::to_string(&found.transcript).expect("json"),
                    kept,
                )
            };
            let (skipping, kept_skipping) = transcript(true);
            let (keeping, kept_keeping) = transcript(false);
            assert_eq!(skipping, keeping);
            // Bytes that stop looking like records after records are damage, not "not TLS";
            // at the start of the stream they are, unless bytes went missing.
            let server_lost = chunks
                .iter()
                .zip(&lost)
                .any(|((d, _), l)| *l && *d == Dir::BtoA);
            let not_tls = keeping.contains("not_tls");
            assert!(not_tls == junk || (junk && server_lost), "{keeping}");
            if !lost.contains(&true) && !junk {
                assert_eq!(kept_keeping, client.len() + server.len());
                assert!(kept_skipping < kept_keeping / 10);
            }
        }
    }
}
