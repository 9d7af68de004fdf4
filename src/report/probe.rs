//! `probe`: what a server accepted, one connection per thing offered, and its text table.

use std::io::{self, Write};

use serde::Serialize;

use super::style::Style;
use super::text::wrapped;
// The verdicts are diagnosis's types, as `Diagnosis` is: they are made there, rendered here.
pub use crate::diagnose::probe::{
    Chain, ChainCertificate, ClientCertificate, Fragment, LargestRecord, MaxFragment, Verdict,
};

/// Everything `probe` learnt about the server.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Probe {
    /// Connections made (those the deadline left unstarted are not counted).
    pub connections: usize,
    /// TLS 1.2 and TLS 1.3, each offered alone.
    pub versions: Vec<Check>,
    /// Each cipher suite offered alone; the suites rustls cannot offer are `not-tested`.
    pub cipher_suites: Vec<Check>,
    /// Each group offered alone (with every version and suite).
    pub groups: Vec<Check>,
    /// Each signature scheme offered alone for the server's signature.
    pub signature_schemes: Vec<Check>,
    /// A connection without SNI: accepted means SNI is not required.
    pub without_sni: Check,
    /// Each ALPN protocol offered alone; `detail` names the protocol the server selected.
    pub alpn: Vec<Check>,
    /// What the server asks of a client certificate, from a connection that offers none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<ClientCertificate>,
    /// The chain the server sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<Chain>,
    /// The largest TLS record the server sent on any connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub largest_record: Option<LargestRecord>,
    /// max_fragment_length 512 (RFC 6066) asked for with TLS 1.2: whether the server echoed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fragment_length: Option<MaxFragment>,
    /// `--like`: the device's offer held against what the server accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub like: Option<Like>,
    /// What else is worth knowing (connections the deadline left unstarted, ...).
    pub notes: Vec<String>,
}

/// One thing offered alone, and the server's answer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Check {
    /// As IANA names it (`TLS_AES_128_GCM_SHA256`, `x25519`, `TLSv1.3`, `mqtt`).
    pub name: String,
    /// Its code point, where it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    pub result: Verdict,
    /// The version negotiated, when accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why, in words: the alert, the failure, the protocol selected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Verdict {
    fn word(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Refused => "refused",
            Verdict::Unknown => "unknown",
            Verdict::NotTested => "not tested",
        }
    }
}

impl Fragment {
    fn word(self) -> &'static str {
        match self {
            Fragment::Honoured => "honoured",
            Fragment::Ignored => "ignored",
            Fragment::Refused => "refused",
            Fragment::Unknown => "unknown",
            Fragment::NotTested => "not tested",
        }
    }
}

/// A device's offer, item by item, with what the server said to each offered alone.
#[derive(Debug, Clone, Serialize)]
pub struct Like {
    /// Where the offer comes from ("the preset esp-idf-default", a capture).
    pub source: String,
    /// One connection offering all of the device's offer that rustls can make.
    pub together: Check,
    /// The device's versions, cipher suites, groups and signature schemes; `name` is prefixed
    /// with what it is ("cipher suite ...").
    pub items: Vec<Check>,
}

