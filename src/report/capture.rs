//! Capture reports, written as the handshakes are found: one at a time, so a capture of any size
//! needs memory only for the connections still open, in text and in JSON alike.

use std::io::{self, Write};

use super::style::Style;
use super::{HandshakeReport, Outcome, Report, ladder, text};
use crate::explain::Stack;

/// How many failed handshakes the text report draws in full at the end.
const DRAWN: usize = 20;

/// Widths of the summary table's columns, chosen so that a row fits in 100 columns with the
/// longest verdict (a cause id and its confidence); longer addresses and names are shortened
/// with an ellipsis (`--flow N` and the JSON report show them whole).
const ADDRESSES: usize = 34;
const SNI: usize = 13;

/// `text` in at most `width` characters: the end replaced with an ellipsis when it is longer.
fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let kept: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// `client -> server` in the addresses column: when too long, each address's host is
/// shortened and its port kept, the part that tells connections apart.
fn addresses(client: &str, server: &str) -> String {
    let both = format!("{client} -> {server}");
    if both.chars().count() <= ADDRESSES {
        return both;
    }
    let each = (ADDRESSES - " -> ".len()) / 2;
    let fit = |address: &str| {
        if address.chars().count() <= each {
            return address.to_string();
        }
        match address.rfind(':') {
            Some(colon) => {
                let port = &address[colon..];
                let host = &address[..colon];
                format!("{}{port}", shorten(host, each.saturating_sub(port.len())))
            }
            None => shorten(address, each),
        }
    };
    format!("{} -> {}", fit(client), fit(server))
}

/// A handshake of a JSON capture report, serialised ahead of writing: serialising is most of
/// the cost of a JSON report, and can be done on another thread than the one writing.
pub struct RenderedHandshake {
    json: Vec<u8>,
    failed: bool,
}

impl RenderedHandshake {
    /// The handshake as [`CaptureWriter::handshake`] writes it in a JSON report.
    pub fn json(handshake: &HandshakeReport) -> io::Result<RenderedHandshake> {
        Ok(RenderedHandshake {
            json: serde_json::to_vec(handshake)?,
            failed: handshake.outcome != Outcome::Ok,
        })
    }
}

/// Writes one capture report incrementally.
pub struct CaptureWriter<'a> {
    out: &'a mut dyn Write,
    /// `None` writes JSON.
    style: Option<Style>,
    started: bool,
    written: u64,
    failed: u64,
    /// Text: the handshakes to draw in full at the end.
    drawn: Vec<HandshakeReport>,
    /// Text: the first handshake, drawn when it is the only one.
    first: Option<HandshakeReport>,
    /// The device's TLS stack, whose fixes alone are shown.
    stack: Option<Stack>,
    /// JSON: one handshake, serialised here first. serde_json writes many small pieces; into a
    /// `Vec` each is a copy, into a `dyn Write` each is a call through the vtable.
    buffer: Vec<u8>,
}

impl<'a> CaptureWriter<'a> {
    pub fn text(out: &'a mut dyn Write, style: Style) -> Self {
        Self::new(out, Some(style))
    }

    pub fn json(out: &'a mut dyn Write) -> Self {
        Self::new(out, None)
    }

    fn new(out: &'a mut dyn Write, style: Option<Style>) -> Self {
        CaptureWriter {
            out,
            style,
            started: false,
            written: 0,
            failed: 0,
            drawn: Vec::new(),
            first: None,
            stack: None,
            buffer: Vec::new(),
        }
    }

    /// The device's TLS stack, when known.
    pub fn stack(&self) -> Option<Stack> {
        self.stack
    }

    /// Only the fixes of `stack` among the stack-specific ones (see [`Report::for_stack`]).
    pub fn for_stack(mut self, stack: Option<Stack>) -> Self {
        self.stack = stack;
        self
    }

    /// Whether each handshake is written with its whole transcript (JSON), which costs more
    /// than diagnosing it, or as one line (text).
    pub fn writes_transcripts(&self) -> bool {
        self.style.is_none()
    }

