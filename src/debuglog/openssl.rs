//! OpenSSL's output: `s_client`/`s_server` with `-msg` (`>>> TLS 1.2, Handshake [length 0007],
//! Certificate`), `-state` (`SSL_connect:SSLv3/TLS write client certificate`), `-trace` (`Sent
//! Record` ... `Certificate, Length=3`), the verification lines (`depth=1 ...`, `verify
//! error:num=20:...`), and the `...:error:0A000410:SSL routines:...` lines any OpenSSL program
//! prints; among them, and in s_client's `connect:errno=111` lines, failures of the connection
//! beneath TLS.

use super::{ConnectionFailure, LogWhat, Out, empty_certificate_message, message_name};
use crate::explain::Stack;
use crate::model::Side;

const STACK: Stack = Stack::OpenSsl;

#[derive(Debug, Default)]
pub(super) struct State {
    /// `-trace`: the direction of the record being printed.
    trace_from: Option<Side>,
    /// The certificate named by the last `depth=N subject` line.
    depth: Option<(u32, String)>,
    /// `-state`: the client wrote its Certificate, and no CertificateVerify since.
    certificate_unsigned: bool,
}

impl State {
    /// Recognises one line; returns whether it was OpenSSL's.
    pub(super) fn line(&mut self, line: &str, out: &mut Out<'_>) -> bool {
        let text = line.trim();
        if let Some(rest) = text.strip_prefix(">>> ") {
            msg_line(rest, Side::Client, out);
            return true;
        }
        if let Some(rest) = text.strip_prefix("<<< ") {
            msg_line(rest, Side::Server, out);
            return true;
        }
        if let Some(state) = text.strip_prefix("SSL_connect:") {
            self.state_line(state, out);
            return true;
        }
        if text.starts_with("SSL_accept:") || text == "ACCEPT" {
            out.side(Side::Server);
            return true;
        }
        if let Some(alert) = text
            .strip_prefix("SSL3 alert read:")
            .map(|a| (Side::Server, a))
            .or_else(|| {
                text.strip_prefix("SSL3 alert write:")
                    .map(|a| (Side::Client, a))
            })
        {
            // `fatal:handshake failure`, `warning:close notify`
            let (from, rest) = alert;
            let (level, name) = rest.split_once(':').unwrap_or(("", rest));
            let from = self.perspective(from, out);
            out.alert(STACK, from, Some(level), None, name);
            return true;
        }
        match text {
            "Sent Record" => {
                self.trace_from = Some(self.perspective(Side::Client, out));
                return true;
            }
            "Received Record" => {
                self.trace_from = Some(self.perspective(Side::Server, out));
                return true;
            }
            "Acceptable client certificate CA names" => {
                if !out.saw(Side::Server, "CertificateRequest") {
                    out.message(STACK, Side::Server, "CertificateRequest");
                }
                return true;
            }
            _ => {}
        }
        if let Some(from) = self.trace_from
            && self.trace_line(text, from, out)
        {
            return true;
        }
        if let Some(rest) = text.strip_prefix("depth=") {
            let (depth, subject) = rest.split_once(' ').unwrap_or((rest, ""));
            if let Ok(depth) = depth.parse() {
                self.depth = Some((depth, subject.trim().to_string()));
            }
            return true;
        }
        if let Some(rest) = text.strip_prefix("verify error:num=") {
            let (code, message) = rest.split_once(':').unwrap_or((rest, ""));
            if let Ok(code) = code.parse() {
                let (depth, subject) = match self.depth.clone() {
                    Some((depth, subject)) => (Some(depth), Some(subject)),
                    None => (None, None),
                };
                out.push(
                    STACK,
                    LogWhat::VerifyError {
                        code,
                        depth,
                        subject,
                        message: message.to_string(),
                    },
                );
            }
            return true;
        }
        if let Some(rest) = text.strip_prefix("Verify return code: ") {
            // The summary repeats the first verification error; record it only when no line
            // said it before (a log cut to its last lines).
            let (code, message) = rest.split_once(' ').unwrap_or((rest, ""));
            let said = out
                .log
                .events
                .iter()
                .any(|e| matches!(e.what, LogWhat::VerifyError { .. }));
            if let Ok(code) = code.parse::<u32>()
                && code != 0
                && !said
            {
                out.push(
                    STACK,
                    LogWhat::VerifyError {
                        code,
                        depth: None,
                        subject: None,
                        message: message.trim_matches(['(', ')']).to_string(),
                    },
                );
            }
            return true;
        }
        if let Some(rest) = text.strip_prefix("New, ") {
            // `New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384` (printed after failures too).
            if let Some((version, _)) = rest.split_once(',')
                && version.starts_with("TLSv")
            {
                out.version(version);
            }
            return true;
        }
        if socket_errno_line(text, out) || error_line(text, self, out) {
            return true;
        }
        false
    }