/// The probe as a text table.
pub fn render(probe: &Probe, endpoint: &str, style: Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{}",
        style.heading(&format!(
            "probe {endpoint}: {} connections",
            probe.connections
        ))
    )?;
    section(out, style, "TLS versions", &probe.versions)?;
    section(out, style, "Cipher suites", &probe.cipher_suites)?;
    section(out, style, "Groups", &probe.groups)?;
    section(
        out,
        style,
        "Signature schemes (server certificate)",
        &probe.signature_schemes,
    )?;
    writeln!(out, "\n{}", style.heading("Client certificate"))?;
    match &probe.client_certificate {
        None => writeln!(out, "  not known: no connection got as far")?,
        Some(cc) if !cc.requested => writeln!(out, "  not requested")?,
        Some(cc) => {
            let how = match cc.required {
                Some(true) => "required",
                Some(false) => "requested, not required",
                None => "requested (whether required is not known)",
            };
            writeln!(out, "  {how}")?;
            if let Some(detail) = &cc.detail {
                writeln!(out, "  {detail}")?;
            }
            if cc.ca_names.is_empty() {
                writeln!(out, "  CA names: none (any CA)")?;
            }
            for name in &cc.ca_names {
                writeln!(out, "  CA name: {name}")?;
            }
            writeln!(out, "  schemes: {}", cc.signature_schemes.join(", "))?;
        }
    }
    writeln!(out, "\n{}", style.heading("SNI and ALPN"))?;
    line(out, style, &probe.without_sni)?;
    for check in &probe.alpn {
        line(out, style, check)?;
    }
    if let Some(chain) = &probe.chain {
        writeln!(
            out,
            "\n{}",
            style.heading(&format!(
                "Server chain: {} certificates, {} bytes",
                chain.certificates.len(),
                chain.bytes
            ))
        )?;
        let verdict = if chain.verified {
            style.good("verified")
        } else {
            style.warning("not verified")
        };
        writeln!(out, "  {verdict}: {}", chain.verification)?;
        for (i, cert) in chain.certificates.iter().enumerate() {
            writeln!(
                out,
                "  {i}: {} ({}, {} bytes)",
                cert.subject, cert.key, cert.bytes
            )?;
        }
    }
    if let Some(mfl) = &probe.max_fragment_length {
        writeln!(
            out,
            "\n{}",
            style.heading("Max fragment length (RFC 6066, TLS 1.2)")
        )?;
        let word = match mfl.result {
            Fragment::Honoured => style.good(mfl.result.word()),
            Fragment::Ignored | Fragment::Refused => style.warning(mfl.result.word()),
            _ => style.dim(mfl.result.word()),
        };
        let mut text = format!("  {:<48} {word}", format!("{} bytes", mfl.requested));
        if let Some(detail) = &mfl.detail {
            text.push_str(&format!(": {detail}"));
        }
        writeln!(out, "{text}")?;
    }
    if let Some(record) = &probe.largest_record {
        writeln!(out, "\n{}", style.heading("Largest record from the server"))?;
        writeln!(
            out,
            "  {} bytes ({}{}): MBEDTLS_SSL_IN_CONTENT_LEN must be at least {}",
            record.length,
            record.content_type,
            if record.encrypted { ", encrypted" } else { "" },
            plaintext_bound(record)
        )?;
    }
    if let Some(like) = &probe.like {
        writeln!(
            out,
            "\n{}",
            style.heading(&format!("The device's offer ({})", like.source))
        )?;
        line(out, style, &like.together)?;
        let (untested, tested): (Vec<&Check>, Vec<&Check>) = like
            .items
            .iter()
            .partition(|c| c.result == Verdict::NotTested);
        for item in tested {
            line(out, style, item)?;
        }
        // The untested items by why, each reason once.
        let mut reasons: Vec<(Option<&str>, Vec<&str>)> = Vec::new();
        for item in untested {
            let why = item.detail.as_deref();
            match reasons.iter_mut().find(|(r, _)| *r == why) {
                Some((_, names)) => names.push(&item.name),
                None => reasons.push((why, vec![&item.name])),
            }
        }
        for (why, names) in reasons {
            let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
            let text = format!("{} not tested{why}: {}", names.len(), names.join(", "));
            wrapped(out, style, "  ", 4, &text)?;
        }
    }
    for note in &probe.notes {
        writeln!(out, "\nnote: {note}")?;
    }
    Ok(())
}

/// The most plaintext the record can hold: an encrypted TLS 1.3 record carries a 16-byte tag
/// and the inner content type.
pub fn plaintext_bound(record: &LargestRecord) -> u16 {
    if record.encrypted {
        record.length.saturating_sub(17)
    } else {
        record.length
    }
}

fn section(out: &mut dyn Write, style: Style, title: &str, checks: &[Check]) -> io::Result<()> {
    writeln!(out, "\n{}", style.heading(title))?;
    if checks.is_empty() {
        writeln!(out, "  none tested")?;
    }
    for check in checks {
        line(out, style, check)?;
    }
    Ok(())
}

fn line(out: &mut dyn Write, style: Style, check: &Check) -> io::Result<()> {
    let word = check.result.word();
    let word = match check.result {
        Verdict::Accepted => style.good(word),
        Verdict::Refused => style.error(word),
        _ => style.dim(word),
    };
    let mut text = word;
    if let Some(version) = &check.version {
        text.push_str(&format!(" ({version})"));
    }
    if let Some(detail) = &check.detail {
        text.push_str(&format!(": {detail}"));
    }
    // Continuations start under the verdict.
    wrapped(out, style, &format!("  {:<48} ", check.name), 51, &text)
}
