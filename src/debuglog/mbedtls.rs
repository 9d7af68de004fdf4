//! mbedTLS's debug lines, as the example programs' debug callback prints them
//! (`ssl_cli.c:3400: |3| 0x7ffc...: got a certificate request`; the context address is optional),
//! and the `... returned -0x7780` lines of applications.

use super::{LogWhat, Out, empty_certificate_message, message_name};
use crate::explain::Stack;
use crate::model::Side;

const STACK: Stack = Stack::MbedTls;

#[derive(Debug, Default)]
pub(super) struct State {
    /// Level-3 lines were seen: `own certificate #N` lines would have been logged.
    level3: bool,
    /// Inside "write certificate": the own certificates listed so far.
    writing_certificate: Option<usize>,
    /// The length of the last handshake record written (`output record: msgtype = 22, ...`).
    last_output: Option<usize>,
}

impl State {
    /// Recognises one line; returns whether it was mbedTLS's.
    pub(super) fn line(&mut self, line: &str, out: &mut Out<'_>) -> bool {
        if let Some((file, level, message)) = debug_message(line) {
            if level >= 3 {
                self.level3 = true;
            }
            // The server's half of the library logs from its own files.
            if file.ends_with("ssl_srv.c") || file.ends_with("ssl_tls13_server.c") {
                out.side(Side::Server);
            }
            self.debug(message, out);
            return true;
        }
        // An application's own line: `  ! mbedtls_ssl_handshake returned -0x7780`.
        let text = line.trim().trim_start_matches("! ").trim();
        if text.starts_with("mbedtls_")
            && let Some(code) = returned_code(text)
        {
            out.error(STACK, &code, text);
            return true;
        }
        if let Some(version) = text
            .strip_prefix("[ Protocol is ")
            .and_then(|v| v.strip_suffix(" ]"))
        {
            out.version(version);
            return true;
        }
        false
    }

    fn debug(&mut self, message: &str, out: &mut Out<'_>) {
        match message {
            "=> write client hello" => out.message(STACK, Side::Client, "ClientHello"),
            "got a certificate request" => out.message(STACK, Side::Server, "CertificateRequest"),
            "=> write certificate" => self.writing_certificate = Some(0),
            "<= write certificate" => {
                let listed = self.writing_certificate.take();
                // Without level-3 lines the list of own certificates is not in the log; the
                // record length still tells an empty message.
                let certificates = match (self.level3, listed) {
                    (true, Some(n)) => Some(n),
                    _ => self
                        .last_output
                        .filter(|length| empty_certificate_message(*length))
                        .map(|_| 0),
                };
                out.counted_message(STACK, Side::Client, "Certificate", certificates);
            }
            "<= skip write certificate verify" if out.saw(Side::Server, "CertificateRequest") => {
                out.push(
                    STACK,
                    LogWhat::NoSignature {
                        detail: "mbedTLS skipped the CertificateVerify the server's CertificateRequest called for: it has no certificate and key of its own (mbedtls_ssl_conf_own_cert was not called, or failed)".into(),
                    },
                )
            }
            "<= write certificate verify" => out.message(STACK, Side::Client, "CertificateVerify"),
            "=> write client key exchange" => {
                out.message(STACK, Side::Client, "ClientKeyExchange")
            }
            "<= write finished" => out.message(STACK, Side::Client, "Finished"),
            "<= parse finished" => out.message(STACK, Side::Server, "Finished"),
            "<= handshake wrapup" => out.push(STACK, LogWhat::HandshakeDone),
            _ => self.other(message, out),
        }
    }

    fn other(&mut self, message: &str, out: &mut Out<'_>) {
        if message.starts_with("own certificate #") {
            if let Some(count) = self.writing_certificate.as_mut() {
                *count += 1;
            }
        } else if let Some(rest) = message.strip_prefix("output record: msgtype = 22,") {
            self.last_output = rest
                .rsplit("msglen = ")
                .next()
                .and_then(|n| n.trim().parse().ok());
        } else if let Some(parsed) = message.strip_prefix("<= parse ") {
            let from = out.log.side.peer();
            // `<= parse server hello`, `<= parse certificate`, `<= parse server key exchange`
            // (The CertificateRequest step ends with this line whether one came or not: "got a
            // certificate request" is the line that tells.)
            if let Some(name) = message_name(parsed)
                && name != "Finished"
                && name != "CertificateRequest"
            {
                out.message(STACK, from, name);
            }
        } else if let Some(alert) = message.strip_prefix("got an alert message, type: [") {
            // `[2:40]`: level, then description.
            let (level, code) = alert
                .trim_end_matches(']')
                .split_once(':')
                .unwrap_or(("", ""));
            let level = match level {
                "1" => Some("warning"),
                "2" => Some("fatal"),
                _ => None,
            };
            out.alert(STACK, Side::Server, level, code.parse().ok(), "unknown");
        } else if let Some(alert) = message.strip_prefix("send alert level=") {
            // `send alert level=2 message=48`
            let (level, code) = alert.split_once(" message=").unwrap_or(("", ""));
            let level = match level {
                "1" => Some("warning"),
                "2" => Some("fatal"),
                _ => None,
            };
            out.alert(
                STACK,
                Side::Client,
                level,
                code.trim().parse().ok(),
                "unknown",
            );
        } else if let Some(code) = returned_code(message) {
            out.error(STACK, &code, message);
        }
    }
}

