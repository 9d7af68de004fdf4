//! Debug logs of TLS stacks, read into the steps of a handshake: a session created, credentials
//! loaded, messages sent and received, alerts, error codes, certificate verification errors.
//!
//! The fourth producer, beside the live client, the live server and captures. A log shows less
//! than the wire (no certificates, often no message contents), so it has a model of its own,
//! diagnosed by `diagnose::log` with the same cause ids. Each stack has a module that knows its
//! log lines: wolfSSL's debug output (`wolfSSL_Debugging_ON`), mbedTLS's debug callback lines
//! (`file.c:line: |level| message`), OpenSSL's: `s_client`/`s_server` with `-msg`, `-state`,
//! `-trace`, and the `error:...` lines every OpenSSL program prints, and GnuTLS's: `gnutls-cli
//! -d N` (`|<4>| HSK[0x...]: ...`) and the lines gnutls-cli prints itself (`- Status: ...`,
//! `*** Fatal error: ...`). Lines nobody recognises are skipped; no line is echoed unless
//! recognised, so key material dumped by a verbose log (mbedTLS level 4, gnutls-cli `-d 9`)
//! never reaches the report.

mod gnutls;
mod mbedtls;
mod openssl;
mod prefix;
mod socket;
mod wolfssl;

use std::fmt;
use std::io::{self, BufRead};

use serde::Serialize;

use crate::explain::{self, Stack};
use crate::model::Side;

pub use socket::ConnectionFailure;

/// What a log showed.
#[derive(Debug, Clone, Serialize)]
pub struct DebugLog {
    /// The file read, or `-` for standard input.
    pub source: String,
    /// The stacks whose lines were recognised, in order of first appearance.
    pub stacks: Vec<Stack>,
    /// Lines read.
    pub lines: usize,
    /// The side that wrote the log (a server's log speaks of the client as its peer).
    pub side: Side,
    /// The TLS version, when the log names it.
    pub tls_version: Option<String>,
    pub events: Vec<LogEvent>,
}

/// One recognised line.
#[derive(Debug, Clone, Serialize)]
pub struct LogEvent {
    /// 1-based line number.
    pub line: usize,
    pub stack: Stack,
    #[serde(flatten)]
    pub what: LogWhat,
    /// The line as the stack wrote it: trimmed, without a timestamp or console prefix, at most
    /// 200 characters.
    pub text: String,
}

/// What a credential load call loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    Certificate,
    Key,
    Ca,
}

/// Where a credential was loaded: into the context, which sessions copy when they are created,
/// or into one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadScope {
    Context,
    Session,
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Credential::Certificate => "certificate",
            Credential::Key => "key",
            Credential::Ca => "ca",
        })
    }
}

impl fmt::Display for LoadScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoadScope::Context => "context",
            LoadScope::Session => "session",
        })
    }
}

/// What a line says. Serialised with a `kind` tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogWhat {
    /// A TLS session (connection object) was created from its context: `wolfSSL_new`.
    SessionCreated { call: String },
    /// A certificate, key or CA was loaded, into the context (shared) or the session.
    CredentialLoaded {
        call: String,
        item: Credential,
        scope: LoadScope,
    },
    /// A handshake message, named as the RFCs name it.
    Message {
        from: Side,
        message: String,
        /// For a Certificate message: how many certificates, when the log tells (0: empty).
        #[serde(skip_serializing_if = "Option::is_none")]
        certificates: Option<usize>,
    },
    /// The client had a CertificateVerify to make and made none: it holds no certificate and key.
    NoSignature { detail: String },
    /// A TLS alert.
    Alert {
        from: Side,
        /// `warning` or `fatal`, when the log says.
        #[serde(skip_serializing_if = "Option::is_none")]
        level: Option<String>,
        /// The number, when the log gives it or the name is known.
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<u8>,
        name: String,
    },
    /// An error code of the stack (`-313`, `-0x7780`, `0A000410`), with its name when known.
    Error {
        code: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        message: String,
    },
    /// A certificate chain did not verify (OpenSSL `verify error:num=N`, GnuTLS `- Status: The
    /// certificate is NOT trusted. ...`).
    VerifyError {
        /// OpenSSL's verify error number (`20`), or GnuTLS's status bit (`64`,
        /// `GNUTLS_CERT_SIGNER_NOT_FOUND`).
        code: u32,
        /// Where in the chain it failed, 0 being the peer's own certificate. GnuTLS names no
        /// depth: for an issuer it could not find, this is the last certificate the peer sent.
        #[serde(skip_serializing_if = "Option::is_none")]
        depth: Option<u32>,
        /// The certificate at that depth, as the log names it.
        #[serde(skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        message: String,
    },
    /// The connection failed beneath TLS: refused, reset or closed by the peer, timed out, no
    /// route, or the host name did not resolve.
    ConnectionFailed {
        failure: ConnectionFailure,
        /// What the log says: `error 8000006F: Connection refused`, `write:errno=104`.
        detail: String,
    },
    /// The handshake completed, as the stack itself reports it.
    HandshakeDone,
    /// Application data arrived: the peer accepted the handshake.
    ApplicationData { from: Side },
}

