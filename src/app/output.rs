//! How reports reach the user: their format, and writing them where failing to write is not
//! the command's failure.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::model::Side;
use crate::report::{self, Report, style::Style};

/// The report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// One report of several (`serve`, `demo`): a line of JSON, or the text report and a blank
/// line, so that a stream of reports stays readable and parseable line by line.
pub fn write_one(
    report: &Report,
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Json => json_line(report, out),
        Format::Text => report::text::render(report, style, out).and_then(|_| writeln!(out)),
    }
}

/// `value` as one line of JSON.
pub fn json_line(value: &impl Serialize, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value)
        .map_err(io::Error::from)
        .and_then(|_| writeln!(out))
}

/// Says on stderr that a report could not be written: the command's verdict stands.
pub fn report_write_error(result: io::Result<()>) {
    if let Err(e) = result {
        // A closed pipe (`| head`) is the reader's choice, not a failure of ours.
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("iotdoctor: cannot write the report: {e}");
        }
    }
}

/// Writes the certificate chain the server sent (`connect --save-chain`) as PEM. A failure is
/// said on stderr; it does not change the verdict.
pub fn save_chain(report: &Report, path: &Path) {
    let chain = report
        .transcript
        .as_ref()
        .and_then(|t| t.chain(Side::Server))
        .map(|(_, chain)| chain)
        .unwrap_or_default();
    if chain.is_empty() {
        eprintln!(
            "iotdoctor: the server sent no certificate; {} was not written",
            path.display()
        );
        return;
    }
    let blocks: Vec<pem::Pem> = chain
        .iter()
        .map(|cert| pem::Pem::new("CERTIFICATE", cert.raw.der.clone()))
        .collect();
    let lf = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    if let Err(e) = std::fs::write(path, pem::encode_many_config(&blocks, lf)) {
        eprintln!("iotdoctor: cannot write {}: {e}", path.display());
    }
}
