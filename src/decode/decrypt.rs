//! Decrypting captured TLS 1.3 records with the secrets of an NSS key log file (`SSLKEYLOGFILE`).
//!
//! [`KeyLog`] parses the key log; [`Tls13Decrypter`] removes the record protection of RFC 8446
//! sections 5.2 and 5.3 from one direction of one connection, following the sender through its
//! key changes: handshake keys, application keys, and each KeyUpdate after that. TLS 1.2 records
//! are decrypted by `super::decrypt12` from the master secret; [`Decrypter`] is either, and
//! [`decrypters`] makes a connection's pair, or says why the key log cannot.

use std::collections::HashMap;
use std::fmt;

use aws_lc_rs::{aead, hkdf};
use zeroize::Zeroizing;

use super::decrypt12::{self, Tls12Decrypter};
use crate::model::codes;

/// Length of a TLS record header: content type, legacy version, length.
const HEADER_LEN: usize = 5;
/// Outer content type of every protected TLS 1.3 record.
const APPLICATION_DATA: u8 = 23;
/// Length of the per-record nonce (and of the write IV) of every TLS 1.3 AEAD.
const IV_LEN: usize = aead::NONCE_LEN;
/// Length of a TLS 1.2 master secret.
const MASTER_SECRET_LEN: usize = 48;
/// The longest secret HKDF is given (the output of SHA-512).
const MAX_SECRET_LEN: usize = 64;

/// A secret's bytes, wiped from memory when dropped.
pub type Secret = Zeroizing<Vec<u8>>;

/// The TLS 1.3 secrets a key log holds for one connection. A field is `None` when the log has no
/// line for it. The `Debug` output shows which secrets are present, never their bytes.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Tls13Secrets {
    /// `CLIENT_EARLY_TRAFFIC_SECRET`: protects 0-RTT data.
    pub client_early: Option<Secret>,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET`.
    pub client_handshake: Option<Secret>,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET`.
    pub server_handshake: Option<Secret>,
    /// `CLIENT_TRAFFIC_SECRET_0`: the client's first application traffic secret.
    pub client_application: Option<Secret>,
    /// `SERVER_TRAFFIC_SECRET_0`: the server's first application traffic secret.
    pub server_application: Option<Secret>,
    /// `EXPORTER_SECRET`.
    pub exporter: Option<Secret>,
}

impl Tls13Secrets {
    /// Whether no secret at all is present.
    pub fn is_empty(&self) -> bool {
        self.fields().iter().all(|field| field.is_none())
    }

    fn fields(&self) -> [&Option<Secret>; 6] {
        [
            &self.client_early,
            &self.client_handshake,
            &self.server_handshake,
            &self.client_application,
            &self.server_application,
            &self.exporter,
        ]
    }

    /// The field a TLS 1.3 key log label fills.
    fn slot(&mut self, label: &str) -> Option<&mut Option<Secret>> {
        Some(match label {
            "CLIENT_EARLY_TRAFFIC_SECRET" => &mut self.client_early,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut self.client_handshake,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut self.server_handshake,
            "CLIENT_TRAFFIC_SECRET_0" => &mut self.client_application,
            "SERVER_TRAFFIC_SECRET_0" => &mut self.server_application,
            "EXPORTER_SECRET" => &mut self.exporter,
            _ => return None,
        })
    }
}

impl fmt::Debug for Tls13Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |field: &Option<Secret>| field.as_ref().map(|_| "<present>");
        f.debug_struct("Tls13Secrets")
            .field("client_early", &shown(&self.client_early))
            .field("client_handshake", &shown(&self.client_handshake))
            .field("server_handshake", &shown(&self.server_handshake))
            .field("client_application", &shown(&self.client_application))
            .field("server_application", &shown(&self.server_application))
            .field("exporter", &shown(&self.exporter))
            .finish()
    }
}

/// Everything a key log holds for one client random.
#[derive(Default)]
struct Entry {
    tls13: Tls13Secrets,
    /// `CLIENT_RANDOM`: the TLS 1.2 (or earlier) master secret.
    tls12_master: Option<Secret>,
}

/// The secrets of an NSS key log file (as written by `SSLKEYLOGFILE`), by client random.
///
/// Each line is `LABEL <client_random hex> <secret hex>`; `#` comments and blank lines are
/// skipped. The labels used are the TLS 1.3 traffic secrets (`CLIENT_HANDSHAKE_TRAFFIC_SECRET`,
/// `SERVER_HANDSHAKE_TRAFFIC_SECRET`, `CLIENT_TRAFFIC_SECRET_0`, `SERVER_TRAFFIC_SECRET_0`,
/// `EXPORTER_SECRET`, `CLIENT_EARLY_TRAFFIC_SECRET`) and TLS 1.2's `CLIENT_RANDOM`. Well-formed
/// lines with other labels (`RSA`, `ECH_SECRET`, ...) are ignored; lines that are not of the
/// form above, or carry a known label with a client random or secret of the wrong length, are
/// counted as malformed. When a line repeats a label for the same client random, the later wins.
#[derive(Default)]
pub struct KeyLog {
    entries: HashMap<[u8; 32], Entry>,
    malformed: usize,
    ignored: usize,
}

impl KeyLog {
    /// Parses NSS key log text; malformed lines are counted, not fatal.
    pub fn parse(text: &str) -> KeyLog {
        let mut log = KeyLog::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match log.add_line(line) {
                Line::Used => {}
                Line::Ignored => log.ignored += 1,
                Line::Malformed => log.malformed += 1,
            }
        }
        log
    }

    fn add_line(&mut self, line: &str) -> Line {
        let mut fields = line.split_ascii_whitespace();
        let (Some(label), Some(random), Some(secret), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Line::Malformed;
        };
        let label_ok = label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        let (Some(random), Some(secret)) = (decode_hex(random), decode_hex(secret)) else {
            return Line::Malformed;
        };
        let secret = Zeroizing::new(secret);
        if !label_ok || random.is_empty() || secret.is_empty() {
            return Line::Malformed;
        }
        if label != "CLIENT_RANDOM" && !is_tls13_label(label) {
            return Line::Ignored;
        }
        let Ok(random) = <[u8; 32]>::try_from(random.as_slice()) else {
            return Line::Malformed;
        };
        // A master secret is 48 bytes; every TLS 1.3 cipher suite hashes with SHA-256 or SHA-384.
        let tls12 = label == "CLIENT_RANDOM";
        let length_ok = if tls12 {
            secret.len() == MASTER_SECRET_LEN
        } else {
            secret.len() == 32 || secret.len() == 48
        };
        if !length_ok {
            return Line::Malformed;
        }
        let entry = self.entries.entry(random).or_default();
        if tls12 {
            entry.tls12_master = Some(secret);
        } else if let Some(slot) = entry.tls13.slot(label) {
            *slot = Some(secret);
        }
        Line::Used
    }

    /// The number of client randoms the log has secrets for.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the log has no secrets at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The number of lines that could not be parsed.
    pub fn malformed_lines(&self) -> usize {
        self.malformed
    }

    /// The number of well-formed lines whose label iotdoctor does not use.
    pub fn ignored_lines(&self) -> usize {
        self.ignored
    }

    /// The TLS 1.3 traffic secrets of one connection, if the log has any.
    pub fn tls13(&self, client_random: &[u8; 32]) -> Option<Tls13Secrets> {
        let entry = self.entries.get(client_random)?;
        (!entry.tls13.is_empty()).then(|| entry.tls13.clone())
    }

    /// The TLS 1.2 master secret (`CLIENT_RANDOM` line) of one connection, if the log has it.
    pub fn tls12_master_secret(&self, client_random: &[u8; 32]) -> Option<&[u8]> {
        self.entries
            .get(client_random)?
            .tls12_master
            .as_deref()
            .map(Vec::as_slice)
    }
}

impl fmt::Debug for KeyLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLog")
            .field("connections", &self.entries.len())
            .field("malformed", &self.malformed)
            .field("ignored", &self.ignored)
            .finish_non_exhaustive()
    }
}

