//! The report: one serialisable model per run, rendered as text or JSON, and its exit code.

pub mod capture;
mod explain;
pub mod json;
mod ladder;
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

use crate::model::{CaptureSummary, Target, Transcript, TransportStage, What};

/// The schema id every JSON report carries; bumped only on incompatible changes.
pub const SCHEMA: &str = "iotdoctor.report/1";

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
    pub command: &'static str,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ReportError>,
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
            command,
            outcome,
            error: None,
            insecure: false,
            target: None,
            transcript: None,
            credentials: None,
            capture: None,
            explanation: None,
            log: None,
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
