//! Where TLS records start again in a stream after some of its bytes went missing.
//!
//! Past a hole the record framing is unknown: the bytes that follow may begin anywhere in a
//! record. The next record is taken to start at the first position where a strictly plausible
//! record header (one the framer takes, [`record::header_plausible`], that also announces a
//! body: exactly one byte for change_cipher_spec, at least one for the others) is followed,
//! right after the record it announces, by another one of the same version, or by the end of the
//! bytes captured so far (peers write whole records, so packets tend to end where a record
//! does). Random bytes pass one such header check about once in two million positions; with a
//! second header, or a length that lands exactly on the end of the bytes, practically never.
//!
//! The header check is the framer's own, so that where the search resumes the framer takes the
//! header, and every header the framer takes can be found again after a hole.

use super::record::{self, CHANGE_CIPHER_SPEC, RECORD_HEADER};

/// What [`record_start`] can tell from the bytes it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStart {
    /// The next record starts at this offset.
    At(usize),
    /// No record starts before this offset; whether one starts there takes more bytes.
    NotBefore(usize),
}

/// Where the first record starts in `bytes`, the bytes that follow a hole as far as they were
/// captured. `complete`: no bytes follow them (the stream ended, or another hole starts
/// there), so a record that would need more does not start there.
///
/// A caller may ask again with more bytes appended, from the offset of a
/// [`RecordStart::NotBefore`] on.
pub fn record_start(bytes: &[u8], complete: bool) -> RecordStart {
    for start in 0..bytes.len() {
        match record_at(&bytes[start..], complete) {
            Candidate::Yes => return RecordStart::At(start),
            Candidate::No => {}
            Candidate::NeedMore => return RecordStart::NotBefore(start),
        }
    }
    RecordStart::NotBefore(bytes.len())
}

#[derive(Debug, PartialEq, Eq)]
enum Candidate {
    Yes,
    No,
    NeedMore,
}

/// Whether a record starts at the beginning of `rest`.
fn record_at(rest: &[u8], complete: bool) -> Candidate {
    let Some((version, body)) = strict_header(rest) else {
        return if prefix_plausible(rest, None) && !complete {
            Candidate::NeedMore
        } else {
            Candidate::No
        };
    };
    if rest[0] == CHANGE_CIPHER_SPEC && rest.get(RECORD_HEADER).is_some_and(|&b| b != 1) {
        return Candidate::No;
    }
    let end = RECORD_HEADER + body;
    let Some(after) = rest.get(end..) else {
        return if complete {
            Candidate::No
        } else {
            Candidate::NeedMore
        };
    };
    if after.len() >= RECORD_HEADER {
        return match strict_header(after) {
            Some((next_version, _)) if next_version == version => Candidate::Yes,
            _ => Candidate::No,
        };
    }
    // The record ends with the bytes, or with at most part of a header after it.
    match (
        prefix_plausible(after, Some(version)),
        after.is_empty() || complete,
    ) {
        (false, _) => Candidate::No,
        (true, true) => Candidate::Yes,
        (true, false) => Candidate::NeedMore,
    }
}

/// The version and body length of a record header at the start of `bytes`, if all five bytes
/// are there and plausible, and it announces a body: empty records are legal (application_data)
/// but too weak a sign of a record start to take after a hole.
fn strict_header(bytes: &[u8]) -> Option<(u16, usize)> {
    let header = bytes.get(..RECORD_HEADER)?;
    if !record::header_plausible(header) {
        return None;
    }
    let version = u16::from_be_bytes([header[1], header[2]]);
    let body = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let fits = match header[0] {
        CHANGE_CIPHER_SPEC => body == 1,
        _ => body >= 1,
    };
    fits.then_some((version, body))
}