/// Whether a key log label names a TLS 1.3 secret.
fn is_tls13_label(label: &str) -> bool {
    matches!(
        label,
        "CLIENT_EARLY_TRAFFIC_SECRET"
            | "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
            | "SERVER_HANDSHAKE_TRAFFIC_SECRET"
            | "CLIENT_TRAFFIC_SECRET_0"
            | "SERVER_TRAFFIC_SECRET_0"
            | "EXPORTER_SECRET"
    )
}

/// What became of one key log line.
enum Line {
    Used,
    Ignored,
    Malformed,
}

/// Decodes hex digits (either case); `None` unless the text is whole bytes of hex.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    fn digit(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

/// Which secret a record is protected with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Epoch {
    /// The handshake traffic secret: EncryptedExtensions through Finished.
    Handshake,
    /// An application traffic secret: everything after this side's Finished.
    Application,
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Epoch::Handshake => "handshake",
            Epoch::Application => "application",
        })
    }
}

/// Why a record could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// The record is too short to hold a header, an inner content type and an AEAD tag.
    #[error("record of {length} bytes is too short to be a protected TLS 1.3 record")]
    TooShort { length: usize },
    /// The header's length field disagrees with the bytes given.
    #[error("record header says {declared} bytes follow, but {actual} do")]
    LengthMismatch { declared: usize, actual: usize },
    /// The outer content type is not application_data, so the record is not protected.
    #[error("content type {0} is not application_data (23): the record is not encrypted")]
    NotApplicationData(u8),
    /// The key log has no secret for this side in the current epoch.
    #[error("the key log has no {0} traffic secret for this side")]
    MissingSecret(Epoch),
    /// The AEAD tag did not verify: wrong keys (epoch, key update, connection), a wrong sequence
    /// number (a record missing from the capture), or altered bytes.
    #[error("authentication tag mismatch: wrong key or sequence number, or an altered record")]
    Authentication,
    /// The plaintext is all zero padding, with no inner content type.
    #[error("decrypted record has no content type (all padding)")]
    NoContentType,
}

/// A record protection AEAD: one of aws-lc-rs, or AES-CCM (RustCrypto's), which aws-lc-rs
/// does not have.
#[derive(Clone, Copy)]
pub(super) enum Aead {
    AwsLc(&'static aead::Algorithm),
    /// AES-CCM with a 12-byte nonce: a 16-byte key (AES-128) or a 32-byte one (AES-256), and a
    /// 16-byte tag or, for the `_8` suites, an 8-byte one.
    AesCcm {
        key_len: usize,
        tag_len: usize,
    },
}

impl Aead {
    pub(super) fn key_len(self) -> usize {
        match self {
            Aead::AwsLc(algorithm) => algorithm.key_len(),
            Aead::AesCcm { key_len, .. } => key_len,
        }
    }

    pub(super) fn tag_len(self) -> usize {
        match self {
            Aead::AwsLc(algorithm) => algorithm.tag_len(),
            Aead::AesCcm { tag_len, .. } => tag_len,
        }
    }

    /// Opens `in_out` (the ciphertext, then the tag) in place: `Some(plaintext length)` when the
    /// tag verifies.
    pub(super) fn open(
        self,
        key: &[u8],
        nonce: [u8; IV_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Option<usize> {
        use ccm::consts::{U8, U12, U16};
        match self {
            Aead::AwsLc(algorithm) => {
                let key = aead::LessSafeKey::new(aead::UnboundKey::new(algorithm, key).ok()?);
                let nonce = aead::Nonce::assume_unique_for_key(nonce);
                key.open_in_place(nonce, aead::Aad::from(aad), in_out)
                    .ok()
                    .map(|plaintext| plaintext.len())
            }
            Aead::AesCcm {
                key_len: 16,
                tag_len: 16,
            } => open_ccm::<ccm::Ccm<aes::Aes128, U16, U12>>(key, nonce, aad, in_out),
            Aead::AesCcm {
                key_len: 16,
                tag_len: 8,
            } => open_ccm::<ccm::Ccm<aes::Aes128, U8, U12>>(key, nonce, aad, in_out),
            Aead::AesCcm {
                key_len: 32,
                tag_len: 16,
            } => open_ccm::<ccm::Ccm<aes::Aes256, U16, U12>>(key, nonce, aad, in_out),
            Aead::AesCcm {
                key_len: 32,
                tag_len: 8,
            } => open_ccm::<ccm::Ccm<aes::Aes256, U8, U12>>(key, nonce, aad, in_out),
            Aead::AesCcm { .. } => None,
        }
    }
}

/// [`Aead::open`] for one AES-CCM variant.
fn open_ccm<C>(key: &[u8], nonce: [u8; IV_LEN], aad: &[u8], in_out: &mut [u8]) -> Option<usize>
where
    C: ccm::KeyInit + ccm::AeadInOut,
{
    let cipher = C::new_from_slice(key).ok()?;
    let tag_len = ccm::aead::Tag::<C>::default().len();
    let text_len = in_out.len().checked_sub(tag_len)?;
    let (text, tag) = in_out.split_at_mut(text_len);
    let tag = ccm::aead::Tag::<C>::try_from(&*tag).ok()?;
    let nonce = ccm::aead::Nonce::<C>::try_from(&nonce[..]).ok()?;
    cipher
        .decrypt_inout_detached(&nonce, aad, text.into(), &tag)
        .ok()?;
    Some(text_len)
}

/// A TLS 1.3 cipher suite's record protection and key schedule hash.
#[derive(Clone, Copy)]
struct Suite {
    aead: Aead,
    hkdf: hkdf::Algorithm,
    hash_len: usize,
}

impl Suite {
    fn from_code(code: u16) -> Option<Suite> {
        let ccm = |tag_len| Aead::AesCcm {
            key_len: 16,
            tag_len,
        };
        let (aead, hkdf, hash_len) = match code {
            0x1301 => (Aead::AwsLc(&aead::AES_128_GCM), hkdf::HKDF_SHA256, 32),
            0x1302 => (Aead::AwsLc(&aead::AES_256_GCM), hkdf::HKDF_SHA384, 48),
            0x1303 => (Aead::AwsLc(&aead::CHACHA20_POLY1305), hkdf::HKDF_SHA256, 32),
            0x1304 => (ccm(16), hkdf::HKDF_SHA256, 32),
            0x1305 => (ccm(8), hkdf::HKDF_SHA256, 32),
            _ => return None,
        };
        Some(Suite {
            aead,
            hkdf,
            hash_len,
        })
    }
}

/// Whether [`Tls13Decrypter`] can decrypt records of this cipher suite: every TLS 1.3 suite
/// (0x1301 to 0x1305).
pub fn is_supported_suite(suite: u16) -> bool {
    Suite::from_code(suite).is_some()
}

/// An output length for [`hkdf::Prk::expand`].
struct OutputLen(usize);

impl hkdf::KeyType for OutputLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label of RFC 8446 section 7.1, with the label prefix `tls13 `. `None` when a
/// length does not fit its field or the secret is longer than any hash output.
fn hkdf_expand_label(
    hash: hkdf::Algorithm,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    len: usize,
) -> Option<Zeroizing<Vec<u8>>> {
    const PREFIX: &[u8] = b"tls13 ";
    if secret.len() > MAX_SECRET_LEN {
        return None;
    }
    let out_len = u16::try_from(len).ok()?.to_be_bytes();
    let label_len = [u8::try_from(PREFIX.len() + label.len()).ok()?];
    let context_len = [u8::try_from(context.len()).ok()?];
    let info: [&[u8]; 6] = [&out_len, &label_len, PREFIX, label, &context_len, context];
    let prk = hkdf::Prk::new_less_safe(hash, secret);
    let okm = prk.expand(&info, OutputLen(len)).ok()?;
    let mut out = Zeroizing::new(vec![0; len]);
    okm.fill(&mut out).ok()?;
    Some(out)
}

/// `iv` XOR the sequence number, left-padded to the IV's length: the nonce of TLS 1.3 records
/// and of TLS 1.2 ChaCha20-Poly1305 records (RFC 7905).
pub(super) fn xor_sequence(mut iv: [u8; IV_LEN], sequence: u64) -> [u8; IV_LEN] {
    for (byte, seq) in iv[IV_LEN - 8..].iter_mut().zip(sequence.to_be_bytes()) {
        *byte ^= seq;
    }
    iv
}

/// The record protection keys derived from one traffic secret.
#[derive(Clone)]
struct RecordKeys {
    key: Zeroizing<Vec<u8>>,
    iv: [u8; IV_LEN],
}

impl RecordKeys {
    /// `[sender]_write_key` and `[sender]_write_iv` (RFC 8446 section 7.3).
    fn derive(suite: Suite, secret: &[u8]) -> Option<RecordKeys> {
        let key = hkdf_expand_label(suite.hkdf, secret, b"key", b"", suite.aead.key_len())?;
        let iv = hkdf_expand_label(suite.hkdf, secret, b"iv", b"", IV_LEN)?;
        Some(RecordKeys {
            key,
            iv: <[u8; IV_LEN]>::try_from(iv.as_slice()).ok()?,
        })
    }

    /// The per-record nonce: the write IV XOR the sequence number, left-padded (section 5.3).
    fn nonce(&self, sequence: u64) -> [u8; IV_LEN] {
        xor_sequence(self.iv, sequence)
    }
}

/// Decrypts one direction of one TLS 1.3 connection.
///
/// It starts in the handshake epoch (or the application epoch when the key log has only the
/// application secret for this side) at sequence number 0. A record that fails to decrypt
/// changes nothing, so a caller unsure of the epoch can try again after [`to_application`]
/// (or on a clone).
///
/// [`to_application`]: Tls13Decrypter::to_application
#[derive(Clone)]
pub struct Tls13Decrypter {
    suite: Suite,
    epoch: Epoch,
    /// The current application traffic secret (after any key updates), if the log has it.
    application_secret: Option<Secret>,
    /// The keys of the current epoch; `None` when the log lacks its secret.
    keys: Option<RecordKeys>,
    sequence: u64,
    key_updates: u32,
}

/// After records went missing, how many more records [`Tls13Decrypter::decrypt_after_loss`]
/// tries to skip to find the sequence number again.
pub(super) const MAX_LOST_RECORDS: u64 = 32;

/// What [`Tls13Decrypter::decrypt_after_loss`] found the missing bytes held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// This many of the side's records.
    Records(u64),
    /// The end of its handshake (its Finished): the records decrypt with its application keys.
    EndOfHandshake,
}

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lost::Records(n) => write!(f, "{n} of its records"),
            Lost::EndOfHandshake => {
                f.write_str("the end of its handshake: they decrypt with its application keys")
            }
        }
    }
}

