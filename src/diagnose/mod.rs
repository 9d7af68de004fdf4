//! Diagnosis: from facts (credential findings today; handshake transcripts as producers are
//! added) to ranked causes, each with the evidence behind it and the fixes. Pure: no I/O.

mod causes;

use serde::Serialize;

pub use causes::CauseId;

use crate::credentials::{Finding, Severity};

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

/// Confidence of a cause established by reading the credential files themselves: a fact,
/// not an inference from what a peer sent.
const FROM_FILES: f32 = 0.95;

/// Ranks the causes the findings establish. Several findings with the same cause id become one
/// cause with several pieces of evidence.
pub fn diagnose(findings: &[Finding]) -> Diagnosis {
    let mut causes: Vec<Cause> = Vec::new();
    for finding in findings.iter().filter(|f| f.severity == Severity::Error) {
        let Some(id) = finding.id.cause() else {
            continue;
        };
        let evidence = format!("{}: {}", finding.subject, finding.message);
        match causes.iter_mut().find(|c| c.id == id) {
            Some(cause) => cause.evidence.push(evidence),
            None => {
                // A finding's own hint is specific to what was seen; it replaces the generic fixes.
                let fixes = match &finding.hint {
                    Some(hint) => vec![hint.clone()],
                    None => id.fixes().iter().map(|f| f.to_string()).collect(),
                };
                causes.push(Cause {
                    id,
                    confidence: FROM_FILES,
                    summary: id.summary().to_string(),
                    evidence: vec![evidence],
                    fixes,
                });
            }
        }
    }
    causes.sort_by_key(|c| rank(c.id));
    Diagnosis { causes }
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
mod tests {
    use super::*;
    use crate::credentials::FindingId;

    fn finding(id: FindingId, severity: Severity) -> Finding {
        Finding::new(id, severity, "device.pem", format!("{id} happened"))
    }

    #[test]
    fn error_findings_with_a_cause_id_become_ranked_causes() {
        let findings = [
            finding(FindingId::ClientChainIncomplete, Severity::Error),
            finding(FindingId::WeakSignature, Severity::Error),
            finding(FindingId::ClientKeyMismatch, Severity::Error),
            finding(FindingId::ClientCertExpired, Severity::Warning),
        ];
        let ids: Vec<CauseId> = diagnose(&findings).causes.iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            [CauseId::ClientKeyMismatch, CauseId::ClientChainIncomplete]
        );
    }

    #[test]
    fn findings_of_one_cause_merge_their_evidence() {
        let findings = [
            finding(FindingId::ClientCertUsage, Severity::Error).with_hint("issue a v3 cert"),
            finding(FindingId::ClientCertUsage, Severity::Error),
        ];
        let diagnosis = diagnose(&findings);
        assert_eq!(diagnosis.causes.len(), 1);
        assert_eq!(diagnosis.causes[0].evidence.len(), 2);
        assert_eq!(diagnosis.causes[0].fixes, ["issue a v3 cert"]);
        assert!(diagnosis.causes[0].evidence[0].starts_with("device.pem: "));
    }

    #[test]
    fn no_findings_no_causes() {
        assert!(diagnose(&[]).causes.is_empty());
    }
}
