//! The report: one serialisable model per run, rendered as text or JSON, and its exit code.

pub mod capture;
mod explain;
pub mod json;
mod ladder;
pub mod probe;
pub mod style;
pub mod text;

use serde::Serialize;

use crate::credentials::checks::CredentialsSummary;
use crate::credentials::{Finding, Severity};
use crate::debuglog::DebugLog;
use crate::diagnose::Diagnosis;
use crate::error::{self, Error, ErrorKind};
use crate::explain::{Reading, Stack};
use std::net::SocketAddr;

use crate::model::{CaptureSummary, FindingId, Target, Transcript, TransportStage, What};

/// The schema id every JSON report carries; bumped only on incompatible changes.
pub const SCHEMA: &str = "iotdoctor.report/1";

/// What made a report: every JSON report names the program and its version.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// This program.
pub const TOOL: Tool = Tool {
    name: "iotdoctor",
    version: env!("CARGO_PKG_VERSION"),
};

/// Now, in RFC 3339 UTC to the second (`2026-01-01T12:00:00Z`): when a report was made.
pub fn generated_at() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Nothing wrong found.
    Ok,
    /// Causes or error-level findings.
    Problems,
    /// iotdoctor could not do its job (see `error`).
    Error,
}

/// Why a run ended in [`Outcome::Error`].
#[derive(Debug, Clone, Serialize)]
pub struct ReportError {
    pub kind: ErrorKind,
    pub message: String,
}

/// Everything a run found. Renderers read only this.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    /// When the report was made (RFC 3339, UTC).
    pub generated_at: String,
    pub command: &'static str,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ReportError>,
    /// The device's TLS stack (`--stack`, or the stack of a debug log): the fixes are its own
    /// and those of no particular stack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<Stack>,
    /// Server certificate verification was switched off (`--insecure`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Transcript>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<CredentialsSummary>,
    /// `analyze`: what the capture held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<CaptureSummary>,
    /// `explain`: what the code or message means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
    /// `explain --log`: the steps found in a debug log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<DebugLog>,
    /// `probe`: what the server accepted, offered one thing at a time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<probe::Probe>,
    pub findings: Vec<Finding>,
    pub diagnosis: Diagnosis,
}

/// `explain`: every reading of one code, name or message.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The query as given.
    pub query: String,
    /// The stack the readings were narrowed to (`--stack`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<Stack>,
    /// Most specific first.
    pub readings: Vec<Reading>,
}

/// One TLS connection of a capture, diagnosed on its own.
#[derive(Debug, Clone, Serialize)]
pub struct HandshakeReport {
    /// 1-based number of the TCP flow in the capture (`analyze --flow N`).
    pub flow: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// The SNI of the ClientHello, if any.
    pub sni: Option<String>,
    pub outcome: Outcome,
    pub transcript: Transcript,
    pub diagnosis: Diagnosis,
}

impl HandshakeReport {
    /// See [`Report::for_stack`].
    pub fn for_stack(mut self, stack: Option<Stack>) -> HandshakeReport {
        if let Some(stack) = stack {
            keep_fixes_of(&mut self.diagnosis, stack);
        }
        self
    }
}

/// The stacks whose fixes the catalogue and the rules write as `wolfSSL: ...`.
const FIX_STACKS: [Stack; 4] = [
    Stack::WolfSsl,
    Stack::MbedTls,
    Stack::OpenSsl,
    Stack::GnuTls,
];

/// The stack a fix is for, by the name it starts with; `None` for a fix of any stack.
pub fn fix_stack(fix: &str) -> Option<Stack> {
    FIX_STACKS.into_iter().find(|stack| {
        fix.strip_prefix(&stack.to_string())
            .is_some_and(|rest| rest.starts_with(':'))
    })
}

/// Drops the fixes written for other stacks than `stack`.
fn keep_fixes_of(diagnosis: &mut Diagnosis, stack: Stack) {
    for cause in &mut diagnosis.causes {
        cause
            .fixes
            .retain(|fix| fix_stack(fix).is_none_or(|s| s == stack));
    }
}