impl fmt::Debug for Tls13Decrypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls13Decrypter")
            .field("epoch", &self.epoch)
            .field("sequence", &self.sequence)
            .field("key_updates", &self.key_updates)
            .finish_non_exhaustive()
    }
}

impl Tls13Decrypter {
    /// `suite`: the negotiated cipher suite code (0x1301 TLS_AES_128_GCM_SHA256, 0x1302
    /// TLS_AES_256_GCM_SHA384, 0x1303 TLS_CHACHA20_POLY1305_SHA256); `server`: which side's
    /// records this decrypts. `None` if the suite is unsupported, the secrets have neither a
    /// handshake nor an application traffic secret for this side, or a secret's length is not
    /// the suite's hash length (the log belongs to another connection or suite).
    pub fn new(secrets: &Tls13Secrets, suite: u16, server: bool) -> Option<Tls13Decrypter> {
        let suite = Suite::from_code(suite)?;
        let (handshake, application) = if server {
            (&secrets.server_handshake, &secrets.server_application)
        } else {
            (&secrets.client_handshake, &secrets.client_application)
        };
        if handshake.is_none() && application.is_none() {
            return None;
        }
        let fits = |secret: &Option<Secret>| {
            secret
                .as_ref()
                .is_none_or(|secret| secret.len() == suite.hash_len)
        };
        if !fits(handshake) || !fits(application) {
            return None;
        }
        let application_secret = application.clone();
        let (epoch, keys) = match handshake {
            Some(secret) => (Epoch::Handshake, Some(RecordKeys::derive(suite, secret)?)),
            None => {
                let keys = match &application_secret {
                    Some(secret) => Some(RecordKeys::derive(suite, secret)?),
                    None => None,
                };
                (Epoch::Application, keys)
            }
        };
        Some(Tls13Decrypter {
            suite,
            epoch,
            application_secret,
            keys,
            sequence: 0,
            key_updates: 0,
        })
    }

    /// The epoch whose keys the next record is decrypted with.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The sequence number the next record is decrypted with.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// How many key updates have been applied.
    pub fn key_updates(&self) -> u32 {
        self.key_updates
    }

    /// Decrypts one application_data record (the full 5-byte header and body, as on the wire).
    /// Returns the inner content type and the plaintext with its padding removed, and advances
    /// the sequence number. On failure nothing changes.
    pub fn decrypt(&mut self, record: &[u8]) -> Result<(u8, Vec<u8>), DecryptError> {
        let length = record.len();
        let (header, body) = record
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(DecryptError::TooShort { length })?;
        if header[0] != APPLICATION_DATA {
            return Err(DecryptError::NotApplicationData(header[0]));
        }
        let declared = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if declared != body.len() {
            return Err(DecryptError::LengthMismatch {
                declared,
                actual: body.len(),
            });
        }
        if body.len() <= self.suite.aead.tag_len() {
            return Err(DecryptError::TooShort { length });
        }
        let keys = self
            .keys
            .as_ref()
            .ok_or(DecryptError::MissingSecret(self.epoch))?;
        let mut in_out = body.to_vec();
        let plaintext_len = self
            .suite
            .aead
            .open(&keys.key, keys.nonce(self.sequence), header, &mut in_out)
            .ok_or(DecryptError::Authentication)?;
        in_out.truncate(plaintext_len);
        let type_at = in_out
            .iter()
            .rposition(|&b| b != 0)
            .ok_or(DecryptError::NoContentType)?;
        let content_type = in_out[type_at];
        in_out.truncate(type_at);
        self.sequence = self.sequence.wrapping_add(1);
        Ok((content_type, in_out))
    }

    /// Moves past `n` records that were never seen (lost from a capture): the next record is
    /// decrypted with a sequence number `n` higher.
    pub fn skip_records(&mut self, n: u64) {
        self.sequence = self.sequence.wrapping_add(n);
    }

    /// Decrypts the first record after records went missing: tries the sequence numbers of up
    /// to `MAX_LOST_RECORDS` (32) lost records, in the current epoch and, if the side's Finished
    /// may have been lost too, in the application epoch. On success the decrypter is left in
    /// step, and what was lost is returned with the plaintext.
    pub fn decrypt_after_loss(&mut self, record: &[u8]) -> Option<(Lost, (u8, Vec<u8>))> {
        let epoch = self.epoch;
        let mut application = self.clone();
        application.to_application();
        let mut candidates = vec![self.clone()];
        if application.epoch != epoch {
            candidates.push(application);
        }
        for start in candidates {
            for lost in 0..=MAX_LOST_RECORDS {
                let mut candidate = start.clone();
                candidate.skip_records(lost);
                if let Ok(result) = candidate.decrypt(record) {
                    let found = if candidate.epoch == epoch {
                        Lost::Records(lost)
                    } else {
                        Lost::EndOfHandshake
                    };
                    *self = candidate;
                    return Some((found, result));
                }
            }
        }
        None
    }

    /// Switches from handshake to application traffic keys (call after this side's Finished).
    /// The sequence number restarts at 0. Does nothing when already in the application epoch.
    pub fn to_application(&mut self) {
        if self.epoch == Epoch::Application {
            return;
        }
        self.epoch = Epoch::Application;
        self.sequence = 0;
        self.keys = self
            .application_secret
            .as_ref()
            .and_then(|secret| RecordKeys::derive(self.suite, secret));
    }