    /// An `s_server` log speaks of the client as the peer: "read" is what the client sent.
    fn perspective(&self, client_view: Side, out: &Out<'_>) -> Side {
        match out.log.side {
            Side::Client => client_view,
            Side::Server => client_view.peer(),
        }
    }

    /// `-state`: `SSLv3/TLS write client certificate`, `TLSv1.3 read encrypted extensions`.
    fn state_line(&mut self, state: &str, out: &mut Out<'_>) {
        if state.trim() == "SSL negotiation finished successfully" {
            out.push(STACK, LogWhat::HandshakeDone);
            return;
        }
        let Some((_, action)) = state.split_once(' ') else {
            return;
        };
        let (from, what) = if let Some(what) = action.strip_prefix("write ") {
            (Side::Client, what)
        } else if let Some(what) = action.strip_prefix("read ") {
            (Side::Server, what)
        } else {
            return;
        };
        let Some(name) = message_name(what) else {
            return;
        };
        // OpenSSL prints a state again when it retries it (`write client hello`, twice).
        let repeated = out.log.events.last().is_some_and(|e| {
            matches!(&e.what, LogWhat::Message { from: f, message, .. } if *f == from && message == name)
        });
        if repeated {
            return;
        }
        if from == Side::Client {
            match name {
                "Certificate" => self.certificate_unsigned = true,
                "CertificateVerify" => self.certificate_unsigned = false,
                // OpenSSL signs a CertificateVerify whenever it sent a certificate: a
                // Certificate followed by the Finished without one was empty.
                "Finished" if std::mem::take(&mut self.certificate_unsigned) => {
                    out.push(
                        STACK,
                        LogWhat::NoSignature {
                            detail: "OpenSSL wrote its Certificate and then its Finished with no CertificateVerify between: it had no certificate to send, so the Certificate message was empty".into(),
                        },
                    );
                }
                _ => {}
            }
        }
        out.message(STACK, from, name);
    }

    /// `-trace`: a message header (`    Certificate, Length=3`) or an alert
    /// (`Level=fatal(2), description=handshake failure(40)`).
    fn trace_line(&mut self, text: &str, from: Side, out: &mut Out<'_>) -> bool {
        if let Some(rest) = text.strip_prefix("Level=") {
            // `fatal(2), description=handshake failure(40)`
            let Some((level, description)) = rest.split_once(", description=") else {
                return false;
            };
            let level = level.split('(').next().unwrap_or_default();
            let (name, code) = match description.rsplit_once('(') {
                Some((name, code)) => (name, code.trim_end_matches(')').parse().ok()),
                None => (description, None),
            };
            out.alert(STACK, from, Some(level), code, name);
            return true;
        }
        let Some((name, length)) = text.split_once(", Length=") else {
            return false;
        };
        let (Some(name), Ok(length)) = (message_name(name), length.trim().parse::<usize>()) else {
            return false;
        };
        certificate_or_message(name, from, length, out);
        true
    }
}