impl Report {
    pub fn new(command: &'static str, findings: Vec<Finding>, diagnosis: Diagnosis) -> Report {
        let has_errors = findings.iter().any(|f| f.severity == Severity::Error);
        let outcome = if has_errors || !diagnosis.causes.is_empty() {
            Outcome::Problems
        } else {
            Outcome::Ok
        };
        Report {
            schema: SCHEMA,
            tool: TOOL,
            generated_at: generated_at(),
            command,
            outcome,
            error: None,
            stack: None,
            insecure: false,
            target: None,
            transcript: None,
            credentials: None,
            capture: None,
            explanation: None,
            log: None,
            probe: None,
            findings,
            diagnosis,
        }
    }

    /// The report of a capture, whose handshakes ([`HandshakeReport`]) are written one by one
    /// by [`capture::CaptureWriter`]: problems when any of them failed.
    pub fn with_capture(mut self, capture: CaptureSummary, failed_handshakes: u64) -> Report {
        if failed_handshakes > 0 {
            self.outcome = Outcome::Problems;
        }
        self.capture = Some(capture);
        self
    }

    pub fn with_explanation(mut self, explanation: Explanation) -> Report {
        self.explanation = Some(explanation);
        self
    }

    pub fn with_log(mut self, log: DebugLog) -> Report {
        self.log = Some(log);
        self
    }

    pub fn with_credentials(mut self, credentials: CredentialsSummary) -> Report {
        self.credentials = Some(credentials);
        self
    }

    pub fn with_connection(
        mut self,
        target: Target,
        transcript: Transcript,
        insecure: bool,
    ) -> Report {
        self.target = Some(target);
        self.transcript = Some(transcript);
        self.insecure = insecure;
        if insecure {
            self.server_chain_as_warning();
        }
        self
    }

    /// What diagnosis set aside under `--insecure` (the server chain's failures, when something
    /// else stopped the handshake) is told in the `--insecure` warning.
    fn server_chain_as_warning(&mut self) {
        let set_aside = std::mem::take(&mut self.diagnosis.set_aside);
        if set_aside.is_empty() {
            return;
        }
        if !self
            .findings
            .iter()
            .any(|f| f.id == FindingId::VerificationDisabled)
        {
            let subject = self.target.as_ref().map(|t| t.endpoint.clone());
            self.findings.push(Finding::new(
                FindingId::VerificationDisabled,
                Severity::Warning,
                subject.unwrap_or_default(),
                "--insecure: the server's certificate was not allowed to stop the handshake",
            ));
        }
        let Some(warning) = self
            .findings
            .iter_mut()
            .find(|f| f.id == FindingId::VerificationDisabled)
        else {
            return;
        };
        for cause in set_aside {
            warning.message.push_str(&format!(
                "; the server's chain did not verify ({}: {})",
                cause.id,
                cause
                    .evidence
                    .first()
                    .map_or(cause.summary.as_str(), String::as_str)
            ));
        }
    }

    /// Only the fixes of `stack` among the stack-specific ones; every stack's when it is not
    /// known.
    pub fn for_stack(mut self, stack: Option<Stack>) -> Report {
        if let Some(stack) = stack {
            keep_fixes_of(&mut self.diagnosis, stack);
            self.stack = Some(stack);
        }
        self
    }

    /// The report of a run that could not be completed.
    pub fn failed(command: &'static str, error: &Error) -> Report {
        let mut report = Report::new(command, vec![], Diagnosis::default());
        report.outcome = Outcome::Error;
        report.error = Some(ReportError {
            kind: error.kind(),
            message: error.to_string(),
        });
        report
    }

    /// The exit code of the command-line contract.
    pub fn exit_code(&self, error: Option<&Error>) -> u8 {
        match (self.outcome, error) {
            (Outcome::Ok, _) => error::exit::OK,
            (Outcome::Problems, _) if self.failed_before_tls() => error::exit::NETWORK,
            (Outcome::Problems, _) => error::exit::PROBLEMS,
            (Outcome::Error, Some(e)) => e.exit_code(),
            (Outcome::Error, None) => error::exit::INPUT,
        }
    }

    /// Whether the network failed before any TLS byte could be exchanged.
    fn failed_before_tls(&self) -> bool {
        self.transcript.as_ref().is_some_and(|t| {
            t.events.iter().any(|e| {
                matches!(
                    &e.what,
                    What::Transport {
                        stage: TransportStage::Resolve | TransportStage::Connect,
                        ..
                    }
                )
            })
        })
    }
}
