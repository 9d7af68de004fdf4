//! The text renderer: what a person reads in a terminal. Sections in the order a person asks the
//! questions: what did you look at, what is wrong and what do I change, anything else.

use std::io::{self, Write};

use super::style::Style;
use super::{Outcome, Report};
use crate::credentials::checks::{CertificateEntry, ChainSummary, CredentialsSummary, KeyEntry};
use crate::credentials::inspect::short_dn;
use crate::credentials::keys::KeyMatch;
use crate::credentials::{Finding, Role, Severity};
use crate::diagnose::Diagnosis;
use crate::model::certificate::listed;

pub fn render(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
    if let Some(error) = &report.error {
        return wrapped(
            out,
            style,
            &format!("{} ", style.error("error:")),
            7,
            &error.message,
        );
    }
    if let Some(explanation) = &report.explanation {
        return super::explain::render(explanation, style, out);
    }
    if let Some(log) = &report.log {
        super::explain::render_log(log, style, out)?;
    }
    if let Some(target) = &report.target {
        let sni = target
            .sni
            .as_deref()
            .map(|s| format!("SNI {s}"))
            .unwrap_or_else(|| "no SNI".into());
        let address = target
            .address
            .map(|a| format!(", address {a}"))
            .unwrap_or_default();
        wrapped(
            out,
            style,
            &format!("{} ", style.heading("Target")),
            7,
            &format!(
                "{}  {}",
                target.endpoint,
                style.dim(&format!("({sni}{address})"))
            ),
        )?;
    }
    if report.insecure {
        wrapped(
            out,
            style,
            "",
            2,
            &style.error("WARNING: --insecure: the server's certificate was not allowed to stop the handshake"),
        )?;
    }
    if let Some(transcript) = &report.transcript {
        writeln!(out)?;
        super::ladder::render(transcript, style, out)?;
    }
    if let Some(credentials) = &report.credentials {
        render_credentials(credentials, style, out)?;
    }
    render_diagnosis(&report.diagnosis, style, out)?;
    render_other_findings(&report.findings, style, out)?;
    render_verdict(report, style, out)
}

fn render_credentials(
    creds: &CredentialsSummary,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "{}", style.heading("Certificates"))?;
    for (i, cert) in creds.certificates.iter().enumerate() {
        render_certificate(i + 1, cert, style, out)?;
    }
    if let Some(key) = &creds.key {
        writeln!(out)?;
        writeln!(out, "{}", style.heading("Private key"))?;
        render_key(key, style, out)?;
    }
    writeln!(out)?;
    writeln!(out, "{}", style.heading("Chain"))?;
    render_chain(&creds.chain, style, out)?;
    writeln!(out)
}

fn render_certificate(
    number: usize,
    cert: &CertificateEntry,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let info = &cert.info;
    let role = match (cert.leaf, cert.role) {
        (true, _) => "device certificate",
        (false, Role::Device) => "from the certificate file",
        (false, Role::Chain) => "from --chain",
        (false, Role::Ca) => "CA, from --ca",
    };
    wrapped(
        out,
        style,
        &format!("  [{number}] "),
        6,
        &format!(
            "{}  {}",
            style.heading(&info.subject),
            style.dim(&format!("({role})"))
        ),
    )?;
    let field = |out: &mut dyn Write, name: &str, value: &str| {
        wrapped(out, style, &format!("      {name:<11} "), 18, value)
    };
    field(
        out,
        "file",
        &format!("{} (certificate {})", cert.file.display(), cert.position),
    )?;
    field(out, "issuer", &info.issuer)?;
    field(out, "serial", &info.serial)?;
    let days = if cert.days_left < 0 {
        style.error(&format!("expired {} days ago", -cert.days_left))
    } else {
        format!("{} days left", cert.days_left)
    };
    field(
        out,
        "valid",
        &format!(
            "{} to {} ({days})",
            info.not_before.date(),
            info.not_after.date()
        ),
    )?;
    field(out, "key", &info.key.to_string())?;
    field(out, "signature", &info.signature_algorithm.to_string())?;
    if !info.subject_alt_names.is_empty() {
        field(out, "SAN", &info.subject_alt_names.join(", "))?;
    }
    field(out, "key usage", &listed(&info.key_usage))?;
    field(out, "ext. usage", &listed(&info.extended_key_usage))?;
    let ca = match (info.is_ca, info.path_len) {
        (Some(true), Some(n)) => format!("yes (path length {n})"),
        (Some(true), None) => "yes".into(),
        (Some(false), _) => "no".into(),
        (None, _) => "(no basic constraints)".into(),
    };
    field(out, "CA", &ca)?;
    field(out, "version", &format!("v{}", info.version))?;
    field(out, "sha256", &info.sha256)
}

