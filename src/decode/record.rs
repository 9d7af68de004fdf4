//! The TLS record layer's framing, one rule for every reader of a byte stream: what a record
//! header holds, which headers are plausible, and how a stream splits into records.
//!
//! The stream decoder (`super::wire`), the capture reader's framer (`produce::analyze`) and the
//! search for records after a hole (`super::resync`) must cut a stream at the same bytes: the
//! capture reader keeps or skips bytes by where it thinks records are, and the decoder is handed
//! only those. So all three take their header check and size limit from here, and the first two
//! cut records with the same [`Framer`].

use std::fmt::Write as _;

use crate::model::codes;

/// Content type (1 byte), legacy version (2), body length (2).
pub const RECORD_HEADER: usize = 5;

/// The longest record body accepted: 2^14 + 2048, TLSCiphertext in TLS 1.0 to 1.2 (RFC 5246
/// section 6.2.3).
///
/// TLS 1.3 caps its records at 2^14 + 256 (RFC 8446 section 5.2), but they carry version 3.3 as
/// TLS 1.2's do, so a header does not say which limit is its own; and TLS 1.2 records do pass
/// 2^14 + 256 (a full fragment with a SHA-384 MAC and 255 bytes of CBC padding is 16,704). The
/// larger limit refuses nothing a real peer sends, while a header declaring more (up to 65,535)
/// is refused, with the header quoted ([`Refused::why`]): a hostile or confused peer cannot make
/// a reader wait for, or buffer, more than this per record.
pub const MAX_BODY: usize = (1 << 14) + 2048;

pub use crate::model::codes::{ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC, HANDSHAKE, HEARTBEAT};

/// Record versions are 3.0 (SSL 3.0) to 3.4: TLS 1.0 to 1.3 are 3.1 to 3.4, and TLS 1.3 records
/// carry 3.1 or 3.3 (RFC 8446 section 5.1).
const MAJOR: u8 = 3;
const MAX_MINOR: u8 = 4;

/// Whether the first bytes of a record header (up to all five) can start a TLS record: a content
/// type of TLS (20 to 24), a version 3.0 to 3.4, a length of at most [`MAX_BODY`].
///
/// A prefix is refused at the first byte no plausible header continues, so that a stream that is
/// not TLS is recognised from its first byte, even when it is shorter than a header.
pub fn header_plausible(prefix: &[u8]) -> bool {
    let type_ok = prefix
        .first()
        .is_none_or(|t| (CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(t));
    let major_ok = prefix.get(1).is_none_or(|&major| major == MAJOR);
    let minor_ok = prefix.get(2).is_none_or(|&minor| minor <= MAX_MINOR);
    let length_ok = match (prefix.get(3), prefix.get(4)) {
        (Some(&high), Some(&low)) => usize::from(u16::from_be_bytes([high, low])) <= MAX_BODY,
        // The smallest length with this high byte.
        (Some(&high), None) => usize::from(high) << 8 <= MAX_BODY,
        _ => true,
    };
    type_ok && major_ok && minor_ok && length_ok
}

/// A whole record header, [`header_plausible`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header([u8; RECORD_HEADER]);

impl Header {
    pub fn content_type(&self) -> u8 {
        self.0[0]
    }

    pub fn version(&self) -> u16 {
        u16::from_be_bytes([self.0[1], self.0[2]])
    }

    /// The body length it declares.
    pub fn length(&self) -> u16 {
        u16::from_be_bytes([self.0[3], self.0[4]])
    }

    pub fn bytes(&self) -> [u8; RECORD_HEADER] {
        self.0
    }
}

/// The bytes of a header, up to the first one [`header_plausible`] refused (that one included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    bytes: [u8; RECORD_HEADER],
    len: usize,
}

impl Refused {
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Why the bytes start no record, when they start with a TLS content type: the bytes in hex
    /// and what is wrong with them. `None` for bytes that do not start like a record at all
    /// (text, say), which need no such account.
    pub fn why(&self) -> Option<String> {
        let header = self.bytes();
        let (&content_type, rest) = header.split_first()?;
        if !(CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(&content_type) || header_plausible(header) {
            return None;
        }
        let mut hex = String::new();
        for (i, b) in header.iter().enumerate() {
            let _ = write!(hex, "{}{b:02x}", if i == 0 { "" } else { " " });
        }
        let kind = codes::content_type(content_type);
        let why = match *rest {
            [major] => format!("has version byte {major}, where TLS versions are 3.x"),
            [major, minor] => format!(
                "has version {major}.{minor}, where TLS records carry 3.0 (SSL 3.0) to 3.4 \
                 (TLS 1.3)"
            ),
            [_, _, high] => format!(
                "declares at least {} bytes, more than the {MAX_BODY} a TLS record may carry",
                usize::from(high) << 8
            ),
            [_, _, high, low] => format!(
                "declares {} bytes, more than the {MAX_BODY} a TLS record may carry",
                u16::from_be_bytes([high, low])
            ),
            _ => "is not one".into(),
        };
        Some(format!("the {kind} record header {hex} {why}"))
    }
}

/// What [`Framer::next`] found next in the bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A whole, plausible header: its body follows.
    Header(Header),
    /// The next bytes of the current record's body.
    Body(&'a [u8]),
    /// The current record is complete (its body, if any, was the last [`Frame::Body`]).
    End,
    /// The bytes start no record; the framer starts afresh with the next byte.
    Refused(Refused),
}

/// What arrived of a record a stream ended in (see [`Framer::partial`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    pub content_type: u8,
    /// The body length its header declares, once the header is whole.
    pub declared: Option<u16>,
    /// The bytes that arrived, header included.
    pub received: usize,
}

