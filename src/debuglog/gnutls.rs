//! GnuTLS's debug log as `gnutls-cli -d N` prints it (`|<4>| HSK[0x55...]: CERTIFICATE was queued
//! [7 bytes]`; from `-d 5` on, `|<5>| REC[0x55...]: Alert[2|116] - ... - was received`), and the
//! lines of the gnutls-cli program itself (`- Successfully sent 0 certificate(s) to server.`,
//! `- Status: ...`, `*** Fatal error: ...`, `*** Received alert [40]: ...`).

use super::{ConnectionFailure, LogWhat, Out, empty_certificate_message, message_name};
use crate::explain::{self, GnutlsStatus, Stack};
use crate::model::Side;

const STACK: Stack = Stack::GnuTls;

/// `GNUTLS_CERT_INVALID`: "not trusted", the bit set beside every specific reason.
const STATUS_INVALID: u32 = 1 << 1;
/// `GNUTLS_CERT_SIGNER_NOT_FOUND` and `GNUTLS_CERT_SIGNER_NOT_CA`: the reasons about the issuer
/// of the last certificate the peer sent.
const STATUS_ISSUER: [u32; 2] = [1 << 6, 1 << 7];

/// GnuTLS's codes for a received alert, which gnutls-cli names in its `*** ... error` line.
const GNUTLS_E_FATAL_ALERT_RECEIVED: i64 = -12;
const GNUTLS_E_WARNING_ALERT_RECEIVED: i64 = -16;

#[derive(Debug, Default)]
pub(super) struct State {
    /// `HSK` lines were seen (`-d 4` and more): the messages themselves are in the log.
    handshake_lines: bool,
    /// How many certificates gnutls-cli's certificate callback gave for the server's request.
    certificates_given: Option<usize>,
    /// The level of the alert the last error line announced (-12: fatal, -16: warning).
    alert_level: Option<&'static str>,
    /// The server's chain as gnutls-cli lists it before verifying it.
    chain: Chain,
}

/// `- Got a certificate list of 2 certificates.`, `- Certificate[1] info:`, ` - subject `...'`.
#[derive(Debug, Default)]
struct Chain {
    length: Option<usize>,
    /// The subjects listed so far, by position.
    subjects: Vec<(usize, String)>,
    /// The position of the certificate whose `- subject` line comes next.
    listing: Option<usize>,
}

impl Chain {
    /// The last certificate of the chain, whose issuer was not found when verification says
    /// "issuer unknown" (OpenSSL would name its depth).
    fn top(&self) -> (Option<u32>, Option<String>) {
        let Some(last) = self.length.and_then(|n| n.checked_sub(1)) else {
            return (None, None);
        };
        let subject = self
            .subjects
            .iter()
            .find(|(at, _)| *at == last)
            .map(|(_, subject)| subject.clone());
        (u32::try_from(last).ok(), subject)
    }
}

impl State {
    /// Recognises one line; returns whether it was GnuTLS's or gnutls-cli's.
    pub(super) fn line(&mut self, line: &str, out: &mut Out<'_>) -> bool {
        match debug_message(line) {
            // Every debug line is GnuTLS's, recognised or not: none is another stack's to read
            // (the `INT:` lines of -d 9 carry keys and secrets, and are dropped here).
            Some(message) => {
                self.debug(message, out);
                true
            }
            None => self.program_line(line.trim(), out),
        }
    }

    fn debug(&mut self, message: &str, out: &mut Out<'_>) {
        if message.starts_with("Peer requested CA: ") {
            // One line per CA name of the CertificateRequest (`-d 3`).
            if !out.saw(Side::Server, "CertificateRequest") {
                out.message(STACK, Side::Server, "CertificateRequest");
            }
            return;
        }
        let Some((tag, text)) = tagged(message) else {
            return;
        };
        match tag {
            "HSK" => self.handshake(text, out),
            "REC" => record(text, out),
            "EXT" => {
                // TLS 1.3 is negotiated in an extension: the ServerHello itself says 3.3.
                if let Some(version) = text
                    .strip_prefix("Negotiated version: ")
                    .and_then(protocol_version)
                {
                    out.version(version);
                }
            }
            _ => {}
        }
    }

