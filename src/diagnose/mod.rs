//! Diagnosis: from facts (credential findings, handshake transcripts) to ranked causes, each
//! with the evidence behind it and the fixes. Pure: no I/O.

mod alerts;
mod causes;
pub mod log;
mod rules;

use serde::Serialize;

pub use alerts::meaning as alert_meaning;
pub use causes::CauseId;
pub(crate) use causes::serde_name;

use crate::credentials::{Finding, Severity};
use crate::model::Transcript;

/// One explanation of a failure, with what supports it and what to change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    pub id: CauseId,
    /// 0.0 to 1.0: how strongly the evidence supports this cause.
    pub confidence: f32,
    pub summary: String,
    /// The facts this cause rests on, each citing where it was seen.
    pub evidence: Vec<String>,
    pub fixes: Vec<String>,
}

/// Causes, most likely first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diagnosis {
    pub causes: Vec<Cause>,
}

/// What the rules need to know about the attempt besides the transcript.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The name the server certificate was checked against.
    pub server_name: Option<String>,
    /// Subjects of the CAs given to trust the server (empty: the bundled Mozilla roots).
    pub trusted_cas: Vec<String>,
    pub alpn_offered: bool,
    /// When the connection happened, seconds since the Unix epoch: certificates sent are judged
    /// valid or not at this time.
    pub at: Option<i64>,
    /// The server is AWS IoT Core (its endpoint name, or `--profile aws-iot`): its habits are
    /// part of the evidence and its consoles part of the fixes.
    pub aws_iot: bool,
    /// The handshake was made by others and only observed (a capture): "the client" is the
    /// device, whose choices are evidence, not iotdoctor.
    pub observed: bool,
}

/// Confidence of a cause established by reading the credential files themselves: a fact,
/// not an inference from what a peer sent.
const FROM_FILES: f32 = 0.95;

/// Ranks the causes the facts support. With a transcript, credential findings become causes
/// only when the connection failed: a finding that did not stop the handshake stays a finding.
pub fn diagnose(
    findings: &[Finding],
    transcript: Option<&Transcript>,
    context: &Context,
) -> Diagnosis {
    let mut causes: Vec<Cause> = Vec::new();
    let failed = match transcript {
        Some(transcript) => {
            let (proposals, failed) = rules::propose(transcript, findings, context);
            for proposal in proposals {
                merge(&mut causes, proposal.into_cause());
            }
            failed
        }
        None => true,
    };
    if failed {
        // Rules that saw a finding's cause on the wire already cite it; the others stand alone.
        for cause in causes_from_findings(findings) {
            if !causes.iter().any(|c| c.id == cause.id) {
                causes.push(cause);
            }
        }
    }
    sort(&mut causes);
    Diagnosis { causes }
}

/// Most likely first.
fn sort(causes: &mut [Cause]) {
    causes.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(rank(a.id).cmp(&rank(b.id)))
    });
}

/// Two proposals of one cause become one: the stronger confidence, all the evidence.
fn merge(causes: &mut Vec<Cause>, cause: Cause) {
    match causes.iter_mut().find(|c| c.id == cause.id) {
        Some(existing) => {
            existing.confidence = existing.confidence.max(cause.confidence);
            for line in cause.evidence {
                if !existing.evidence.contains(&line) {
                    existing.evidence.push(line);
                }
            }
            for fix in cause.fixes {
                if !existing.fixes.contains(&fix) {
                    existing.fixes.push(fix);
                }
            }
        }
        None => causes.push(cause),
    }
}

/// Error findings that are causes by themselves.
fn causes_from_findings(findings: &[Finding]) -> Vec<Cause> {
    let mut causes: Vec<Cause> = Vec::new();
    for finding in findings.iter().filter(|f| f.severity == Severity::Error) {
        let Some(id) = finding.id.cause() else {
            continue;
        };
        // A finding's own hint is specific to what was seen; it replaces the generic fixes.
        let fixes = match &finding.hint {
            Some(hint) => vec![hint.clone()],
            None => id.fixes().iter().map(|f| f.to_string()).collect(),
        };
        let evidence = format!("{}: {}", finding.subject, finding.message);
        merge(
            &mut causes,
            Cause {
                id,
                confidence: FROM_FILES,
                summary: id.summary().to_string(),
                evidence: vec![evidence],
                fixes,
            },
        );
    }
    causes
}

/// Among causes of equal confidence, the one that makes the others moot comes first: a key
/// that does not match breaks the handshake whatever the chain looks like.
fn rank(id: CauseId) -> u8 {
    match id {
        CauseId::ClientKeyMismatch => 0,
        CauseId::ClientCertExpired => 1,
        CauseId::ClientCertUsage => 2,
        CauseId::ClientCaUntrusted => 3,
        CauseId::ClientChainIncomplete => 4,
        _ => 5,
    }
}

#[cfg(test)]
mod tests;
