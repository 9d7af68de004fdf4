//! Decoding the bytes of a connection, as they cross the wire, into transcript events.
//!
//! Each direction is cut into TLS records; plaintext handshake messages and alerts are decoded,
//! encrypted records are only counted, or, given a key log, decrypted (TLS 1.3) and decoded too.
//! CertificateVerify signatures are checked against the sender's certificate over the handshake
//! messages seen. Nothing a peer sends can make the decoder panic or grow without bound:
//! malformed messages become `Note` events and decoding goes on.
//!
//! A capture may lose bytes ([`Wire::gap_into`]). A hole inside one record costs that record's
//! content only: the framing goes on. A hole that swallows a record boundary loses the
//! framing: nothing is decoded until the caller, which looks for the next record header
//! (`super::resync`), says where records start again ([`Wire::resume_into`]). Bytes that stop
//! looking like records after a direction spoke TLS lose the framing the same way, rather than
//! making it "not TLS". Whether a side's change_cipher_spec may be among the missing bytes is
//! remembered, so that encrypted records after a hole are not read as plaintext.

use std::fmt::Write as _;
use std::sync::Arc;

use tls_parser::TlsCipherKx;

use super::decrypt::{KeyLog, Tls13Decrypter};
use super::handshake::{self, Piece, Reassembly};
use super::messages::certificate_verify::{DEFERRED, SignatureCheck};
use super::messages::{self, alert, certificate, certificate_request, certificate_verify};
use super::messages::{client_hello, server_hello, server_key_exchange};
use super::plaintext;
use super::reader::Reader;
use super::record::{self, Frame, Framer, RECORD_HEADER};
use crate::credentials::inspect::CertInfo;
use crate::model::{Event, Handshake, Seen, Side, What, codes};

pub use super::messages::certificate_verify::DeferredChecks;

/// After records went missing, how many more records a TLS 1.3 decrypter tries to skip to find
/// its sequence number again.
const MAX_LOST_RECORDS: u64 = 32;
/// How many bytes of a non-TLS stream the `NotTls` event shows.
const PREVIEW_LEN: usize = 64;
/// How many events one connection's decoder shows. A handshake, even with long chains and a
/// HelloRetryRequest, makes well under a hundred; past this limit a peer that keeps sending
/// (data, alerts, messages) only has its records counted, so that neither memory nor the report
/// grows with it. [`Wire::end_into`] says how much was left out.
pub const MAX_EVENTS_SHOWN: usize = 1000;
/// Past [`MAX_EVENTS_SHOWN`], fatal alerts, close_notify and not-TLS bytes are still shown, up to
/// this many: what ends a connection is what its diagnosis turns on.
const MAX_ALERTS_PAST_LIMIT: usize = 16;

const CONTENT_CHANGE_CIPHER_SPEC: u8 = record::CHANGE_CIPHER_SPEC;
const CONTENT_ALERT: u8 = record::ALERT;
const CONTENT_HANDSHAKE: u8 = record::HANDSHAKE;
const CONTENT_APPLICATION_DATA: u8 = record::APPLICATION_DATA;

const MESSAGE_CLIENT_HELLO: u8 = messages::CLIENT_HELLO;
const MESSAGE_SERVER_HELLO: u8 = messages::SERVER_HELLO;
const MESSAGE_CERTIFICATE_VERIFY: u8 = messages::CERTIFICATE_VERIFY;
const MESSAGE_FINISHED: u8 = messages::FINISHED;
const MESSAGE_KEY_UPDATE: u8 = messages::KEY_UPDATE;

const TLS12: u16 = 0x0303;
const TLS13: u16 = 0x0304;

/// Both directions of one connection, decoded incrementally in wire order.
#[derive(Debug, Default)]
pub struct Wire {
    client: Direction,
    server: Direction,
    /// Records seen so far, over both directions.
    records: u32,
    version: Option<u16>,
    cipher_suite: Option<u16>,
    /// Secrets to decrypt TLS 1.3 records with, when a key log was given.
    keys: Option<Arc<KeyLog>>,
    client_random: Option<[u8; 32]>,
    /// Decrypters made at the ServerHello, waiting for their direction's next record.
    pending: [Option<Tls13Decrypter>; 2],
    /// Every handshake message so far, in wire order: what CertificateVerify signs.
    handshake_log: handshake::Log,
    /// The end-entity certificate each side presented (client, server).
    presented: [Option<CertInfo>; 2],
    /// CertificateVerify checks set aside: (record, sender, check).
    defer_checks: bool,
    deferred: Vec<(u32, Side, SignatureCheck)>,
    /// TLS 1.2: the record that carried the server's ChangeCipherSpec.
    server_ccs_record: Option<u32>,
    /// The server sent a ServerHello (or a HelloRetryRequest), decodable or not.
    server_hello_seen: bool,
    /// What was shown, and what was only counted past [`MAX_EVENTS_SHOWN`].
    shown: Shown,
}

/// The events a [`Wire`] emitted and the ones it left out.
#[derive(Debug, Default, Clone, Copy)]
struct Shown {
    events: usize,
    /// Fatal alerts, close_notify and not-TLS bytes shown past the limit.
    alerts_past_limit: usize,
    omitted_records: u64,
    omitted_bytes: u64,
    /// Events other than records (messages, alerts, notes) left out.
    omitted_other: u64,
}

impl Shown {
    /// Whether `what` goes into the transcript; counts it when it does not.
    fn admit(&mut self, what: &What) -> bool {
        if self.events < MAX_EVENTS_SHOWN {
            self.events += 1;
            return true;
        }
        let ends_connection = match what {
            What::Alert {
                level, description, ..
            } => level.code == 2 || description.code == 0,
            What::NotTls { .. } => true,
            _ => false,
        };
        if ends_connection && self.alerts_past_limit < MAX_ALERTS_PAST_LIMIT {
            self.alerts_past_limit += 1;
            return true;
        }
        match what {
            What::Record { length, .. } => {
                self.omitted_records += 1;
                self.omitted_bytes += u64::from(*length);
            }
            _ => self.omitted_other += 1,
        }
        false
    }

    /// A note saying what was left out since the last one, if anything was.
    fn summary(&mut self) -> Option<What> {
        if self.omitted_records == 0 && self.omitted_other == 0 {
            return None;
        }
        let records = std::mem::take(&mut self.omitted_records);
        let bytes = std::mem::take(&mut self.omitted_bytes);
        let other = std::mem::take(&mut self.omitted_other);
        let mut message = format!(
            "{records} more records ({bytes} bytes) not shown: a connection's report shows its \
             first {MAX_EVENTS_SHOWN} decoded events"
        );
        if other > 0 {
            let _ = write!(
                message,
                ", and {other} more messages, alerts or notes were left out"
            );
        }
        Some(What::Note { message })
    }
}

/// What one direction of the connection has sent and not yet been decoded.
#[derive(Debug, Default)]
struct Direction {
    /// Where this side's records start and end.
    framer: Framer,
    /// The record being received, once its header is whole: the header, and as much of its
    /// body as has arrived unless it is only counted (`counting`).
    record: Vec<u8>,
    /// The body of the record being received is counted, not copied: encrypted with no keys to
    /// decrypt it, or the rest of one cut by missing bytes.
    counting: bool,
    /// Set once the bytes stopped looking like TLS: nothing more is decoded.
    not_tls: bool,
    /// This side sent change_cipher_spec; in TLS 1.2 and below its later records are encrypted.
    sent_ccs: bool,
    /// Plaintext handshake bytes that do not yet make a whole message.
    handshake: Reassembly,
    /// Decrypts this side's TLS 1.3 records, from its first record after the ServerHello.
    decrypter: Option<Tls13Decrypter>,
    /// A failure to decrypt was already reported.
    decrypt_failed: bool,
    /// A whole record came, or bytes went missing: bytes that then do not start a record mean
    /// the framing was lost, not that this side does not speak TLS.
    tls_seen: bool,
    /// The record framing was lost (bytes missing across a record boundary, or bytes that do
    /// not start a record): nothing is decoded until [`Wire::resume_into`].
    lost: bool,
    /// Bytes passed over while the framing was lost ([`Wire::pass_over`]).
    passed_over: u64,
    /// The record being counted (`counting`) is the rest of one cut by missing bytes: it was
    /// reported at the hole, nothing more is made of it.
    discarding: bool,
    /// The record being received is the rest of a plaintext handshake record cut by missing
    /// bytes (`record` holds a header made for it), reported at the hole as this record: whole
    /// messages are looked for in it.
    rest_of_cut_record: Option<u32>,
    /// Bytes went missing before this side's change_cipher_spec was seen (TLS 1.2 and below):
    /// it may have been among them, so its alert and handshake records are judged by their
    /// content before being read as plaintext.
    ccs_unknown: bool,
    /// Records went missing: the TLS 1.3 decrypter's sequence number is no longer known.
    records_lost: bool,
    /// Bytes of this side that start no record are damage ([`Wire::resumes_after_damage`]).
    resumes_after_damage: bool,
}

/// Collects the events of one `feed` call, all stamped with the same side and time.
struct Out<'e> {
    from: Side,
    at_ms: f64,
    events: &'e mut Vec<Event>,
    shown: &'e mut Shown,
}

impl Out<'_> {
    fn push(&mut self, what: What) {
        if !self.shown.admit(&what) {
            return;
        }
        self.events.push(Event {
            at_ms: self.at_ms,
            from: self.from,
            what,
        });
    }

    fn note(&mut self, message: String) {
        self.push(What::Note { message });
    }
}

impl Wire {
    pub fn new() -> Wire {
        Wire::default()
    }

    /// A decoder that decrypts TLS 1.3 records with the secrets of a key log.
    pub fn with_keys(keys: Arc<KeyLog>) -> Wire {
        Wire {
            keys: Some(keys),
            ..Wire::new()
        }
    }

    /// Feeds bytes sent by `from`, observed at `at_ms`; returns the events they complete, in order.
    pub fn feed(&mut self, from: Side, bytes: &[u8], at_ms: f64) -> Vec<Event> {
        let mut events = Vec::new();
        self.feed_into(from, bytes, at_ms, &mut events);
        events
    }

    /// Like [`Wire::feed`], appending the events to `events` (a transcript's, say) instead of
    /// returning a new vector of them.
    pub fn feed_into(&mut self, from: Side, bytes: &[u8], at_ms: f64, events: &mut Vec<Event>) {
        // The direction and the count of what was shown are taken out so that record handling
        // can borrow `self` freely.
        let mut shown = self.shown;
        let mut out = Out {
            from,
            at_ms,
            events,
            shown: &mut shown,
        };
        let mut dir = std::mem::take(self.direction(from));
        let mut input = bytes;
        while !dir.not_tls && !dir.lost {
            let Some(frame) = dir.framer.next(&mut input) else {
                break;
            };
            match frame {
                Frame::Header(header) => {
                    dir.record.extend_from_slice(&header.bytes());
                    dir.counting = self.opaque(&dir, from);
                }
                Frame::Body(body) => {
                    if !dir.counting {
                        dir.record.extend_from_slice(body);
                    }
                }
                Frame::End => self.end_record(&mut dir, &mut out),
                Frame::Refused(refused) => {
                    let damaged = dir.tls_seen || dir.resumes_after_damage;
                    let why = refused.why();
                    let mut seen = refused.bytes().to_vec();
                    seen.extend(input.iter().take(PREVIEW_LEN.saturating_sub(seen.len())));
                    // Either way the bytes are shown as "not TLS" ones are: without credentials.
                    let preview = plaintext::preview(&seen);
                    if damaged {
                        let why = why.map(|r| format!("; {r}")).unwrap_or_default();
                        out.note(format!(
                            "the {}'s bytes stop looking like TLS records (\"{preview}\" starts no \
                             record{why}): the stream is damaged or out of step, and is not decoded \
                             from there",
                            out.from
                        ));
                        dir.lost = true;
                    } else {
                        out.push(What::NotTls { preview });
                        if let Some(why) = why {
                            // Bytes that start like a record: say why they are none.
                            out.note(format!(
                                "the {}'s first bytes start like a TLS record, but {why}: they \
                                 are not decoded",
                                out.from
                            ));
                        }
                        dir.not_tls = true;
                    }
                }
            }
        }
        *self.direction(from) = dir;
        self.shown = shown;
    }