/// Splits one direction's bytes into records, as they arrive in pieces of any size: a header is
/// checked byte by byte ([`header_plausible`]), then its body is counted off. It copies nothing
/// but the header: the caller keeps the body bytes it needs.
#[derive(Debug, Clone, Default)]
pub struct Framer {
    header: [u8; RECORD_HEADER],
    /// Header bytes received of the current record.
    have: usize,
    /// Body bytes of the current record still to come, once its header is whole.
    body_left: usize,
}

impl Framer {
    /// The next header, body piece, record end or refusal in `input`, which it advances past
    /// the bytes taken; `None` once `input` is used up with nothing to report.
    pub fn next<'a>(&mut self, input: &mut &'a [u8]) -> Option<Frame<'a>> {
        if self.have == RECORD_HEADER {
            if self.body_left == 0 {
                self.have = 0;
                return Some(Frame::End);
            }
            if input.is_empty() {
                return None;
            }
            let (body, rest) = input.split_at(self.body_left.min(input.len()));
            *input = rest;
            self.body_left -= body.len();
            return Some(Frame::Body(body));
        }
        while let Some((&byte, rest)) = input.split_first() {
            *input = rest;
            self.header[self.have] = byte;
            self.have += 1;
            if !header_plausible(&self.header[..self.have]) {
                let refused = Refused {
                    bytes: self.header,
                    len: self.have,
                };
                self.have = 0;
                return Some(Frame::Refused(refused));
            }
            if self.have == RECORD_HEADER {
                let header = Header(self.header);
                self.body_left = usize::from(header.length());
                return Some(Frame::Header(header));
            }
        }
        None
    }

    /// Body bytes of the current record still to come, once its header is whole.
    pub fn body_left(&self) -> Option<usize> {
        (self.have == RECORD_HEADER).then_some(self.body_left)
    }

    /// The header bytes of the current record received so far.
    pub fn header_so_far(&self) -> &[u8] {
        &self.header[..self.have]
    }

    /// Passes over `n` body bytes of the current record that will not be fed (skipped by the
    /// caller, or lost); at most [`Framer::body_left`]. When they were the last, the record's
    /// [`Frame::End`] comes with the next [`Framer::next`].
    pub fn skip_body(&mut self, n: usize) {
        debug_assert!(self.body_left().is_some_and(|left| n <= left));
        self.body_left = self.body_left.saturating_sub(n);
    }

    /// Takes the bytes that follow for the body of a record with this header (the rest of a
    /// record cut by missing bytes, say, under a header made for it).
    pub fn continue_with(&mut self, header: [u8; RECORD_HEADER]) {
        self.header = header;
        self.have = RECORD_HEADER;
        self.body_left = usize::from(Header(header).length());
    }

    /// Forgets the current record: the next byte fed starts a header.
    pub fn reset(&mut self) {
        self.have = 0;
        self.body_left = 0;
    }

    /// What arrived of the current record, if one was started: what a stream that ends here
    /// leaves unfinished.
    pub fn partial(&self) -> Option<Partial> {
        let (&content_type, _) = self.header_so_far().split_first()?;
        let declared = self.body_left().map(|_| Header(self.header).length());
        let received = match declared {
            Some(length) => RECORD_HEADER + usize::from(length) - self.body_left,
            None => self.have,
        };
        Some(Partial {
            content_type,
            declared,
            received,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(content_type: u8, body_len: usize) -> Vec<u8> {
        let mut r = vec![content_type, 3, 3];
        r.extend_from_slice(&(body_len as u16).to_be_bytes());
        r.extend((0..body_len).map(|i| i as u8));
        r
    }

    /// Every frame of `bytes` fed in pieces of `piece` bytes, bodies joined per record.
    fn frames(bytes: &[u8], piece: usize) -> Vec<String> {
        let mut framer = Framer::default();
        let mut out = Vec::new();
        let mut body = 0;
        for mut input in bytes.chunks(piece) {
            while let Some(frame) = framer.next(&mut input) {
                match frame {
                    Frame::Header(h) => {
                        out.push(format!("header {} {}", h.content_type(), h.length()))
                    }
                    Frame::Body(b) => body += b.len(),
                    Frame::End => out.push(format!("end {}", std::mem::take(&mut body))),
                    Frame::Refused(r) => out.push(format!("refused {:02x?}", r.bytes())),
                }
            }
        }
        out
    }

    #[test]
    fn records_are_cut_alike_whatever_the_pieces() {
        let mut bytes = record(22, 40);
        bytes.extend(record(20, 1));
        bytes.extend(record(23, 0));
        bytes.extend(record(23, MAX_BODY));
        let whole = frames(&bytes, bytes.len());
        assert_eq!(
            whole,
            [
                "header 22 40",
                "end 40",
                "header 20 1",
                "end 1",
                "header 23 0",
                "end 0",
                "header 23 18432",
                "end 18432"
            ]
        );
        for piece in [1, 2, 3, 5, 7, 4096] {
            assert_eq!(frames(&bytes, piece), whole, "pieces of {piece}");
        }
    }

    #[test]
    fn the_limits_are_the_ones_documented() {
        // Every content type TLS defines, no other.
        for t in 0..=255u8 {
            assert_eq!(header_plausible(&[t]), (20..=24).contains(&t), "type {t}");
        }
        // Versions SSL 3.0 to 3.4.
        assert!(header_plausible(&[22, 3, 0]));
        assert!(header_plausible(&[22, 3, 4]));
        assert!(!header_plausible(&[22, 3, 5]));
        assert!(!header_plausible(&[22, 2]));
        // 2^14 + 2048 bytes, no more; judged from the length's high byte on.
        assert!(header_plausible(&[23, 3, 3, 0x48, 0x00]));
        assert!(!header_plausible(&[23, 3, 3, 0x48, 0x01]));
        assert!(header_plausible(&[23, 3, 3, 0x48]));
        assert!(!header_plausible(&[23, 3, 3, 0x49]));
    }

    #[test]
    fn a_refused_header_is_quoted_with_why() {
        let why = |bytes: &[u8]| frames(bytes, 1).join("; ");
        // The framer starts afresh after the byte refused.
        assert_eq!(
            why(&[0x16, 3, 3, 0x48, 1, 0x15, 3, 1, 0, 2, 2, 40]),
            "refused [16, 03, 03, 48, 01]; header 21 2; end 2"
        );
        let mut framer = Framer::default();
        let refusal = |framer: &mut Framer, mut bytes: &[u8]| match framer.next(&mut bytes) {
            Some(Frame::Refused(r)) => r.why(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            refusal(&mut framer, &[0x16, 3, 3, 0x48, 1]).as_deref(),
            Some(
                "the handshake record header 16 03 03 48 01 declares 18433 bytes, more than the \
                 18432 a TLS record may carry"
            )
        );
        assert_eq!(
            refusal(&mut framer, &[0x17, 3, 3, 0xff]).as_deref(),
            Some(
                "the application_data record header 17 03 03 ff declares at least 65280 bytes, \
                 more than the 18432 a TLS record may carry"
            )
        );
        assert!(
            refusal(&mut framer, &[0x15, 3, 9])
                .is_some_and(|why| why.contains("15 03 09 has version 3.9"))
        );
        assert!(
            refusal(&mut framer, &[0x16, 1]).is_some_and(|why| why.contains("has version byte 1"))
        );
        // Text starts no record: nothing to explain.
        assert_eq!(refusal(&mut framer, b"GET /"), None);
    }

    #[test]
    fn a_stream_that_ends_inside_a_record_says_what_came() {
        let mut framer = Framer::default();
        assert_eq!(framer.partial(), None);
        let mut input: &[u8] = &[22, 3];
        assert_eq!(framer.next(&mut input), None);
        assert_eq!(
            framer.partial(),
            Some(Partial {
                content_type: 22,
                declared: None,
                received: 2
            })
        );
        let mut input: &[u8] = &[3, 0, 10, 1, 2, 3];
        assert!(matches!(framer.next(&mut input), Some(Frame::Header(_))));
        assert_eq!(framer.next(&mut input), Some(Frame::Body(&[1, 2, 3])));
        // Skipped bytes count as received: they went by.
        framer.skip_body(2);
        assert_eq!(
            framer.partial(),
            Some(Partial {
                content_type: 22,
                declared: Some(10),
                received: 10
            })
        );
        framer.skip_body(5);
        assert_eq!(framer.next(&mut input), Some(Frame::End));
        assert_eq!(framer.partial(), None);
    }
}