fn render_key(key: &KeyEntry, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let algorithm = key
        .key
        .as_ref()
        .map(|k| k.to_string())
        .unwrap_or_else(|| "unknown algorithm".into());
    let encrypted = if key.encrypted { ", encrypted" } else { "" };
    let matches = match key.matches_certificate {
        KeyMatch::Matches => style.good("matches the device certificate"),
        KeyMatch::DoesNotMatch => style.error("does NOT match the device certificate"),
        KeyMatch::Unknown => style.warning("could not be compared with the certificate"),
    };
    let line = format!(
        "{}: {} ({}{encrypted}), {algorithm}, {matches}",
        key.file.display(),
        key.encoding,
        key.container
    );
    wrapped(out, style, "  ", 4, &line)
}

fn render_chain(chain: &ChainSummary, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let mut links: Vec<String> = chain.path.iter().map(|s| short_dn(s)).collect();
    let end = match chain.status {
        "trusted" => style.good(&format!(
            "trusted CA '{}'",
            chain.anchor.as_deref().map(short_dn).unwrap_or_default()
        )),
        "untrusted-root" => style.error("root not among the CAs given"),
        "missing-issuer" | "wrong-issuer-key" => style.error(&format!(
            "'{}' missing",
            chain
                .missing_issuer
                .as_deref()
                .map(short_dn)
                .unwrap_or_default()
        )),
        "not-checked" => style.dim("(trust not checked)"),
        other => style.warning(other),
    };
    links.push(end);
    wrapped(out, style, "  ", 4, &links.join(" -> "))
}

pub(super) fn render_diagnosis(
    diagnosis: &Diagnosis,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    if diagnosis.causes.is_empty() {
        return Ok(());
    }
    writeln!(out, "{}", style.heading("Diagnosis"))?;
    for (i, cause) in diagnosis.causes.iter().enumerate() {
        let number = format!("  {}. ", i + 1);
        let headline = format!(
            "{} {}  {}",
            style.error(&cause.id.to_string()),
            style.dim(&format!("(confidence {:.0}%)", cause.confidence * 100.0)),
            cause.summary
        );
        wrapped(out, style, &number, number.len(), &headline)?;
        // Evidence and fixes continue under their own text, past the label.
        for evidence in &cause.evidence {
            wrapped(
                out,
                style,
                &format!("     {} ", style.dim("evidence")),
                14,
                evidence,
            )?;
        }
        for fix in &cause.fixes {
            wrapped(
                out,
                style,
                &format!("     {}      ", style.good("fix")),
                14,
                fix,
            )?;
        }
    }
    writeln!(out)
}