    /// Tells the decoder that `n` more bytes sent by `from` went by without being shown to it:
    /// the body, or part of it, of an application_data record, which a decoder without keys
    /// only counts. Appends the events that completes (the record's) to `events`, as
    /// [`Wire::feed_into`] would for the bytes themselves. The caller must have framed the
    /// stream with a [`record::Framer`] and fed every byte outside such bodies.
    pub fn skip_into(&mut self, from: Side, n: usize, at_ms: f64, events: &mut Vec<Event>) {
        let keys = self.keys.is_some();
        let dir = self.direction(from);
        if dir.not_tls || dir.lost || n == 0 {
            // Nothing of this side is decoded any more, or nothing was skipped.
            return;
        }
        let counted = !keys && dir.counting && dir.framer.body_left().is_some_and(|left| n <= left);
        debug_assert!(
            counted,
            "skipped bytes outside an application_data record body"
        );
        if !counted {
            // Not reached when the caller frames records as the contract says; the bytes are
            // unknown, so the best stand-in is bytes nobody would decode.
            self.feed_into(from, &vec![0; n], at_ms, events);
            return;
        }
        let mut dir = std::mem::take(self.direction(from));
        dir.framer.skip_body(n);
        if dir.framer.body_left() == Some(0) {
            let mut shown = self.shown;
            let mut out = Out {
                from,
                at_ms,
                events,
                shown: &mut shown,
            };
            let end = dir.framer.next(&mut &[][..]);
            debug_assert_eq!(end, Some(Frame::End));
            self.end_record(&mut dir, &mut out);
            self.shown = shown;
        }
        *self.direction(from) = dir;
    }

    /// Tells the decoder that `missing` bytes sent by `from` are not in the capture: the bytes
    /// fed next come after a hole. Appends the `CaptureGap` event, and what the hole cuts: the
    /// record it falls in (reported before it, with what of it arrived), a handshake message it
    /// splits (left out, with a note after it). A hole within one record keeps the framing; one
    /// that spans a record boundary loses it until [`Wire::resume_into`].
    pub fn gap_into(&mut self, from: Side, missing: u64, at_ms: f64, events: &mut Vec<Event>) {
        let mut shown = self.shown;
        let mut out = Out {
            from,
            at_ms,
            events,
            shown: &mut shown,
        };
        let mut dir = std::mem::take(self.direction(from));
        if dir.not_tls {
            out.push(What::CaptureGap { missing });
        } else {
            self.bytes_missing(&mut dir, missing, &mut out);
        }
        *self.direction(from) = dir;
        self.shown = shown;
    }

    /// Says, before the bytes are fed, that the capture lost bytes sent by `from` and that
    /// records of `from` were found again ([`Wire::resume_into`]) after bytes that start none.
    /// Bytes that start no record at the start of the side's stream are then damage (bytes
    /// shifted by a packet that lost some of its own) rather than a peer that does not speak
    /// TLS: they lose the framing, as bad bytes after a record do.
    pub fn resumes_after_damage(&mut self, from: Side) {
        self.direction(from).resumes_after_damage = true;
    }

    /// `n` bytes sent by `from` after lost framing were passed over: they start no record.
    pub fn pass_over(&mut self, from: Side, n: u64) {
        let dir = self.direction(from);
        if dir.lost {
            dir.passed_over = dir.passed_over.saturating_add(n);
        }
    }

    /// After lost framing, a TLS record sent by `from` starts with the next byte fed.
    pub fn resume_into(&mut self, from: Side, at_ms: f64, events: &mut Vec<Event>) {
        let dir = self.direction(from);
        if !dir.lost {
            return;
        }
        dir.lost = false;
        let passed = std::mem::take(&mut dir.passed_over);
        let what = What::Note {
            message: format!(
                "the {from}'s TLS records start again {passed} bytes further on: the bytes before are not decoded"
            ),
        };
        if passed > 0 && self.shown.admit(&what) {
            events.push(Event { at_ms, from, what });
        }
    }

    /// `from` sent nothing more: says so when its framing was lost and never found again, and
    /// what was left out past [`MAX_EVENTS_SHOWN`] ([`Wire::omitted_into`]).
    pub fn end_into(&mut self, from: Side, at_ms: f64, events: &mut Vec<Event>) {
        let dir = self.direction(from);
        let passed = std::mem::take(&mut dir.passed_over);
        if dir.lost && passed > 0 {
            events.push(Event {
                at_ms,
                from,
                what: What::Note {
                    message: format!(
                        "no TLS record starts in the last {passed} bytes the {from} sent: they are not decoded"
                    ),
                },
            });
        }
        self.partial_record_into(from, at_ms, events);
        self.omitted_into(from, at_ms, events);
    }

    /// Says so when `from`'s stream ended inside a record: what of it came.
    fn partial_record_into(&mut self, from: Side, at_ms: f64, events: &mut Vec<Event>) {
        let dir = self.direction(from);
        if dir.discarding {
            // The rest of a record reported at the hole that cut it.
            return;
        }
        let mut dir = std::mem::take(dir);
        if let Some(partial) = dir.framer.partial()
            && !(dir.not_tls || dir.lost)
        {
            // A counted record holds only its header: its body went by uncopied.
            let preview = (!dir.counting).then(|| {
                let bytes = match dir.framer.body_left() {
                    Some(_) => &dir.record[..],
                    None => dir.framer.header_so_far(),
                };
                plaintext::preview(&bytes[..bytes.len().min(PREVIEW_LEN)])
            });
            let what = What::PartialRecord {
                content_type: codes::content_type(partial.content_type),
                declared: partial.declared,
                received: partial.received,
                preview,
            };
            if self.shown.admit(&what) {
                events.push(Event { at_ms, from, what });
            }
        }
        dir.framer.reset();
        dir.record.clear();
        dir.counting = false;
        *self.direction(from) = dir;
    }

    /// Says how many records and events were left out past [`MAX_EVENTS_SHOWN`] since it last
    /// said so, if any were: a producer calls it when the connection ends.
    pub fn omitted_into(&mut self, from: Side, at_ms: f64, events: &mut Vec<Event>) {
        if let Some(what) = self.shown.summary() {
            events.push(Event { at_ms, from, what });
        }
    }

    /// A hole in `dir`'s stream: see [`Wire::gap_into`].
    fn bytes_missing(&mut self, dir: &mut Direction, missing: u64, out: &mut Out<'_>) {
        // Signatures cover every handshake message before them: from here some are missing.
        self.handshake_log.give_up();
        dir.tls_seen = true;
        let left = if dir.lost {
            None
        } else {
            dir.framer.body_left()
        };
        let header: Option<[u8; RECORD_HEADER]> = dir
            .record
            .get(..RECORD_HEADER)
            .and_then(|h| h.try_into().ok());
        let readable = self.cut_record(dir, out);
        out.push(What::CaptureGap { missing });
        drop_cut_message(dir, out);
        match (left, readable, header) {
            (Some(left), Some(index), Some(mut header)) if missing < left as u64 => {
                // The hole ends inside a plaintext handshake record: its rest comes as a
                // record of its own (the next starts right after it), where whole messages
                // may follow the one the hole cut.
                let rest = left - missing as usize;
                header[3..].copy_from_slice(&(rest as u16).to_be_bytes());
                dir.record.extend_from_slice(&header);
                dir.framer.continue_with(header);
                dir.counting = false;
                dir.rest_of_cut_record = Some(index);
            }
            (Some(left), _, _) if missing < left as u64 => {
                // The hole ends inside the record: its rest is counted, and the next record
                // starts right after it.
                dir.framer.skip_body(missing as usize);
                dir.counting = true;
                dir.discarding = true;
            }
            (Some(left), _, _) if missing == left as u64 => {
                // The hole ends with the record: the next starts right after it.
                dir.framer.reset();
                dir.counting = false;
                dir.discarding = false;
            }
            _ => {
                dir.lost = true;
                dir.framer.reset();
                dir.counting = false;
                dir.discarding = false;
                dir.ccs_unknown |= !dir.sent_ccs;
            }
        }
        // A cut record may have been the Finished that switches keys; a wider hole held records.
        dir.records_lost = true;
    }

    /// The record a hole cuts: reported with its header, and what arrived of it decoded where
    /// that is sound (whole alerts and handshake messages before the hole). Returns its index
    /// when it is a plaintext handshake record, whose rest may hold more whole messages.
    fn cut_record(&mut self, dir: &mut Direction, out: &mut Out<'_>) -> Option<u32> {
        let record = std::mem::take(&mut dir.record);
        // The rest of a record cut before is cut again: nothing more is read of it.
        let cut_before = dir.rest_of_cut_record.take().is_some() || dir.discarding;
        let mut readable = None;
        if !cut_before && record.len() >= RECORD_HEADER {
            self.on_record_part(dir, &record, false, out);
            let plaintext_handshake = record[0] == CONTENT_HANDSHAKE
                && !self.encrypted(dir, out.from, CONTENT_HANDSHAKE)
                && !self.unsure_of_encryption(dir, CONTENT_HANDSHAKE);
            readable = plaintext_handshake.then_some(self.records);
        }
        dir.record = record;
        dir.record.clear();
        readable
    }

    /// The end of the record being received: decoded, unless it is the rest of one a hole cut,
    /// which was reported at the hole.
    fn end_record(&mut self, dir: &mut Direction, out: &mut Out<'_>) {
        let record = std::mem::take(&mut dir.record);
        if !std::mem::take(&mut dir.discarding) {
            self.on_record(dir, &record, out);
        }
        dir.record = record;
        dir.record.clear();
        dir.counting = false;
    }

    /// The negotiated protocol version, once the server's ServerHello (or HelloRetryRequest)
    /// was seen: its supported_versions extension when present, else its legacy version.
    pub fn version(&self) -> Option<u16> {
        self.version
    }

    /// The negotiated cipher suite, once the server's ServerHello (or HelloRetryRequest) was seen.
    pub fn cipher_suite(&self) -> Option<u16> {
        self.cipher_suite
    }

