//! Packet captures to transcripts: each TCP flow that opens with a ClientHello, or whose client
//! sends one after plain text (STARTTLS, a proxy's CONNECT, SOCKS5), becomes one transcript,
//! decoded by the same [`Wire`] the live client uses. A flow of plain text is named in the
//! capture's summary, and reported when its server answered with TLS or hung up on it.
//!
//! In two steps, which may run on two threads: reading the capture keeps, for each TLS flow,
//! the bytes the decoder will look at (everything but the bodies of application_data records,
//! which without keys are only counted) and hands the flow over as a [`PendingFlow`] when it
//! ends; [`PendingFlow::decode`] then makes its transcript. What a flow keeps is bounded per
//! direction ([`MAX_KEPT_BYTES`], [`MAX_KEPT_STEPS`]): past that, its records are counted, and
//! only those that may say how the connection ended still reach the decoder.
//!
//! Where the capture lost bytes of a direction across a record boundary, the framer looks for
//! where records start again ([`resync::record_start`]) and tells the decoder, which decodes
//! nothing of that direction until then.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use super::capture::{CaptureEvent, CaptureReader, Close, Dir};
use crate::credentials::chain::{self, ChainEnd};
use crate::credentials::inspect::{CertInfo, short_dn};
use crate::decode::decrypt::KeyLog;
use crate::decode::plaintext;
use crate::decode::record::{self, Frame, RECORD_HEADER};
use crate::decode::resync::{self, RecordStart};
use crate::decode::wire::{DeferredChecks, Wire};
use crate::error::{Error, InputProblem};
use crate::model::{
    CaptureSummary, CloseKind, Event, Handshake, Plaintext, Side, Transcript, VerifyProblem, What,
    codes,
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
    // The flows without TLS, by what they were, in the order first seen.
    let mut without_tls: Vec<(&'static str, u64)> = Vec::new();
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
                if let Some(state) = flows.remove(&flow) {
                    finished(
                        state.finish(flow),
                        &mut summary,
                        &mut without_tls,
                        &mut on_handshake,
                    );
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
        finished(
            state.finish(id),
            &mut summary,
            &mut without_tls,
            &mut on_handshake,
        );
    }
    if !without_tls.is_empty() {
        let total: u64 = without_tls.iter().map(|(_, n)| n).sum();
        let names: Vec<String> = without_tls
            .iter()
            .map(|(name, n)| match n {
                1 => name.to_string(),
                n => format!("{name} ({n})"),
            })
            .collect();
        summary.notes.push(format!(
            "{total} TCP connection(s) without a TLS handshake from their start: {}",
            names.join(", ")
        ));
    }
    Ok(summary)
}

#[cfg(test)]
impl Finished {
    /// The TLS flow, if the flow was one.
    fn tls(self) -> Option<PendingFlow> {
        match self {
            Finished::Tls(pending) => Some(pending),
            _ => None,
        }
    }
}

/// Counts a flow that ended, and hands it over when it is to be reported.
fn finished(
    finished: Finished,
    summary: &mut CaptureSummary,
    without_tls: &mut Vec<(&'static str, u64)>,
    on_handshake: &mut impl FnMut(PendingFlow),
) {
    let mut name_it = |name: &'static str| match without_tls.iter_mut().find(|(n, _)| *n == name) {
        Some((_, count)) => *count += 1,
        None => without_tls.push((name, 1)),
    };
    match finished {
        Finished::Tls(pending) => {
            summary.tls_flows += 1;
            on_handshake(pending);
        }
        Finished::NotTls(pending, name) => {
            name_it(name);
            on_handshake(pending);
        }
        Finished::Plain(name) => name_it(name),
        Finished::Nothing => {}
    }
}

/// What a flow turned out to be.
enum Kind {
    /// No payload yet.
    Undecided,
    /// The first bytes were a ClientHello from the client side, or one came after plain text.
    Tls { client: Dir },
    /// The first bytes were not a ClientHello: plain text, watched for a ClientHello after it
    /// (STARTTLS, a proxy's CONNECT) and kept for saying what it was.
    Plain(Box<Plain>),
    /// TLS whose handshake is not in the capture (bytes missing before the first ones were
    /// recognised): ignored.
    Other,
}

/// The plain text of a flow that did not start with a ClientHello. The client is endpoint `a`
/// (the SYN's sender), which in protocols where the server speaks first (SMTP, MySQL) is not the
/// first sender.
#[derive(Default)]
struct Plain {
    /// The client's bytes so far, at most [`SEARCH_LIMIT`]: a ClientHello is looked for in them.
    client: Vec<u8>,
    /// The server's first bytes, at most [`PLAIN_KEPT`].
    server: Vec<u8>,
    /// No ClientHello starts in `client` before this offset.
    searched: usize,
    /// Bytes went missing: what the plain text was is not sure enough to report the flow.
    damaged: bool,
    /// How each side's stream ended.
    closed: [Option<Close>; 2],
}

/// Bytes of each side of a plain-text flow kept to say what it was, and to show when it is
/// reported (a plain-text client that a TLS server refused).
const PLAIN_KEPT: usize = 512;

/// What a flow was once it ended.
enum Finished {
    /// A TLS handshake, to decode.
    Tls(PendingFlow),
    /// A client that spoke plain text to a server that answered nothing or TLS: reported as a
    /// connection that is not TLS, and counted among the flows without TLS.
    NotTls(PendingFlow, &'static str),
    /// A flow without TLS, named.
    Plain(&'static str),
    /// Nothing to report.
    Nothing,
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
    /// TLS started after plain text: the note that says so, and when.
    upgrade: Option<(String, f64)>,
}

/// A ClientHello starts: a handshake record header, then handshake type 1.
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
            upgrade: None,
        }
    }

    fn data(&mut self, dir: Dir, at: f64, bytes: &[u8]) {
        if let Kind::Undecided = self.kind {
            self.prefix.extend_from_slice(bytes);
            if self.prefix.len() < CLIENT_HELLO_PREFIX {
                return;
            }
            let prefix = std::mem::take(&mut self.prefix);
            if prefix[0] == record::HANDSHAKE && prefix[1] == 3 && prefix[5] == 1 {
                self.kind = Kind::Tls { client: dir };
                self.framers[dir.index()].frame(dir, at, &prefix, &mut self.replay);
            } else {
                self.kind = Kind::Plain(Box::default());
                self.plain(dir, at, &prefix);
            }
            return;
        }
        match self.kind {
            Kind::Tls { .. } => self.framers[dir.index()].frame(dir, at, bytes, &mut self.replay),
            Kind::Plain(_) => self.plain(dir, at, bytes),
            _ => {}
        }
    }

    /// Plain-text bytes: kept, and the client's searched for a ClientHello. From one on, the
    /// flow is TLS: the client's bytes from the ClientHello, and the server's that come after
    /// it, are framed as records; what came before is not decoded, and a note says what it was.
    fn plain(&mut self, dir: Dir, at: f64, bytes: &[u8]) {
        let Kind::Plain(plain) = &mut self.kind else {
            return;
        };
        let kept = if dir == Dir::AtoB {
            &mut plain.client
        } else {
            &mut plain.server
        };
        let limit = if dir == Dir::AtoB {
            SEARCH_LIMIT
        } else {
            PLAIN_KEPT
        };
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
        let shown = self.replay.kept[dir.index()].bytes;
        if shown < PLAIN_KEPT {
            self.replay
                .keep(dir, at, &bytes[..bytes.len().min(PLAIN_KEPT - shown)]);
        }
        if dir != Dir::AtoB {
            return;
        }
        let Some(start) = resync::client_hello_start(&plain.client, plain.searched) else {
            plain.searched = (plain.client.len() + 1).saturating_sub(resync::CLIENT_HELLO_START);
            return;
        };
        let name = plaintext::protocol(&plain.client[..start], &plain.server);
        let hello = plain.client.split_off(start);
        let note = format!(
            "TLS starts after {} bytes of plain text from the client and {} from the server: \
             {name} upgraded the connection to TLS (the plain text is not decoded)",
            plain.client.len(),
            plain.server.len()
        );
        self.upgrade = Some((note, at));
        self.kind = Kind::Tls { client: Dir::AtoB };
        self.replay = Replay::default();
        self.framers[dir.index()].frame(dir, at, &hello, &mut self.replay);
    }

    fn gap(&mut self, dir: Dir, at: f64, missing: u64) {
        match self.kind {
            Kind::Tls { .. } => self.framers[dir.index()].gap(dir, at, missing, &mut self.replay),
            // Bytes missing before the first ones were recognised: they cannot be.
            Kind::Undecided => self.kind = Kind::Other,
            Kind::Plain(ref mut plain) => plain.damaged = true,
            Kind::Other => {}
        }
    }

    fn closed(&mut self, dir: Dir, at: f64, how: Close) {
        match &mut self.kind {
            Kind::Tls { .. } => {
                self.framers[dir.index()].end(dir, at, &mut self.replay);
                self.replay.closed(dir, at, how);
            }
            Kind::Plain(plain) => {
                plain.closed[dir.index()] = Some(how);
                self.replay.closed(dir, at, how);
            }
            _ => {}
        }
    }

    fn finish(mut self, flow: u64) -> Finished {
        let client = match std::mem::replace(&mut self.kind, Kind::Other) {
            Kind::Tls { client } => client,
            Kind::Plain(plain) => return self.finish_plain(flow, &plain),
            Kind::Undecided if self.prefix.is_empty() => return Finished::Plain("no data"),
            Kind::Undecided => return Finished::Plain("unknown"),
            Kind::Other => return Finished::Nothing,
        };
        for dir in [Dir::AtoB, Dir::BtoA] {
            let at = self.framers[dir.index()].last_at;
            self.framers[dir.index()].end(dir, at, &mut self.replay);
            self.replay.end_past_limit(dir);
        }
        Finished::Tls(PendingFlow {
            flow,
            a: self.a,
            b: self.b,
            start: self.start,
            client,
            keys: self.keys,
            replay: self.replay,
            upgrade: self.upgrade,
        })
    }

    /// A flow that never started TLS. It is reported when its client spoke plain text and the
    /// server answered with nothing but TLS, or closed without a byte after a plain-text
    /// protocol that has a TLS port (MQTT, HTTP): a client without TLS against a TLS listener.
    /// Otherwise it is only named among the flows without TLS.
    fn finish_plain(self, flow: u64, plain: &Plain) -> Finished {
        let name = plaintext::protocol(&plain.client, &plain.server);
        let server_tls = plain.server.len() >= RECORD_HEADER
            && record::header_plausible(&plain.server[..RECORD_HEADER]);
        let server_closed = plain.closed[Dir::BtoA.index()].is_some();
        let known = matches!(
            plaintext::looks_like(&plain.client),
            Plaintext::MqttConnect | Plaintext::HttpRequest | Plaintext::Sslv2ClientHello
        );
        let refused = !plain.damaged
            && !plain.client.is_empty()
            && (server_tls || (plain.server.is_empty() && server_closed && known));
        if !refused {
            return Finished::Plain(name);
        }
        Finished::NotTls(
            PendingFlow {
                flow,
                a: self.a,
                b: self.b,
                start: self.start,
                client: Dir::AtoB,
                keys: self.keys,
                replay: self.replay,
                upgrade: None,
            },
            name,
        )
    }
}