/// Reads a log to its end. Never fails on content: unrecognised or binary lines are skipped.
/// A timestamp or console prefix in front of a line is removed before the line is read.
pub fn read(input: impl BufRead, source: &str) -> io::Result<DebugLog> {
    let mut reader = Reader::new(source);
    for_each_line(input, |number, line| {
        reader.line(number, prefix::strip(line))
    })?;
    Ok(reader.finish())
}

/// Calls `each` with every line (lossily decoded, without its line ending), 1-based. Lines end
/// with LF, CRLF, or a lone CR (as some serial consoles save them).
fn for_each_line(mut input: impl BufRead, mut each: impl FnMut(usize, &str)) -> io::Result<usize> {
    let mut buffer = Vec::new();
    let mut number = 0;
    loop {
        buffer.clear();
        if input.read_until(b'\n', &mut buffer)? == 0 {
            return Ok(number);
        }
        let text = String::from_utf8_lossy(&buffer);
        for line in text.trim_end_matches(['\n', '\r']).split('\r') {
            number += 1;
            each(number, line);
        }
    }
}

/// The reading state: one per log.
struct Reader {
    log: DebugLog,
    wolfssl: wolfssl::State,
    mbedtls: mbedtls::State,
    openssl: openssl::State,
    gnutls: gnutls::State,
}

impl Reader {
    fn new(source: &str) -> Reader {
        Reader {
            log: DebugLog {
                source: source.to_string(),
                stacks: Vec::new(),
                lines: 0,
                side: Side::Client,
                tls_version: None,
                events: Vec::new(),
            },
            wolfssl: wolfssl::State::default(),
            mbedtls: mbedtls::State::default(),
            openssl: openssl::State::default(),
            gnutls: gnutls::State::default(),
        }
    }

    fn line(&mut self, number: usize, line: &str) {
        self.log.lines = number;
        let mut out = Out {
            log: &mut self.log,
            line: number,
            text: line,
        };
        // Each stack's module recognises only its own lines; the first that does wins.
        let _ = self.wolfssl.line(line, &mut out)
            || self.mbedtls.line(line, &mut out)
            || self.openssl.line(line, &mut out)
            || self.gnutls.line(line, &mut out);
    }

    fn finish(self) -> DebugLog {
        self.log
    }
}

/// Where a stack's module puts what it recognised.
struct Out<'a> {
    log: &'a mut DebugLog,
    line: usize,
    text: &'a str,
}

