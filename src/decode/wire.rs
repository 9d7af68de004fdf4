//! Decoding the bytes of a connection, as they cross the wire, into transcript events.
//!
//! This is the coordination: the state of one connection, and what it decides. Each direction is
//! cut into TLS records by a [`record::Framer`]; whether a record is protected is decided here
//! (from the version, the change_cipher_spec seen, the ServerHello); plaintext handshake bytes go
//! to a [`handshake::Reassembly`], whose whole messages are decoded by `super::messages` (one
//! file per message) and kept in the [`handshake::Log`]; encrypted records are only counted, or,
//! given a key log, decrypted (TLS 1.3 and 1.2, `super::decrypt`) and decoded too. CertificateVerify
//! signatures are checked against the sender's certificate over the handshake messages seen.
//! Nothing a peer sends can make the decoder panic or grow without bound: malformed messages
//! become `Note` events and decoding goes on.
//!
//! A capture may lose bytes ([`Wire::gap_into`]). A hole inside one record costs that record's
//! content only: the framing goes on. A hole that swallows a record boundary loses the
//! framing: nothing is decoded until the caller, which looks for the next record header
//! (`super::resync`), says where records start again ([`Wire::resume_into`]). Bytes that stop
//! looking like records after a direction spoke TLS lose the framing the same way, rather than
//! making it "not TLS". Whether a side's change_cipher_spec may be among the missing bytes is
//! remembered, so that encrypted records after a hole are not read as plaintext.

use std::sync::Arc;

use tls_parser::TlsCipherKx;

use super::decrypt::{self, Decrypter, KeyLog};
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
pub use shown::MAX_EVENTS_SHOWN;
use shown::Shown;

mod shown;