/// What a TLS flow showed, in capture order, for the decoder to go through again: the bytes it
/// decodes, and what it skips, counts or notes.
///
/// What it keeps of each direction is bounded: once a direction has [`MAX_KEPT_BYTES`] bytes or
/// [`MAX_KEPT_STEPS`] steps, the [`Framer`] closes it at the next record boundary
/// ([`Replay::close_to_decoding`]); from there its records are only counted ([`PastLimit`]),
/// but for the ones that may say how the connection ended, kept whole: fatal alerts and
/// close_notify, and its last short record.
#[derive(Debug, Default)]
struct Replay {
    /// The bytes of all `Bytes` steps, one after the other.
    bytes: Vec<u8>,
    steps: Vec<Step>,
    /// What is kept of each direction, indexed by [`Dir::index`].
    kept: [Kept; 2],
}

/// Bytes and steps of one direction a [`Replay`] keeps for the decoder at most, before the
/// direction is only counted. A handshake, even with long certificate chains, needs a few tens
/// of KiB and a few hundred steps; the decoder shows [`crate::decode::wire::MAX_EVENTS_SHOWN`] events of a
/// connection, which these limits cover many times over.
const MAX_KEPT_BYTES: usize = 1 << 20;
const MAX_KEPT_STEPS: usize = 16 * 1024;
/// Past the limit, alert records (and application_data records, without keys) of at most this
/// many body bytes are looked at: a plaintext alert is 2, an encrypted one a few dozen.
const MAX_SHORT_BODY: usize = 128;
/// Past the limit, at most this many fatal alerts and close_notify of a direction are kept (the
/// decoder shows as many past its own limit).
const MAX_ALERTS_PAST_LIMIT: usize = 16;

