//! The text of `explain`: each reading of a code as a short card (what it means, who sends it,
//! the likely causes with their first fix, the command to run next); for `explain --log`, the
//! steps found in the log, line by line.

use std::io::{self, Write};

use super::Explanation;
use super::style::Style;
use super::text::wrapped;
use crate::debuglog::{DebugLog, LogWhat};
use crate::explain::{Reading, Stack};
use crate::model::Side;

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
        (Stack::Mqtt, Some("5")) => "MQTT 5 reason code".to_string(),
        (Stack::Mqtt, Some(version)) => format!("MQTT {version} return code"),
        (stack, Some(versions)) => format!("{stack} {versions}"),
        (stack, None) => stack.to_string(),
    };
    let title = format!(
        "{} {}  {}",
        style.heading(&what),
        style.heading(&reading.code),
        reading.name
    );
    wrapped(out, style, "", 2, &title)?;
    if let Some(message) = &reading.message {
        wrapped(
            out,
            style,
            &format!("  {}   ", style.dim("text")),
            10,
            &format!("\"{message}\""),
        )?;
    }
    field(out, style, "means", &reading.meaning)?;
    if let Some(sender) = &reading.sender {
        field(out, style, "sent by", sender)?;
    }
    for (i, cause) in reading.causes.iter().enumerate() {
        let label = if i == 0 { "causes" } else { "" };
        wrapped(
            out,
            style,
            &format!("  {} {}. ", style.dim(&format!("{label:<8}")), i + 1),
            14,
            &format!("{}  {}", style.error(&cause.to_string()), cause.summary()),
        )?;
        if let Some(fix) = cause.fixes().first() {
            wrapped(
                out,
                style,
                &format!("  {:<8}    {} ", "", style.good("fix")),
                18,
                fix,
            )?;
        }
    }
    field(out, style, "next", &reading.next)
}

fn field(out: &mut dyn Write, style: Style, label: &str, text: &str) -> io::Result<()> {
    wrapped(
        out,
        style,
        &format!("  {} ", style.dim(&format!("{label:<8}"))),
        11,
        text,
    )
}

pub(super) fn render_log(log: &DebugLog, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let stacks: Vec<String> = log.stacks.iter().map(|s| s.to_string()).collect();
    let side = log.side.name();
    let version = log
        .tls_version
        .as_deref()
        .map(|v| format!(", {v}"))
        .unwrap_or_default();
    wrapped(
        out,
        style,
        &format!("{} ", style.heading("Log")),
        4,
        &format!(
            "{}  {}",
            log.source,
            style.dim(&format!(
                "({} {side} log{version}, {} lines, {} recognised)",
                stacks.join(" + "),
                log.lines,
                log.events.len()
            ))
        ),
    )?;
    writeln!(out)?;
    writeln!(out, "{}", style.heading("Steps"))?;
    let width = log.lines.to_string().len();
    for event in &log.events {
        let (who, text) = step(&event.what);
        let text = match &event.what {
            LogWhat::Alert { .. }
            | LogWhat::Error { .. }
            | LogWhat::VerifyError { .. }
            | LogWhat::ConnectionFailed { .. } => style.error(&text),
            LogWhat::NoSignature { .. } => style.warning(&text),
            _ => text,
        };
        let lead = format!(
            "  {} {:<6} ",
            style.dim(&format!("line {:>width$}", event.line)),
            who
        );
        wrapped(out, style, &lead, 15 + width, &text)?;
    }
    writeln!(out)
}

/// Who and what, for one step.
fn step(what: &LogWhat) -> (&'static str, String) {
    match what {
        LogWhat::SessionCreated { call } => ("", format!("session created ({call})")),
        LogWhat::CredentialLoaded { call, item, scope } => {
            ("", format!("{item} loaded into the {scope} ({call})"))
        }
        LogWhat::Message {
            from,
            message,
            certificates,
        } => {
            let arrow = if *from == Side::Client { "->" } else { "<-" };
            let count = match certificates {
                Some(0) => ": EMPTY, no certificate".to_string(),
                Some(n) => format!(": {n} certificate(s)"),
                None => String::new(),
            };
            (from.name(), format!("{arrow} {message}{count}"))
        }
        LogWhat::NoSignature { detail } => ("client", detail.clone()),
        LogWhat::Alert {
            from,
            level,
            code,
            name,
        } => {
            let code = code.map(|c| format!("{c} ")).unwrap_or_default();
            let level = level
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            (from.name(), format!("alert {code}{name}{level}"))
        }
        LogWhat::Error {
            code,
            name,
            message,
        } => {
            let name = name.as_deref().map(|n| format!(" {n}")).unwrap_or_default();
            ("", format!("error {code}{name}: {message}"))
        }
        LogWhat::VerifyError {
            code,
            depth,
            subject,
            message,
        } => {
            let at = match (depth, subject) {
                (Some(d), Some(s)) if !s.is_empty() => format!(" at depth {d} ({s})"),
                (Some(d), _) => format!(" at depth {d}"),
                _ => String::new(),
            };
            (
                "",
                format!("certificate verification error {code}{at}: {message}"),
            )
        }
        LogWhat::ConnectionFailed { failure, detail } => {
            ("", format!("{}: {detail}", failure.describe()))
        }
        LogWhat::HandshakeDone => ("", "handshake complete".into()),
        LogWhat::ApplicationData { from } => (from.name(), "application data".into()),
    }
}