impl Out<'_> {
    fn push(&mut self, stack: Stack, what: LogWhat) {
        if !self.log.stacks.contains(&stack) {
            self.log.stacks.push(stack);
        }
        let text: String = self.text.trim().chars().take(200).collect();
        self.log.events.push(LogEvent {
            line: self.line,
            stack,
            what,
            text,
        });
    }

    fn message(&mut self, stack: Stack, from: Side, message: &str) {
        self.counted_message(stack, from, message, None);
    }

    /// A message with what the log tells of the certificates it carried (a Certificate's).
    fn counted_message(
        &mut self,
        stack: Stack,
        from: Side,
        message: &str,
        certificates: Option<usize>,
    ) {
        self.push(
            stack,
            LogWhat::Message {
                from,
                message: message.to_string(),
                certificates,
            },
        );
    }

    /// An alert, unless the same one was just recorded from another line of the same event
    /// (OpenSSL prints an alert in `-msg` and again in its error line).
    fn alert(
        &mut self,
        stack: Stack,
        from: Side,
        level: Option<&str>,
        code: Option<u8>,
        name: &str,
    ) {
        let code = code.or_else(|| explain::alert_code(name));
        let name = code
            .and_then(crate::model::codes::alert_name)
            .map_or_else(|| name.to_string(), str::to_string);
        for event in self.log.events.iter_mut().rev().take(8) {
            if let LogWhat::Alert {
                from: f,
                code: c,
                name: n,
                ..
            } = &mut event.what
                && *f == from
            {
                match (*c, code) {
                    (Some(seen), Some(now)) if seen == now => return,
                    // OpenSSL 3.0's -state and -trace have no name for some alerts (116); its
                    // error line has the number.
                    (None, Some(_)) => {
                        *c = code;
                        *n = name;
                        return;
                    }
                    _ => {}
                }
            }
        }
        self.push(
            stack,
            LogWhat::Alert {
                from,
                level: level.map(str::to_string),
                code,
                name,
            },
        );
    }

    /// An error code, unless the previous error was the same code (mbedTLS logs the same code
    /// once per function it passes through).
    fn error(&mut self, stack: Stack, code: &str, message: &str) {
        let repeated = self.log.events.iter().rev().find_map(|e| match &e.what {
            LogWhat::Error { code: c, .. } => Some(c.eq_ignore_ascii_case(code)),
            _ => None,
        });
        if repeated == Some(true) {
            return;
        }
        let name = explain::lookup(code, Some(stack))
            .into_iter()
            .find(|r| r.stack == stack)
            .map(|r| r.name);
        self.push(
            stack,
            LogWhat::Error {
                code: code.to_string(),
                name,
                message: message.to_string(),
            },
        );
    }

    /// A failure of the connection beneath TLS, unless the log said the same one before
    /// (s_client prints a refused connection in its error line and again as `connect:errno=`).
    fn connection_failed(&mut self, stack: Stack, failure: ConnectionFailure, detail: String) {
        let said = self.log.events.iter().any(
            |e| matches!(e.what, LogWhat::ConnectionFailed { failure: f, .. } if f == failure),
        );
        if !said {
            self.push(stack, LogWhat::ConnectionFailed { failure, detail });
        }
    }

    fn version(&mut self, version: &str) {
        self.log.tls_version = Some(version.to_string());
    }

    fn side(&mut self, side: Side) {
        self.log.side = side;
    }

    /// Whether a message of this name from this side was recorded already.
    fn saw(&self, from: Side, message: &str) -> bool {
        self.log.events.iter().any(|e| {
            matches!(&e.what, LogWhat::Message { from: f, message: m, .. } if *f == from && m == message)
        })
    }
}

/// A Certificate message of this many bytes holds no certificate: an empty list takes 3 bytes
/// (TLS 1.2) or 4 (TLS 1.3, with its empty context), 7 or 8 with the message header; the
/// smallest real certificate takes a hundred and more.
fn empty_certificate_message(length: usize) -> bool {
    length <= 8
}

/// The name of a handshake message as the RFCs write it, from a log's spelling ("server hello
/// done", "certificate request", "client key exchange").
fn message_name(words: &str) -> Option<&'static str> {
    let key: String = words
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match key.as_str() {
        "clienthello" => "ClientHello",
        "serverhello" => "ServerHello",
        "helloretryrequest" => "HelloRetryRequest",
        "encryptedextensions" => "EncryptedExtensions",
        "certificate" | "servercertificate" | "clientcertificate" => "Certificate",
        "certificaterequest" | "servercertificaterequest" => "CertificateRequest",
        "serverkeyexchange" => "ServerKeyExchange",
        "serverhellodone" | "serverdone" => "ServerHelloDone",
        "clientkeyexchange" => "ClientKeyExchange",
        "certificateverify" | "servercertificateverify" => "CertificateVerify",
        "changecipherspec" => "ChangeCipherSpec",
        "finished" => "Finished",
        "newsessionticket" | "sessionticket" | "serversessionticket" => "NewSessionTicket",
        "keyupdate" => "KeyUpdate",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