    /// `HSK`: `SERVER HELLO (2) was received. Length 61[61], ...`, `CERTIFICATE was queued [7
    /// bytes]`, `Server's version: 3.3`.
    fn handshake(&mut self, text: &str, out: &mut Out<'_>) {
        self.handshake_lines = true;
        if let Some((name, rest)) = text.split_once(" was received. Length ") {
            // `SERVER HELLO (2)`: the name, then the message type.
            let name = name.rsplit_once(" (").map_or(name, |(name, _)| name);
            let Some(name) = message_name(name) else {
                return;
            };
            if name == "ClientHello" {
                out.side(Side::Server);
            }
            // `Length 4[4], ...`: the body, without the 4-byte header.
            let body: Option<usize> = rest
                .split_once('[')
                .and_then(|(length, _)| length.parse().ok());
            let empty = name == "Certificate"
                && body.is_some_and(|n| empty_certificate_message(n.saturating_add(4)));
            let from = out.log.side.peer();
            out.counted_message(STACK, from, name, empty.then_some(0));
        } else if let Some((name, rest)) = text.split_once(" was queued [") {
            let Some(name) = message_name(name) else {
                return;
            };
            let length = rest
                .strip_suffix(" bytes]")
                .and_then(|n| n.parse::<usize>().ok());
            self.queued(name, length, out);
        } else if let Some(version) = text
            .strip_prefix("Server's version: ")
            .or_else(|| text.strip_prefix("Selected version "))
            .and_then(protocol_version)
        {
            out.version(version);
        }
    }

    /// A message this side sent; a Certificate's length tells whether it was empty (7 bytes in
    /// TLS 1.2, 8 in TLS 1.3, with the 4-byte header).
    fn queued(&mut self, name: &str, length: Option<usize>, out: &mut Out<'_>) {
        let from = out.log.side;
        if name != "Certificate" {
            out.message(STACK, from, name);
            return;
        }
        let given = self.certificates_given.take();
        let certificates = match length {
            Some(length) if empty_certificate_message(length) => Some(0),
            _ => given.filter(|n| *n > 0),
        };
        out.counted_message(STACK, from, name, certificates);
    }

    /// What gnutls-cli prints itself, with or without `-d`.
    fn program_line(&mut self, text: &str, out: &mut Out<'_>) -> bool {
        if let Some(rest) = text.strip_prefix("*** ") {
            return self.error_line(rest, out);
        }
        if let Some(message) = text.strip_prefix("GnuTLS error: ") {
            // gnutls_perror(), as programs built on GnuTLS print it.
            return self.error(message, out);
        }
        if let Some(rest) = text.strip_prefix("- ") {
            return self.info_line(rest.trim(), out);
        }
        if text.starts_with("Could not connect to ") || text.starts_with("Cannot resolve ") {
            return connection_line(text, out);
        }
        false
    }

    /// `*** Fatal error: A TLS fatal alert has been received.`, `*** Received alert [40]:
    /// Handshake failed`, `*** Error loading cert file: Error while reading file.`.
    fn error_line(&mut self, rest: &str, out: &mut Out<'_>) -> bool {
        if let Some(alert) = rest.strip_prefix("Received alert [") {
            let (code, name) = alert.split_once("]: ").unwrap_or((alert, ""));
            let Ok(code) = code.parse::<u8>() else {
                return false;
            };
            let from = out.log.side.peer();
            let level = self.alert_level.take();
            out.alert(STACK, from, level, Some(code), name);
            return true;
        }
        let Some((what, message)) = rest.split_once(": ") else {
            return false;
        };
        if what == "Non fatal error" {
            // A warning alert or a rehandshake request: the connection goes on.
            self.alert_level = explain::gnutls_error_code(message)
                .filter(|code| *code == GNUTLS_E_WARNING_ALERT_RECEIVED)
                .map(|_| "warning");
            return true;
        }
        self.error(message, out)
    }

    /// An error by its text, named from GnuTLS's table; texts it does not have are not its.
    fn error(&mut self, message: &str, out: &mut Out<'_>) -> bool {
        let Some(code) = explain::gnutls_error_code(message) else {
            return false;
        };
        self.alert_level = match code {
            GNUTLS_E_FATAL_ALERT_RECEIVED => Some("fatal"),
            GNUTLS_E_WARNING_ALERT_RECEIVED => Some("warning"),
            _ => None,
        };
        out.error(STACK, &code.to_string(), message.trim());
        true
    }