/// `-msg`: `TLS 1.2, Handshake [length 0007], Certificate` or `TLS 1.3, Alert [length 0002],
/// fatal certificate_required`.
fn msg_line(rest: &str, from: Side, out: &mut Out<'_>) {
    let from = match out.log.side {
        Side::Client => from,
        Side::Server => from.peer(),
    };
    let Some((head, tail)) = rest.split_once("[length ") else {
        return;
    };
    let Some((length, what)) = tail.split_once(']') else {
        return;
    };
    let what = what.trim_start_matches(',').trim();
    let length = usize::from_str_radix(length.trim(), 16).unwrap_or(usize::MAX);
    if head.contains("Alert") {
        let (level, name) = what.split_once(' ').unwrap_or(("", what));
        out.alert(STACK, from, Some(level), None, name);
    } else if head.contains("Handshake")
        && let Some(name) = message_name(what)
    {
        if name == "ServerHello"
            && let Some(version) = head.split(',').next()
        {
            // `TLS 1.3` as OpenSSL names the record's protocol.
            out.version(&version.trim().replace("TLS ", "TLSv"));
        }
        certificate_or_message(name, from, length, out);
    }
}

/// A message, with what its length tells of a Certificate's emptiness.
fn certificate_or_message(name: &str, from: Side, length: usize, out: &mut Out<'_>) {
    let certificates = (name == "Certificate" && empty_certificate_message(length)).then_some(0);
    out.counted_message(STACK, from, name, certificates);
}

/// `40D04DE9157F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake
/// failure:../ssl/record/rec_layer_s3.c:1602:SSL alert number 40` (OpenSSL 3), or
/// `140...:error:14094412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:...` (1.1).
fn error_line(text: &str, state: &State, out: &mut Out<'_>) -> bool {
    let Some((_, rest)) = text.split_once(":error:") else {
        return false;
    };
    let mut fields = rest.split(':');
    let Some(code) = fields
        .next()
        .filter(|c| c.len() == 8 && c.bytes().all(|b| b.is_ascii_hexdigit()))
    else {
        return false;
    };
    let library = fields.next().unwrap_or_default();
    let _function = fields.next();
    let reason = fields.next().unwrap_or_default().trim();
    if let Some((failure, said)) = connection_failure(library, reason, rest) {
        out.connection_failed(STACK, failure, format!("error {code}: {said}"));
        return true;
    }
    out.error(STACK, code, reason);
    if let Some((_, number)) = text.rsplit_once("SSL alert number ")
        && let Ok(alert) = number.trim().parse::<u8>()
    {
        // The alert the peer sent; unless the log showed it already (-msg, -state, -trace).
        let from = state.perspective(Side::Server, out);
        out.alert(STACK, from, Some("fatal"), Some(alert), "");
    }
    true
}

/// OpenSSL 3's reason for a peer that closed the connection without an alert or close_notify.
const UNEXPECTED_EOF: &str = "unexpected eof while reading";

/// What an error line says of the connection beneath TLS, and the words that say it: a system
/// error's message, as the reason (`system library:BIO_connect:Connection refused`) or, after
/// the reason `system lib`, at the end of the line (`BIO_lookup_ex:system lib:...:Name or
/// service not known`); or OpenSSL's own unexpected end of file.
fn connection_failure<'a>(
    library: &str,
    reason: &'a str,
    rest: &'a str,
) -> Option<(ConnectionFailure, &'a str)> {
    if reason.eq_ignore_ascii_case(UNEXPECTED_EOF) {
        return Some((ConnectionFailure::Closed, reason));
    }
    let said = match (library, reason) {
        ("system library", _) => reason,
        (_, "system lib") => rest.rsplit(':').map(str::trim).find(|f| !f.is_empty())?,
        _ => return None,
    };
    Some((ConnectionFailure::in_text(said)?, said))
}

/// s_client's own line for a failed socket call: `connect:errno=111`, `write:errno=104`,
/// `read:errno=0`.
fn socket_errno_line(text: &str, out: &mut Out<'_>) -> bool {
    let Some((call, errno)) = text.split_once(":errno=") else {
        return false;
    };
    let on_open_connection = match call {
        "connect" => false,
        "read" | "write" => true,
        _ => return false,
    };
    let Ok(errno) = errno.trim().parse::<u32>() else {
        return false;
    };
    if let Some(failure) = ConnectionFailure::of_errno(errno, on_open_connection) {
        out.connection_failed(STACK, failure, text.to_string());
    }
    true
}