    /// Applies a KeyUpdate of this side (call after decrypting its KeyUpdate message): the next
    /// application traffic secret is HKDF-Expand-Label(secret, "traffic upd", "", hash length),
    /// and the sequence number restarts at 0. Switches to the application epoch first if needed.
    pub fn key_update(&mut self) {
        self.to_application();
        let next = self.application_secret.as_ref().and_then(|secret| {
            hkdf_expand_label(
                self.suite.hkdf,
                secret,
                b"traffic upd",
                b"",
                self.suite.hash_len,
            )
        });
        self.keys = next
            .as_ref()
            .and_then(|secret| RecordKeys::derive(self.suite, secret));
        self.application_secret = next;
        self.sequence = 0;
        self.key_updates = self.key_updates.saturating_add(1);
    }
}

/// One direction's decrypter: TLS 1.3 (following its epochs and key updates) or TLS 1.2.
#[derive(Clone, Debug)]
pub struct Decrypter {
    version: Version,
    /// Some record decrypted: the secrets are this connection's, so a later failure means
    /// records missing from what was read, not a wrong key log.
    opened: bool,
}

#[derive(Clone, Debug)]
enum Version {
    Tls13(Tls13Decrypter),
    Tls12(Tls12Decrypter),
}

impl Decrypter {
    fn new(version: Version) -> Decrypter {
        Decrypter {
            version,
            opened: false,
        }
    }

    /// Whether some record of this side was decrypted.
    pub fn opened_any(&self) -> bool {
        self.opened
    }

    /// Decrypts one protected record: its (inner, in TLS 1.3) content type and plaintext.
    pub fn decrypt(&mut self, record: &[u8]) -> Result<(u8, Vec<u8>), DecryptError> {
        let result = match &mut self.version {
            Version::Tls13(d) => d.decrypt(record),
            Version::Tls12(d) => d.decrypt(record),
        };
        self.opened |= result.is_ok();
        result
    }

    /// See [`Tls13Decrypter::decrypt_after_loss`].
    pub fn decrypt_after_loss(&mut self, record: &[u8]) -> Option<(Lost, (u8, Vec<u8>))> {
        let result = match &mut self.version {
            Version::Tls13(d) => d.decrypt_after_loss(record),
            Version::Tls12(d) => d.decrypt_after_loss(record),
        };
        self.opened |= result.is_some();
        result
    }

    /// Moves past `n` records that were never seen.
    pub fn skip_records(&mut self, n: u64) {
        match &mut self.version {
            Version::Tls13(d) => d.skip_records(n),
            Version::Tls12(d) => d.skip_records(n),
        }
    }

    /// After this side's Finished: TLS 1.3 switches to the application keys; TLS 1.2 keeps
    /// its keys until its next ChangeCipherSpec.
    pub fn to_application(&mut self) {
        if let Version::Tls13(d) = &mut self.version {
            d.to_application();
        }
    }

    /// After this side's KeyUpdate (TLS 1.3 only).
    pub fn key_update(&mut self) {
        if let Version::Tls13(d) = &mut self.version {
            d.key_update();
        }
    }
}

/// The decrypters of a connection's client and server records, made at its ServerHello from a
/// key log, and, when they cannot all be made, the note that says why (it starts with
/// [`KEY_LOG_NOTE`]): no line for its client random, lines but not the secrets this version
/// needs, a cipher suite or version that is not decrypted, or secrets that do not fit the suite.
pub fn decrypters(
    keys: &KeyLog,
    version: u16,
    suite: u16,
    client_random: &[u8; 32],
    server_hello: &[u8],
) -> ([Option<Decrypter>; 2], Option<String>) {
    let none = [None, None];
    let tls13 = version == 0x0304;
    let hex: String = client_random
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let suite_name = codes::cipher_suite_info(suite).map_or("an unknown suite", |s| s.name);
    let Some(entry) = keys.entries.get(client_random) else {
        let what = if tls13 {
            "it has no TLS 1.3 secrets for this connection"
        } else {
            "it has no master secret (CLIENT_RANDOM) for this connection"
        };
        return (
            none,
            Some(format!(
                "{KEY_LOG_NOTE}no line for this connection's client random ({hex}...): {what}, \
                 and its encrypted records stay opaque"
            )),
        );
    };
    let unsupported = || {
        Some(format!(
            "{KEY_LOG_NOTE}it has this connection's secrets, but its cipher suite {suite_name} \
             ({suite:#06x}) is not one iotdoctor decrypts: its encrypted records stay opaque"
        ))
    };
    if tls13 {
        if entry.tls13.is_empty() {
            return (
                none,
                Some(format!(
                    "{KEY_LOG_NOTE}its line for this connection's client random ({hex}...) is a \
                     TLS 1.2 master secret (CLIENT_RANDOM), but the connection is TLS 1.3: it has \
                     no TLS 1.3 secrets for this connection, and its encrypted records stay opaque"
                )),
            );
        }
        if !is_supported_suite(suite) {
            return (none, unsupported());
        }
        let pair = [false, true].map(|server| {
            Tls13Decrypter::new(&entry.tls13, suite, server)
                .map(|d| Decrypter::new(Version::Tls13(d)))
        });
        let sides = [("client", false), ("server", true)];
        let missing: Vec<&str> = sides
            .iter()
            .zip(&pair)
            .filter(|(_, made)| made.is_none())
            .map(|((side, _), _)| *side)
            .collect();
        let note = (!missing.is_empty()).then(|| {
            let secrets = &entry.tls13;
            let present = |server: bool| {
                let (handshake, application) = if server {
                    (&secrets.server_handshake, &secrets.server_application)
                } else {
                    (&secrets.client_handshake, &secrets.client_application)
                };
                handshake.is_some() || application.is_some()
            };
            let why: Vec<String> = sides
                .iter()
                .zip(&pair)
                .filter(|(_, made)| made.is_none())
                .map(|((side, server), _)| {
                    if present(*server) {
                        format!("the {side}'s secrets do not fit the length of its cipher suite {suite_name}")
                    } else {
                        format!("it has no traffic secret of the {side}")
                    }
                })
                .collect();
            format!(
                "{KEY_LOG_NOTE}it lacks some secrets of this connection ({}): the {}'s records stay \
                 opaque",
                why.join("; "),
                missing.join("'s and the ")
            )
        });
        return (pair, note);
    }
    let Some(master) = entry.tls12_master.as_deref() else {
        return (
            none,
            Some(format!(
                "{KEY_LOG_NOTE}its lines for this connection's client random ({hex}...) are TLS \
                 1.3 secrets, but the connection is not TLS 1.3 and needs the master secret \
                 (CLIENT_RANDOM): its encrypted records stay opaque"
            )),
        );
    };
    if version != 0x0303 {
        return (
            none,
            Some(format!(
                "{KEY_LOG_NOTE}it has this connection's master secret, but only TLS 1.2 and 1.3 \
                 records are decrypted (this is {}): its encrypted records stay opaque",
                codes::version(version)
            )),
        );
    }
    if !decrypt12::is_supported_suite(suite) {
        return (none, unsupported());
    }
    let pair = decrypt12::server_hello_params(server_hello)
        .and_then(|(random, etm)| Tls12Decrypter::pair(master, client_random, &random, suite, etm));
    match pair {
        Some(pair) => (pair.map(|d| Some(Decrypter::new(Version::Tls12(d)))), None),
        None => (
            none,
            Some(format!(
                "{KEY_LOG_NOTE}the ServerHello is too short to read the server random from: \
                 its encrypted records stay opaque"
            )),
        ),
    }
}