    /// `- Status: ...`, `- Successfully sent 0 certificate(s) to server.`, `- Handshake was
    /// completed`, and the listing of the server's chain.
    fn info_line(&mut self, rest: &str, out: &mut Out<'_>) -> bool {
        if let Some(status) = rest.strip_prefix("Status: ") {
            self.status(status, out);
            return true;
        }
        if let Some(count) = rest
            .strip_prefix("Successfully sent ")
            .and_then(|r| r.strip_suffix(" certificate(s) to server."))
            .and_then(|n| n.parse::<usize>().ok())
        {
            self.certificates_sent(count, out);
            return true;
        }
        if rest == "Server has requested a certificate." {
            if !out.saw(Side::Server, "CertificateRequest") {
                out.message(STACK, Side::Server, "CertificateRequest");
            }
            return true;
        }
        if rest == "Handshake was completed" || rest == "Resume Handshake was completed" {
            out.push(STACK, LogWhat::HandshakeDone);
            return true;
        }
        if let Some(version) = rest
            .strip_prefix("Description: (")
            .and_then(|d| d.split('-').next())
            .or_else(|| rest.strip_prefix("Version: "))
            .and_then(version_name)
        {
            out.version(version);
            return true;
        }
        self.chain_line(rest)
    }

    /// gnutls-cli's certificate callback runs when a CertificateRequest arrives, and says how
    /// many certificates it gives. With the handshake lines in the log, the Certificate message
    /// itself follows; without them this line is all there is of both.
    fn certificates_sent(&mut self, count: usize, out: &mut Out<'_>) {
        if self.handshake_lines {
            self.certificates_given = Some(count);
            return;
        }
        if !out.saw(Side::Server, "CertificateRequest") {
            out.message(STACK, Side::Server, "CertificateRequest");
        }
        out.counted_message(STACK, Side::Client, "Certificate", Some(count));
    }

    /// `The certificate is NOT trusted. The certificate issuer is unknown.`: one verification
    /// error per reason given.
    fn status(&mut self, status: &str, out: &mut Out<'_>) {
        let statuses = explain::gnutls_statuses(status);
        let specific: Vec<GnutlsStatus> = statuses
            .iter()
            .copied()
            .filter(|s| s.bit != STATUS_INVALID)
            .collect();
        let reasons = if specific.is_empty() {
            statuses
        } else {
            specific
        };
        for reason in reasons {
            let (depth, subject) = if STATUS_ISSUER.contains(&reason.bit) {
                self.chain.top()
            } else {
                (None, None)
            };
            out.push(
                STACK,
                LogWhat::VerifyError {
                    code: reason.bit,
                    depth,
                    subject,
                    message: format!("{}: {}", reason.name, reason.message),
                },
            );
        }
    }

    /// The listing of the server's chain: remembered for the depth of a verification error,
    /// not recorded.
    fn chain_line(&mut self, rest: &str) -> bool {
        if let Some(count) = rest
            .strip_prefix("Got a certificate list of ")
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
        {
            self.chain = Chain {
                length: Some(count),
                ..Chain::default()
            };
            return true;
        }
        if let Some(index) = rest
            .strip_prefix("Certificate[")
            .and_then(|r| r.strip_suffix("] info:"))
            .and_then(|n| n.parse().ok())
        {
            self.chain.listing = Some(index);
            return true;
        }
        // ` - subject `CN=broker,O=Org', issuer `CN=CA,O=Org', serial 0x1100, ...`
        if let Some(subject) = rest
            .strip_prefix("subject `")
            .and_then(|r| r.split_once("', issuer `"))
            .map(|(subject, _)| subject)
            && let Some(index) = self.chain.listing.take()
        {
            self.chain.subjects.push((index, subject.to_string()));
            return true;
        }
        false
    }
}

/// `REC`: alerts received and sent (`Alert[2|116] - Certificate is required - was received`,
/// `Sending Alert[2|42] - Certificate is bad`), and the ChangeCipherSpec sent.
fn record(text: &str, out: &mut Out<'_>) {
    if text == "Sent ChangeCipherSpec" {
        let from = out.log.side;
        out.message(STACK, from, "ChangeCipherSpec");
    } else if let Some(alert) = text.strip_prefix("Sending Alert[") {
        let from = out.log.side;
        record_alert(alert, from, out);
    } else if let Some(alert) = text
        .strip_prefix("Alert[")
        .filter(|a| a.ends_with(" - was received"))
    {
        let from = out.log.side.peer();
        record_alert(alert.trim_end_matches(" - was received"), from, out);
    }
}

