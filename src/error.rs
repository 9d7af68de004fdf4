//! Errors that stop iotdoctor from doing its job, each knowing its exit code.
//!
//! A failed handshake or a bad certificate is *not* an error: it is a finding in
//! the report. An [`Error`] means iotdoctor itself could not do what was asked.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::certificate::KeyEncoding;

/// Exit codes of the command-line contract (see docs/json-report.md).
pub mod exit {
    /// Healthy: no error-level finding, no cause.
    pub const OK: u8 = 0;
    /// Problems found: causes or error-level findings.
    pub const PROBLEMS: u8 = 1;
    /// Usage error (clap uses the same code).
    pub const USAGE: u8 = 2;
    /// An input could not be read or parsed.
    pub const INPUT: u8 = 3;
    /// Network failure before TLS started (DNS, refused, unreachable).
    pub const NETWORK: u8 = 4;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file could not be read or is not what it should be.
    #[error("{path}: {problem}", path = path.display())]
    Input {
        path: PathBuf,
        problem: InputProblem,
    },

    /// The password of an encrypted input could not be obtained.
    #[error("{0}")]
    Password(String),

    /// The command line asks for something impossible (clap catches most of these itself).
    #[error("{0}")]
    Usage(String),

    /// The network failed before TLS could start on our side (an address that cannot be
    /// listened on).
    #[error("{0}")]
    Network(String),
}

impl Error {
    pub fn input(path: &Path, problem: InputProblem) -> Self {
        Error::Input {
            path: path.to_path_buf(),
            problem,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input { .. } | Error::Password(_) => exit::INPUT,
            Error::Usage(_) => exit::USAGE,
            Error::Network(_) => exit::NETWORK,
        }
    }

    /// The phase the error belongs to, as named in the JSON report.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Input { .. } | Error::Password(_) => ErrorKind::Input,
            Error::Usage(_) => ErrorKind::Usage,
            Error::Network(_) => ErrorKind::Network,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    Input,
    Usage,
    Network,
}

/// Why an input file could not be used. Messages say what the file is instead.
///
/// The problems of credential files are the typed variants: they hold counts, names iotdoctor
/// chose and labels that passed [`PemLabel::new`], never text or bytes taken from the file or
/// from a parser's message about it, so no error can quote a private key.
#[derive(Debug, thiserror::Error)]
pub enum InputProblem {
    #[error("cannot read: {}", io_reason(.0))]
    Unreadable(#[from] std::io::Error),
    #[error("cannot write: {}", io_reason(.0))]
    Unwritable(std::io::Error),
    #[error("cannot write: its directory does not exist")]
    NoDirectory,
    #[error(
        "a key log must be private, and other users may read or write this one (mode {0:04o}); iotdoctor cannot change that (it is not the file's owner): chmod 600 it, or give a file of your own"
    )]
    KeyLogNotPrivate(u32),
    #[error("the file is empty")]
    Empty,
    #[error("not PEM or DER: {0}")]
    NotPemOrDer(NotPemOrDer),
    #[error("broken PEM: {0}")]
    BadPem(PemProblem),
    #[error("this file holds {found}, not {expected}")]
    WrongKind {
        expected: &'static str,
        found: String,
    },
    /// A capture or a log that cannot be read (never a credential file: see above).
    #[error("{0}")]
    Unparsable(String),
    #[error("the {0} private key is malformed")]
    MalformedKey(KeyEncoding),
    #[error("the encrypted private key is malformed")]
    MalformedEncryptedKey,
    #[error("block {0} is not a valid X.509 certificate")]
    NotACertificate(usize),
    #[error("certificate {0}: its public key or signature algorithm is malformed")]
    MalformedCertificate(usize),
    #[error("unreadable PKCS#12 bundle: {0}")]
    BadPkcs12(&'static str),
    #[error(
        "encrypted key: give the password with --key-pass-env VAR (iotdoctor asks on the terminal only when one is attached)"
    )]
    NeedsPassword,
    #[error(
        "cannot decrypt: wrong password, or an encryption scheme iotdoctor does not support ({0})"
    )]
    WrongPassword(&'static str),
    #[error(
        "legacy OpenSSL-encrypted key (Proc-Type: 4,ENCRYPTED), which iotdoctor does not read; convert it with 'openssl pkcs8 -topk8 -in KEY -out key-pkcs8.pem'"
    )]
    LegacyEncryptedPem,
    #[error("holds {0} private keys; give the one that belongs to the certificate")]
    SeveralKeys(usize),
    #[error(
        "{why}. The server needs the key of the first certificate in {cert}: devices reject signatures made with any other (alert 51 decrypt_error)",
        cert = cert.display()
    )]
    KeyNotForCertificate { cert: PathBuf, why: String },
    #[error(
        "none of its {0} lines is a line of a wolfSSL, mbedTLS, OpenSSL or GnuTLS debug log iotdoctor knows (wolfSSL_Debugging_ON output, mbedTLS debug callback lines, openssl s_client -msg/-state/-trace output, OpenSSL error lines, gnutls-cli -d output)"
    )]
    NotALog(usize),
}

/// What a file that is neither PEM nor DER looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotPemOrDer {
    #[error("text without any '-----BEGIN' line")]
    Text,
    #[error("binary data that is not DER (first byte 0x{0:02x}, DER starts with 0x30)")]
    Binary(u8),
    #[error("DER data that is not a certificate, a private key or a PKCS#12 bundle")]
    OtherDer,
}

/// Which line of a PEM block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemLine {
    Begin,
    End,
}

impl fmt::Display for PemLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PemLine::Begin => "BEGIN",
            PemLine::End => "END",
        })
    }
}

/// How a PEM file is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemProblem {
    #[error("the line '-----{line} {label}' does not end with '-----'")]
    UnfinishedLine { line: PemLine, label: PemLabel },
    #[error("the block '{0}' has no END line: the file is truncated")]
    NoEnd(PemLabel),
    #[error(
        "a '{begin}' block ends with END {end}: a block is truncated or two files were cut together"
    )]
    Mismatched { begin: PemLabel, end: PemLabel },
    #[error("a block's base64 is damaged")]
    DamagedBase64,
    #[error(
        "a block has a blank line inside its base64, or header lines that are not 'Name: value'"
    )]
    BadHeader,
    #[error("a block holds bytes that are not text")]
    NotText,
    #[error("a BEGIN or END line has no label")]
    NoLabel,
    #[error("its BEGIN and END lines are out of order")]
    Framing,
}

/// The label of a PEM BEGIN or END line (`PRIVATE KEY`), kept only when it looks like one:
/// short words of capital letters, digits and dots (`X9.42 DH PARAMETERS`). Anything else (a
/// BEGIN line that lost its dashes runs into the base64 that follows) is not kept, so that it
/// can never be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemLabel(Option<String>);

impl PemLabel {
    /// Longest word kept: longer than any word of a real label, shorter than anything a search
    /// for leaked base64 would find.
    const MAX_WORD: usize = 12;

    pub fn new(raw: &str) -> PemLabel {
        let raw = raw.trim();
        let words: Vec<&str> = raw.split(' ').collect();
        let plausible = !raw.is_empty()
            && raw.len() <= 48
            && words.iter().all(|w| {
                !w.is_empty()
                    && w.len() <= Self::MAX_WORD
                    && w.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.')
            });
        PemLabel(plausible.then(|| raw.to_string()))
    }

    /// The label, when it is one.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl fmt::Display for PemLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_deref().unwrap_or("(not a PEM label)"))
    }
}

/// An I/O error in words, without the "(os error N)" tail.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}
