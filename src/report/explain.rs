//! The text of `explain`: each reading of a code as a short card (what it means, who sends it,
//! the likely causes with their first fix, the command to run next).

use std::io::{self, Write};

use super::Explanation;
use super::style::Style;
use crate::explain::{Reading, Stack};

pub(super) fn render(
    explanation: &Explanation,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let count = explanation.readings.len();
    if count > 1 {
        let narrow = if explanation.stack.is_none() {
            " (narrow them with --stack)"
        } else {
            ""
        };
        writeln!(
            out,
            "{}",
            style.dim(&format!(
                "'{}' has {count} readings{narrow}:",
                explanation.query
            ))
        )?;
        writeln!(out)?;
    }
    for (i, reading) in explanation.readings.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        render_reading(reading, style, out)?;
    }
    Ok(())
}

fn render_reading(reading: &Reading, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let what = match (reading.stack, reading.versions) {
        (Stack::Tls, _) => "TLS alert".to_string(),
        (stack, Some(versions)) => format!("{stack} {versions}"),
        (stack, None) => stack.to_string(),
    };
    writeln!(
        out,
        "{} {}  {}",
        style.heading(&what),
        style.heading(&reading.code),
        reading.name
    )?;
    if let Some(message) = &reading.message {
        writeln!(out, "  {}   \"{message}\"", style.dim("text"))?;
    }
    field(out, style, "means", &reading.meaning)?;
    if let Some(sender) = &reading.sender {
        field(out, style, "sent by", sender)?;
    }
    for (i, cause) in reading.causes.iter().enumerate() {
        let label = if i == 0 { "causes" } else { "" };
        writeln!(
            out,
            "  {} {}. {}  {}",
            style.dim(&format!("{label:<8}")),
            i + 1,
            style.error(&cause.to_string()),
            cause.summary()
        )?;
        if let Some(fix) = cause.fixes().first() {
            writeln!(out, "  {:<8}    {} {fix}", "", style.good("fix"))?;
        }
    }
    field(out, style, "next", &reading.next)
}

fn field(out: &mut dyn Write, style: Style, label: &str, text: &str) -> io::Result<()> {
    writeln!(out, "  {} {text}", style.dim(&format!("{label:<8}")))
}
