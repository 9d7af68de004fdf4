//! Errors that stop iotdoctor from doing its job, each knowing its exit code.
//!
//! A failed handshake or a bad certificate is *not* an error: it is a finding in
//! the report. An [`Error`] means iotdoctor itself could not do what was asked.

use std::path::{Path, PathBuf};

use serde::Serialize;

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
#[derive(Debug, thiserror::Error)]
pub enum InputProblem {
    #[error("cannot read: {}", io_reason(.0))]
    Unreadable(#[from] std::io::Error),
    #[error("cannot write: {}", io_reason(.0))]
    Unwritable(std::io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("not PEM or DER: {0}")]
    NotPemOrDer(String),
    #[error("broken PEM: {0}")]
    BadPem(String),
    #[error("this file holds {found}, not {expected}")]
    WrongKind {
        expected: &'static str,
        found: String,
    },
    #[error("{0}")]
    Unparsable(String),
    #[error(
        "encrypted key: give the password with --key-pass-env VAR (iotdoctor asks on the terminal only when one is attached)"
    )]
    NeedsPassword,
    #[error(
        "cannot decrypt: wrong password, or an encryption scheme iotdoctor does not support ({0})"
    )]
    WrongPassword(String),
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

/// An I/O error in words, without the "(os error N)" tail.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}