/// `2|116] - Certificate is required`: the level, the description and GnuTLS's name for it.
fn record_alert(alert: &str, from: Side, out: &mut Out<'_>) {
    let Some((numbers, name)) = alert.split_once(']') else {
        return;
    };
    let Some((level, code)) = numbers.split_once('|') else {
        return;
    };
    let level = match level {
        "1" => Some("warning"),
        "2" => Some("fatal"),
        _ => None,
    };
    let Ok(code) = code.parse::<u8>() else {
        return;
    };
    out.alert(
        STACK,
        from,
        level,
        Some(code),
        name.trim_start_matches(" - "),
    );
}

/// The message of a debug line: `|<4>| HSK[0x5593dc94c010]: CLIENT HELLO was queued [386
/// bytes]` is `HSK[0x5593dc94c010]: CLIENT HELLO ...`.
fn debug_message(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("|<")?;
    let (level, message) = rest.split_once(">| ")?;
    if level.is_empty() || !level.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(message.trim_end())
}

/// The subsystem and text of a debug message: `HSK[0x55...]: Server's version: 3.3` or
/// `REC: Sending Alert[2|42] - Certificate is bad`.
fn tagged(message: &str) -> Option<(&str, &str)> {
    let end = message
        .find(|c: char| !c.is_ascii_uppercase())
        .unwrap_or(message.len());
    let (tag, rest) = message.split_at(end);
    if tag.is_empty() {
        return None;
    }
    // The session's address, when the subsystem logs it.
    let rest = match rest.strip_prefix('[') {
        Some(address) => address.split_once(']')?.1,
        None => rest,
    };
    Some((tag, rest.strip_prefix(": ")?))
}

/// `3.3` (the record-layer version GnuTLS logs) as versions are named: `TLSv1.2`.
fn protocol_version(wire: &str) -> Option<&'static str> {
    Some(match wire.trim() {
        "3.0" => "SSLv3",
        "3.1" => "TLSv1.0",
        "3.2" => "TLSv1.1",
        "3.3" => "TLSv1.2",
        "3.4" => "TLSv1.3",
        _ => return None,
    })
}

/// GnuTLS's name of a version (`TLS1.3` in `- Description: (TLS1.3-X.509)-...`) as versions
/// are named: `TLSv1.3`.
fn version_name(name: &str) -> Option<&'static str> {
    Some(match name.trim() {
        "SSL3.0" => "SSLv3",
        "TLS1.0" => "TLSv1.0",
        "TLS1.1" => "TLSv1.1",
        "TLS1.2" => "TLSv1.2",
        "TLS1.3" => "TLSv1.3",
        "DTLS1.0" => "DTLSv1.0",
        "DTLS1.2" => "DTLSv1.2",
        _ => return None,
    })
}

/// gnutls-cli's own line for a connection that failed before TLS: `Could not connect to
/// 127.0.0.1:1: Connection refused`, `Cannot resolve broker:8883: Name or service not known`.
fn connection_line(text: &str, out: &mut Out<'_>) -> bool {
    let Some(failure) = ConnectionFailure::in_text(text) else {
        return false;
    };
    out.connection_failed(STACK, failure, text.to_string());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_lines_are_split_into_subsystem_and_text() {
        let message =
            debug_message("|<4>| HSK[0x5593dc94c010]: CLIENT HELLO was queued [386 bytes]");
        assert_eq!(
            message.and_then(tagged),
            Some(("HSK", "CLIENT HELLO was queued [386 bytes]"))
        );
        assert_eq!(
            debug_message("|<5>| REC: Sending Alert[2|42] - Certificate is bad").and_then(tagged),
            Some(("REC", "Sending Alert[2|42] - Certificate is bad"))
        );
        assert_eq!(
            debug_message("|<3>| Peer requested CA: CN=Root"),
            Some("Peer requested CA: CN=Root")
        );
        assert_eq!(debug_message("|<>| HSK: x"), None);
        assert_eq!(debug_message("|<4> HSK: x"), None);
        assert_eq!(debug_message("<4>| HSK: x"), None);
        assert_eq!(tagged("HSK[0x55: no closing bracket"), None);
        assert_eq!(tagged("checking cert compat with ECDSA-SHA256"), None);
    }

    #[test]
    fn versions_are_named_as_other_logs_name_them() {
        assert_eq!(protocol_version("3.3"), Some("TLSv1.2"));
        assert_eq!(protocol_version("3.4"), Some("TLSv1.3"));
        assert_eq!(protocol_version("9.9"), None);
        assert_eq!(version_name("TLS1.3"), Some("TLSv1.3"));
        assert_eq!(version_name("X.509"), None);
    }
}