#[derive(Debug, Default)]
struct Kept {
    bytes: usize,
    steps: usize,
    /// Set once the direction is past its limit. Boxed: hardly any flow gets there.
    past: Option<Box<PastLimit>>,
}

/// What a direction sent after it went past [`MAX_KEPT_BYTES`] or [`MAX_KEPT_STEPS`].
#[derive(Debug, Default)]
struct PastLimit {
    /// Records that started, and every byte of the direction (whether counted, skipped or
    /// passed over), since then.
    records: u64,
    bytes: u64,
    /// Bytes the capture lost since then, and whether a [`Step::LostPastLimit`] stands for them.
    missing: u64,
    lost_step: bool,
    /// Alerts kept since then (fatal, close_notify).
    alerts: usize,
    /// The latest other short record, kept when the direction ends (or before an alert that
    /// is kept): an encrypted alert (TLS
    /// 1.2 shows its type; TLS 1.3 hides it in an application_data record of alert size) may be
    /// what ended the connection.
    last_short: Option<(Vec<u8>, f64)>,
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
    /// The direction went past what is kept of it ([`PastLimit`]): from here its records are
    /// counted, not decoded.
    PastLimit {
        dir: Dir,
        at: f64,
    },
    /// The capture lost bytes of the direction after it went past its limit (all of them, in
    /// [`PastLimit::missing`]).
    LostPastLimit {
        dir: Dir,
        at: f64,
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

/// Follows the TLS records of one direction, as the decoder will (with the same
/// [`record::Framer`]), to tell the bodies of application_data records (skipped) from everything
/// else (kept). Once the bytes stop looking
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
    /// Where records start and end.
    records: record::Framer,
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
    /// The direction went past what [`Replay`] keeps of it: records are counted, alerts looked at.
    past_limit: bool,
    /// Past the limit, the record being received is a short one, looked at when whole
    /// ([`Replay::short_record_past_limit`]): it is collected in `short`, header included.
    collecting: bool,
    short: Vec<u8>,
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
        let mut input = bytes;
        while !self.not_tls {
            let Some(frame) = self.records.next(&mut input) else {
                break;
            };
            // Where `input` now starts in `bytes`.
            let i = bytes.len() - input.len();
            match frame {
                Frame::Header(header) => {
                    self.skipping = self.skip_application_data
                        && header.content_type() == record::APPLICATION_DATA;
                    if self.past_limit {
                        if let Some(past) = replay.past_limit(dir) {
                            past.records += 1;
                        }
                        // Application data only when there are no keys: a record fed to a TLS
                        // 1.3 decrypter out of its sequence would not decrypt.
                        let looked_at = header.content_type() == record::ALERT || self.skipping;
                        if looked_at && usize::from(header.length()) <= MAX_SHORT_BODY {
                            self.collecting = true;
                            self.short.clear();
                            self.short.extend_from_slice(&header.bytes());
                        }
                    }
                }
                Frame::Body(body) => {
                    if self.skipping {
                        replay.keep(dir, at, &bytes[kept..i - body.len()]);
                        replay.skip(dir, at, body.len());
                        kept = i;
                    }
                    if self.collecting {
                        self.short.extend_from_slice(body);
                    }
                }
                Frame::End => {
                    self.tls_seen = true;
                    self.check_limit(dir, at, &bytes[kept..i], replay);
                    kept = i;
                }
                Frame::Refused(refused) => {
                    // The decoder sees the same bytes up to this one: it loses its framing too,
                    // or, at the start of the stream, takes the side for "not TLS" unless the
                    // capture lost bytes of it and records start again.
                    replay.keep(dir, at, &bytes[kept..i]);
                    self.not_tls = !self.tls_seen;
                    self.lose_framing(at, refused.bytes());
                    return Some(i);
                }
            }
        }
        replay.keep(dir, at, &bytes[kept..]);
        None
    }