/// How every note about what a key log could not do for a connection starts.
pub const KEY_LOG_NOTE: &str = "key log: ";

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::sync::Arc;

    use rustls::crypto::{CryptoProvider, aws_lc_rs};
    use rustls::pki_types::ServerName;
    use rustls::server::WebPkiClientVerifier;
    use rustls::{
        ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig, ServerConnection,
        SupportedCipherSuite,
    };

    use super::*;
    use crate::test_support::{CollectingKeyLog, Rng, certs, key, transfer};

    /// Hex in the RFC's dump layout (whitespace anywhere) to bytes.
    fn h(text: &str) -> Vec<u8> {
        let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        decode_hex(&digits).expect("test hex")
    }

    fn to_hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // RFC 8448 section 3, "Simple 1-RTT Handshake".
    const RFC_CLIENT_RANDOM: &str = "cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d
        ff a2 1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7";
    const RFC_HANDSHAKE_SECRET: &str = "1d c8 26 e9 36 06 aa 6f dc 0a ad c1 2f 74 1b 01
        04 6a a6 b9 9f 69 1e d2 21 a9 f0 ca 04 3f be ac";
    /// Transcript hash of ClientHello..ServerHello.
    const RFC_HELLO_HASH: &str = "86 0c 06 ed c0 78 58 ee 8e 78 f0 e7 42 8c 58 ed
        d6 b4 3f 2c a3 e6 e9 5f 02 ed 06 3c f0 e1 ca d8";
    const RFC_C_HS_TRAFFIC: &str = "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f
        3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21";
    const RFC_S_HS_TRAFFIC: &str = "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4
        e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38";
    const RFC_C_AP_TRAFFIC: &str = "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52
        87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5";
    const RFC_S_AP_TRAFFIC: &str = "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32
        82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43";

    /// The server's EncryptedExtensions, Certificate, CertificateVerify and Finished.
    const RFC_SERVER_FLIGHT: &str = "
        17 03 03 02 a2 d1 ff 33 4a 56 f5 bf f6 59 4a 07 cc 87 b5 80 23 3f 50 0f
        45 e4 89 e7 f3 3a f3 5e df 78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca
        07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd
        05 d2 a3 89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b
        d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 02 07 16 cf b9 b1 18 3e
        f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c
        7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e d6 5b 0e 3c dd 0c ba e8
        bf 2d 0b 22 78 12 cb b3 60 98 72 55 cc 74 41 10 c4 53 ba a4 fc d6 10 92
        8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70
        a2 55 9c 09 ea d6 86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8
        94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9 60 bd 59 6e ea
        52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f
        44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 4e d6 54 0c 84 83 8d 89
        f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4 f2 92 a3
        6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 7b 49 ee da 0c 62 58 f1
        00 d7 d9 61 ff b1 38 64 7e 92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e
        1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56 84
        c8 b0 37 8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c
        f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 61 e6 6f 99 88 2b d8 9f
        c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be
        5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 a3 96 fa 48 a1 81 d6 b6
        fa 4f 9d 62 d5 13 af bb 99 2f 2b 99 2f 67 f8 af e6 7f 76 91 3f a3 88 cb
        56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10
        dc 35 ae 69 f5 51 56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38
        eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 8c 31 7f c9 fa 66 a7 3f
        60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78
        40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af 93 98 28 fd 4a e3
        79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da bf 02 53 fe 51 75 be 89 8e
        75 0e dc 53 37 0d 2b";
    /// The server's Finished message, the end of the flight above.
    const RFC_SERVER_FINISHED: &str = "14 00 00 20 9b 9b 14 1d 90 63 37 fb d2 cb
        dc e7 1d f4 de da 4a b4 2c 30 95 72 cb 7f ff ee 54 54 b7 8f 07 18";
    const RFC_CLIENT_FINISHED: &str = "
        17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0
        51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c
        ae ac ab 68 67 d7 26 c4 05 46";
    const RFC_NEW_SESSION_TICKET: &str = "
        17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5 13 4a 2b 24
        0e 6c ff ac 11 6e 95 d4 1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a
        01 59 40 25 2f 55 71 3e 06 1d c1 3e 07 88 91 a3 8e fb cf 57 53 ad 8e f1
        70 ad 3c 73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0 d4 a3 d0 3f 75 e0
        9c 30 ba 1e 62 97 2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15
        13 98 91 d5 e4 c5 b4 06 f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77
        f8 1b 5a b0 5b 94 c0 13 46 75 5f 69 23 2c 86 51 9d 86 cb ee ac 87 aa c3
        47 d1 43 f9 60 5d 64 f6 50 db 4d 02 3e 70 e9 52 ca 49 fe 51 37 12 1c 74
        bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 86 96 12 9c 81 53 55 6b
        3b 6c 67 79 b3 7b f1 59 85 68 4f";
    const RFC_CLIENT_DATA: &str = "
        17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea
        42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b
        62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4";
    const RFC_SERVER_DATA: &str = "
        17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc
        32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8
        fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d";
    const RFC_CLIENT_ALERT: &str =
        "17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3";
    const RFC_SERVER_ALERT: &str =
        "17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9";

    /// The 50 bytes of application data both sides send in the trace.
    fn rfc_payload() -> Vec<u8> {
        (0u8..50).collect()
    }

    fn rfc_random() -> [u8; 32] {
        h(RFC_CLIENT_RANDOM).try_into().expect("32 bytes")
    }

    /// The trace's secrets as a key log file.
    fn rfc_key_log() -> String {
        let random = to_hex(&h(RFC_CLIENT_RANDOM));
        [
            ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", RFC_C_HS_TRAFFIC),
            ("SERVER_HANDSHAKE_TRAFFIC_SECRET", RFC_S_HS_TRAFFIC),
            ("CLIENT_TRAFFIC_SECRET_0", RFC_C_AP_TRAFFIC),
            ("SERVER_TRAFFIC_SECRET_0", RFC_S_AP_TRAFFIC),
        ]
        .iter()
        .map(|(label, secret)| format!("{label} {random} {}\n", to_hex(&h(secret))))
        .collect()
    }

    fn rfc_decrypter(server: bool) -> Tls13Decrypter {
        let log = KeyLog::parse(&rfc_key_log());
        let secrets = log.tls13(&rfc_random()).expect("secrets");
        Tls13Decrypter::new(&secrets, 0x1301, server).expect("decrypter")
    }

    fn expand(secret: &str, label: &[u8], context: &[u8], len: usize) -> Vec<u8> {
        hkdf_expand_label(hkdf::HKDF_SHA256, &h(secret), label, context, len)
            .expect("expand")
            .to_vec()
    }

    #[test]
    fn hkdf_expand_label_matches_rfc8448() {
        // Traffic secrets from the handshake secret, with a transcript hash as context.
        let hello_hash = h(RFC_HELLO_HASH);
        assert_eq!(
            expand(RFC_HANDSHAKE_SECRET, b"c hs traffic", &hello_hash, 32),
            h(RFC_C_HS_TRAFFIC)
        );
        assert_eq!(
            expand(RFC_HANDSHAKE_SECRET, b"s hs traffic", &hello_hash, 32),
            h(RFC_S_HS_TRAFFIC)
        );
        // The client's finished key.
        assert_eq!(
            expand(RFC_C_HS_TRAFFIC, b"finished", b"", 32),
            h("b8 0a d0 10 15 fb 2f 0b d6 5f f7 d4 da 5d 6b f8
               3f 84 82 1d 1f 87 fd c7 d3 c7 5b 5a 7b 42 d9 c4")
        );
    }

    #[test]
    fn record_keys_match_rfc8448() {
        let suite = Suite::from_code(0x1301).expect("suite");
        for (secret, key, iv) in [
            (
                RFC_S_HS_TRAFFIC,
                "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc",
                "5d 31 3e b2 67 12 76 ee 13 00 0b 30",
            ),
            (
                RFC_C_HS_TRAFFIC,
                "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01",
                "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f",
            ),
            (
                RFC_S_AP_TRAFFIC,
                "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56",
                "cf 78 2b 88 dd 83 54 9a ad f1 e9 84",
            ),
            (
                RFC_C_AP_TRAFFIC,
                "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51",
                "5b 78 92 3d ee 08 57 90 33 e5 23 d9",
            ),
        ] {
            let keys = RecordKeys::derive(suite, &h(secret)).expect("keys");
            assert_eq!(keys.key.as_slice(), h(key).as_slice(), "key from {secret}");
            assert_eq!(keys.iv.as_slice(), h(iv).as_slice(), "iv from {secret}");
        }
    }

    #[test]
    fn decrypts_the_rfc8448_server_records() {
        let mut server = rfc_decrypter(true);
        assert_eq!(server.epoch(), Epoch::Handshake);

        let (content_type, flight) = server.decrypt(&h(RFC_SERVER_FLIGHT)).expect("flight");
        assert_eq!(content_type, 22);
        assert_eq!(flight.len(), 674 - 16 - 1);
        assert_eq!(flight[0], 8, "EncryptedExtensions first");
        assert!(flight.ends_with(&h(RFC_SERVER_FINISHED)), "Finished last");
        assert_eq!(server.sequence(), 1);

        // The ticket is under the application keys: with the handshake keys it fails and
        // leaves the sequence number alone, so the caller can switch epochs and retry.
        let ticket = h(RFC_NEW_SESSION_TICKET);
        assert_eq!(server.decrypt(&ticket), Err(DecryptError::Authentication));
        assert_eq!(server.sequence(), 1);
        server.to_application();
        assert_eq!((server.epoch(), server.sequence()), (Epoch::Application, 0));
        let (content_type, message) = server.decrypt(&ticket).expect("ticket");
        assert_eq!((content_type, message[0]), (22, 4), "NewSessionTicket");

        // Sequence number 1 of the application keys.
        let (content_type, data) = server.decrypt(&h(RFC_SERVER_DATA)).expect("data");
        assert_eq!((content_type, data), (23, rfc_payload()));
        let (content_type, alert) = server.decrypt(&h(RFC_SERVER_ALERT)).expect("alert");
        assert_eq!((content_type, alert), (21, vec![1, 0]), "close_notify");
        assert_eq!(server.sequence(), 3);
    }

    #[test]
    fn decrypts_the_rfc8448_client_records() {
        let mut client = rfc_decrypter(false);
        let (content_type, finished) = client.decrypt(&h(RFC_CLIENT_FINISHED)).expect("fin");
        assert_eq!(content_type, 22);
        assert_eq!(finished.len(), 36);
        assert_eq!(finished[..4], [20, 0, 0, 32], "Finished");

        client.to_application();
        let (content_type, data) = client.decrypt(&h(RFC_CLIENT_DATA)).expect("data");
        assert_eq!((content_type, data), (23, rfc_payload()));
        let (content_type, alert) = client.decrypt(&h(RFC_CLIENT_ALERT)).expect("alert");
        assert_eq!((content_type, alert), (21, vec![1, 0]), "close_notify");
    }

    /// The server's first application record of two openssl 3.0 connections (capture
    /// `ccm-tls13-no-cert` and `ccm8-tls13-expired` of fixtures/pcaps): its fatal alert.
    #[test]
    fn decrypts_openssl_aes_ccm_alerts() {
        for (suite, secret, record, alert) in [
            (
                0x1304,
                "95b6441462c64a9bca0edf25f2a083f6245936be2615db333dbd89b28514efe4",
                "17030300131922e7cd511fda129d0db62d1ed1b2c611407a",
                116,
            ),
            (
                0x1305,
                "d00cf90a672c73ecd34b165cd78b8052b8e7c5985b3729f0e449883a24bfd369",
                "170303000b5674080bb18db070685c3d",
                45,
            ),
        ] {
            let secrets = Tls13Secrets {
                server_application: Some(Zeroizing::new(h(secret))),
                ..Tls13Secrets::default()
            };
            let mut server = Tls13Decrypter::new(&secrets, suite, true).expect("decrypter");
            let record = h(record);
            assert_eq!(
                server.decrypt(&record),
                Ok((21, vec![2, alert])),
                "suite {suite:#06x}"
            );
            // One bit off in the tag, or the other tag length: no plaintext.
            let mut tampered = record.clone();
            *tampered.last_mut().expect("tag") ^= 1;
            let mut server = Tls13Decrypter::new(&secrets, suite, true).expect("decrypter");
            assert_eq!(server.decrypt(&tampered), Err(DecryptError::Authentication));
            let other = if suite == 0x1304 { 0x1305 } else { 0x1304 };
            let mut server = Tls13Decrypter::new(&secrets, other, true).expect("decrypter");
            assert!(
                server.decrypt(&record).is_err(),
                "suite {suite:#06x} as {other:#06x}"
            );
        }
    }

    #[test]
    fn a_tampered_record_fails_without_advancing() {
        let record = h(RFC_CLIENT_FINISHED);
        let mut client = rfc_decrypter(false);
        for at in 0..record.len() {
            let mut tampered = record.clone();
            tampered[at] ^= 0x01;
            let error = client.decrypt(&tampered).expect_err("tampered record");
            let expected = match at {
                0 => DecryptError::NotApplicationData(22),
                3 | 4 => DecryptError::LengthMismatch {
                    declared: usize::from(u16::from_be_bytes([tampered[3], tampered[4]])),
                    actual: record.len() - HEADER_LEN,
                },
                _ => DecryptError::Authentication,
            };
            assert_eq!(error, expected, "byte {at} flipped");
            assert_eq!(client.sequence(), 0, "byte {at} flipped");
        }
        // Truncated records.
        for len in 0..record.len() {
            assert!(client.decrypt(&record[..len]).is_err());
        }
        assert_eq!(
            client.decrypt(&h(
                "17 03 03 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
            )),
            Err(DecryptError::TooShort { length: 21 })
        );
        assert_eq!(client.sequence(), 0);
        // The genuine record still decrypts at sequence number 0.
        assert_eq!(client.decrypt(&record).expect("genuine").0, 22);
        assert_eq!(client.sequence(), 1);
        // Replayed, it is at the wrong sequence number.
        assert_eq!(client.decrypt(&record), Err(DecryptError::Authentication));
    }

    #[test]
    fn all_padding_has_no_content_type() {
        let suite = Suite::from_code(0x1303).expect("suite");
        let secret = [7u8; 32];
        let keys = RecordKeys::derive(suite, &secret).expect("keys");
        let key = aead::LessSafeKey::new(
            aead::UnboundKey::new(&aead::CHACHA20_POLY1305, &keys.key).expect("key"),
        );
        let mut body = vec![0u8; 10];
        let header = [23, 3, 3, 0, 26];
        let nonce = aead::Nonce::assume_unique_for_key(keys.nonce(0));
        key.seal_in_place_append_tag(nonce, aead::Aad::from(header), &mut body)
            .expect("seal");
        let record = [header.as_slice(), &body].concat();
        let secrets = Tls13Secrets {
            client_handshake: Some(Zeroizing::new(secret.to_vec())),
            ..Tls13Secrets::default()
        };
        let mut client = Tls13Decrypter::new(&secrets, 0x1303, false).expect("decrypter");
        assert_eq!(client.decrypt(&record), Err(DecryptError::NoContentType));
        assert_eq!(client.sequence(), 0);
    }

    #[test]
    fn decrypter_needs_a_known_suite_and_this_sides_secrets() {
        let log = KeyLog::parse(&rfc_key_log());
        let secrets = log.tls13(&rfc_random()).expect("secrets");
        assert!(
            Tls13Decrypter::new(&secrets, 0x1306, true).is_none(),
            "no such suite"
        );
        assert!(
            Tls13Decrypter::new(&secrets, 0xc02f, true).is_none(),
            "TLS 1.2"
        );
        // 32-byte secrets cannot belong to a SHA-384 suite.
        assert!(Tls13Decrypter::new(&secrets, 0x1302, true).is_none());
        assert!(Tls13Decrypter::new(&secrets, 0x1303, true).is_some());
        assert!(is_supported_suite(0x1302) && is_supported_suite(0x1305));
        assert!(!is_supported_suite(0x1306) && !is_supported_suite(0xc02b));

        let client_only = Tls13Secrets {
            client_handshake: secrets.client_handshake.clone(),
            ..Tls13Secrets::default()
        };
        assert!(Tls13Decrypter::new(&client_only, 0x1301, true).is_none());
        let mut client = Tls13Decrypter::new(&client_only, 0x1301, false).expect("client");
        client.to_application();
        assert_eq!(
            client.decrypt(&h(RFC_CLIENT_DATA)),
            Err(DecryptError::MissingSecret(Epoch::Application))
        );

        // With only the application secret, decryption starts in the application epoch.
        let application_only = Tls13Secrets {
            client_application: secrets.client_application.clone(),
            ..Tls13Secrets::default()
        };
        let mut client = Tls13Decrypter::new(&application_only, 0x1301, false).expect("app");
        assert_eq!(client.epoch(), Epoch::Application);
        assert_eq!(
            client.decrypt(&h(RFC_CLIENT_DATA)).expect("data").1,
            rfc_payload()
        );
    }

    #[test]
    fn key_log_counts_malformed_lines() {
        let random = "AB".repeat(32);
        let other = "cd".repeat(32);
        let short = "ab".repeat(31);
        let secret = "11".repeat(32);
        let master = "22".repeat(48);
        let text = [
            "# SSL/TLS secrets log file, generated by NSS".to_string(),
            String::new(),
            "   ".to_string(),
            format!("CLIENT_HANDSHAKE_TRAFFIC_SECRET {random} {secret}\r"),
            format!("SERVER_TRAFFIC_SECRET_0\t{random}   {}", "33".repeat(32)),
            format!("CLIENT_RANDOM {other} {master}"),
            format!("RSA 0011223344556677 {master}"),
            format!("ECH_SECRET {random} {secret}"),
            // Malformed:
            format!("SERVER_HANDSHAKE_TRAFFIC_SECRET {random}"),
            format!("CLIENT_TRAFFIC_SECRET_0 {random} zz{}", "11".repeat(31)),
            format!("CLIENT_TRAFFIC_SECRET_0 {short} {secret}"),
            format!("CLIENT_TRAFFIC_SECRET_0 {random} {secret}1"),
            format!("CLIENT_TRAFFIC_SECRET_0 {random} {}", "11".repeat(20)),
            format!("CLIENT_RANDOM {random} {secret}"),
            format!("CLIENT_RANDOM {} {secret}", "ef".repeat(32)),
            format!("EXPORTER_SECRET {random} {secret} {secret}"),
            format!("client_random {random} {master}"),
            "garbage".to_string(),
        ]
        .join("\n");
        let log = KeyLog::parse(&text);
        assert_eq!(log.len(), 2);
        assert!(!log.is_empty());
        assert_eq!(log.malformed_lines(), 10);
        assert_eq!(log.ignored_lines(), 2);

        let random: [u8; 32] = [0xab; 32];
        let secrets = log.tls13(&random).expect("tls13");
        assert_eq!(
            secrets.client_handshake,
            Some(Zeroizing::new(vec![0x11; 32]))
        );
        assert_eq!(
            secrets.server_application,
            Some(Zeroizing::new(vec![0x33; 32]))
        );
        assert_eq!(secrets.client_application, None);
        assert_eq!(secrets.exporter, None);
        assert!(
            !format!("{secrets:?}").contains("11"),
            "Debug hides secrets"
        );
        assert_eq!(log.tls12_master_secret(&random), None);

        let other: [u8; 32] = [0xcd; 32];
        assert!(log.tls13(&other).is_none(), "TLS 1.2 only");
        assert_eq!(log.tls12_master_secret(&other), Some(&[0x22; 48][..]));
        assert!(log.tls13(&[0; 32]).is_none());

        let empty = KeyLog::parse("");
        assert!(empty.is_empty());
        assert_eq!(empty.malformed_lines(), 0);
    }

    /// Each reason a key log cannot decrypt a connection is its own note.
    #[test]
    fn decrypters_say_why_a_key_log_does_not_help() {
        let random = [0xab; 32];
        let other = [0xcd; 32];
        let tls13 = format!(
            "SERVER_HANDSHAKE_TRAFFIC_SECRET {} {}\nCLIENT_RANDOM {} {}\n",
            "ab".repeat(32),
            "11".repeat(32),
            "cd".repeat(32),
            "22".repeat(48)
        );
        let log = KeyLog::parse(&tls13);
        // A ServerHello body: version, random, empty session id, suite, compression.
        let hello = [&[3, 3][..], &[7; 32], &[0, 0xc0, 0x2b, 0]].concat();
        let note = |version, suite, random: &[u8; 32]| {
            let (pair, note) = decrypters(&log, version, suite, random, &hello);
            (pair.map(|d| d.is_some()), note.unwrap_or_default())
        };

        let (made, why) = note(0x0304, 0x1301, &[0x99; 32]);
        assert_eq!(made, [false, false]);
        assert!(why.starts_with(KEY_LOG_NOTE), "{why}");
        assert!(
            why.contains("no line for this connection's client random (9999"),
            "{why}"
        );
        assert!(
            why.contains("no TLS 1.3 secrets for this connection"),
            "{why}"
        );
        let (_, why) = note(0x0303, 0xc02b, &[0x99; 32]);
        assert!(why.contains("no master secret (CLIENT_RANDOM)"), "{why}");

        let (made, why) = note(0x0304, 0x1301, &random);
        assert_eq!(made, [false, true], "the server's secret only");
        assert!(why.contains("no traffic secret of the client"), "{why}");
        let (made, why) = note(0x0304, 0x1302, &random);
        assert_eq!(made, [false, false]);
        assert!(
            why.contains("do not fit the length of its cipher suite TLS_AES_256_GCM_SHA384"),
            "{why}"
        );

        let (_, why) = note(0x0303, 0xc02b, &random);
        assert!(why.contains("are TLS 1.3 secrets"), "{why}");
        let (_, why) = note(0x0304, 0x1301, &other);
        assert!(why.contains("is a TLS 1.2 master secret"), "{why}");
        let (_, why) = note(0x0303, 0xc05c, &other);
        assert!(
            why.contains(
                "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256 (0xc05c) is not one iotdoctor decrypts"
            ),
            "{why}"
        );
        let (_, why) = note(0x0302, 0xc013, &other);
        assert!(
            why.contains("only TLS 1.2 and 1.3") && why.contains("TLSv1.1"),
            "{why}"
        );
        let (made, why) = note(0x0303, 0xc02b, &other);
        assert_eq!((made, why.as_str()), ([true, true], ""));
        let (pair, why) = decrypters(&log, 0x0303, 0xc02b, &other, &hello[..20]);
        assert!(pair.iter().all(Option::is_none) && why.is_some_and(|w| w.contains("too short")));
    }

    /// `len` random bytes.
    fn random_bytes(random: &mut Rng, len: usize) -> Vec<u8> {
        (0..len).map(|_| random.next().to_le_bytes()[3]).collect()
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut random = Rng(0x1234_5678_9abc_def1);
        let mut decrypters: Vec<Tls13Decrypter> = [0x1301, 0x1302, 0x1303, 0x1304, 0x1305]
            .iter()
            .flat_map(|&suite| {
                let len = if suite == 0x1302 { 48 } else { 32 };
                let secrets = Tls13Secrets {
                    server_handshake: Some(Zeroizing::new(random_bytes(&mut random, len))),
                    server_application: Some(Zeroizing::new(random_bytes(&mut random, len))),
                    ..Tls13Secrets::default()
                };
                let decrypter = Tls13Decrypter::new(&secrets, suite, true).expect("decrypter");
                let mut application = decrypter.clone();
                application.key_update();
                [decrypter, application]
            })
            .collect();
        decrypters.push(rfc_decrypter(true));
        for _ in 0..3000 {
            let len = random.index(400);
            let mut record = random_bytes(&mut random, len);
            if len >= HEADER_LEN && random.index(2) == 0 {
                let body = u16::try_from(len - HEADER_LEN).expect("short");
                record[..HEADER_LEN].copy_from_slice(&[23, 3, 3, 0, 0]);
                record[3..HEADER_LEN].copy_from_slice(&body.to_be_bytes());
            }
            for decrypter in &mut decrypters {
                let before = (decrypter.epoch(), decrypter.sequence());
                assert!(decrypter.decrypt(&record).is_err());
                assert_eq!((decrypter.epoch(), decrypter.sequence()), before);
            }
        }

        // Key log text: arbitrary bytes, and lines built from the characters that matter.
        let alphabet = b"0123456789abcdefABCDEF _\t#\r\nCLIENT_RANDOM SERVER_TRAFFIC_SECRET_0 ";
        for _ in 0..500 {
            let len = random.index(600);
            let noise = String::from_utf8_lossy(&random_bytes(&mut random, len)).into_owned();
            let _ = KeyLog::parse(&noise);
            let text: String = (0..len)
                .map(|_| char::from(alphabet[random.index(alphabet.len())]))
                .collect();
            let log = KeyLog::parse(&text);
            assert!(log.len() <= text.lines().count());
        }
    }

    /// The bytes of one in-memory connection, each direction as one stream.
    struct Capture {
        client: Vec<u8>,
        server: Vec<u8>,
        key_log: String,
        suite: u16,
    }

    /// Runs a rustls client and server against each other in memory with one TLS 1.3 suite:
    /// the handshake, "hello" both ways, a client KeyUpdate with more data each way, and
    /// close_notify both ways.
    fn connect(suite: SupportedCipherSuite, client_auth: bool) -> Capture {
        let mut roots = RootCertStore::empty();
        for root in certs("root-ca.pem") {
            roots.add(root).expect("root");
        }
        let roots = Arc::new(roots);
        let server_provider = Arc::new(aws_lc_rs::default_provider());
        let client_provider = Arc::new(CryptoProvider {
            cipher_suites: vec![suite],
            ..aws_lc_rs::default_provider()
        });

        let server = ServerConfig::builder_with_provider(server_provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("server versions");
        let server = if client_auth {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(roots.clone(), server_provider.clone())
                    .build()
                    .expect("verifier");
            server.with_client_cert_verifier(verifier)
        } else {
            server.with_no_client_auth()
        };
        let server = server
            .with_single_cert(certs("server-chain.pem"), key("server.key"))
            .expect("server config");

        let client = ClientConfig::builder_with_provider(client_provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("client versions")
            .with_root_certificates(roots);
        let mut client = if client_auth {
            client
                .with_client_auth_cert(certs("client-ec-chain.pem"), key("client-ec.key"))
                .expect("client config")
        } else {
            client.with_no_client_auth()
        };
        let lines = Arc::new(CollectingKeyLog::default());
        client.key_log = lines.clone();

        let name = ServerName::try_from("localhost").expect("name");
        let mut client =
            Connection::Client(ClientConnection::new(Arc::new(client), name).expect("client"));
        let mut server =
            Connection::Server(ServerConnection::new(Arc::new(server)).expect("server"));
        let (mut client_wire, mut server_wire) = (Vec::new(), Vec::new());
        let mut exchange = |client: &mut Connection, server: &mut Connection| {
            for _ in 0..20 {
                transfer(client, server, |bytes| client_wire.extend(bytes));
                transfer(server, client, |bytes| server_wire.extend(bytes));
                if !client.wants_write() && !server.wants_write() {
                    break;
                }
            }
        };

        exchange(&mut client, &mut server);
        assert!(!client.is_handshaking() && !server.is_handshaking());
        client.writer().write_all(b"hello").expect("client data");
        server.writer().write_all(b"hello").expect("server data");
        exchange(&mut client, &mut server);
        client.refresh_traffic_keys().expect("key update");
        client.writer().write_all(b"updated").expect("client data");
        exchange(&mut client, &mut server);
        server.writer().write_all(b"reply").expect("server data");
        exchange(&mut client, &mut server);
        client.send_close_notify();
        server.send_close_notify();
        exchange(&mut client, &mut server);

        let suite = client.negotiated_cipher_suite().expect("suite").suite();
        let key_log = lines.text();
        Capture {
            client: client_wire,
            server: server_wire,
            key_log,
            suite: u16::from(suite),
        }
    }

    /// Cuts a byte stream into TLS records.
    fn records(mut stream: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        while stream.len() >= HEADER_LEN {
            let len = HEADER_LEN + usize::from(u16::from_be_bytes([stream[3], stream[4]]));
            let (record, rest) = stream.split_at(len);
            out.push(record);
            stream = rest;
        }
        assert!(stream.is_empty(), "stream ends inside a record");
        out
    }

    /// What the protected records of one direction held.
    #[derive(Debug, Default)]
    struct Inner {
        handshake: Vec<u8>,
        data: Vec<Vec<u8>>,
        alerts: Vec<Vec<u8>>,
    }

    /// Decrypts every protected record of one direction, switching to the application keys
    /// after Finished and to the next ones after a KeyUpdate, as a capture decoder would.
    fn decrypt_all(stream: &[u8], decrypter: &mut Tls13Decrypter) -> Inner {
        let mut inner = Inner::default();
        let mut pending = Vec::new();
        for (index, record) in records(stream).into_iter().enumerate() {
            if record[0] != APPLICATION_DATA {
                continue; // The plaintext hello, or a middlebox-compatibility CCS.
            }
            let (content_type, plaintext) = decrypter
                .decrypt(record)
                .unwrap_or_else(|e| panic!("record {index} ({:?}): {e}", decrypter));
            match content_type {
                22 => {
                    pending.extend_from_slice(&plaintext);
                    let mut change = None;
                    while pending.len() >= 4 {
                        let len = u32::from_be_bytes([0, pending[1], pending[2], pending[3]]);
                        let end = 4 + usize::try_from(len).expect("fits");
                        if pending.len() < end {
                            break;
                        }
                        let message: Vec<u8> = pending.drain(..end).collect();
                        inner.handshake.push(message[0]);
                        change = match message[0] {
                            20 | 24 => Some(message[0]),
                            _ => change,
                        };
                    }
                    match change {
                        Some(20) => decrypter.to_application(),
                        Some(_) => decrypter.key_update(),
                        None => {}
                    }
                }
                23 => inner.data.push(plaintext),
                21 => inner.alerts.push(plaintext),
                other => panic!("record {index}: inner content type {other}"),
            }
        }
        assert!(pending.is_empty(), "a handshake message is incomplete");
        inner
    }

    #[test]
    fn decrypts_rustls_connections() {
        let suites = [
            (aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256, 0x1301),
            (aws_lc_rs::cipher_suite::TLS13_AES_256_GCM_SHA384, 0x1302),
            (
                aws_lc_rs::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
                0x1303,
            ),
        ];
        for (suite, code) in suites {
            for client_auth in [false, true] {
                let case = format!("suite {code:#06x}, client auth {client_auth}");
                let capture = connect(suite, client_auth);
                assert_eq!(capture.suite, code, "{case}");

                let log = KeyLog::parse(&format!("# rustls\n\n{}", capture.key_log));
                assert_eq!((log.len(), log.malformed_lines()), (1, 0), "{case}");
                let random: [u8; 32] = capture.client[11..43].try_into().expect("random");
                let secrets = log.tls13(&random).expect("secrets");
                assert!(secrets.exporter.is_some(), "{case}");
                assert!(log.tls12_master_secret(&random).is_none(), "{case}");

                let mut server = Tls13Decrypter::new(&secrets, code, true).expect("server");
                let seen = decrypt_all(&capture.server, &mut server);
                let flight: &[u8] = if client_auth {
                    &[8, 13, 11, 15, 20]
                } else {
                    &[8, 11, 15, 20]
                };
                assert_eq!(seen.handshake[..flight.len()], *flight, "{case}: {seen:?}");
                let after = &seen.handshake[flight.len()..];
                assert!(after.contains(&4), "{case}: NewSessionTicket: {seen:?}");
                assert!(
                    after.iter().all(|t| [4, 24].contains(t)),
                    "{case}: {seen:?}"
                );
                assert_eq!(seen.data, [&b"hello"[..], b"reply"], "{case}");
                assert_eq!(seen.alerts, [[1, 0]], "{case}: close_notify");
                // The server answers the client's update_requested with a KeyUpdate of its own.
                assert_eq!(server.key_updates(), 1, "{case}");

                let mut client = Tls13Decrypter::new(&secrets, code, false).expect("client");
                let seen = decrypt_all(&capture.client, &mut client);
                let flight: &[u8] = if client_auth {
                    &[11, 15, 20, 24]
                } else {
                    &[20, 24]
                };
                assert_eq!(seen.handshake, flight, "{case}");
                assert_eq!(seen.data, [&b"hello"[..], b"updated"], "{case}");
                assert_eq!(seen.alerts, [[1, 0]], "{case}: close_notify");
                assert_eq!(client.key_updates(), 1, "{case}");
                assert_eq!(client.epoch(), Epoch::Application, "{case}");
            }
        }
    }
}