/// How many bytes of a non-TLS stream the `NotTls` event shows.
const PREVIEW_LEN: usize = 64;
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
    /// Secrets to decrypt TLS 1.3 and TLS 1.2 records with, when a key log was given.
    keys: Option<Arc<KeyLog>>,
    client_random: Option<[u8; 32]>,
    /// The random of the client's latest ClientHello: a TLS 1.2 renegotiation's keys are
    /// derived with it, and the key log has them under it.
    latest_client_random: Option<[u8; 32]>,
    /// Decrypters made at the ServerHello, waiting for their direction's next record.
    pending: [Option<Decrypter>; 2],
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
    /// The server sent a HelloRetryRequest: a second ClientHello is its answer.
    retry_requested: bool,
    /// What was shown, and what was only counted past [`MAX_EVENTS_SHOWN`].
    shown: Shown,
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
    /// Decrypts this side's records: TLS 1.3 from its first record after the ServerHello,
    /// TLS 1.2 from its ChangeCipherSpec.
    decrypter: Option<Decrypter>,
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
        self.taken(from, at_ms, events, |this, dir, out| {
            this.feed_dir(dir, bytes, out)
        });
    }

    /// [`Wire::feed_into`] with the direction taken out.
    fn feed_dir(&mut self, dir: &mut Direction, bytes: &[u8], out: &mut Out<'_>) {
        let from = out.from;
        let mut input = bytes;
        while !dir.not_tls && !dir.lost {
            let Some(frame) = dir.framer.next(&mut input) else {
                break;
            };
            match frame {
                Frame::Header(header) => {
                    dir.record.extend_from_slice(&header.bytes());
                    dir.counting = self.opaque(dir, from);
                }
                Frame::Body(body) => {
                    if !dir.counting {
                        dir.record.extend_from_slice(body);
                    }
                }
                Frame::End => self.end_record(dir, out),
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
                        let looks_like = plaintext::looks_like(&seen);
                        out.push(What::NotTls {
                            preview,
                            looks_like,
                        });
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
    }

    /// Runs `f` on `from`'s direction and an [`Out`] that appends to `events`, both taken out
    /// of `self` so that record handling can borrow `self` freely, and puts them back.
    fn taken<R>(
        &mut self,
        from: Side,
        at_ms: f64,
        events: &mut Vec<Event>,
        f: impl FnOnce(&mut Wire, &mut Direction, &mut Out<'_>) -> R,
    ) -> R {
        let mut shown = self.shown;
        let mut out = Out {
            from,
            at_ms,
            events,
            shown: &mut shown,
        };
        let mut dir = std::mem::take(self.direction(from));
        let result = f(self, &mut dir, &mut out);
        *self.direction(from) = dir;
        self.shown = shown;
        result
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
        self.taken(from, at_ms, events, |this, dir, out| {
            dir.framer.skip_body(n);
            if dir.framer.body_left() == Some(0) {
                let end = dir.framer.next(&mut &[][..]);
                debug_assert_eq!(end, Some(Frame::End));
                this.end_record(dir, out);
            }
        });
    }

    /// Tells the decoder that `missing` bytes sent by `from` are not in the capture: the bytes
    /// fed next come after a hole. Appends the `CaptureGap` event, and what the hole cuts: the
    /// record it falls in (reported before it, with what of it arrived), a handshake message it
    /// splits (left out, with a note after it). A hole within one record keeps the framing; one
    /// that spans a record boundary loses it until [`Wire::resume_into`].
    pub fn gap_into(&mut self, from: Side, missing: u64, at_ms: f64, events: &mut Vec<Event>) {
        self.taken(from, at_ms, events, |this, dir, out| {
            if dir.not_tls {
                out.push(What::CaptureGap { missing });
            } else {
                this.bytes_missing(dir, missing, out);
            }
        });
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
        // Below TLS 1.3 a side's records after its change_cipher_spec are encrypted under their
        // own type, and that change_cipher_spec may not be in what was seen: an alert record
        // that holds no plaintext alerts is one of those.
        let encrypted_unseen_ccs = !unknown_after_gap
            && content_type == CONTENT_ALERT
            && !self.tls13()
            && !alert::plaintext(body)
            && !self.encrypted(dir, out.from, content_type);
        let encrypted =
            self.encrypted(dir, out.from, content_type) || judged_encrypted || encrypted_unseen_ccs;
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
        if encrypted_unseen_ccs {
            // Each alert record is judged by its own content: a plaintext alert after it is
            // still read.
            out.note(format!(
                "record {index}: this alert record of {length} bytes holds no plaintext alert (a \
                 plaintext alert is 2 bytes): it is encrypted, after a change_cipher_spec of the \
                 {} that was not seen",
                out.from
            ));
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
            // TLS 1.2 protects every content type after the change_cipher_spec.
            if content_type == CONTENT_APPLICATION_DATA || !self.tls13() {
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
                self.change_keys(dir, out.from);
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
                match decrypter.decrypt_after_loss(record) {
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
                    // A TLS 1.2 renegotiation's, under the keys it replaces.
                    CONTENT_CHANGE_CIPHER_SPEC => self.change_keys(dir, out.from),
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
                if dir.decrypter.as_ref().is_some_and(Decrypter::opened_any) {
                    // The secrets are right: records before this one were not all read.
                    out.note(format!(
                        "record {index}: the {}'s records stop decrypting here ({e}): some of its \
                         records before this one are not in what was read, or this one was altered",
                        out.from
                    ));
                } else {
                    out.note(format!(
                        "{}record {index}: the {}'s records cannot be decrypted with this \
                         connection's secrets ({e}): they are wrong, or belong to another connection",
                        decrypt::KEY_LOG_NOTE,
                        out.from
                    ));
                }
            }
            Err(_) => {}
        }
    }

    /// A TLS 1.2 side's change_cipher_spec: its next records are protected with the keys its
    /// ServerHello made.
    fn change_keys(&mut self, dir: &mut Direction, from: Side) {
        if !self.tls13()
            && let Some(next) = self.pending[slot(from)].take()
        {
            dir.decrypter = Some(next);
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
                codes::handshake_type_name(message_type)
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
        } else if message_type == MESSAGE_CLIENT_HELLO
            && out.from == Side::Client
            && !std::mem::take(&mut self.retry_requested)
        {
            notes.push(format!(
                "record {record}: a second ClientHello on this connection, not asked for by a \
                 HelloRetryRequest: a renegotiation, or a client that started over on the same \
                 connection (confused)"
            ));
        }
        if message_type == MESSAGE_CLIENT_HELLO
            && out.from == Side::Client
            && let Some(random) = client_hello::random(body)
        {
            self.latest_client_random = Some(random);
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
                        self.make_decrypters(body, &mut notes);
                    }
                    What::Handshake {
                        message: Handshake::HelloRetryRequest { .. },
                        ..
                    } => {
                        // The transcript then starts with a synthetic message_hash: not kept.
                        self.handshake_log.give_up();
                        self.retry_requested = true;
                    }
                    _ => {}
                }
                out.push(what);
                if message_type == MESSAGE_CLIENT_HELLO
                    && out.from == Side::Server
                    && !self.server_hello_seen
                {
                    // A server never sends a ClientHello: whatever answered is no TLS server.
                    out.push(plaintext::client_hello_from_server(
                        client_hello::random(body),
                        self.client_random,
                    ));
                }
            }
            Err(why) => out.note(format!(
                "record {record}: the {}'s {} could not be decoded: {why}",
                out.from,
                codes::handshake_type_name(message_type)
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

    /// At a ServerHello (`body`), with a key log: the decrypters for both directions, or a
    /// note saying why the key log cannot make them. In TLS 1.2 they wait for each side's
    /// ChangeCipherSpec (a renegotiation's replace the current ones there).
    fn make_decrypters(&mut self, body: &[u8], notes: &mut Vec<String>) {
        let (Some(keys), Some(version), Some(suite)) =
            (&self.keys, self.version, self.cipher_suite)
        else {
            return;
        };
        let Some(random) = self.latest_client_random else {
            return;
        };
        let (pair, note) = decrypt::decrypters(keys, version, suite, &random, body);
        self.pending = pair;
        notes.extend(note);
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
            codes::handshake_type_name(message_type),
        ));
    }
    dir.handshake.clear();
}

#[cfg(test)]
mod tests;
