//! Handshake messages out of the bodies of one direction's handshake records: a message may span
//! records and a record may hold several (reassembly), and every message seen, in wire order, is
//! what a CertificateVerify signs (the handshake log). Record framing is `super::record`'s; this
//! starts where a record's body is known to be plaintext handshake bytes.

use super::reader::Reader;

/// Message type and u24 length.
pub const HANDSHAKE_HEADER: usize = 4;
/// Handshake messages larger than this are skipped rather than buffered. Real certificate
/// chains stay far below it; the limit only bounds memory against a hostile peer.
pub const MAX_MESSAGE_LEN: usize = 256 * 1024;
/// How many handshake messages in a row are checked when bytes are judged to be whole
/// messages (see [`plaintext_messages`]).
pub const MAX_CHAINED_MESSAGES: usize = 16;
/// The handshake messages kept for checking CertificateVerify signatures; past this the
/// signatures are left unchecked.
pub const MAX_LOG: usize = 1024 * 1024;

/// What [`Reassembly::messages`] hands over.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A whole message, header included.
    Message { message_type: u8, whole: &'a [u8] },
    /// A message declaring more than [`MAX_MESSAGE_LEN`] bytes: skipped, its bytes not buffered.
    TooLarge { message_type: u8, length: usize },
}

/// One direction's handshake bytes that do not yet make a whole message.
#[derive(Debug, Default)]
pub struct Reassembly {
    pending: Vec<u8>,
    /// Bytes of an oversized message still to be skipped, or [`OUT_OF_STEP`].
    skip: usize,
}

/// `Reassembly::skip` while the stream is out of step after a hole: how much of the cut message
/// is still to come is not known.
const OUT_OF_STEP: usize = usize::MAX;

impl Reassembly {
    /// Adds a plaintext handshake record's body. While out of step after a hole, the body is
    /// searched for whole messages instead ([`Reassembly::push_after_hole`]).
    pub fn push(&mut self, body: &[u8]) {
        if self.skip == OUT_OF_STEP {
            self.push_after_hole(body);
            return;
        }
        let skipped = self.skip.min(body.len());
        self.skip -= skipped;
        self.pending
            .extend_from_slice(body.get(skipped..).unwrap_or_default());
    }

    /// The rest of a plaintext handshake record after a hole: the end of the message the hole
    /// cut, then possibly whole messages, taken from the first place where messages follow one
    /// another to exactly the record's end.
    ///
    /// When no message starts in it, the cut message goes on past the record (a large
    /// Certificate, or one skipped for its size): the stream stays out of step and the next
    /// handshake records are searched the same way, rather than read from their first byte,
    /// which is most likely the cut message's middle.
    pub fn push_after_hole(&mut self, body: &[u8]) {
        match (0..body.len()).find(|&at| plaintext_messages(&body[at..])) {
            Some(start) => {
                self.skip = 0;
                self.pending.extend_from_slice(&body[start..]);
            }
            None => self.skip = OUT_OF_STEP,
        }
    }

    /// Hands every whole message buffered, and every oversized one started, to `on`, in order.
    pub fn messages(&mut self, mut on: impl FnMut(Piece<'_>)) {
        let mut start = 0;
        loop {
            let mut header = Reader(&self.pending[start..]);
            let (Some(message_type), Some(length)) = (header.u8(), header.u24()) else {
                break;
            };
            let total = HANDSHAKE_HEADER + length;
            if length > MAX_MESSAGE_LEN {
                on(Piece::TooLarge {
                    message_type,
                    length,
                });
                let have = self.pending.len() - start;
                if have >= total {
                    start += total;
                } else {
                    self.skip = total - have;
                    start = self.pending.len();
                }
                continue;
            }
            let Some(whole) = self.pending.get(start..start + total) else {
                break;
            };
            on(Piece::Message {
                message_type,
                whole,
            });
            start += total;
        }
        self.pending.drain(..start);
    }

    /// A message has started and not ended (or is being skipped).
    pub fn in_progress(&self) -> bool {
        !self.pending.is_empty() || self.skip > 0
    }

    /// The type and the bytes received so far of a message that has started, if one has.
    pub fn started(&self) -> Option<(u8, usize)> {
        Some((*self.pending.first()?, self.pending.len()))
    }

    /// The bytes buffered.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }

    /// Drops the message in progress: the stream starts afresh with the next bytes.
    pub fn clear(&mut self) {
        self.pending.clear();
        self.skip = 0;
    }
}

/// Whether `body` is one or more whole handshake messages, each of a type sent in plaintext
/// before TLS 1.3 encryption or a change_cipher_spec (Finished never is; HelloRequest, type 0,
/// is what a record of zero bytes would read as). Past [`MAX_CHAINED_MESSAGES`] messages the
/// rest is not checked: no record holds more, and hostile bytes cannot make the search slow.
pub fn plaintext_messages(body: &[u8]) -> bool {
    const PLAINTEXT_TYPES: [u8; 11] = [1, 2, 3, 4, 11, 12, 13, 14, 15, 16, 22];
    let mut reader = Reader(body);
    for _ in 0..MAX_CHAINED_MESSAGES {
        if reader.is_empty() {
            break;
        }
        let (Some(message_type), Some(_)) = (reader.u8(), reader.vec24()) else {
            return false;
        };
        if !PLAINTEXT_TYPES.contains(&message_type) {
            return false;
        }
    }
    !body.is_empty()
}

/// Every handshake message of a connection (header included), in wire order: what a
/// CertificateVerify signs. Given up (and the signatures left unchecked) once it grows past
/// [`MAX_LOG`], once messages went missing, or after a HelloRetryRequest, from which on the
/// signed transcript starts with a synthetic message_hash that is not kept.
#[derive(Debug)]
pub struct Log(Option<Vec<u8>>);

impl Default for Log {
    fn default() -> Log {
        Log(Some(Vec::new()))
    }
}

impl Log {
    pub fn push(&mut self, message: &[u8]) {
        if let Some(log) = &mut self.0 {
            if log.len() + message.len() > MAX_LOG {
                self.0 = None;
            } else {
                log.extend_from_slice(message);
            }
        }
    }