    /// At the end of a record, whose bytes not yet handed to `replay` are `pending`: past the
    /// limit, an alert record goes to [`Replay::alert_past_limit`]; at the limit, the direction
    /// is closed to decoding from this record boundary on.
    fn check_limit(&mut self, dir: Dir, at: f64, pending: &[u8], replay: &mut Replay) {
        replay.keep(dir, at, pending);
        if std::mem::take(&mut self.collecting) {
            replay.short_record_past_limit(dir, at, &self.short);
        } else if !self.past_limit && replay.full(dir) {
            replay.close_to_decoding(dir, at);
            self.past_limit = true;
        }
    }

    /// Bytes that start no record: a search begins. At the start of the stream (`not_tls`) the
    /// bytes are kept too: the decoder shows the first of them when the side is not TLS.
    fn lose_framing(&mut self, at: f64, refused: &[u8]) {
        let mut search = Search {
            keep: self.not_tls,
            ..Search::default()
        };
        // The header bytes refused may hold the start of the next record but at their first.
        search.hold(refused, at);
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
        // A short record cut by the hole is not kept.
        self.collecting = false;
        replay.gap(dir, at, missing);
        self.tls_seen = true;
        let inside_record = self.search.is_none()
            && self
                .records
                .body_left()
                .is_some_and(|left| missing <= left as u64);
        if inside_record {
            // The decoder counts the rest of the record; the next starts right after it.
            self.records.skip_body(missing as usize);
            if self.records.body_left() == Some(0) {
                self.records.reset();
            }
        } else {
            self.records.reset();
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
                replay.resume(dir, at);
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
    fn push(&mut self, dir: Dir, step: Step) {
        self.kept[dir.index()].steps += 1;
        self.steps.push(step);
    }

    /// What `dir` sent past its limit, if it went past it: then bytes are counted, not kept.
    fn past_limit(&mut self, dir: Dir) -> Option<&mut PastLimit> {
        self.kept[dir.index()].past.as_deref_mut()
    }

    /// Whether `dir` kept as much as it may, and is not yet closed.
    fn full(&self, dir: Dir) -> bool {
        let kept = &self.kept[dir.index()];
        kept.past.is_none() && (kept.bytes >= MAX_KEPT_BYTES || kept.steps >= MAX_KEPT_STEPS)
    }

    /// From here, at a record boundary, `dir`'s bytes are counted, not kept.
    fn close_to_decoding(&mut self, dir: Dir, at: f64) {
        self.push(dir, Step::PastLimit { dir, at });
        self.kept[dir.index()].past = Some(Box::default());
    }

    /// A whole short record (header included) of `dir` past its limit: kept when it ends the
    /// connection (a fatal alert or close_notify, in plaintext), else held as the latest one,
    /// kept when such an alert or the end of the direction comes.
    fn short_record_past_limit(&mut self, dir: Dir, at: f64, record: &[u8]) {
        let Some(past) = self.past_limit(dir) else {
            return;
        };
        let ends_connection = record[0] == record::ALERT
            && matches!(record.get(RECORD_HEADER..), Some(&[2, _] | &[_, 0]));
        if ends_connection && past.alerts < MAX_ALERTS_PAST_LIMIT {
            past.alerts += 1;
            // The short record before it, in its place.
            self.end_past_limit(dir);
            self.keep_past_limit(dir, at, record);
        } else {
            let (held, held_at) = past.last_short.get_or_insert_with(Default::default);
            held.clear();
            held.extend_from_slice(record);
            *held_at = at;
        }
    }

    /// The latest short record held past the limit goes to the decoder: the direction ends, or
    /// an alert that ends the connection comes.
    fn end_past_limit(&mut self, dir: Dir) {
        if let Some((record, at)) = self.past_limit(dir).and_then(|p| p.last_short.take()) {
            self.keep_past_limit(dir, at, &record);
        }
    }

    /// Whole records of `dir` past its limit, for the decoder: it sees them right after the last
    /// record it was given, at a record boundary as it expects.
    fn keep_past_limit(&mut self, dir: Dir, at: f64, record: &[u8]) {
        let past = self.kept[dir.index()].past.take();
        self.keep(dir, at, record);
        self.kept[dir.index()].past = past;
    }

    fn keep(&mut self, dir: Dir, at: f64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(past) = self.past_limit(dir) {
            past.bytes += bytes.len() as u64;
            return;
        }
        self.kept[dir.index()].bytes += bytes.len();
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
        self.push(
            dir,
            Step::Bytes {
                dir,
                at,
                len: bytes.len(),
            },
        );
    }

    fn skip(&mut self, dir: Dir, at: f64, len: usize) {
        if len == 0 {
            return;
        }
        if let Some(past) = self.past_limit(dir) {
            past.bytes += len as u64;
            return;
        }
        // The pieces of one record's body (skipped pieces in a row are of one record: the next
        // record's header is kept between): one step, at the time of the last, which is when
        // the decoder completes the record.
        if let Some(Step::Skip {
            dir: last_dir,
            at: last_at,
            len: last_len,
        }) = self.steps.last_mut()
            && *last_dir == dir
        {
            *last_at = at;
            *last_len += len;
            return;
        }
        self.push(dir, Step::Skip { dir, at, len });
    }

    fn pass_over(&mut self, dir: Dir, len: usize) {
        if len == 0 {
            return;
        }
        if let Some(past) = self.past_limit(dir) {
            past.bytes += len as u64;
            return;
        }
        self.push(dir, Step::PassOver { dir, len });
    }

    fn resume(&mut self, dir: Dir, at: f64) {
        if self.past_limit(dir).is_none() {
            self.push(dir, Step::Resume { dir, at });
        }
    }

    fn gap(&mut self, dir: Dir, at: f64, missing: u64) {
        match self.past_limit(dir) {
            Some(past) => {
                past.missing += missing;
                if !std::mem::replace(&mut past.lost_step, true) {
                    self.push(dir, Step::LostPastLimit { dir, at });
                }
            }
            None => self.push(dir, Step::Gap { dir, at, missing }),
        }
    }

    fn closed(&mut self, dir: Dir, at: f64, how: Close) {
        self.end_past_limit(dir);
        self.push(dir, Step::Closed { dir, at, how });
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
    /// TLS started after plain text: the note that says so, and when.
    upgrade: Option<(String, f64)>,
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
        let [kept_a, kept_b] = self.replay.kept;
        let past = |dir: Dir| {
            match dir {
                Dir::AtoB => &kept_a,
                Dir::BtoA => &kept_b,
            }
            .past
            .as_deref()
        };
        if let Some((message, at)) = self.upgrade {
            transcript.push(ms(at), Side::Client, What::Note { message });
        }
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
                Step::PastLimit { dir, at } => {
                    if let Some(past) = past(dir) {
                        transcript.push(ms(at), side(dir), past_limit_note(side(dir), past));
                    }
                }
                Step::LostPastLimit { dir, at } => {
                    if let Some(past) = past(dir) {
                        let missing = past.missing;
                        transcript.push(ms(at), side(dir), What::CaptureGap { missing });
                    }
                }
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
        transcript.tls_version = wire.version().map(|v| codes::version(v).to_string());
        transcript.cipher_suite = wire
            .cipher_suite()
            .map(|s| codes::cipher_suite(s).to_string());
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

/// What the transcript says where a side went past what is kept of one connection.
fn past_limit_note(side: Side, past: &PastLimit) -> What {
    let mut message = format!(
        "the {side} sent more than iotdoctor keeps of one connection ({} KiB or {} pieces per \
         side): its {} records that follow ({} bytes) are counted, not decoded",
        MAX_KEPT_BYTES / 1024,
        MAX_KEPT_STEPS,
        past.records,
        past.bytes
    );
    if past.missing > 0 {
        let _ = write!(
            message,
            ", and the capture lost {} bytes among them",
            past.missing
        );
    }
    message.push_str(
        "; only its fatal alerts and close_notify among them, and the last short record before \
         each and before its end, are still decoded (numbered as if they came right after this \
         point)",
    );
    What::Note { message }
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
                    Some(VerifyProblem::Expired),
                    format!(
                        "'{}' was not valid at the time of the capture (valid {} to {})",
                        cert.short_name(),
                        cert.not_before.date(),
                        cert.not_after.date()
                    ),
                ),
                (None, Some(name)) if !leaf.covers(name) => (
                    false,
                    Some(VerifyProblem::NameMismatch),
                    format!("'{}' does not cover the SNI '{name}'", leaf.short_name()),
                ),
                // As every client checks the leaf's role: an extendedKeyUsage without
                // serverAuth. (A CA certificate as the server's own is left alone: the device
                // stacks accept one they were given as their CA, as a capture of them shows.)
                _ if leaf.raw.eku_server_auth == Some(false) => (
                    false,
                    Some(VerifyProblem::WrongPurpose),
                    format!(
                        "'{}' does not allow extended key usage for server authentication",
                        leaf.short_name()
                    ),
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
            Some(VerifyProblem::UnknownIssuer),
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
                problem,
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
                !kept.is_empty()
                    || path.ends_with("not-tls.pcap")
                    || path.ends_with("plain-flows.pcap"),
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
                let pending = flow.finish(0).tls().expect("a TLS flow");
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

#[cfg(test)]
mod limits {
    use super::*;

    fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![content_type, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    fn handshake(message_type: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![message_type];
        m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend_from_slice(body);
        m
    }

    fn client_hello() -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend([7; 32]);
        body.extend([0, 0, 2, 0xc0, 0x2f, 1, 0]);
        record(22, &handshake(1, &body))
    }

    fn server_hello() -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend([9; 32]);
        body.extend([0, 0xc0, 0x2f, 0]);
        record(22, &handshake(2, &body))
    }

    /// A flow of a ClientHello, a ServerHello, then the server's `packets`, then a fatal
    /// handshake_failure alert from the server; both sides close.
    fn flow(packets: impl IntoIterator<Item = Vec<u8>>, keys: bool) -> Flow {
        let a: SocketAddr = "127.0.0.1:40000".parse().expect("address");
        let b: SocketAddr = "127.0.0.2:443".parse().expect("address");
        let mut flow = Flow::new(a, b, 0.0, None, !keys);
        flow.data(Dir::AtoB, 0.0, &client_hello());
        flow.data(Dir::BtoA, 0.001, &server_hello());
        let mut at = 0.002;
        for packet in packets {
            flow.data(Dir::BtoA, at, &packet);
            at += 0.000_001;
        }
        flow.data(Dir::BtoA, at, &record(21, &[2, 40]));
        flow.closed(Dir::BtoA, at + 0.001, Close::Fin);
        flow.closed(Dir::AtoB, at + 0.002, Close::Fin);
        flow
    }

    fn server_steps(replay: &Replay) -> usize {
        replay
            .steps
            .iter()
            .filter(|step| {
                matches!(
                    step,
                    Step::Bytes { dir: Dir::BtoA, .. }
                        | Step::Skip { dir: Dir::BtoA, .. }
                        | Step::Gap { dir: Dir::BtoA, .. }
                        | Step::PastLimit { dir: Dir::BtoA, .. }
                        | Step::Closed { dir: Dir::BtoA, .. }
                )
            })
            .count()
    }

    fn notes(transcript: &Transcript) -> Vec<&str> {
        transcript
            .events
            .iter()
            .filter_map(|e| match &e.what {
                What::Note { message } => Some(message.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Floods of small records that are all kept for the decoder (handshake, alerts,
    /// change_cipher_spec; application data too with a key log, or as a header and a step each
    /// without), a few MB each: what the flow keeps stays within the limits, the transcript says
    /// what was only counted, and the fatal alert and the closes after the flood still come.
    #[test]
    fn what_a_flow_keeps_of_a_flood_is_bounded() {
        let tiny = [record(22, &[0]), record(21, &[1])].concat();
        let floods: [(&str, Vec<u8>, usize); 6] = [
            ("1-byte handshake and alert records", tiny.repeat(2730), 100),
            ("warning alerts", record(21, &[1, 90]).repeat(4681), 100),
            ("change_cipher_spec", record(20, &[1]).repeat(5461), 100),
            (
                "1-byte application data",
                record(23, &[0]).repeat(5461),
                100,
            ),
            (
                "application data, a record a packet",
                record(23, &[0; 100]),
                60_000,
            ),
            (
                "16 KiB application data",
                record(23, &[0; 16384]).repeat(2),
                100,
            ),
        ];
        for (name, packet, packets) in floods {
            for keys in [false, true] {
                let flow = flow(std::iter::repeat_n(packet.clone(), packets), keys);
                let pending = flow.finish(0).tls().expect("a TLS flow");
                let (bytes, steps) = (pending.replay.bytes.len(), server_steps(&pending.replay));
                // Each flood sends 3 MB or more, or 60,000 packets (each a step or two); what is
                // kept stays within a limit of about 1 MiB and 16 Ki steps (checked at the end
                // of each record: a packet's worth of bytes, or a record's steps, past it).
                assert!(
                    packet.len() * packets >= 3_000_000 || packets >= 60_000,
                    "{name}"
                );
                assert!(
                    bytes <= 1_200_000,
                    "{name}, keys {keys}: {bytes} bytes kept"
                );
                assert!(steps <= 16_400, "{name}, keys {keys}: {steps} steps kept");
                let found = pending.decode();
                let transcript = &found.transcript;
                // Without keys, 16 KiB application data records cost a header and a step each:
                // 200 of them stay within the limits, and no note is due.
                let past = notes(transcript)
                    .into_iter()
                    .any(|n| n.starts_with("the server sent more than iotdoctor keeps"));
                assert!(
                    past || (!keys && name.starts_with("16 KiB")),
                    "{name}, keys {keys}: {:?}",
                    notes(transcript)
                );
                assert!(
                    transcript.events.len() <= crate::decode::wire::MAX_EVENTS_SHOWN + 40,
                    "{name}, keys {keys}: {} events",
                    transcript.events.len()
                );
                let fatal = transcript.events.iter().any(|e| {
                    e.from == Side::Server
                        && matches!(&e.what, What::Alert { level, description, .. }
                            if level.code == 2 && description.code == 40)
                });
                // After change_cipher_spec, TLS 1.2 alerts are encrypted: a record, counted.
                let encrypted = name == "change_cipher_spec";
                assert!(
                    fatal || encrypted,
                    "{name}, keys {keys}: the fatal alert is lost"
                );
                let closes = transcript
                    .events
                    .iter()
                    .filter(|e| matches!(e.what, What::Close { .. }))
                    .count();
                assert_eq!(closes, 2, "{name}, keys {keys}");
            }
        }
    }

    /// A Certificate declaring 16 MiB - 1 bytes (skipped by the decoder), then `records`
    /// handshake records of its (zero) bytes: few events, many bytes.
    fn oversized_message(records: usize) -> Vec<Vec<u8>> {
        let mut certificate = handshake(11, &[]);
        certificate[1..4].copy_from_slice(&[0xFF; 3]);
        let mut first = certificate;
        first.resize(16384, 0);
        let mut packets = vec![record(22, &first)];
        packets.extend(std::iter::repeat_n(record(22, &[0; 16384]), records));
        packets
    }

    /// Past the limit, the last short record is kept even when it is no plaintext fatal alert:
    /// a TLS 1.2 encrypted alert, or (without keys) an alert-sized application_data record.
    #[test]
    fn the_last_short_record_past_the_limit_reaches_the_decoder() {
        for (last, length) in [(record(21, &[0xEE; 26]), 26), (record(23, &[0xEE; 19]), 19)] {
            let mut packets = oversized_message(200);
            packets.push(last);
            packets.push(record(22, &[0; 16384]));
            let found = flow(packets, false)
                .finish(0)
                .tls()
                .expect("a TLS flow")
                .decode();
            let events = &found.transcript.events;
            let past = events.iter().position(|e| {
                matches!(&e.what, What::Note { message } if message.contains("more than iotdoctor keeps"))
            });
            let short = events
                .iter()
                .position(|e| matches!(e.what, What::Record { length: l, .. } if l == length));
            let fatal = events
                .iter()
                .position(|e| matches!(&e.what, What::Alert { level, .. } if level.code == 2));
            assert!(
                past.is_some() && past < short && short < fatal,
                "{events:#?}"
            );
            assert!(events.len() < 150, "{}", events.len());
        }
    }

    /// A handshake message too large to decode, cut by a hole inside one of its records: the
    /// rest of it is not decoded as new messages (zeros would read as a HelloRequest every
    /// four bytes).
    #[test]
    fn the_rest_of_a_skipped_message_cut_by_a_hole_is_not_decoded() {
        let packets = oversized_message(40);
        let a: SocketAddr = "127.0.0.1:40000".parse().expect("address");
        let b: SocketAddr = "127.0.0.2:443".parse().expect("address");
        let mut flow = Flow::new(a, b, 0.0, None, true);
        flow.data(Dir::AtoB, 0.0, &client_hello());
        flow.data(Dir::BtoA, 0.001, &server_hello());
        for (i, packet) in packets.iter().enumerate() {
            let at = 0.002 + i as f64 / 1e6;
            if i == 10 {
                // 100 bytes lost inside the record.
                flow.data(Dir::BtoA, at, &packet[..5000]);
                flow.gap(Dir::BtoA, at, 100);
                flow.data(Dir::BtoA, at, &packet[5100..]);
            } else {
                flow.data(Dir::BtoA, at, packet);
            }
        }
        flow.data(Dir::BtoA, 0.1, &record(21, &[2, 40]));
        flow.closed(Dir::BtoA, 0.2, Close::Fin);
        let found = flow.finish(0).tls().expect("a TLS flow").decode();
        let messages = found
            .transcript
            .events
            .iter()
            .filter(|e| e.from == Side::Server && matches!(e.what, What::Handshake { .. }))
            .count();
        assert_eq!(messages, 1, "{:#?}", notes(&found.transcript));
        let gap = found
            .transcript
            .events
            .iter()
            .any(|e| matches!(e.what, What::CaptureGap { missing: 100 }));
        assert!(gap);
    }
}
