//! Diagnosis: from facts (credential findings, handshake transcripts) to ranked causes, each
//! with the evidence behind it and the fixes. Pure: no I/O.

mod confidence;
pub mod log;
pub mod own_hello;
pub mod probe;
mod rules;

use serde::Serialize;

pub use crate::model::CauseId;
pub use crate::model::cause::{CAUSES, CauseInfo};

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

/// A cause as a rule proposes it: the catalogue adds its summary and fixes.
struct Proposal {
    id: CauseId,
    confidence: f32,
    evidence: Vec<String>,
    /// Fixes specific to what was seen, shown before the catalogue's.
    fixes: Vec<String>,
}

impl Proposal {
    fn new(id: CauseId, confidence: f32, evidence: Vec<String>) -> Proposal {
        Proposal {
            id,
            confidence,
            evidence,
            fixes: vec![],
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Proposal {
        self.fixes.push(fix.into());
        self
    }

    fn into_cause(self) -> Cause {
        let mut fixes = self.fixes;
        fixes.extend(
            self.id
                .fixes()
                .iter()
                .chain(self.id.stack_fixes())
                .map(|f| f.to_string()),
        );
        Cause {
            id: self.id,
            confidence: self.confidence,
            summary: self.id.summary().into(),
            evidence: self.evidence,
            fixes,
        }
    }
}

/// Causes, most likely first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diagnosis {
    pub causes: Vec<Cause>,
    /// Causes that did not stop this connection: with `--insecure`, the failures of the
    /// server's chain when something else stopped the handshake. Reports tell them in the
    /// `--insecure` warning, not as causes.
    #[serde(skip)]
    pub set_aside: Vec<Cause>,
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
    /// What rustls could not offer of the device's offer, when iotdoctor therefore sent a
    /// ClientHello of its own and stopped at the server's answer (empty: a handshake of its own).
    pub own_hello: Vec<String>,
    /// `--insecure`: the server's chain was not allowed to stop the handshake.
    pub insecure: bool,
}

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
    let mut diagnosis = Diagnosis {
        causes,
        set_aside: Vec::new(),
    };
    if context.insecure {
        set_aside_server_chain(&mut diagnosis);
    }
    if let Some(transcript) = transcript
        && !context.own_hello.is_empty()
    {
        own_hello::settle(&mut diagnosis, transcript, &context.own_hello);
    }
    diagnosis
}

/// With `--insecure` the server's chain did not stop the handshake: when it failed all the
/// same, something else stopped it, and that is the cause to fix first. What the chain's
/// verification found is set aside, not dropped.
fn set_aside_server_chain(diagnosis: &mut Diagnosis) {
    const SERVER_CHAIN: [CauseId; 5] = [
        CauseId::ServerCaUntrusted,
        CauseId::ServerChainIncomplete,
        CauseId::ServerNameMismatch,
        CauseId::ServerCertExpired,
        CauseId::ServerCertUsage,
    ];
    if diagnosis
        .causes
        .iter()
        .all(|c| SERVER_CHAIN.contains(&c.id))
    {
        return;
    }
    let (chain, others) = std::mem::take(&mut diagnosis.causes)
        .into_iter()
        .partition(|c| SERVER_CHAIN.contains(&c.id));
    diagnosis.causes = others;
    diagnosis.set_aside = chain;
}

/// Most likely first.
fn sort(causes: &mut [Cause]) {
    causes.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(a.id.tie_break().cmp(&b.id.tie_break()))
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
                confidence: confidence::FROM_FILES,
                summary: id.summary().to_string(),
                evidence: vec![evidence],
                fixes,
            },
        );
    }
    causes
}

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod tests {
    use super::test_support::finding;
    use super::*;
    use crate::credentials::FindingId;

    #[test]
    fn error_findings_with_a_cause_id_become_ranked_causes() {
        let findings = [
            finding(FindingId::ClientChainIncomplete, Severity::Error),
            finding(FindingId::WeakSignature, Severity::Error),
            finding(FindingId::ClientKeyMismatch, Severity::Error),
            finding(FindingId::ClientCertExpired, Severity::Warning),
        ];
        let ids: Vec<CauseId> = diagnose(&findings, None, &Context::default())
            .causes
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(
            ids,
            [CauseId::ClientKeyMismatch, CauseId::ClientChainIncomplete]
        );
    }

    #[test]
    fn findings_of_one_cause_merge_their_evidence() {
        let findings = [
            finding(FindingId::ClientCertUsage, Severity::Error).with_hint("issue a v3 cert"),
            Finding::new(
                FindingId::ClientCertUsage,
                Severity::Error,
                "other.pem",
                "a second reason",
            ),
        ];
        let diagnosis = diagnose(&findings, None, &Context::default());
        assert_eq!(diagnosis.causes.len(), 1);
        assert_eq!(diagnosis.causes[0].evidence.len(), 2);
        assert_eq!(
            diagnosis.causes[0].fixes[0], "issue a v3 cert",
            "the specific hint comes first"
        );
        assert!(diagnosis.causes[0].evidence[0].starts_with("device.pem: "));
    }

    #[test]
    fn no_findings_no_causes() {
        assert!(diagnose(&[], None, &Context::default()).causes.is_empty());
    }
}