    /// The messages no longer make the whole transcript.
    pub fn give_up(&mut self) {
        self.0 = None;
    }

    /// Every message so far, unless given up.
    pub fn messages(&self) -> Option<&[u8]> {
        self.0.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(message_type: u8, body_len: usize) -> Vec<u8> {
        let mut m = vec![message_type];
        m.extend(&(body_len as u32).to_be_bytes()[1..]);
        m.extend((0..body_len).map(|i| i as u8));
        m
    }

    fn drained(reassembly: &mut Reassembly) -> Vec<(u8, usize)> {
        let mut seen = Vec::new();
        reassembly.messages(|piece| match piece {
            Piece::Message {
                message_type,
                whole,
            } => seen.push((message_type, whole.len())),
            Piece::TooLarge {
                message_type,
                length,
            } => seen.push((message_type, length)),
        });
        seen
    }

    #[test]
    fn messages_across_records_and_several_in_one() {
        let mut bytes = message(2, 70);
        bytes.extend(message(11, 3000));
        bytes.extend(message(14, 0));
        for cut in [1, 3, 74, 75, 1000] {
            let mut reassembly = Reassembly::default();
            let mut seen = Vec::new();
            for piece in bytes.chunks(cut) {
                reassembly.push(piece);
                seen.extend(drained(&mut reassembly));
            }
            assert_eq!(seen, [(2, 74), (11, 3004), (14, 4)], "records of {cut}");
            assert!(!reassembly.in_progress());
        }
    }

    #[test]
    fn an_oversized_message_is_skipped_unbuffered() {
        let length = MAX_MESSAGE_LEN + 1;
        let mut reassembly = Reassembly::default();
        reassembly.push(&message(11, 100)[..4]);
        reassembly.pending[1..4].copy_from_slice(&(length as u32).to_be_bytes()[1..]);
        assert_eq!(drained(&mut reassembly), [(11, length)]);
        assert_eq!(reassembly.buffered(), 0);
        // Its body goes by; the message after it is read.
        reassembly.push(&vec![0; length - 1]);
        let mut rest = vec![0];
        rest.extend(message(14, 0));
        reassembly.push(&rest);
        assert_eq!(drained(&mut reassembly), [(14, 4)]);
    }

    #[test]
    fn after_a_hole_whole_messages_are_searched_for() {
        let mut reassembly = Reassembly::default();
        // The end of a cut message, then a whole ServerHelloDone.
        let mut body = vec![0xAB; 37];
        body.extend(message(14, 0));
        reassembly.push_after_hole(&body);
        assert_eq!(drained(&mut reassembly), [(14, 4)]);
        // No message starts in it: out of step, and the next record is searched too.
        reassembly.push_after_hole(&[0xAB; 37]);
        assert!(reassembly.in_progress());
        let mut body = vec![0xCD; 5];
        body.extend(message(16, 33));
        reassembly.push(&body);
        assert_eq!(drained(&mut reassembly), [(16, 37)]);
        assert!(!reassembly.in_progress());
    }

    #[test]
    fn the_log_gives_up_past_its_limit() {
        let mut log = Log::default();
        log.push(&message(1, 10));
        assert_eq!(log.messages().map(<[u8]>::len), Some(14));
        log.push(&vec![0; MAX_LOG]);
        assert_eq!(log.messages(), None);
        log.push(&message(1, 10));
        assert_eq!(log.messages(), None);
    }
}