/// The level and message of an mbedTLS debug line: `file.c:1234: |2| [0x7ffc...: ]message`.
/// The line may start with an application's progress text (`  . Performing the SSL/TLS
/// handshake...ssl_tls.c:5804: |2| ...`).
fn debug_message(line: &str) -> Option<(&str, u8, &str)> {
    let Some(bar) = line.find(": |") else {
        return levelless_message(line);
    };
    let before = &line[..bar];
    // `ssl_tls.c:5804`: a C file name and a line number just before.
    let (file, number) = before.rsplit_once(':')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || !file.ends_with(".c") {
        return None;
    }
    let rest = &line[bar + 3..];
    let (level, message) = rest.split_once("| ")?;
    let level: u8 = level.trim().parse().ok()?;
    // The address of the SSL context, printed by mbedTLS 2.x before each message.
    let message = match message.split_once(": ") {
        Some((address, text))
            if address.starts_with("0x") && address[2..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            text
        }
        _ => message,
    };
    // The file name alone, without the progress text before it (`...handshake...ssl_tls.c`).
    let file = file
        .rsplit("...")
        .next()
        .and_then(|f| f.rsplit(' ').next())
        .unwrap_or(file);
    Some((file, level, message.trim()))
}

/// A debug line of a callback that leaves out the level: ESP-IDF's (`ssl_tls.c:2755 => write
/// certificate`, after its `D (1234) mbedtls: ` header) and newer Zephyr's
/// (`ssl_tls.c:2755: => write certificate`). The level is returned as 0 (unknown). Only a line
/// that starts with one of mbedTLS's own source files is taken: the format is too plain to
/// take on less.
fn levelless_message(line: &str) -> Option<(&str, u8, &str)> {
    const SOURCES: [&str; 10] = [
        "ssl_",
        "x509",
        "pk",
        "debug.c",
        "ecp",
        "ecdh",
        "ecdsa",
        "rsa",
        "bignum",
        "net_sockets",
    ];
    let line = line.trim_start();
    let (location, message) = line.split_once(' ')?;
    let (file, number) = location.trim_end_matches(':').split_once(':')?;
    let known = file.ends_with(".c") && SOURCES.iter().any(|source| file.starts_with(source));
    if !known || number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((file, 0, message.trim()))
}

/// The error code of `... returned -30592 (-0x7780)` or `... returned -0x7780`; `None` for the
/// positive counts mbedTLS also logs this way (`f_send() returned 300 (-0xfffffed4)`).
fn returned_code(text: &str) -> Option<String> {
    let (_, after) = text.rsplit_once(" returned ")?;
    let after = after.trim();
    if !after.starts_with('-') {
        return None;
    }
    let hex = match after.split_once("(-0x") {
        Some((_, hex)) => hex.trim_end_matches(')'),
        None => after.strip_prefix("-0x")?,
    };
    let hex: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
    let value = u32::from_str_radix(&hex, 16).ok()?;
    // mbedTLS codes are 16-bit at most.
    (value > 0 && value <= 0xFFFF).then(|| format!("-0x{value:04X}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_lines_are_split_with_and_without_the_context_address() {
        assert_eq!(
            debug_message("ssl_cli.c:3400: |3| 0x7ffcd3ba8390: got a certificate request"),
            Some(("ssl_cli.c", 3, "got a certificate request"))
        );
        assert_eq!(
            debug_message("ssl_tls.c:2161: |2| => write certificate"),
            Some(("ssl_tls.c", 2, "=> write certificate"))
        );
        assert_eq!(
            debug_message(
                "  . Performing the SSL/TLS handshake...ssl_tls.c:5804: |2| 0x7f: => handshake"
            ),
            Some(("ssl_tls.c", 2, "=> handshake"))
        );
        assert_eq!(debug_message("time: |2| nothing"), None);
    }

    #[test]
    fn only_negative_returns_are_error_codes() {
        assert_eq!(
            returned_code("mbedtls_ssl_read_record() returned -30592 (-0x7780)"),
            Some("-0x7780".into())
        );
        assert_eq!(
            returned_code("mbedtls_ssl_handshake returned -0x7780"),
            Some("-0x7780".into())
        );
        assert_eq!(
            returned_code("ssl->f_send() returned 300 (-0xfffffed4)"),
            None
        );
        assert_eq!(returned_code("returned -"), None);
    }
}