/// Whether the first bytes of a record header (up to all five) are plausible; with `version`,
/// whether they can start a header of that version.
fn prefix_plausible(bytes: &[u8], version: Option<u16>) -> bool {
    let same_version = version.is_none_or(|v| {
        let [major, minor] = v.to_be_bytes();
        bytes.get(1).is_none_or(|&b| b == major) && bytes.get(2).is_none_or(|&b| b == minor)
    });
    record::header_plausible(bytes) && same_version
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Rng;

    fn record(content_type: u8, body_len: usize) -> Vec<u8> {
        let mut r = vec![content_type, 3, 3];
        r.extend_from_slice(&(body_len as u16).to_be_bytes());
        r.extend((0..body_len).map(|i| (i * 7 + 0x41) as u8));
        r
    }

    #[test]
    fn a_record_boundary_right_after_the_hole_is_found_at_once() {
        let mut bytes = record(22, 40);
        bytes.extend(record(23, 100));
        assert_eq!(record_start(&bytes, false), RecordStart::At(0));
    }

    #[test]
    fn the_rest_of_a_cut_record_is_passed_over() {
        let mut bytes: Vec<u8> = (0..300u32).map(|i| (i * 31 % 251) as u8 | 0x80).collect();
        let tail = bytes.len();
        bytes.extend(record(21, 2));
        bytes.extend(record(23, 30));
        assert_eq!(record_start(&bytes, false), RecordStart::At(tail));
    }

    #[test]
    fn a_record_that_ends_with_the_bytes_is_taken() {
        let mut bytes = vec![0xEE; 10];
        bytes.extend(record(21, 26));
        assert_eq!(record_start(&bytes, false), RecordStart::At(10));
        // Part of a next header after it: more bytes tell, unless none will come.
        bytes.extend([23, 3]);
        assert_eq!(record_start(&bytes, false), RecordStart::NotBefore(10));
        assert_eq!(record_start(&bytes, true), RecordStart::At(10));
        // Cut short, it is not a record.
        bytes.truncate(bytes.len() - 3);
        assert_eq!(record_start(&bytes, false), RecordStart::NotBefore(10));
        assert_eq!(
            record_start(&bytes, true),
            RecordStart::NotBefore(bytes.len())
        );
    }

    #[test]
    fn a_header_followed_by_no_second_one_is_not_taken() {
        // Plausible on its own, but what follows its body is not a header.
        let mut bytes = vec![22, 3, 3, 0, 4, 1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        let start = bytes.len();
        bytes.extend(record(22, 4));
        bytes.extend(record(20, 1));
        assert_eq!(record_start(&bytes, false), RecordStart::At(start));
    }

    #[test]
    fn change_cipher_spec_must_be_exact() {
        let mut bytes = vec![20, 3, 3, 0, 1, 7];
        bytes.extend(record(23, 10));
        assert_eq!(record_start(&bytes, true), RecordStart::At(6));
    }

    /// The search takes every header the framer takes: a heartbeat record, a TLS 1.2 record
    /// longer than TLS 1.3 allows (a full fragment with a SHA-384 MAC and 255 bytes of CBC
    /// padding), one of the largest length; one byte longer, a header is no record.
    #[test]
    fn every_record_the_framer_takes_is_found_again() {
        for (content_type, len) in [(24, 20), (23, 16_704), (23, record::MAX_BODY)] {
            let mut bytes = vec![0xEE; 7];
            bytes.extend(record(content_type, len));
            bytes.extend(record(23, 30));
            assert_eq!(
                record_start(&bytes, true),
                RecordStart::At(7),
                "type {content_type}, {len} bytes"
            );
        }
        let mut bytes = vec![0xEE; 7];
        bytes.extend(record(23, record::MAX_BODY + 1));
        let next = bytes.len();
        bytes.extend(record(23, 30));
        assert_eq!(record_start(&bytes, true), RecordStart::At(next));
    }

    /// Whatever random bytes come before it, the record is found where it starts, and so it is
    /// when the bytes come piece by piece (asking again from where the previous answer left off).
    #[test]
    fn random_bytes_before_records_and_any_split() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..300 {
            let noise: Vec<u8> = (0..rng.index(3000)).map(|_| rng.next() as u8).collect();
            let mut bytes = noise.clone();
            let mut records = Vec::new();
            for _ in 0..3 {
                records.extend(record([21, 22, 23][rng.index(3)], 1 + rng.index(2000)));
            }
            bytes.extend(&records);
            let whole = record_start(&bytes, true);
            let RecordStart::At(found) = whole else {
                panic!("round {round}: {whole:?}");
            };
            assert!(
                found <= noise.len(),
                "round {round}: {found} > {}",
                noise.len()
            );
            if found < noise.len() {
                // Random bytes that happen to chain: the odds are far below one in 300.
                panic!("round {round}: a false start at {found}");
            }
            // Fed piece by piece, keeping only what is not ruled out.
            let mut held: Vec<u8> = Vec::new();
            let mut dropped = 0;
            let mut at = 0;
            let found_split = loop {
                let n = (1 + rng.index(700)).min(bytes.len() - at);
                held.extend_from_slice(&bytes[at..at + n]);
                at += n;
                match record_start(&held, at == bytes.len()) {
                    RecordStart::At(start) => break dropped + start,
                    RecordStart::NotBefore(start) => {
                        held.drain(..start);
                        dropped += start;
                    }
                }
                assert!(at < bytes.len(), "round {round}: not found");
            };
            assert_eq!(found_split, found, "round {round}");
        }
    }
}

/// Bytes a ClientHello's start needs to be told from other bytes: the record header, the
/// handshake type and length, and the hello's own version.
pub const CLIENT_HELLO_START: usize = RECORD_HEADER + 5;

/// Where a ClientHello starts in `bytes` (a client's plain text before it starts TLS: a
/// STARTTLS dialogue, a proxy's CONNECT), looking from `from` on: a handshake record header of
/// TLS 1.0 to 1.3 that announces at least the handshake header, handshake type 1 with a length
/// that fits a record's most, and a hello version of 3.x. `None` when none starts there yet; a
/// caller with more bytes asks again from `bytes.len() - CLIENT_HELLO_START + 1` on.
pub fn client_hello_start(bytes: &[u8], from: usize) -> Option<usize> {
    let last = bytes.len().checked_sub(CLIENT_HELLO_START)?;
    (from..=last).find(|&i| {
        let b = &bytes[i..i + CLIENT_HELLO_START];
        let length = usize::from(u16::from_be_bytes([b[3], b[4]]));
        let message = usize::from(b[6]) << 16 | usize::from(b[7]) << 8 | usize::from(b[8]);
        b[0] == record::HANDSHAKE
            && b[1] == 3
            && b[2] <= 4
            && (4..=record::MAX_BODY).contains(&length)
            && b[5] == 1
            && message <= (1 << 16)
            && b[9] == 3
    })
}

#[cfg(test)]
mod client_hello_tests {
    use super::*;

    #[test]
    fn a_client_hello_is_found_after_plain_text() {
        let mut bytes = b"EHLO x\r\nSTARTTLS\r\n".to_vec();
        let at = bytes.len();
        bytes.extend_from_slice(&[0x16, 0x03, 0x01, 0x00, 0x30, 0x01, 0x00, 0x00, 0x2c, 0x03]);
        assert_eq!(client_hello_start(&bytes, 0), Some(at));
        assert_eq!(client_hello_start(&bytes[..at + 9], 0), None);
        assert_eq!(client_hello_start(b"\x16\x03\x01 plain text", 0), None);
    }
}