    fn direction(&mut self, side: Side) -> &mut Direction {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    fn tls13(&self) -> bool {
        self.version == Some(TLS13)
    }

    /// One complete record, header included.
    fn on_record(&mut self, dir: &mut Direction, record: &[u8], out: &mut Out<'_>) {
        self.on_record_part(dir, record, true, out);
    }

    /// A record, header included: `whole`, or only as much of it as arrived before missing
    /// bytes (its header says how long it was).
    fn on_record_part(
        &mut self,
        dir: &mut Direction,
        record: &[u8],
        whole: bool,
        out: &mut Out<'_>,
    ) {
        if let Some(index) = dir.rest_of_cut_record.take() {
            // Whole messages may follow the end of the one the hole cut.
            let body = record.get(RECORD_HEADER..).unwrap_or_default();
            dir.handshake.push_after_hole(body);
            self.on_messages(dir, index, out);
            return;
        }
        let mut reader = Reader(record);
        let (Some(content_type), Some(version), Some(length)) =
            (reader.u8(), reader.u16(), reader.u16())
        else {
            return;
        };
        let body = reader.rest();
        dir.tls_seen = true;
        self.records = self.records.saturating_add(1);
        let index = self.records;
        let unknown_after_gap = self.unsure_of_encryption(dir, content_type);
        let judged_encrypted = unknown_after_gap && whole && !looks_plaintext(content_type, body);
        let encrypted = self.encrypted(dir, out.from, content_type) || judged_encrypted;
        out.push(What::Record {
            index,
            content_type: codes::content_type(content_type),
            version: codes::version(version),
            length,
            encrypted,
        });
        if judged_encrypted {
            encrypted_after_gap(dir, content_type, index, out);
        }
        if content_type == CONTENT_APPLICATION_DATA && !encrypted {
            // Only counted (see `opaque`): not decoded, but not mistaken for protected data.
            out.note(format!(
                "record {index}: application_data before the server's ServerHello, {length} \
                 bytes: no keys exist yet to encrypt it, and no TLS server sends data there"
            ));
            return;
        }
        if dir.decrypter.is_none() {
            dir.decrypter = self.pending[slot(out.from)].take();
        }
        if encrypted {
            if content_type == CONTENT_APPLICATION_DATA {
                if whole {
                    self.decrypted(dir, index, record, out);
                } else if let Some(decrypter) = dir.decrypter.as_mut() {
                    // Its bytes cannot be decrypted, but the next record's sequence number is known.
                    decrypter.skip_records(1);
                }
            }
            return;
        }
        if unknown_after_gap && !whole {
            // Cut, it cannot be told from an encrypted record: not read.
            return;
        }
        match content_type {
            CONTENT_CHANGE_CIPHER_SPEC => {
                dir.sent_ccs = true;
                dir.ccs_unknown = false;
                if out.from == Side::Server && !self.tls13() {
                    self.server_ccs_record.get_or_insert(index);
                }
                if dir.handshake.in_progress() {
                    out.note(format!(
                        "record {index}: change_cipher_spec came in the middle of a handshake message; \
                         its {} bytes received so far are dropped",
                        dir.handshake.buffered()
                    ));
                    dir.handshake.clear();
                }
            }
            // Of a cut record, the whole alerts that arrived.
            CONTENT_ALERT if !whole => on_alerts(index, &body[..body.len() - body.len() % 2], out),
            CONTENT_ALERT => on_alerts(index, body, out),
            CONTENT_HANDSHAKE => self.on_handshake_bytes(dir, index, body, out),
            _ => {}
        }
    }

    /// Whether a record of this type, sent after a hole that may have held the side's
    /// change_cipher_spec, may be encrypted or not (TLS 1.2 and below show alerts and
    /// handshake records under their own type either way).
    fn unsure_of_encryption(&self, dir: &Direction, content_type: u8) -> bool {
        dir.ccs_unknown
            && !dir.sent_ccs
            && !self.tls13()
            && matches!(content_type, CONTENT_ALERT | CONTENT_HANDSHAKE)
    }

    /// Decrypts a TLS 1.3 record when there are keys for it, and decodes what it carries.
    fn decrypted(&mut self, dir: &mut Direction, index: u32, record: &[u8], out: &mut Out<'_>) {
        let Some(decrypter) = dir.decrypter.as_mut() else {
            return;
        };
        let decrypted = match decrypter.decrypt(record) {
            Err(_) if std::mem::take(&mut dir.records_lost) => {
                match decrypt_after_loss(decrypter, record) {
                    Some((recovery, result)) => {
                        out.note(format!(
                            "record {index}: the {}'s records decrypt again past the missing bytes, \
                             which held {recovery}",
                            out.from
                        ));
                        Ok(result)
                    }
                    None if !dir.decrypt_failed => {
                        dir.decrypt_failed = true;
                        out.note(format!(
                            "record {index}: the {}'s records after the missing bytes cannot be \
                             decrypted: too many of its records are missing with them to find \
                             their sequence number",
                            out.from
                        ));
                        return;
                    }
                    None => return,
                }
            }
            other => other,
        };
        match decrypted {
            Ok((inner, plaintext)) => {
                let first = out.events.len();
                match inner {
                    CONTENT_ALERT => on_alerts(index, &plaintext, out),
                    CONTENT_HANDSHAKE => self.on_handshake_bytes(dir, index, &plaintext, out),
                    _ => {}
                }
                for event in &mut out.events[first..] {
                    mark_decrypted(&mut event.what);
                }
            }
            Err(e) if !dir.decrypt_failed => {
                dir.decrypt_failed = true;
                out.note(format!(
                    "record {index}: the {}'s records cannot be decrypted with the key log ({e}); \
                     it may belong to another connection",
                    out.from
                ));
            }
            Err(_) => {}
        }
    }

    /// Whether the record whose header `dir` holds will only be counted: encrypted, and no keys
    /// to decrypt it.
    fn opaque(&self, dir: &Direction, side: Side) -> bool {
        let content_type = dir.record.first().copied().unwrap_or(0);
        // application_data before any keys is counted too: its body is of no use, and a
        // capture's reader leaves out every application_data body ([`Wire::skip_into`]).
        (self.encrypted(dir, side, content_type) || content_type == CONTENT_APPLICATION_DATA)
            && dir.decrypter.is_none()
            && self.pending[slot(side)].is_none()
    }

    /// Whether a record of this type, sent now by `dir`'s side, is protected.
    ///
    /// TLS 1.3 sends every protected record under the outer type application_data (RFC 8446
    /// section 5.2), so there any other type is plaintext: the compatibility
    /// change_cipher_spec, the second ClientHello after a HelloRetryRequest, or an alert sent
    /// before the keys were in place (a client rejecting the ServerHello). In TLS 1.2 and below
    /// the real content type stays visible, and everything after a side's change_cipher_spec
    /// is protected. The version is looked up per record, because in TLS 1.3 middlebox
    /// compatibility mode a client may send change_cipher_spec before any ServerHello.
    ///
    /// Nothing the server sends before its ServerHello is protected: no keys exist yet. An
    /// application_data record, or an alert after a stray change_cipher_spec, is plaintext or
    /// garbage there. That is known only of a connection seen from its start: the client's
    /// plaintext ClientHello came, and none of the server's bytes went missing (a capture that
    /// starts later, or lost the ServerHello, keeps the reading by content type).
    fn encrypted(&self, dir: &Direction, from: Side, content_type: u8) -> bool {
        let before_server_keys = from == Side::Server
            && !self.server_hello_seen
            && self.client_random.is_some()
            // Before the ServerHello nothing clears it: it says bytes went missing.
            && !dir.records_lost
            && !dir.resumes_after_damage;
        !before_server_keys
            && (content_type == CONTENT_APPLICATION_DATA || (!self.tls13() && dir.sent_ccs))
    }

    /// Adds a plaintext handshake record's body to the direction's stream of handshake
    /// messages and decodes every message it completes.
    fn on_handshake_bytes(
        &mut self,
        dir: &mut Direction,
        index: u32,
        body: &[u8],
        out: &mut Out<'_>,
    ) {
        dir.handshake.push(body);
        self.on_messages(dir, index, out);
    }

    /// Decodes the handshake messages `dir` completed, in record `index`.
    fn on_messages(&mut self, dir: &mut Direction, index: u32, out: &mut Out<'_>) {
        let decrypter = &mut dir.decrypter;
        dir.handshake.messages(|piece| match piece {
            Piece::TooLarge {
                message_type,
                length,
            } => out.note(format!(
                "record {index}: the {}'s {} declares {length} bytes, more than iotdoctor \
                 decodes; it is skipped",
                out.from,
                messages::name(message_type)
            )),
            Piece::Message {
                message_type,
                whole,
            } => {
                self.on_message(
                    index,
                    message_type,
                    &whole[handshake::HANDSHAKE_HEADER..],
                    out,
                );
                self.handshake_log.push(whole);
                if let Some(decrypter) = decrypter.as_mut() {
                    match message_type {
                        MESSAGE_FINISHED => decrypter.to_application(),
                        MESSAGE_KEY_UPDATE => decrypter.key_update(),
                        _ => {}
                    }
                }
            }
        });
    }

    /// Decodes one complete handshake message into an event, or a note saying what failed.
    fn on_message(&mut self, record: u32, message_type: u8, body: &[u8], out: &mut Out<'_>) {
        let mut notes = Vec::new();
        self.server_hello_seen |= message_type == MESSAGE_SERVER_HELLO && out.from == Side::Server;
        if message_type == MESSAGE_CLIENT_HELLO
            && out.from == Side::Client
            && self.client_random.is_none()
        {
            self.client_random = client_hello::random(body);
        }
        match self.decode_message(out.from, record, message_type, body, &mut notes) {
            Ok(mut what) => {
                match &mut what {
                    What::Certificate { certificates, .. } => {
                        self.presented[slot(out.from)] = certificates.first().cloned();
                    }
                    What::CertificateVerify {
                        verified, detail, ..
                    } if message_type == MESSAGE_CERTIFICATE_VERIFY => {
                        (*verified, *detail) =
                            self.check_certificate_verify(out.from, record, body);
                    }
                    What::Handshake {
                        message: Handshake::ServerHello { .. },
                        ..
                    } if out.from == Side::Server => {
                        self.make_decrypters(&mut notes);
                    }
                    What::Handshake {
                        message: Handshake::HelloRetryRequest { .. },
                        ..
                    } => {
                        // The transcript then starts with a synthetic message_hash: not kept.
                        self.handshake_log.give_up();
                    }
                    _ => {}
                }
                out.push(what)
            }
            Err(why) => out.note(format!(
                "record {record}: the {}'s {} could not be decoded: {why}",
                out.from,
                messages::name(message_type)
            )),
        }
        for note in notes {
            out.note(note);
        }
    }

    fn decode_message(
        &mut self,
        from: Side,
        record: u32,
        message_type: u8,
        body: &[u8],
        notes: &mut Vec<String>,
    ) -> Result<What, String> {
        let handshake = |message| What::Handshake { record, message };
        Ok(match message_type {
            1 => handshake(client_hello::decode(body, notes)?),
            2 => handshake(self.server_hello(from, body, notes)?),
            4 => handshake(Handshake::NewSessionTicket),
            8 => handshake(Handshake::EncryptedExtensions),
            11 => What::Certificate {
                record: Some(record),
                seen: Seen::Wire,
                certificates: self.certificate(from, record, body, notes)?,
            },
            12 => handshake(self.server_key_exchange(body)),
            13 => self.certificate_request(record, body)?,
            14 => handshake(Handshake::ServerHelloDone),
            15 => match self.certificate_verify(record, body)? {
                Some(what) => what,
                None => handshake(Handshake::Other {
                    message_type,
                    length: body.len(),
                }),
            },
            16 => handshake(Handshake::ClientKeyExchange { length: body.len() }),
            20 => handshake(Handshake::Finished),
            24 => handshake(Handshake::KeyUpdate),
            _ => handshake(Handshake::Other {
                message_type,
                length: body.len(),
            }),
        })
    }

    /// At a TLS 1.3 ServerHello, with a key log: the decrypters for both directions.
    fn make_decrypters(&mut self, notes: &mut Vec<String>) {
        let (Some(keys), true, Some(suite)) = (&self.keys, self.tls13(), self.cipher_suite) else {
            return;
        };
        let Some(random) = self.client_random else {
            return;
        };
        let Some(secrets) = keys.tls13(&random) else {
            let hex: String = random.iter().take(8).map(|b| format!("{b:02x}")).collect();
            notes.push(format!(
                "the key log has no TLS 1.3 secrets for this connection (client random {hex}...): its encrypted records stay opaque"
            ));
            return;
        };
        self.pending = [
            Tls13Decrypter::new(&secrets, suite, false),
            Tls13Decrypter::new(&secrets, suite, true),
        ];
        if self.pending.iter().any(Option::is_none) {
            notes.push("the key log lacks some secrets of this connection, or its cipher suite cannot be decrypted".into());
        }
    }

    /// What checking a CertificateVerify takes: the sender's certificate and the signed content.
    fn signature_check(&self, from: Side, body: &[u8]) -> Result<SignatureCheck, Option<String>> {
        let Some((scheme, signature)) = certificate_verify::scheme_and_signature(body) else {
            return Err(None);
        };
        let Some(cert) = &self.presented[slot(from)] else {
            return Err(Some(
                "no certificate of the sender was seen to check it against".into(),
            ));
        };
        let Some(log) = self.handshake_log.messages() else {
            return Err(Some(
                "the handshake messages it signs were not all seen".into(),
            ));
        };
        let sha384 = self.cipher_suite == Some(0x1302);
        let message = certificate_verify::signed_content(log, self.tls13(), from, sha384);
        Ok(SignatureCheck {
            cert: cert.clone(),
            scheme,
            message,
            signature: signature.to_vec(),
        })
    }

    /// Checks a CertificateVerify now, or, in a TLS 1.2 capture, sets it aside until
    /// [`DeferredChecks::settle`] knows whether the server accepted it.
    fn check_certificate_verify(
        &mut self,
        from: Side,
        record: u32,
        body: &[u8],
    ) -> (Option<bool>, Option<String>) {
        match self.signature_check(from, body) {
            Err(why) => (None, why),
            Ok(check) if self.defer_checks && !self.tls13() => {
                self.deferred.push((record, from, check));
                (None, Some(DEFERRED.into()))
            }
            Ok(check) => check.run(),
        }
    }

    /// Hands over the CertificateVerify checks set aside (see [`Wire::defer_signature_checks`]),
    /// with what [`DeferredChecks::settle`] needs to know which ones the server accepted. Taken
    /// out of the decoder so that they can run elsewhere (another thread) once the connection
    /// is over.
    pub fn take_deferred_checks(&mut self) -> DeferredChecks {
        DeferredChecks {
            checks: std::mem::take(&mut self.deferred),
            server_ccs_record: self.server_ccs_record,
        }
    }

    /// Leaves TLS 1.2 CertificateVerify checks (an elliptic-curve verification each) until
    /// [`DeferredChecks::settle`], which skips the ones the server accepted. For reading
    /// captures of many connections, where most signatures are fine and the server said so.
    pub fn defer_signature_checks(&mut self) {
        self.defer_checks = true;
    }

    /// A ServerHello or HelloRetryRequest. When the server sent it, it sets the negotiated
    /// version and cipher suite.
    fn server_hello(
        &mut self,
        from: Side,
        body: &[u8],
        notes: &mut Vec<String>,
    ) -> Result<Handshake, String> {
        let hello = server_hello::decode(body, notes)?;
        if from == Side::Server {
            self.version = Some(hello.version);
            self.cipher_suite = Some(hello.cipher_suite);
        }
        Ok(hello.message)
    }

    /// The certificates of a Certificate message, in the negotiated version's layout.
    fn certificate(
        &self,
        from: Side,
        record: u32,
        body: &[u8],
        notes: &mut Vec<String>,
    ) -> Result<Vec<CertInfo>, String> {
        certificate::decode(body, self.tls13(), from, record, notes)
    }

    /// The key exchange group and signature scheme of a ServerKeyExchange, where visible.
    fn server_key_exchange(&self, body: &[u8]) -> Handshake {
        let kx = self
            .cipher_suite
            .and_then(codes::cipher_suite_info)
            .map(|suite| suite.kx);
        // Only TLS 1.2 names the signature scheme before the signature.
        let tls12 = self.version.is_none_or(|v| v >= TLS12);
        server_key_exchange::decode(body, kx == Some(TlsCipherKx::Dhe), tls12)
    }

    fn certificate_request(&self, record: u32, body: &[u8]) -> Result<What, String> {
        let with_schemes = self.version.is_none_or(|v| v >= TLS12);
        certificate_request::decode(body, self.tls13(), with_schemes, record)
    }

    /// A CertificateVerify; `None` before TLS 1.2, whose CertificateVerify names no scheme.
    fn certificate_verify(&self, record: u32, body: &[u8]) -> Result<Option<What>, String> {
        if self.version.is_some_and(|v| v < TLS12) {
            return Ok(None);
        }
        certificate_verify::decode(body, record).map(Some)
    }
}

/// Index of a side in per-side arrays.
fn slot(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

/// Events decoded from inside an encrypted record say so.
fn mark_decrypted(what: &mut What) {
    match what {
        What::Certificate { seen, .. }
        | What::CertificateRequest { seen, .. }
        | What::CertificateVerify { seen, .. }
        | What::Alert { seen, .. } => *seen = Seen::Decrypted,
        _ => {}
    }
}

/// Each two bytes of a plaintext alert record are one alert.
fn on_alerts(index: u32, body: &[u8], out: &mut Out<'_>) {
    for what in alert::decode(body, index) {
        out.push(what);
    }
}

/// A record whose content shows it encrypted although the side's change_cipher_spec was not
/// seen (it may have been among missing bytes): says why it is not decoded. An encrypted alert
/// proves the change_cipher_spec was sent; a handshake record that is no plaintext message may
/// also be the rest of one whose start is missing, so it proves nothing.
fn encrypted_after_gap(dir: &mut Direction, content_type: u8, index: u32, out: &mut Out<'_>) {
    if content_type == CONTENT_ALERT {
        dir.sent_ccs = true;
        dir.ccs_unknown = false;
        out.note(format!(
            "record {index}: this alert is encrypted (a plaintext alert is 2 bytes): the {}'s \
             change_cipher_spec was among the missing bytes",
            out.from
        ));
    } else {
        out.note(format!(
            "record {index}: after the missing bytes, this handshake record holds no plaintext \
             handshake message: encrypted, or the rest of a message whose start is missing; it \
             is not decoded"
        ));
    }
}

/// Whether the body of an alert or handshake record reads as plaintext: one alert of level
/// warning or fatal; whole handshake messages of the types sent in the clear. What an
/// encrypted record shows under those types (TLS 1.2 and below) fails this but for odds far
/// below one in a million.
fn looks_plaintext(content_type: u8, body: &[u8]) -> bool {
    match content_type {
        CONTENT_ALERT => matches!(body, [1 | 2, _]),
        CONTENT_HANDSHAKE => handshake::plaintext_messages(body),
        _ => true,
    }
}

/// A handshake message a hole cut in two: left out, with a note.
fn drop_cut_message(dir: &mut Direction, out: &mut Out<'_>) {
    if let Some((message_type, seen)) = dir.handshake.started() {
        out.note(format!(
            "the {}'s {} is cut by the missing bytes ({seen} bytes of it seen): it is left out",
            out.from,
            messages::name(message_type),
        ));
    }
    dir.handshake.clear();
}

/// Decrypts the first record after records went missing: tries the sequence numbers of up to
/// [`MAX_LOST_RECORDS`] lost records, in the decrypter's epoch and, if the side's Finished may
/// have been lost too, in the application epoch. On success the decrypter is left in step, and
/// what was lost is returned with the plaintext.
fn decrypt_after_loss(
    decrypter: &mut Tls13Decrypter,
    record: &[u8],
) -> Option<(String, (u8, Vec<u8>))> {
    let epoch = decrypter.epoch();
    let mut application = decrypter.clone();
    application.to_application();
    let mut candidates = vec![decrypter.clone()];
    if application.epoch() != epoch {
        candidates.push(application);
    }
    for start in candidates {
        for lost in 0..=MAX_LOST_RECORDS {
            let mut candidate = start.clone();
            candidate.skip_records(lost);
            if let Ok(result) = candidate.decrypt(record) {
                let recovery = if candidate.epoch() == epoch {
                    format!("{lost} of its records")
                } else {
                    "the end of its handshake: they decrypt with its application keys".to_string()
                };
                *decrypter = candidate;
                return Some((recovery, result));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::sync::Arc;

    use rustls::crypto::{CryptoProvider, aws_lc_rs};
    use rustls::pki_types::ServerName;
    use rustls::server::WebPkiClientVerifier;
    use rustls::{
        ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig, ServerConnection,
        SupportedProtocolVersion,
    };

    use super::*;
    use crate::decode::messages::certificate_request::distinguished_name;
    use crate::decode::messages::server_hello::HELLO_RETRY_REQUEST_RANDOM;
    use crate::model::Named;
    use crate::test_support::{CollectingKeyLog, Rng, certs, key, transfer};

    const ALPN: &[u8] = b"x-amzn-mqtt-ca";

    /// Whether and how the client authenticates.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum ClientAuth {
        /// The server sends no CertificateRequest.
        NotAsked,
        /// The server asks and the client presents client-ec-chain.pem.
        Presented,
        /// The server asks but lets the client in without a certificate; the client has none.
        Anonymous,
    }

    /// The bytes of one in-memory handshake, in wire order, and what rustls negotiated.
    struct Run {
        chunks: Vec<(Side, Vec<u8>)>,
        version: u16,
        suite: u16,
        /// The client's secrets, in the NSS key log format.
        keylog: String,
    }

    /// Runs a rustls client and server against each other in memory, recording every chunk
    /// of bytes each one writes. After the handshake each side sends a little application data.
    /// With `force_hrr` the server accepts only secp256r1, which the client sends no key share
    /// for, so a TLS 1.3 handshake goes through a HelloRetryRequest.
    fn handshake(
        version: &'static SupportedProtocolVersion,
        auth: ClientAuth,
        force_hrr: bool,
    ) -> Run {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let mut roots = RootCertStore::empty();
        for root in certs("root-ca.pem") {
            roots.add(root).expect("root");
        }
        let roots = Arc::new(roots);

        let server_provider = if force_hrr {
            Arc::new(CryptoProvider {
                kx_groups: vec![aws_lc_rs::kx_group::SECP256R1],
                ..aws_lc_rs::default_provider()
            })
        } else {
            provider.clone()
        };
        let server = ServerConfig::builder_with_provider(server_provider)
            .with_protocol_versions(&[version])
            .expect("server versions");
        let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone());
        let server = match auth {
            ClientAuth::NotAsked => server.with_no_client_auth(),
            ClientAuth::Presented => {
                server.with_client_cert_verifier(verifier.build().expect("verifier"))
            }
            ClientAuth::Anonymous => server.with_client_cert_verifier(
                verifier.allow_unauthenticated().build().expect("verifier"),
            ),
        };
        let mut server = server
            .with_single_cert(certs("server-chain.pem"), key("server.key"))
            .expect("server config");
        server.alpn_protocols = vec![ALPN.to_vec()];

        let client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[version])
            .expect("client versions")
            .with_root_certificates(roots);
        let mut client = match auth {
            ClientAuth::Presented => client
                .with_client_auth_cert(certs("client-ec-chain.pem"), key("client-ec.key"))
                .expect("client config"),
            ClientAuth::NotAsked | ClientAuth::Anonymous => client.with_no_client_auth(),
        };
        client.alpn_protocols = vec![ALPN.to_vec()];
        let keylog = Arc::new(CollectingKeyLog::default());
        client.key_log = keylog.clone();

        let name = ServerName::try_from("localhost").expect("name");
        let mut client =
            Connection::Client(ClientConnection::new(Arc::new(client), name).expect("client"));
        let mut server =
            Connection::Server(ServerConnection::new(Arc::new(server)).expect("server"));
        client.writer().write_all(b"PING").expect("client data");
        server.writer().write_all(b"PONG").expect("server data");

        let mut chunks = Vec::new();
        for _ in 0..50 {
            let client_moved =
                transfer(&mut client, &mut server, |b| chunks.push((Side::Client, b)));
            let server_moved =
                transfer(&mut server, &mut client, |b| chunks.push((Side::Server, b)));
            if !client_moved && !server_moved {
                break;
            }
        }
        assert!(
            !client.is_handshaking() && !server.is_handshaking(),
            "handshake did not finish"
        );
        let suite = client.negotiated_cipher_suite().expect("suite").suite();
        let version = client.protocol_version().expect("version");
        let keylog = keylog.text();
        Run {
            chunks,
            version: u16::from(version),
            suite: u16::from(suite),
            keylog,
        }
    }

    fn decode(chunks: &[(Side, Vec<u8>)]) -> (Wire, Vec<Event>) {
        let mut wire = Wire::new();
        let mut events = Vec::new();
        for (at, (side, bytes)) in chunks.iter().enumerate() {
            events.extend(wire.feed(*side, bytes, at as f64));
        }
        (wire, events)
    }

    /// The events other than records, one short line each, for comparing sequences.
    fn summary(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| {
                let what = match &e.what {
                    What::Record { .. } => return None,
                    What::Handshake { message, .. } => {
                        let json = serde_json::to_value(message).expect("json");
                        json["message"].as_str().expect("message tag").to_string()
                    }
                    What::Certificate { certificates, .. } => {
                        format!("certificate({})", certificates.len())
                    }
                    What::CertificateRequest { .. } => "certificate_request".into(),
                    What::CertificateVerify { .. } => "certificate_verify".into(),
                    What::Alert {
                        level, description, ..
                    } => format!("alert({level}, {description})"),
                    other => format!("{other:?}"),
                };
                Some(format!("{} {what}", e.from))
            })
            .collect()
    }

    /// (side, index, content type, encrypted) of every Record event.
    fn records(events: &[Event]) -> Vec<(Side, u32, u16, bool)> {
        events
            .iter()
            .filter_map(|e| match &e.what {
                What::Record {
                    index,
                    content_type,
                    encrypted,
                    ..
                } => Some((e.from, *index, content_type.code, *encrypted)),
                _ => None,
            })
            .collect()
    }

    fn handshake_message<'a>(events: &'a [Event], from: Side, tag: &str) -> Vec<&'a Handshake> {
        events
            .iter()
            .filter(|e| e.from == from)
            .filter_map(|e| match &e.what {
                What::Handshake { message, .. } => Some(message),
                _ => None,
            })
            .filter(|m| serde_json::to_value(m).expect("json")["message"] == tag)
            .collect()
    }

    fn certificates(events: &[Event], from: Side) -> Vec<&Vec<CertInfo>> {
        events
            .iter()
            .filter(|e| e.from == from)
            .filter_map(|e| match &e.what {
                What::Certificate {
                    certificates,
                    seen: Seen::Wire,
                    record: Some(_),
                } => Some(certificates),
                _ => None,
            })
            .collect()
    }

    fn names_of(list: &[Named]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    /// Record indices run 1, 2, 3, ... over both directions, in event order.
    fn assert_indices_consecutive(events: &[Event]) {
        let indices: Vec<u32> = records(events).iter().map(|r| r.1).collect();
        let expected: Vec<u32> = (1..=indices.len() as u32).collect();
        assert_eq!(indices, expected);
        assert!(records(events).iter().any(|r| r.0 == Side::Client));
        assert!(records(events).iter().any(|r| r.0 == Side::Server));
    }

    fn assert_client_hello(events: &[Event], offered: &str) {
        let hellos = handshake_message(events, Side::Client, "client_hello");
        let Some(Handshake::ClientHello {
            versions,
            cipher_suites,
            groups,
            signature_schemes,
            sni,
            alpn,
            ..
        }) = hellos.first()
        else {
            panic!("no ClientHello in {:?}", summary(events));
        };
        assert_eq!(sni.as_deref(), Some("localhost"));
        assert!(
            names_of(versions).contains(&offered.to_string()),
            "{versions:?}"
        );
        assert!(!cipher_suites.is_empty() && !groups.is_empty() && !signature_schemes.is_empty());
        assert_eq!(alpn, &vec!["x-amzn-mqtt-ca".to_string()]);
    }

    fn assert_server_hello(events: &[Event], run: &Run) {
        let hellos = handshake_message(events, Side::Server, "server_hello");
        let [
            Handshake::ServerHello {
                version,
                cipher_suite,
                key_share,
                alpn,
            },
        ] = hellos.as_slice()
        else {
            panic!("not one ServerHello in {:?}", summary(events));
        };
        assert_eq!(version.code, run.version);
        assert_eq!(cipher_suite.code, run.suite);
        // TLS 1.3 moves the ALPN answer into the encrypted EncryptedExtensions.
        let expected_alpn = (run.version == TLS12).then_some("x-amzn-mqtt-ca");
        assert_eq!(alpn.as_deref(), expected_alpn);
        assert_eq!(key_share.is_some(), run.version == TLS13);
    }

    fn assert_no_notes(events: &[Event]) {
        let notes: Vec<_> = events
            .iter()
            .filter(|e| matches!(e.what, What::Note { .. }))
            .collect();
        assert!(notes.is_empty(), "{notes:?}");
    }

    /// In TLS 1.2 each side's records are plaintext up to and including its change_cipher_spec
    /// and encrypted after it.
    fn assert_tls12_encryption(events: &[Event]) {
        for side in [Side::Client, Side::Server] {
            let mine: Vec<_> = records(events)
                .into_iter()
                .filter(|r| r.0 == side)
                .collect();
            let ccs = mine
                .iter()
                .position(|r| r.2 == 20)
                .expect("change_cipher_spec");
            assert!(mine[..=ccs].iter().all(|r| !r.3), "{side}: {mine:?}");
            assert!(mine[ccs + 1..].iter().all(|r| r.3), "{side}: {mine:?}");
            assert!(
                mine[ccs + 1..].iter().any(|r| r.2 == 23),
                "{side}: no application data"
            );
        }
    }

    /// In TLS 1.3 every record after the ServerHello's is encrypted, except change_cipher_spec.
    fn assert_tls13_encryption(events: &[Event]) {
        let server_hello = events
            .iter()
            .rev()
            .find_map(|e| match &e.what {
                What::Handshake {
                    record,
                    message: Handshake::ServerHello { .. },
                } => Some(*record),
                _ => None,
            })
            .expect("ServerHello");
        for (side, index, content_type, encrypted) in records(events) {
            let expected = index > server_hello && content_type != 20;
            assert_eq!(
                encrypted, expected,
                "{side} record {index} (type {content_type})"
            );
        }
    }

    #[test]
    fn tls12_with_client_certificate() {
        let run = handshake(&rustls::version::TLS12, ClientAuth::Presented, false);
        let (wire, events) = decode(&run.chunks);
        assert_eq!(
            summary(&events),
            [
                "client client_hello",
                "server server_hello",
                "server certificate(2)",
                "server server_key_exchange",
                "server certificate_request",
                "server server_hello_done",
                "client certificate(2)",
                "client client_key_exchange",
                "client certificate_verify",
            ]
        );
        assert_client_hello(&events, "TLSv1.2");
        assert_server_hello(&events, &run);
        assert_eq!(wire.version(), Some(TLS12));
        assert_eq!(wire.cipher_suite(), Some(run.suite));

        let server_chain = certificates(&events, Side::Server);
        assert!(
            server_chain[0][0].subject.contains("CN=localhost"),
            "{}",
            server_chain[0][0].subject
        );
        let client_chain = certificates(&events, Side::Client);
        let expected_client =
            CertInfo::from_der(&certs("client-ec-chain.pem")[0]).expect("client cert");
        assert_eq!(client_chain[0][0].subject, expected_client.subject);

        let Some(Handshake::ServerKeyExchange { group, scheme }) =
            handshake_message(&events, Side::Server, "server_key_exchange")
                .first()
                .copied()
        else {
            panic!("no ServerKeyExchange");
        };
        assert!(
            group.as_ref().is_some_and(|g| g.name.is_some()),
            "{group:?}"
        );
        assert!(
            scheme
                .as_ref()
                .is_some_and(|s| s.to_string().starts_with("ecdsa")),
            "{scheme:?}"
        );

        let request = events
            .iter()
            .find_map(|e| match &e.what {
                What::CertificateRequest {
                    certificate_types,
                    signature_schemes,
                    ca_names,
                    ..
                } => Some((certificate_types, signature_schemes, ca_names)),
                _ => None,
            })
            .expect("CertificateRequest");
        assert!(
            request
                .2
                .iter()
                .any(|n| n.contains("iotdoctor Test Root CA")),
            "{:?}",
            request.2
        );
        assert!(!request.0.is_empty() && !request.1.is_empty());

        let verify = events
            .iter()
            .find_map(|e| match &e.what {
                What::CertificateVerify {
                    scheme,
                    signature_length,
                    verified,
                    ..
                } if e.from == Side::Client => Some((scheme, *signature_length, *verified)),
                _ => None,
            })
            .expect("client CertificateVerify");
        assert!(verify.0.to_string().starts_with("ecdsa"), "{:?}", verify.0);
        assert!(verify.1 > 0);
        assert_eq!(
            verify.2,
            Some(true),
            "checked against the client certificate over the handshake"
        );

        assert_tls12_encryption(&events);
        assert_indices_consecutive(&events);
        assert_no_notes(&events);
    }

    #[test]
    fn tls12_anonymous_client_sends_an_empty_certificate_message() {
        let run = handshake(&rustls::version::TLS12, ClientAuth::Anonymous, false);
        let (_, events) = decode(&run.chunks);
        assert_eq!(
            summary(&events),
            [
                "client client_hello",
                "server server_hello",
                "server certificate(2)",
                "server server_key_exchange",
                "server certificate_request",
                "server server_hello_done",
                "client certificate(0)",
                "client client_key_exchange",
            ]
        );
        assert!(certificates(&events, Side::Client)[0].is_empty());
        assert_tls12_encryption(&events);
        assert_indices_consecutive(&events);
        assert_no_notes(&events);
    }

    #[test]
    fn tls12_without_client_authentication() {
        let run = handshake(&rustls::version::TLS12, ClientAuth::NotAsked, false);
        let (wire, events) = decode(&run.chunks);
        assert_eq!(
            summary(&events),
            [
                "client client_hello",
                "server server_hello",
                "server certificate(2)",
                "server server_key_exchange",
                "server server_hello_done",
                "client client_key_exchange",
            ]
        );
        assert_server_hello(&events, &run);
        assert_eq!(wire.cipher_suite(), Some(run.suite));
        assert_tls12_encryption(&events);
        assert_indices_consecutive(&events);
    }

    #[test]
    fn nothing_the_server_sends_before_its_server_hello_is_encrypted() {
        let run = handshake(&rustls::version::TLS13, ClientAuth::NotAsked, false);
        let (side, client_hello) = &run.chunks[0];
        assert_eq!(*side, Side::Client);
        let data = [0x17, 0x03, 0x03, 0x00, 0x03, 1, 2, 3];
        // A stray change_cipher_spec, then a fatal handshake_failure alert.
        let stray = [
            0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28,
        ];
        let mut wire = Wire::new();
        wire.feed(Side::Client, client_hello, 0.0);
        let mut events = wire.feed(Side::Server, &data, 1.0);
        events.extend(wire.feed(Side::Server, &stray, 2.0));
        let encrypted: Vec<bool> = records(&events).iter().map(|r| r.3).collect();
        assert_eq!(encrypted, [false, false, false], "{events:?}");
        let said = summary(&events);
        assert!(
            said[0].contains("application_data before the server's ServerHello, 3 bytes"),
            "{said:?}"
        );
        assert_eq!(said[1], "server alert(fatal, handshake_failure)");
        // Seen from the middle of a connection (a capture that started late), the same record
        // may well be encrypted: it is read by its type, as before.
        let events = Wire::new().feed(Side::Server, &data, 0.0);
        let encrypted: Vec<bool> = records(&events).iter().map(|r| r.3).collect();
        assert_eq!(encrypted, [true]);
    }

    #[test]
    fn tls13_hides_everything_after_the_server_hello() {
        for auth in [
            ClientAuth::Presented,
            ClientAuth::NotAsked,
            ClientAuth::Anonymous,
        ] {
            let run = handshake(&rustls::version::TLS13, auth, false);
            let (wire, events) = decode(&run.chunks);
            assert_eq!(
                summary(&events),
                ["client client_hello", "server server_hello"],
                "{auth:?}"
            );
            assert_client_hello(&events, "TLSv1.3");
            assert_server_hello(&events, &run);
            let Some(Handshake::ClientHello { key_shares, .. }) =
                handshake_message(&events, Side::Client, "client_hello")
                    .first()
                    .copied()
            else {
                unreachable!()
            };
            assert!(!key_shares.is_empty());
            assert_eq!(wire.version(), Some(TLS13));
            assert_eq!(wire.cipher_suite(), Some(run.suite));
            assert_tls13_encryption(&events);
            assert_indices_consecutive(&events);
        }
    }

    #[test]
    fn tls13_hello_retry_request_keeps_the_second_client_hello_readable() {
        let run = handshake(&rustls::version::TLS13, ClientAuth::Presented, true);
        let (wire, events) = decode(&run.chunks);
        assert_eq!(
            summary(&events),
            [
                "client client_hello",
                "server hello_retry_request",
                "client client_hello",
                "server server_hello",
            ]
        );
        let Some(Handshake::HelloRetryRequest {
            key_share,
            cipher_suite,
        }) = handshake_message(&events, Side::Server, "hello_retry_request")
            .first()
            .copied()
        else {
            unreachable!()
        };
        assert_eq!(
            key_share.as_ref().map(ToString::to_string).as_deref(),
            Some("secp256r1")
        );
        assert_eq!(cipher_suite.code, run.suite);
        let hellos = handshake_message(&events, Side::Client, "client_hello");
        let Handshake::ClientHello { key_shares, .. } = hellos[1] else {
            unreachable!()
        };
        assert_eq!(names_of(key_shares), ["secp256r1"]);
        assert_server_hello(&events, &run);
        assert_eq!(wire.version(), Some(TLS13));
        assert_tls13_encryption(&events);
        assert_indices_consecutive(&events);
    }

    /// Feeding one byte at a time, or in uneven pieces, gives the same events as whole chunks.
    #[test]
    fn chunking_does_not_change_the_events() {
        let runs = [
            handshake(&rustls::version::TLS12, ClientAuth::Presented, false),
            handshake(&rustls::version::TLS13, ClientAuth::Presented, true),
        ];
        for run in runs {
            let whole = decode(&run.chunks).1;
            let mut wire = Wire::new();
            let mut bytewise = Vec::new();
            for (at, (side, bytes)) in run.chunks.iter().enumerate() {
                for byte in bytes {
                    bytewise.extend(wire.feed(*side, std::slice::from_ref(byte), at as f64));
                }
            }
            let mut wire = Wire::new();
            let mut pieces = Vec::new();
            for (at, (side, bytes)) in run.chunks.iter().enumerate() {
                for piece in bytes.chunks(7) {
                    pieces.extend(wire.feed(*side, piece, at as f64));
                }
            }
            let debug = |events: &[Event]| -> Vec<String> {
                events.iter().map(|e| format!("{e:?}")).collect()
            };
            assert_eq!(debug(&bytewise), debug(&whole));
            assert_eq!(debug(&pieces), debug(&whole));
        }
    }

    #[test]
    fn plaintext_fatal_alert() {
        let mut wire = Wire::new();
        let events = wire.feed(
            Side::Server,
            &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28],
            1.5,
        );
        assert_eq!(events.len(), 2);
        assert!(matches!(
            &events[0].what,
            What::Record { index: 1, length: 2, encrypted: false, content_type, .. } if content_type.code == 21
        ));
        let What::Alert {
            record,
            seen,
            level,
            description,
        } = &events[1].what
        else {
            panic!("{events:?}");
        };
        assert_eq!((*record, *seen), (Some(1), Seen::Wire));
        assert_eq!(level.to_string(), "fatal");
        assert_eq!(description.to_string(), "handshake_failure");
        assert_eq!((events[1].from, events[1].at_ms), (Side::Server, 1.5));
    }

    /// A TLS 1.3 client that rejects the ServerHello has no keys yet: its alert is plaintext.
    #[test]
    fn tls13_alert_before_keys_is_decoded() {
        let run = handshake(&rustls::version::TLS13, ClientAuth::NotAsked, false);
        let mut wire = Wire::new();
        for (side, bytes) in &run.chunks[..2] {
            wire.feed(*side, bytes, 0.0);
        }
        assert_eq!(wire.version(), Some(TLS13));
        let events = wire.feed(
            Side::Client,
            &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x2f],
            1.0,
        );
        assert_eq!(summary(&events), ["client alert(fatal, illegal_parameter)"]);
    }

    #[test]
    fn not_tls_is_reported_once_with_a_readable_preview() {
        let mut wire = Wire::new();
        let http = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: 150\r\n\r\n<html>";
        let events = wire.feed(Side::Server, http, 3.0);
        assert_eq!(events.len(), 1);
        let What::NotTls { preview } = &events[0].what else {
            panic!("{events:?}")
        };
        assert!(
            preview.starts_with("HTTP/1.1 400 Bad Request\\x0d\\x0aContent-Type"),
            "{preview}"
        );
        assert_eq!(preview.matches("\\x0d").count(), 2, "64 bytes: {preview}");
        assert!(wire.feed(Side::Server, b"more", 4.0).is_empty());
        assert!(
            wire.feed(Side::Server, &[0x16, 0x03, 0x03, 0x00, 0x00], 5.0)
                .is_empty()
        );
        // The other direction goes on being decoded.
        let events = wire.feed(
            Side::Client,
            &[0x15, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00],
            6.0,
        );
        assert_eq!(summary(&events), ["client alert(warning, close_notify)"]);
    }

    #[test]
    fn not_tls_banners_and_short_replies() {
        let cases: [(&[u8], &str); 3] = [
            (b"SSH-2.0-OpenSSH_9.6\r\n", "SSH-2.0-OpenSSH_9.6\\x0d\\x0a"),
            (&[0x20, 0x02, 0x00, 0x00], " \\x02\\x00\\x00"),
            // A valid content type and version, but longer than any record may be.
            (&[0x16, 0x03, 0x03, 0x48, 0x01], "\\x16\\x03\\x03H\\x01"),
        ];
        for (bytes, expected) in cases {
            let events = Wire::new().feed(Side::Server, bytes, 0.0);
            assert_eq!(
                summary(&events[..1]),
                [format!("server NotTls {{ preview: {expected:?} }}")]
            );
            // Bytes that start like a record header, and only those, are told why they are none.
            let why: Vec<String> = events[1..]
                .iter()
                .map(|e| format!("{:?}", e.what))
                .collect();
            assert_eq!(
                why.len() == 1 && why[0].contains("16 03 03 48 01 declares 18433 bytes"),
                bytes[0] == 0x16,
                "{why:?}"
            );
        }
        // After valid records, a bad header means a damaged stream, not a peer that does not
        // speak TLS: decoding stops there, with a note, and nothing after it is read.
        let mut wire = Wire::new();
        let mut events = wire.feed(
            Side::Server,
            &[0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00, 0x99],
            0.0,
        );
        events.extend(wire.feed(Side::Server, &[0x15, 0x03, 0x03, 0x00, 0x02, 2, 40], 1.0));
        let summary = summary(&events);
        assert_eq!(summary.len(), 2, "{summary:?}");
        assert_eq!(summary[0], "server alert(warning, close_notify)");
        let What::Note { message } = &events[events.len() - 1].what else {
            panic!("{events:?}");
        };
        assert!(
            message.contains("stop looking like TLS records") && message.contains("\\x99"),
            "{message}"
        );
    }

    /// The decoder refuses a header at the first byte no record header can continue, by the
    /// same rule the search after a hole uses ([`record::header_plausible`]): a version past 3.4,
    /// which no TLS record carries, and a length whose high byte alone is already too large.
    /// Such bytes could never be found again as records after a hole, so they are none at the
    /// start of a stream either.
    #[test]
    fn headers_no_record_can_have_are_refused_at_their_first_bad_byte() {
        let cases: [(&[u8], &str); 2] = [
            (
                &[0x16, 0x03, 0x09, 0x00, 0x02, 0x02, 0x28],
                "16 03 09 has version 3.9, where TLS records carry 3.0 (SSL 3.0) to 3.4",
            ),
            (
                &[0x17, 0x03, 0x03, 0xff],
                "17 03 03 ff declares at least 65280 bytes, more than the 18432",
            ),
        ];
        for (bytes, why) in cases {
            let mut wire = Wire::new();
            let mut events = wire.feed(Side::Server, bytes, 0.0);
            wire.end_into(Side::Server, 1.0, &mut events);
            assert!(
                matches!(events[0].what, What::NotTls { .. }),
                "{bytes:02x?}: {events:?}"
            );
            assert!(
                matches!(&events[1].what, What::Note { message } if message.contains(why)),
                "{bytes:02x?}: {events:?}"
            );
            assert_eq!(events.len(), 2, "{events:?}");
        }
    }

    #[test]
    fn partial_records_wait_for_the_rest() {
        let mut wire = Wire::new();
        assert!(wire.feed(Side::Client, &[0x15, 0x03], 0.0).is_empty());
        assert!(
            wire.feed(Side::Client, &[0x03, 0x00, 0x02, 0x02], 0.0)
                .is_empty()
        );
        // The alert completes; 0x17 may start the next record, so it waits.
        let events = wire.feed(Side::Client, &[0x30, 0x17], 0.0);
        assert_eq!(summary(&events), ["client alert(fatal, unknown_ca)"]);
        let events = wire.feed(Side::Client, &[0x03, 0x03, 0x00, 0x11], 0.0);
        assert!(events.is_empty());
        let events = wire.feed(Side::Client, &[0; 0x11], 0.0);
        assert_eq!(records(&events), [(Side::Client, 2, 23, true)]);
        // An empty record completes with its header.
        let events = Wire::new().feed(Side::Client, &[0x16, 0x03, 0x03, 0x00, 0x00], 0.0);
        assert_eq!(records(&events), [(Side::Client, 1, 22, false)]);
    }

    /// Wraps a handshake message body in a handshake header.
    fn message(message_type: u8, body: &[u8]) -> Vec<u8> {
        let len = body.len() as u32;
        let mut out = vec![message_type];
        out.extend_from_slice(&len.to_be_bytes()[1..]);
        out.extend_from_slice(body);
        out
    }

    /// Wraps bytes in records of at most `max` bytes each.
    fn records_of(content_type: u8, bytes: &[u8], max: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in bytes.chunks(max.max(1)) {
            out.extend_from_slice(&[content_type, 0x03, 0x03]);
            out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
            out.extend_from_slice(piece);
        }
        out
    }

    fn u24(n: usize) -> [u8; 3] {
        let b = (n as u32).to_be_bytes();
        [b[1], b[2], b[3]]
    }

    /// A ServerHello body; `supported_version` adds a supported_versions extension.
    fn server_hello_body(random: [u8; 32], supported_version: Option<u16>, cipher: u16) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&random);
        body.push(0); // session id
        body.extend_from_slice(&cipher.to_be_bytes());
        body.push(0); // compression
        let mut extensions = Vec::new();
        if let Some(version) = supported_version {
            extensions.extend_from_slice(&[0x00, 0x2b, 0x00, 0x02]);
            extensions.extend_from_slice(&version.to_be_bytes());
        }
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(&extensions);
        body
    }

    fn tls12_certificate_body(ders: &[&[u8]]) -> Vec<u8> {
        let mut list = Vec::new();
        for der in ders {
            list.extend_from_slice(&u24(der.len()));
            list.extend_from_slice(der);
        }
        let mut body = u24(list.len()).to_vec();
        body.extend_from_slice(&list);
        body
    }

    #[test]
    fn empty_certificate_and_several_messages_per_record() {
        let mut flight = message(11, &tls12_certificate_body(&[]));
        flight.extend(message(16, &[0x20; 33]));
        let events = Wire::new().feed(Side::Client, &records_of(22, &flight, 100), 0.0);
        assert_eq!(
            summary(&events),
            ["client certificate(0)", "client client_key_exchange"]
        );
        let What::Handshake {
            record,
            message: Handshake::ClientKeyExchange { length },
        } = &events[2].what
        else {
            panic!("{events:?}")
        };
        assert_eq!((*record, *length), (1, 33));
    }

    #[test]
    fn certificate_spanning_records_with_one_bad_certificate() {
        let chain = certs("server-chain.pem");
        let body =
            tls12_certificate_body(&[chain[0].as_ref(), b"not a certificate", chain[1].as_ref()]);
        let bytes = records_of(22, &message(11, &body), 200);
        let events = Wire::new().feed(Side::Server, &bytes, 0.0);
        let last_record = records(&events).last().expect("records").1;
        let (record, list) = events
            .iter()
            .find_map(|e| match &e.what {
                What::Certificate {
                    record,
                    certificates,
                    ..
                } => Some((*record, certificates)),
                _ => None,
            })
            .expect("Certificate");
        assert_eq!(record, Some(last_record));
        assert_eq!(list.len(), 2);
        let notes: Vec<_> = summary(&events)
            .into_iter()
            .filter(|s| s.contains("Note"))
            .collect();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("certificate 2 of the server's Certificate message"),
            "{notes:?}"
        );
    }

    #[test]
    fn tls13_formats_when_seen_in_plaintext() {
        let mut wire = Wire::new();
        let hello = message(2, &server_hello_body([7; 32], Some(TLS13), 0x1301));
        wire.feed(Side::Server, &records_of(22, &hello, 1000), 0.0);
        assert_eq!(wire.version(), Some(TLS13));
        assert_eq!(wire.cipher_suite(), Some(0x1301));

        let der = &certs("client-ec.pem")[0];
        let mut list = u24(der.len()).to_vec();
        list.extend_from_slice(der);
        list.extend_from_slice(&[0x00, 0x00]); // no extensions
        let mut body = vec![0x00];
        body.extend_from_slice(&u24(list.len()));
        body.extend_from_slice(&list);
        let events = wire.feed(
            Side::Client,
            &records_of(22, &message(11, &body), 1000),
            1.0,
        );
        assert_eq!(summary(&events), ["client certificate(1)"]);
        let events = wire.feed(
            Side::Client,
            &records_of(22, &message(11, &[0, 0, 0, 0]), 1000),
            1.0,
        );
        assert_eq!(summary(&events), ["client certificate(0)"]);

        let root = CertInfo::from_der(&certs("root-ca.pem")[0]).expect("root");
        let dn = &root.raw.subject;
        let mut names = (dn.len() as u16).to_be_bytes().to_vec();
        names.extend_from_slice(dn);
        let mut authorities = (names.len() as u16).to_be_bytes().to_vec();
        authorities.extend_from_slice(&names);
        let mut extensions = vec![0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03, 0x00, 0x2f];
        extensions.extend_from_slice(&(authorities.len() as u16).to_be_bytes());
        extensions.extend_from_slice(&authorities);
        let mut body = vec![0x00];
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(&extensions);
        let events = wire.feed(
            Side::Server,
            &records_of(22, &message(13, &body), 1000),
            2.0,
        );
        let What::CertificateRequest {
            certificate_types,
            signature_schemes,
            ca_names,
            ..
        } = &events[1].what
        else {
            panic!("{events:?}")
        };
        assert!(certificate_types.is_empty());
        assert_eq!(names_of(signature_schemes), ["ecdsa_secp256r1_sha256"]);
        assert_eq!(ca_names, std::slice::from_ref(&root.subject));
    }

    #[test]
    fn undecodable_messages_become_notes() {
        let mut flight = message(2, &[0x03, 0x03, 0x01]); // a ServerHello cut short
        flight.extend(message(15, &[0x04, 0x03, 0x00, 0x40, 0x01])); // signature cut short
        flight.extend(message(13, &[0x01])); // CertificateRequest cut short
        flight.extend(message(11, &[0x00, 0x00, 0x09, 0x00])); // list longer than the message
        flight.extend(message(14, &[]));
        let events = Wire::new().feed(Side::Server, &records_of(22, &flight, 1000), 0.0);
        let summary = summary(&events);
        assert_eq!(summary.len(), 5, "{summary:?}");
        assert!(
            summary[..4]
                .iter()
                .all(|s| s.contains("Note") && s.contains("could not be decoded"))
        );
        assert!(summary[0].contains("ServerHello") && summary[1].contains("CertificateVerify"));
        assert_eq!(summary[4], "server server_hello_done");
        // Wrong names for a CA come out as hex.
        assert_eq!(distinguished_name(&[0x01, 0x02]), "(undecodable name) 0102");
    }

    #[test]
    fn tls12_change_cipher_spec_hides_the_rest() {
        let mut wire = Wire::new();
        let hello = message(2, &server_hello_body([1; 32], None, 0xc02b));
        wire.feed(Side::Server, &records_of(22, &hello, 1000), 0.0);
        assert_eq!(wire.version(), Some(TLS12));
        let mut bytes = records_of(20, &[1], 10);
        bytes.extend(records_of(22, &message(20, &[0; 12]), 1000));
        bytes.extend(records_of(21, &[1, 0], 1000));
        let events = wire.feed(Side::Server, &bytes, 1.0);
        assert!(summary(&events).is_empty());
        assert_eq!(
            records(&events),
            [
                (Side::Server, 2, 20, false),
                (Side::Server, 3, 22, true),
                (Side::Server, 4, 21, true)
            ]
        );
        // The client has not sent change_cipher_spec yet.
        let events = wire.feed(Side::Client, &records_of(21, &[2, 40], 10), 2.0);
        assert_eq!(summary(&events), ["client alert(fatal, handshake_failure)"]);
    }

    /// Header plus body length of a record, once its header is complete.
    fn record_total_len(record: &[u8]) -> Option<usize> {
        let length = Reader(record.get(3..RECORD_HEADER)?).u16()?;
        Some(RECORD_HEADER + usize::from(length))
    }

    /// The records of a run, each with its sender, in wire order.
    fn records_in(chunks: &[(Side, Vec<u8>)]) -> Vec<(Side, Vec<u8>)> {
        let mut list = Vec::new();
        for (side, bytes) in chunks {
            let mut rest = &bytes[..];
            while let Some(total) = record_total_len(rest) {
                list.push((*side, rest[..total].to_vec()));
                rest = &rest[total..];
            }
            assert!(rest.is_empty(), "a chunk of whole records");
        }
        list
    }

    /// The same records with each plaintext handshake record cut into one record per message,
    /// as OpenSSL sends them (rustls puts a whole flight in one).
    fn one_message_per_record(records: &[(Side, Vec<u8>)]) -> Vec<(Side, Vec<u8>)> {
        let mut out = Vec::new();
        let mut encrypting = [false; 2];
        for (side, record) in records {
            encrypting[slot(*side)] |= record[0] == CONTENT_CHANGE_CIPHER_SPEC;
            if record[0] != CONTENT_HANDSHAKE || encrypting[slot(*side)] {
                out.push((*side, record.clone()));
                continue;
            }
            let mut body = &record[RECORD_HEADER..];
            while !body.is_empty() {
                let len = handshake::HANDSHAKE_HEADER + Reader(&body[1..4]).u24().expect("length");
                out.push((*side, records_of(CONTENT_HANDSHAKE, &body[..len], 1 << 14)));
                body = &body[len..];
            }
        }
        out
    }

    /// Where the first record of `side` with this content type and first body byte (a
    /// handshake message type, say) is.
    fn position(records: &[(Side, Vec<u8>)], side: Side, content_type: u8, first: u8) -> usize {
        records
            .iter()
            .position(|(s, r)| *s == side && r[0] == content_type && r[5] == first)
            .expect("record")
    }

    fn notes_of(events: &[Event]) -> Vec<&str> {
        events
            .iter()
            .filter_map(|e| match &e.what {
                What::Note { message } => Some(message.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Feeds the records, with `missing` bytes from `at` on of record `cut` not in the capture.
    fn decode_with_hole(
        records: &[(Side, Vec<u8>)],
        cut: usize,
        at: usize,
        missing: usize,
    ) -> Vec<Event> {
        let mut wire = Wire::new();
        let mut events = Vec::new();
        for (i, (side, record)) in records.iter().enumerate() {
            if i == cut {
                wire.feed_into(*side, &record[..at], 1.0, &mut events);
                wire.gap_into(*side, missing as u64, 1.0, &mut events);
                wire.feed_into(*side, &record[at + missing..], 1.0, &mut events);
            } else {
                wire.feed_into(*side, record, 1.0, &mut events);
            }
        }
        events
    }

    #[test]
    fn a_hole_inside_a_record_costs_the_message_it_cuts_only() {
        let run = handshake(&rustls::version::TLS12, ClientAuth::Presented, false);
        let packed = records_in(&run.chunks);
        let split = one_message_per_record(&packed);
        // 50 bytes of the server's Certificate, in the record of the whole flight or in its own.
        let flight = position(&packed, Side::Server, 22, 2);
        let hello_len =
            handshake::HANDSHAKE_HEADER + Reader(&packed[flight].1[6..9]).u24().unwrap();
        let in_packed = decode_with_hole(&packed, flight, RECORD_HEADER + hello_len + 100, 50);
        let in_split = decode_with_hole(&split, position(&split, Side::Server, 22, 11), 100, 50);
        for (events, record_count) in [(&in_packed, packed.len()), (&in_split, split.len())] {
            let summary = summary(events);
            assert!(!summary.iter().any(|s| s.starts_with("server certificate(")));
            for expected in [
                "server server_hello",
                "server server_key_exchange",
                "server certificate_request",
                "server server_hello_done",
                "client certificate(2)",
            ] {
                assert!(
                    summary.iter().any(|s| s == expected),
                    "{expected}: {summary:?}"
                );
            }
            assert!(
                notes_of(events)
                    .iter()
                    .any(|n| n.contains("server's Certificate is cut by the missing bytes")),
                "{events:#?}"
            );
            // Every record is counted, the cut one too; and a signature over messages the
            // capture lost is not checked, rather than found not to verify.
            assert_indices_consecutive(events);
            assert_eq!(records(events).len(), record_count);
            let verified: Vec<Option<bool>> = events
                .iter()
                .filter_map(|e| match &e.what {
                    What::CertificateVerify { verified, .. } => Some(*verified),
                    _ => None,
                })
                .collect();
            assert_eq!(verified, [None]);
        }
    }

    #[test]
    fn a_hole_across_records_stops_decoding_until_records_resume() {
        let run = handshake(&rustls::version::TLS12, ClientAuth::Presented, false);
        let records = one_message_per_record(&records_in(&run.chunks));
        let certificate = position(&records, Side::Server, 22, 11);
        let key_exchange = position(&records, Side::Server, 22, 12);
        assert_eq!(key_exchange, certificate + 1);
        let decode = |resume: bool| {
            let mut wire = Wire::new();
            let mut events = Vec::new();
            for (i, (side, record)) in records.iter().enumerate() {
                if i == certificate {
                    // From the middle of the Certificate to the middle of the ServerKeyExchange.
                    wire.feed_into(*side, &record[..100], 1.0, &mut events);
                    let missing = record.len() - 100 + 20;
                    wire.gap_into(*side, missing as u64, 1.0, &mut events);
                } else if i == key_exchange {
                    let rest = &record[20..];
                    if resume {
                        wire.pass_over(*side, rest.len() as u64);
                        wire.resume_into(*side, 1.0, &mut events);
                    } else {
                        wire.feed_into(*side, rest, 1.0, &mut events);
                    }
                } else {
                    wire.feed_into(*side, record, 1.0, &mut events);
                }
            }
            wire.end_into(Side::Server, 2.0, &mut events);
            events
        };
        let resumed = decode(true);
        let summary = summary(&resumed);
        assert!(summary.contains(&"server certificate_request".to_string()));
        assert!(summary.contains(&"server server_hello_done".to_string()));
        assert!(
            notes_of(&resumed)
                .iter()
                .any(|n| n.contains("records start again")),
            "{resumed:#?}"
        );
        // Told nothing, the decoder reads nothing more of the server, and calls nothing
        // "not TLS".
        let lost = decode(false);
        let server_after_gap: Vec<&Event> = lost
            .iter()
            .skip_while(|e| !matches!(e.what, What::CaptureGap { .. }))
            .filter(|e| e.from == Side::Server)
            .filter(|e| !matches!(e.what, What::Note { .. } | What::CaptureGap { .. }))
            .collect();
        assert!(server_after_gap.is_empty(), "{server_after_gap:#?}");
    }

    #[test]
    fn a_hole_that_may_hold_the_change_cipher_spec_keeps_encrypted_alerts_encrypted() {
        let tls12 = || {
            let mut wire = Wire::new();
            let hello = message(2, &server_hello_body([1; 32], None, 0xc02b));
            wire.feed(Side::Server, &records_of(22, &hello, 1000), 0.0);
            wire
        };
        let after_a_hole = |wire: &mut Wire, bytes: &[u8]| {
            let mut events = Vec::new();
            wire.gap_into(Side::Client, 300, 1.0, &mut events);
            wire.resume_into(Side::Client, 1.0, &mut events);
            wire.feed_into(Side::Client, bytes, 1.0, &mut events);
            events
        };
        // An encrypted close_notify (AES-GCM: 26 bytes) read as plaintext would be 13 alerts.
        let mut wire = tls12();
        let encrypted: Vec<u8> = (0..26).map(|i| (i * 37 + 11) as u8).collect();
        let mut bytes = records_of(21, &encrypted, 100);
        // The encrypted Finished: not a plaintext handshake message.
        bytes.extend(records_of(22, &[0; 40], 100));
        let events = after_a_hole(&mut wire, &bytes);
        assert_eq!(
            records(&events),
            [(Side::Client, 2, 21, true), (Side::Client, 3, 22, true)]
        );
        assert!(summary(&events).iter().all(|s| !s.contains("alert(")));
        // A plaintext alert and handshake message are read as such.
        let mut wire = tls12();
        let mut bytes = records_of(22, &message(11, &[0, 0, 0]), 100);
        bytes.extend(records_of(21, &[2, 40], 100));
        let events = after_a_hole(&mut wire, &bytes);
        assert_eq!(
            summary(&events)[1..],
            [
                "client certificate(0)",
                "client alert(fatal, handshake_failure)"
            ]
        );
    }

    #[test]
    fn after_a_hole_no_bytes_make_a_side_not_tls() {
        // Bytes that start no record, after a hole: the framing is lost, nothing is decoded.
        let mut wire = Wire::new();
        let mut events = Vec::new();
        wire.gap_into(Side::Server, 10, 0.0, &mut events);
        wire.resume_into(Side::Server, 0.0, &mut events);
        wire.feed_into(Side::Server, b"\x99 garbage", 0.0, &mut events);
        assert!(!events.iter().any(|e| matches!(e.what, What::NotTls { .. })));
        // Bytes that start no record at the start of a side's stream, in a capture that lost
        // bytes of that side and found its records again: damage, not a peer without TLS.
        let header = [0x16, 0x03, 0x03, 0x48, 0x01];
        let mut wire = Wire::new();
        wire.resumes_after_damage(Side::Server);
        let events = wire.feed(Side::Server, &header, 0.0);
        assert!(!events.iter().any(|e| matches!(e.what, What::NotTls { .. })));
        assert_eq!(notes_of(&events).len(), 1);
        // Without a loss it is not TLS, as before.
        let events = Wire::new().feed(Side::Server, &header, 0.0);
        assert!(matches!(events[0].what, What::NotTls { .. }));
    }

    #[test]
    fn tls13_records_decrypt_again_after_records_went_missing() {
        let run = handshake(&rustls::version::TLS13, ClientAuth::Presented, false);
        let records = records_in(&run.chunks);
        let server_encrypted: Vec<usize> = (0..records.len())
            .filter(|&i| records[i].0 == Side::Server && records[i].1[0] == 23)
            .collect();
        // The server's encrypted handshake (its Finished with it), or its first record after.
        for (lost, recovery) in [
            (server_encrypted[0], "the end of its handshake"),
            (server_encrypted[1], "held 1 of its records"),
        ] {
            let mut wire = Wire::with_keys(Arc::new(KeyLog::parse(&run.keylog)));
            let mut events = Vec::new();
            for (i, (side, record)) in records.iter().enumerate() {
                if i == lost {
                    wire.gap_into(*side, record.len() as u64, 1.0, &mut events);
                    wire.resume_into(*side, 1.0, &mut events);
                } else {
                    wire.feed_into(*side, record, 1.0, &mut events);
                }
            }
            assert!(
                notes_of(&events)
                    .iter()
                    .any(|n| n.contains("decrypt again") && n.contains(recovery)),
                "{events:#?}"
            );
            assert!(
                !notes_of(&events)
                    .iter()
                    .any(|n| n.contains("cannot be decrypted")),
                "{events:#?}"
            );
            // The client's records decrypt as ever.
            assert!(events.iter().any(|e| e.from == Side::Client
                && matches!(
                    &e.what,
                    What::Certificate {
                        seen: Seen::Decrypted,
                        ..
                    }
                )));
        }
    }

    #[test]
    fn oversized_handshake_messages_are_skipped_with_bounded_memory() {
        let mut wire = Wire::new();
        let declared = 1 << 20;
        let mut stream = vec![11];
        stream.extend_from_slice(&u24(declared));
        stream.extend(std::iter::repeat_n(0xab, declared));
        stream.extend(message(14, &[]));
        let bytes = records_of(22, &stream, record::MAX_BODY);
        let mut events = Vec::new();
        for piece in bytes.chunks(5000) {
            events.extend(wire.feed(Side::Server, piece, 0.0));
            assert!(wire.server.record.len() <= RECORD_HEADER + record::MAX_BODY);
            assert!(
                wire.server.handshake.buffered()
                    <= handshake::HANDSHAKE_HEADER + handshake::MAX_MESSAGE_LEN + record::MAX_BODY
            );
        }
        let summary = summary(&events);
        assert_eq!(summary.len(), 2, "{summary:?}");
        assert!(summary[0].contains("declares 1048576 bytes"), "{summary:?}");
        assert_eq!(summary[1], "server server_hello_done");
    }

    /// A peer that never stops sending (warning alerts, then a fatal one) costs a bounded number
    /// of events; the fatal alert that ends it is still shown, and what was left out is counted.
    #[test]
    fn a_flood_is_counted_not_shown() {
        let mut wire = Wire::new();
        let mut events = Vec::new();
        let flood: Vec<u8> = (0..5000).flat_map(|_| [21, 3, 3, 0, 2, 1, 100]).collect();
        for piece in flood.chunks(997) {
            wire.feed_into(Side::Server, piece, 1.0, &mut events);
        }
        wire.feed_into(Side::Server, &[21, 3, 3, 0, 2, 2, 40], 2.0, &mut events);
        wire.end_into(Side::Server, 3.0, &mut events);
        assert!(
            events.len() <= MAX_EVENTS_SHOWN + MAX_ALERTS_PAST_LIMIT + 1,
            "{} events",
            events.len()
        );
        let alerts = summary(&events);
        assert!(
            alerts
                .iter()
                .any(|line| line.contains("fatal") && line.contains("handshake_failure")),
            "the fatal alert is shown: {:?}",
            &alerts[alerts.len() - 3..]
        );
        let last = notes_of(&events)
            .pop()
            .expect("a note on what was left out");
        assert!(
            last.contains("records (") && last.contains("not shown"),
            "{last}"
        );
        let omitted: u64 = last.split(' ').next().unwrap().parse().unwrap();
        let shown = events
            .iter()
            .filter(|e| matches!(e.what, What::Record { .. }))
            .count() as u64;
        assert_eq!(shown + omitted, 5001, "every record is shown or counted");
    }

    /// Fewer than `max` random bytes.
    fn bytes_below(rng: &mut Rng, max: usize) -> Vec<u8> {
        let n = rng.index(max);
        (0..n).map(|_| rng.next() as u8).collect()
    }

    fn random_side(rng: &mut Rng) -> Side {
        if rng.next() & 1 == 0 {
            Side::Client
        } else {
            Side::Server
        }
    }

    /// Feeds chunks cut into random pieces; checks only that nothing panics and memory stays
    /// bounded.
    fn feed_randomly(rng: &mut Rng, chunks: &[(Side, Vec<u8>)]) -> Vec<Event> {
        let mut wire = Wire::new();
        let mut events = Vec::new();
        for (side, bytes) in chunks {
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let (piece, tail) = rest.split_at(1 + rng.index(rest.len().min(3000)));
                events.extend(wire.feed(*side, piece, 0.0));
                rest = tail;
                for dir in [&wire.client, &wire.server] {
                    assert!(dir.record.len() <= RECORD_HEADER + record::MAX_BODY);
                    assert!(
                        dir.handshake.buffered()
                            <= handshake::HANDSHAKE_HEADER
                                + handshake::MAX_MESSAGE_LEN
                                + record::MAX_BODY
                    );
                }
            }
        }
        events
    }

    /// How many events of each kind, by their serialised `kind` tag.
    fn count_kinds(events: &[Event], counts: &mut std::collections::BTreeMap<String, usize>) {
        for event in events {
            let json = serde_json::to_value(&event.what).expect("json");
            let kind = json["kind"].as_str().expect("kind").to_string();
            *counts.entry(kind).or_default() += 1;
        }
    }

    #[test]
    fn hostile_random_bytes() {
        let mut rng = Rng(0x1d0c_7e57_cafe_f00d);
        for _ in 0..300 {
            let chunks: Vec<_> = (0..1 + rng.index(8))
                .map(|_| (random_side(&mut rng), bytes_below(&mut rng, 2000)))
                .collect();
            feed_randomly(&mut rng, &chunks);
        }
    }

    /// Well-framed records holding random handshake messages, so the message decoders see junk.
    #[test]
    fn hostile_messages_in_valid_records() {
        let mut rng = Rng(0x5eed_0000_0000_0001);
        let types = [0, 1, 2, 4, 8, 11, 12, 13, 14, 15, 16, 20, 24, 99];
        let mut counts = std::collections::BTreeMap::new();
        for round in 0..300 {
            let mut chunks = Vec::new();
            // Half the rounds negotiate TLS 1.3 first, so the TLS 1.3 formats are tried too.
            let version = if round % 2 == 0 { Some(TLS13) } else { None };
            let random = if round % 3 == 0 {
                HELLO_RETRY_REQUEST_RANDOM
            } else {
                [9; 32]
            };
            let hello = message(2, &server_hello_body(random, version, 0xc02b));
            chunks.push((Side::Server, records_of(22, &hello, 1000)));
            for _ in 0..10 {
                let message_type = types[rng.index(types.len())];
                let mut body = bytes_below(&mut rng, 300);
                // Plausible leading lengths make the decoders go deeper.
                if body.len() > 4 && rng.index(2) == 0 {
                    let inner = (body.len() - 3) as u32;
                    body[..3].copy_from_slice(&inner.to_be_bytes()[1..]);
                }
                let content_type = [20, 21, 22, 22, 22, 23, 24][rng.index(7)];
                let bytes = records_of(
                    content_type,
                    &message(message_type, &body),
                    1 + rng.index(400),
                );
                chunks.push((random_side(&mut rng), bytes));
            }
            count_kinds(&feed_randomly(&mut rng, &chunks), &mut counts);
        }
        // The junk did reach the message decoders.
        for kind in ["note", "handshake", "alert"] {
            assert!(
                counts.get(kind).is_some_and(|&n| n > 10),
                "{kind}: {counts:?}"
            );
        }
    }

    #[test]
    fn hostile_mutated_handshakes() {
        let runs = [
            handshake(&rustls::version::TLS12, ClientAuth::Presented, false),
            handshake(&rustls::version::TLS12, ClientAuth::Anonymous, false),
            handshake(&rustls::version::TLS13, ClientAuth::Presented, true),
        ];
        let mut rng = Rng(0xbad_5eed_0bad_5eed);
        let mut counts = std::collections::BTreeMap::new();
        for run in &runs {
            for _ in 0..150 {
                let mut chunks = run.chunks.clone();
                for _ in 0..1 + rng.index(4) {
                    let which = rng.index(chunks.len());
                    let bytes = &mut chunks[which].1;
                    match rng.index(4) {
                        0 if !bytes.is_empty() => {
                            let at = rng.index(bytes.len());
                            bytes[at] ^= 1 << rng.index(8);
                        }
                        1 if !bytes.is_empty() => {
                            let at = rng.index(bytes.len());
                            bytes[at] = rng.next() as u8;
                        }
                        2 => bytes.truncate(rng.index(bytes.len() + 1)),
                        _ => {
                            chunks.remove(which);
                        }
                    }
                    if chunks.is_empty() {
                        break;
                    }
                }
                count_kinds(&feed_randomly(&mut rng, &chunks), &mut counts);
            }
        }
        for kind in ["note", "handshake", "certificate", "certificate_request"] {
            assert!(
                counts.get(kind).is_some_and(|&n| n > 10),
                "{kind}: {counts:?}"
            );
        }
        // "not TLS" is not among them: only a damaged first header makes a side so (later ones
        // lose the framing), which the tests of not_tls cover.
    }

    #[test]
    fn tls13_with_a_key_log_is_decoded_and_both_signatures_are_checked() {
        let run = handshake(&rustls::version::TLS13, ClientAuth::Presented, false);
        let keys = Arc::new(KeyLog::parse(&run.keylog));
        let mut wire = Wire::with_keys(keys);
        let mut events = Vec::new();
        for (at, (side, bytes)) in run.chunks.iter().enumerate() {
            events.extend(wire.feed(*side, bytes, at as f64));
        }
        let decrypted = |from: Side, kind: &str| {
            events
                .iter()
                .filter(|e| e.from == from && format!("{:?}", e.what).starts_with(kind))
                .count()
        };
        assert_eq!(
            decrypted(Side::Server, "CertificateRequest"),
            1,
            "{events:#?}"
        );
        assert_eq!(decrypted(Side::Server, "Certificate {"), 1);
        assert_eq!(decrypted(Side::Client, "Certificate {"), 1);
        let verifies: Vec<(Side, Option<bool>, Seen)> = events
            .iter()
            .filter_map(|e| match &e.what {
                What::CertificateVerify { verified, seen, .. } => Some((e.from, *verified, *seen)),
                _ => None,
            })
            .collect();
        assert_eq!(
            verifies,
            [
                (Side::Server, Some(true), Seen::Decrypted),
                (Side::Client, Some(true), Seen::Decrypted)
            ]
        );
        let finished = events
            .iter()
            .filter(|e| {
                matches!(
                    &e.what,
                    What::Handshake {
                        message: Handshake::Finished,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(finished, 2, "both Finished messages decrypted");
        assert!(
            !events.iter().any(|e| matches!(&e.what, What::Note { .. })),
            "{events:#?}"
        );
    }

    #[test]
    fn tls13_with_the_wrong_key_log_says_so_once() {
        let run = handshake(&rustls::version::TLS13, ClientAuth::Presented, false);
        let other = handshake(&rustls::version::TLS13, ClientAuth::Presented, false);
        let mut wire = Wire::with_keys(Arc::new(KeyLog::parse(&other.keylog)));
        let mut events = Vec::new();
        for (at, (side, bytes)) in run.chunks.iter().enumerate() {
            events.extend(wire.feed(*side, bytes, at as f64));
        }
        let notes: Vec<&Event> = events
            .iter()
            .filter(|e| matches!(&e.what, What::Note { .. }))
            .collect();
        assert_eq!(notes.len(), 1, "{notes:#?}");
        assert!(format!("{:?}", notes[0].what).contains("no TLS 1.3 secrets for this connection"));
    }
    /// A signature verifies only with its own key, bytes and signature: changing any one of them
    /// makes the check fail.
    #[test]
    fn signature_checks_need_the_key_bytes_and_signature_that_made_them() {
        let provider = aws_lc_rs::default_provider();
        let signing_key = provider
            .key_provider
            .load_private_key(key("client-ec.key"))
            .expect("key");
        let scheme = rustls::SignatureScheme::ECDSA_NISTP256_SHA256;
        let signer = signing_key.choose_scheme(&[scheme]).expect("scheme");
        let message = b"handshake messages".to_vec();
        let signature = signer.sign(&message).expect("sign");
        let cert = CertInfo::from_der(&certs("client-ec.pem")[0]).expect("cert");
        let other = CertInfo::from_der(&certs("server.pem")[0]).expect("cert");
        let check = |cert: &CertInfo, message: &[u8], signature: &[u8]| {
            SignatureCheck {
                cert: cert.clone(),
                scheme: u16::from(scheme),
                message: message.to_vec(),
                signature: signature.to_vec(),
            }
            .run()
            .0
        };
        let mut tampered = signature.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(check(&cert, &message, &signature), Some(true));
        assert_eq!(check(&cert, b"other messages", &signature), Some(false));
        assert_eq!(check(&cert, &message, &tampered), Some(false));
        assert_eq!(check(&other, &message, &signature), Some(false));
    }
}