    /// Handshakes with problems so far.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    pub fn handshake(&mut self, handshake: HandshakeReport) -> io::Result<()> {
        let handshake = handshake.for_stack(self.stack);
        let failed = handshake.outcome != Outcome::Ok;
        self.failed += u64::from(failed);
        match self.style {
            None => {
                let mut json = std::mem::take(&mut self.buffer);
                json.clear();
                let written = serde_json::to_writer(&mut json, &handshake)
                    .map_err(io::Error::from)
                    .and_then(|()| self.json_line(&json));
                self.buffer = json;
                written?;
            }
            Some(style) => {
                if !self.started {
                    self.started = true;
                    writeln!(self.out, "{}", style.heading("Handshakes"))?;
                    writeln!(
                        self.out,
                        "  {:>4}  {:<ADDRESSES$}  {:<SNI$}  {:<7}  verdict",
                        "flow", "client -> server", "SNI", "version"
                    )?;
                }
                let verdict = match handshake.diagnosis.causes.first() {
                    Some(top) => {
                        style.error(&format!("{} ({:.0}%)", top.id, top.confidence * 100.0))
                    }
                    None => style.good("ok"),
                };
                writeln!(
                    self.out,
                    "  {:>4}  {:<ADDRESSES$}  {:<SNI$}  {:<7}  {verdict}",
                    handshake.flow,
                    addresses(&handshake.client.to_string(), &handshake.server.to_string()),
                    shorten(handshake.sni.as_deref().unwrap_or("-"), SNI),
                    handshake.transcript.tls_version.as_deref().unwrap_or("-"),
                )?;
                if self.written == 0 {
                    self.first = Some(handshake.clone());
                }
                if failed && self.drawn.len() < DRAWN {
                    self.drawn.push(handshake);
                }
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Writes a handshake serialised with [`RenderedHandshake::json`]. JSON reports only.
    pub fn rendered(&mut self, handshake: RenderedHandshake) -> io::Result<()> {
        debug_assert!(self.style.is_none(), "a JSON handshake in a text report");
        self.failed += u64::from(handshake.failed);
        self.json_line(&handshake.json)?;
        self.written += 1;
        Ok(())
    }

    /// One handshake per line: a capture can hold many thousands of them.
    fn json_line(&mut self, json: &[u8]) -> io::Result<()> {
        self.start_json()?;
        if self.written > 0 {
            self.out.write_all(b",\n")?;
        }
        self.out.write_all(b"    ")?;
        self.out.write_all(json)
    }

    fn start_json(&mut self) -> io::Result<()> {
        if !self.started {
            self.started = true;
            write!(
                self.out,
                "{{\n  \"schema\": \"{}\",\n  \"tool\": {},\n  \"generated_at\": \"{}\",\n  \"command\": \"analyze\",\n  \"handshakes\": [\n",
                super::SCHEMA,
                serde_json::to_string(&super::TOOL)?,
                super::generated_at(),
            )?;
        }
        Ok(())
    }

    /// Ends the report with what is known only at the end: the capture summary and the verdict.
    pub fn finish(mut self, report: &Report) -> io::Result<()> {
        match self.style {
            None => {
                self.start_json()?;
                self.out.write_all(b"\n  ]")?;
                let mut rest = serde_json::to_value(report)?;
                if let Some(fields) = rest.as_object_mut() {
                    // Said once, at the top, written as the first handshake was found.
                    for said in ["schema", "tool", "generated_at", "command"] {
                        fields.remove(said);
                    }
                    for (name, value) in fields.iter() {
                        write!(self.out, ",\n  \"{name}\": ")?;
                        serde_json::to_writer(&mut *self.out, value)?;
                    }
                }
                self.out.write_all(b"\n}\n")
            }
            Some(style) => self.finish_text(report, style),
        }
    }

    fn finish_text(&mut self, report: &Report, style: Style) -> io::Result<()> {
        if let Some(capture) = &report.capture {
            if self.written > 0 {
                writeln!(self.out)?;
            }
            writeln!(
                self.out,
                "{}  {} TCP connection(s), {} with a TLS handshake",
                style.heading("Capture"),
                capture.tcp_flows,
                capture.tls_flows
            )?;
            for note in &capture.notes {
                writeln!(self.out, "  {}", style.warning(note))?;
            }
            if self.written == 0 {
                writeln!(
                    self.out,
                    "  no TLS handshake found (TLS is recognised by its ClientHello, on any port)"
                )?;
            }
            writeln!(self.out)?;
        }
        let drawn = std::mem::take(&mut self.drawn);
        let only = if self.written == 1 && drawn.is_empty() {
            self.first.take()
        } else {
            None
        };
        for handshake in drawn.iter().chain(only.iter()) {
            writeln!(
                self.out,
                "{} {}  {} -> {}",
                style.heading("Flow"),
                handshake.flow,
                handshake.client,
                handshake.server
            )?;
            ladder::render(&handshake.transcript, style, self.out)?;
            text::render_diagnosis(&handshake.diagnosis, style, self.out)?;
        }
        if self.failed > drawn.len() as u64 {
            writeln!(
                self.out,
                "{} more failed handshake(s) not drawn: see them with --flow N, or all with --format json\n",
                self.failed - drawn.len() as u64
            )?;
        }
        match self.failed {
            0 => writeln!(
                self.out,
                "{}",
                style.good(&format!(
                    "OK: {} handshake(s), no problems found",
                    self.written
                ))
            ),
            n => writeln!(
                self.out,
                "{}",
                style.error(&format!(
                    "PROBLEMS FOUND in {n} of {} handshake(s)",
                    self.written
                ))
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CauseId;

    /// Columns of a summary row before its verdict.
    const BEFORE_VERDICT: usize = 2 + 4 + 2 + ADDRESSES + 2 + SNI + 2 + 7 + 2;

    #[test]
    fn every_verdict_fits_the_summary_table_in_100_columns() {
        for id in CauseId::ALL {
            let verdict = format!("{id} (100%)");
            assert!(
                BEFORE_VERDICT + verdict.len() <= 100,
                "{verdict} is too long for the table"
            );
        }
    }

    #[test]
    fn long_addresses_keep_their_ports() {
        let row = addresses("[2001:db8:1234:5678::abcd]:50123", "[2001:db8::1]:8883");
        assert!(row.chars().count() <= ADDRESSES, "{row}");
        assert!(
            row.contains("…]:50123 -> ") || row.contains("…:50123 -> "),
            "{row}"
        );
        assert!(row.ends_with(":8883"), "{row}");
        assert_eq!(
            addresses("10.0.0.1:50000", "10.0.0.2:8883"),
            "10.0.0.1:50000 -> 10.0.0.2:8883"
        );
        assert_eq!(
            shorten("a1b2c3d4e5-ats.iot.eu-west-1.amazonaws.com", 13),
            "a1b2c3d4e5-a…"
        );
    }
}