/// Findings the diagnosis did not already present as causes.
fn render_other_findings(
    findings: &[Finding],
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rest: Vec<&Finding> = findings
        .iter()
        .filter(|f| !(f.severity == Severity::Error && f.id.cause().is_some()))
        .collect();
    if rest.is_empty() {
        return Ok(());
    }
    writeln!(out, "{}", style.heading("Findings"))?;
    for finding in rest {
        let label = match finding.severity {
            Severity::Error => style.error("error  "),
            Severity::Warning => style.warning("warning"),
            Severity::Info => style.dim("info   "),
        };
        wrapped(
            out,
            style,
            &format!("  {label} "),
            10,
            &format!("{}  {}", finding.id, finding.message),
        )?;
        if let Some(hint) = &finding.hint {
            wrapped(
                out,
                style,
                &format!("          {} ", style.dim("hint:")),
                16,
                hint,
            )?;
        }
    }
    writeln!(out)
}

fn render_verdict(report: &Report, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    // What the verdict rests on, zeros left out: the causes diagnosed, and the findings of the
    // credential files (`explain` reads none).
    let mut parts = Vec::new();
    if !report.diagnosis.causes.is_empty() {
        parts.push(plural(report.diagnosis.causes.len(), "cause"));
    }
    let findings: Vec<String> = [(errors, "error"), (warnings, "warning")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| plural(n, word))
        .collect();
    if !findings.is_empty() {
        parts.push(format!("findings: {}", findings.join(", ")));
    }
    let tally = if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    };
    let verdict = match report.outcome {
        Outcome::Ok => format!("{}{tally}", style.good("OK: no problems found")),
        Outcome::Problems => match report.diagnosis.causes.first() {
            Some(top) => format!(
                "{} most likely {}{tally}",
                style.error("PROBLEMS FOUND:"),
                style.error(&top.id.to_string())
            ),
            None => format!("{}{tally}", style.error("PROBLEMS FOUND")),
        },
        Outcome::Error => style.error("could not complete"),
    };
    wrapped(out, style, "", 2, &verdict)
}

/// Writes `text` after `lead` (a label, coloured or not) wrapped to the style's width: the
/// lines after the first start `indent` columns in, under the text, not at column 0. Words are
/// never split, not even at their hyphens (cause ids are words): a word longer than a line (a
/// fingerprint, a path) stands whole on a line of its own, where it can be copied.
pub(super) fn wrapped(
    out: &mut dyn Write,
    style: Style,
    lead: &str,
    indent: usize,
    text: &str,
) -> io::Result<()> {
    if text.is_empty() {
        return writeln!(out, "{}", lead.trim_end());
    }
    let rest = " ".repeat(indent);
    let options = textwrap::Options::new(style.width())
        .initial_indent(lead)
        .subsequent_indent(&rest)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .break_words(false)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
    for line in textwrap::wrap(text, options) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Cause;
    use crate::model::{CauseId, FindingId};

    fn verdict(findings: Vec<Finding>, causes: &[CauseId]) -> String {
        let causes = causes
            .iter()
            .map(|&id| Cause {
                id,
                confidence: 0.9,
                summary: id.summary().into(),
                evidence: vec![],
                fixes: vec![],
            })
            .collect();
        let report = Report::new(
            "connect",
            findings,
            Diagnosis {
                causes,
                set_aside: vec![],
            },
        );
        let mut out = Vec::new();
        render_verdict(&report, Style::plain(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_verdict_counts_what_it_rests_on() {
        assert_eq!(verdict(vec![], &[]), "OK: no problems found\n");
        assert_eq!(
            verdict(vec![], &[CauseId::DnsFailed]),
            "PROBLEMS FOUND: most likely dns-failed (1 cause)\n"
        );
        let warning = Finding::new(FindingId::WeakKey, Severity::Warning, "x", "y");
        let error = Finding::new(FindingId::ClientCertExpired, Severity::Error, "x", "y");
        assert_eq!(
            verdict(vec![warning.clone()], &[]),
            "OK: no problems found (findings: 1 warning)\n"
        );
        assert_eq!(
            verdict(
                vec![error, warning.clone(), warning],
                &[CauseId::ClientCertExpired, CauseId::PeerClosed]
            ),
            "PROBLEMS FOUND: most likely client-cert-expired (2 causes; findings: 1 error, 2 warnings)\n"
        );
    }
}
