//! Rules on hand-built transcripts: each test states the facts and the cause they must give.

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
