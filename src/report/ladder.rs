//! The handshake drawn as a ladder: client on the left, server on the right, an arrow for each
//! message with its time, and the details that matter underneath.

use std::io::{self, Write};

use super::style::Style;
use crate::credentials::inspect::{CertInfo, short_dn};
use crate::model::{CloseKind, Event, Handshake, Named, Seen, Side, Transcript, What};

/// Width of the arrow between the two columns.
const SPAN: usize = 54;

pub fn render(transcript: &Transcript, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let negotiated = [
        transcript.tls_version.as_deref(),
        transcript.cipher_suite.as_deref(),
        transcript.alpn.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let negotiated = if negotiated.is_empty() {
        "(nothing negotiated)".to_string()
    } else {
        negotiated
    };
    writeln!(
        out,
        "{}  {}",
        style.heading("Handshake"),
        style.dim(&negotiated)
    )?;
    writeln!(
        out,
        "  {:>9}  client{:>width$}",
        "ms",
        "server",
        width = SPAN + 2
    )?;
    for event in &transcript.events {
        render_event(event, style, out)?;
    }
    writeln!(out)
}

fn render_event(event: &Event, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let line = Line {
        at: event.at_ms,
        from: event.from,
        style,
    };
    match &event.what {
        What::Resolved { host, addresses } => {
            let list = addresses
                .iter()
                .map(|a| a.ip().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            line.local(out, &format!("resolved {host}: {list}"))
        }
        What::Connected { address } => line.local(out, &format!("TCP connected to {address}")),
        What::Record {
            index,
            content_type,
            length,
            encrypted,
            ..
        } => {
            // Plaintext records show through the messages they carry.
            if *encrypted {
                let what = if content_type.code == 23 {
                    "encrypted record".to_string()
                } else {
                    format!("encrypted {content_type}")
                };
                line.arrow(out, &style.dim(&format!("{what} #{index}, {length} B")), "")
            } else if content_type.code == 20 {
                line.arrow(out, &style.dim("ChangeCipherSpec"), &format!("#{index}"))
            } else {
                Ok(())
            }
        }
        What::Handshake { record, message } => {
            line.arrow(out, message.name(), &format!("#{record}"))?;
            for detail in handshake_details(message) {
                line.detail(out, &detail)?;
            }
            Ok(())
        }
        What::Certificate {
            record,
            seen,
            certificates,
        } => {
            let label = if certificates.is_empty() {
                style.error("Certificate: EMPTY, no certificate")
            } else {
                format!("Certificate: {} certificate(s)", certificates.len())
            };
            line.arrow(out, &label, &where_(*record, *seen))?;
            for cert in certificates {
                line.detail(out, &certificate_line(cert))?;
            }
            Ok(())
        }
        What::CertificateRequest {
            record,
            seen,
            certificate_types,
            signature_schemes,
            ca_names,
        } => {
            line.arrow(out, "CertificateRequest", &where_(*record, *seen))?;
            let cas = if ca_names.is_empty() {
                "any CA (no names sent)".to_string()
            } else {
                ca_names
                    .iter()
                    .map(|n| format!("'{}'", short_dn(n)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            line.detail(out, &format!("accepts certificates issued by {cas}"))?;
            if !certificate_types.is_empty() {
                line.detail(
                    out,
                    &format!("certificate types {}", list(certificate_types)),
                )?;
            }
            line.detail(
                out,
                &format!("signature schemes {}", list(signature_schemes)),
            )
        }
        What::CertificateVerify {
            record,
            seen,
            scheme,
            signature_length,
            verified,
            detail,
        } => {
            let verdict = match verified {
                Some(true) => style.good("verified"),
                Some(false) => style.error("NOT verified"),
                None => style.dim("not checked"),
            };
            line.arrow(
                out,
                &format!("CertificateVerify {scheme}, {signature_length} B, {verdict}"),
                &where_(*record, *seen),
            )?;
            match detail {
                Some(detail) if *verified != Some(true) => line.detail(out, detail),
                _ => Ok(()),
            }
        }
        What::Alert {
            record,
            seen,
            level,
            description,
        } => {
            let text = format!("Alert {level} {} {description}", description.code);
            let text = if level.code == 2 {
                style.error(&text)
            } else {
                style.warning(&text)
            };
            line.arrow(out, &text, &where_(*record, *seen))
        }
        What::Verification { ok, detail, .. } => {
            // Each side verifies the other's certificate.
            let whose = match event.from {
                Side::Client => "server",
                Side::Server => "client",
            };
            let text = if *ok {
                style.good(&format!("{whose} certificate accepted: {detail}"))
            } else {
                style.error(&format!("{whose} certificate REJECTED: {detail}"))
            };
            line.local(out, &text)
        }
        What::Close { how } => {
            let text = match how {
                CloseKind::CloseNotify => "close_notify",
                CloseKind::Eof => "closed the connection (end of stream)",
                CloseKind::Reset => "reset the connection",
                CloseKind::Timeout => "stopped waiting",
            };
            let text = if *how == CloseKind::CloseNotify {
                text.to_string()
            } else {
                style.warning(text)
            };
            line.arrow(out, &text, "")
        }
        What::NotTls { preview, .. } => {
            line.arrow(out, &style.error(&format!("not TLS: \"{preview}\"")), "")
        }
        What::Transport { stage, message, .. } => {
            line.local(out, &style.error(&format!("network ({stage}): {message}")))
        }
        What::Error { message } => line.local(out, &style.error(message)),
        What::CertificateWithheld { message, .. } => line.local(out, &style.warning(message)),
        What::CaptureGap { missing } => line.local(
            out,
            &style.dim(&format!(
                "{missing} bytes of this direction are missing from the capture"
            )),
        ),
        What::PartialRecord {
            content_type,
            declared,
            received,
            preview,
        } => {
            let of = declared.map_or_else(
                || "its header cut short".to_string(),
                |length| format!("of {}", length as usize + 5),
            );
            let mut text = format!("{content_type} record cut off: {received} bytes {of}");
            if let Some(preview) = preview {
                text.push_str(&format!(" \"{preview}\""));
            }
            line.arrow(out, &style.warning(&text), "")
        }
        What::Note { message } => line.local(out, &style.dim(message)),
        What::MqttConnect { connect } => {
            let version = crate::decode::mqtt::version_name(connect.level);
            line.arrow(
                out,
                &format!("MQTT CONNECT client id '{}'", connect.client_id),
                "",
            )?;
            line.detail(
                out,
                &format!(
                    "MQTT {version}, keep-alive {} s, clean start {}, username {}, password {}, will {}",
                    connect.keep_alive,
                    yes_no(connect.clean_start),
                    yes_no(connect.username),
                    yes_no(connect.password),
                    yes_no(connect.will)
                ),
            )
        }
        What::MqttConnack { code, name } => {
            let text = format!("MQTT CONNACK {code} {name}");
            line.arrow(
                out,
                &if *code == 0 {
                    style.good(&text)
                } else {
                    style.error(&text)
                },
                "",
            )
        }
    }
}

/// One row of the ladder.
struct Line {
    at: f64,
    from: Side,
    style: Style,
}

impl Line {
    fn time(&self) -> String {
        format!("{:>9.1}", self.at)
    }

    /// A message crossing: `label ----->` from the client, `<----- label` from the server.
    fn arrow(&self, out: &mut dyn Write, label: &str, tag: &str) -> io::Result<()> {
        let width = visible_len(label);
        let dashes = "-".repeat(SPAN.saturating_sub(width + 2).max(3));
        let tag = if tag.is_empty() {
            String::new()
        } else {
            format!("  {}", self.style.dim(tag))
        };
        match self.from {
            Side::Client => writeln!(out, "  {}  {label} {dashes}>{tag}", self.time()),
            Side::Server => writeln!(out, "  {}  <{dashes} {label}{tag}", self.time()),
        }
    }

    /// Something that happened at one end, not on the wire: the client's under its column,
    /// wrapped to the width; the server's right-aligned to the end of the arrows.
    fn local(&self, out: &mut dyn Write, text: &str) -> io::Result<()> {
        // "  " + time (9) + "  " + "* "
        const LEAD: usize = 15;
        let star = self.style.dim("*");
        let width = match self.from {
            Side::Client => self.style.width().saturating_sub(LEAD),
            Side::Server => SPAN,
        };
        let options = textwrap::Options::new(width.max(20))
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(false)
            .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
        let blank = " ".repeat(9);
        for (n, line) in textwrap::wrap(text, options).iter().enumerate() {
            let time = if n == 0 { self.time() } else { blank.clone() };
            match (self.from, n) {
                (Side::Client, 0) => writeln!(out, "  {time}  {star} {line}")?,
                (Side::Client, _) => writeln!(out, "  {time}    {line}")?,
                (Side::Server, 0) => writeln!(out, "  {time}  {line:>SPAN$} {star}")?,
                (Side::Server, _) => writeln!(out, "  {time}  {line:>SPAN$}")?,
            }
        }
        Ok(())
    }

    /// A line of detail under a message, wrapped to the width with its continuations indented
    /// two more columns, so that long lists (a ClientHello's suites) stay readable.
    fn detail(&self, out: &mut dyn Write, text: &str) -> io::Result<()> {
        const LEAD: &str = "               ";
        let options = textwrap::Options::new(self.style.width().saturating_sub(LEAD.len()))
            .subsequent_indent("  ")
            .word_splitter(textwrap::WordSplitter::NoHyphenation)
            .break_words(false)
            .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
        for line in textwrap::wrap(text, options) {
            writeln!(out, "{LEAD}{}", self.style.dim(&line))?;
        }
        Ok(())
    }
}

/// Length as shown on a terminal: ANSI colour codes take no room.
fn visible_len(text: &str) -> usize {
    let mut len = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, 'm') => in_escape = false,
            (true, _) => {}
            (false, _) => len += 1,
        }
    }
    len
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

fn where_(record: Option<u32>, seen: Seen) -> String {
    match (record, seen) {
        (Some(r), Seen::Decrypted) => format!("#{r}, decrypted"),
        (Some(r), Seen::Wire) => format!("#{r}"),
        (None, Seen::Decrypted) => "(decrypted)".into(),
        (None, Seen::Wire) => String::new(),
    }
}

fn list(values: &[Named]) -> String {
    const SHOWN: usize = 6;
    let shown: Vec<String> = values.iter().take(SHOWN).map(Named::to_string).collect();
    match values.len() {
        0 => "(none)".into(),
        n if n > SHOWN => format!("{} (+{} more)", shown.join(", "), n - SHOWN),
        _ => shown.join(", "),
    }
}

fn certificate_line(cert: &CertInfo) -> String {
    format!(
        "'{}' issued by '{}', {}, valid until {}",
        cert.short_name(),
        short_dn(&cert.issuer),
        cert.key,
        cert.not_after.date()
    )
}

fn handshake_details(message: &Handshake) -> Vec<String> {
    match message {
        Handshake::ClientHello {
            versions,
            cipher_suites,
            groups,
            key_shares,
            signature_schemes,
            sni,
            alpn,
        } => vec![
            format!(
                "versions {}; SNI {}; ALPN {}",
                list(versions),
                sni.as_deref().unwrap_or("(none)"),
                if alpn.is_empty() {
                    "(none)".into()
                } else {
                    alpn.join(", ")
                }
            ),
            format!("cipher suites {}", list(cipher_suites)),
            format!("groups {}; key shares {}", list(groups), list(key_shares)),
            format!("signature schemes {}", list(signature_schemes)),
        ],
        Handshake::ServerHello {
            version,
            cipher_suite,
            key_share,
            alpn,
            ..
        } => {
            let mut line = format!("{version}, {cipher_suite}");
            if let Some(group) = key_share {
                line.push_str(&format!(", key share {group}"));
            }
            if let Some(alpn) = alpn {
                line.push_str(&format!(", ALPN {alpn}"));
            }
            vec![line]
        }
        Handshake::HelloRetryRequest {
            cipher_suite,
            key_share,
        } => vec![format!(
            "{cipher_suite}; asks for a key share on {}",
            key_share
                .as_ref()
                .map(Named::to_string)
                .unwrap_or_else(|| "(none)".into())
        )],
        Handshake::ServerKeyExchange { group, scheme } => {
            let show = |n: &Option<Named>| {
                n.as_ref()
                    .map(Named::to_string)
                    .unwrap_or_else(|| "?".into())
            };
            vec![format!(
                "group {}, signed with {}",
                show(group),
                show(scheme)
            )]
        }
        Handshake::ClientKeyExchange { length } => vec![format!("{length} B")],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::style::DEFAULT_WIDTH;

    #[test]
    fn colour_codes_take_no_width() {
        assert_eq!(visible_len("\x1b[31mabc\x1b[0m"), 3);
        assert_eq!(visible_len("abc"), 3);
    }

    #[test]
    fn each_side_verifies_the_others_certificate() {
        let mut transcript = Transcript::default();
        for from in [Side::Client, Side::Server] {
            transcript.push(
                1.0,
                from,
                What::Verification {
                    ok: true,
                    detail: "it verifies".into(),
                    problem: None,
                },
            );
        }
        let mut out = Vec::new();
        render(&transcript, Style::plain(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        // connect and analyze verify the server's; serve verifies the device's.
        assert!(
            text.contains("* server certificate accepted: it verifies"),
            "{text}"
        );
        assert!(
            text.contains("client certificate accepted: it verifies *"),
            "{text}"
        );
    }

    fn local_lines(from: Side, text: &str) -> Vec<String> {
        let line = Line {
            at: 1.5,
            from,
            style: Style::plain(),
        };
        let mut out = Vec::new();
        line.local(&mut out, text).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    #[test]
    fn a_long_note_at_either_end_wraps_within_the_width() {
        let text = "server certificate accepted: the server's chain verifies against the \
                    trusted CAs and covers the name of the endpoint it was asked for";
        for from in [Side::Client, Side::Server] {
            let lines = local_lines(from, text);
            assert!(lines.len() > 1, "{lines:?}");
            assert!(lines.iter().all(|l| l.len() <= DEFAULT_WIDTH), "{lines:?}");
            assert!(lines[0].starts_with("        1.5  "), "{lines:?}");
            let words: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
            let expected: Vec<&str> = std::iter::once("1.5")
                .chain(text.split_whitespace())
                .chain(std::iter::once("*"))
                .collect();
            let mut sorted = words.clone();
            let mut expected_sorted = expected.clone();
            sorted.sort();
            expected_sorted.sort();
            assert_eq!(sorted, expected_sorted, "nothing lost or added: {lines:?}");
        }
        assert_eq!(
            local_lines(Side::Client, "short"),
            ["        1.5  * short"],
            "a short note stays on one line"
        );
    }
}
