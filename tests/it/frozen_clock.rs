//! The checks read one clock, passed in: freezing it shows validity handled for every
//! certificate of the chain, not only the leaf.

use crate::common::{NoPassword, pki_path as pki};
use iotdoctor::credentials::checks::{CheckOptions, check};
use iotdoctor::credentials::{Credentials, Finding, FindingId, LoadRequest, Severity};
use iotdoctor::diagnose::{CauseId, diagnose};

/// Seconds since the epoch at midnight UTC of a date.
fn at(year: i32, month: u8, day: u8) -> i64 {
    let month = time::Month::try_from(month).unwrap();
    time::Date::from_calendar_date(year, month, day)
        .unwrap()
        .midnight()
        .assume_utc()
        .unix_timestamp()
}

fn findings_at(cert: &str, now: i64) -> Vec<Finding> {
    let request = LoadRequest {
        cert: Some(pki(cert)),
        chain: vec![pki("intermediate-ca.pem")],
        cas: vec![pki("root-ca.pem")],
        ..LoadRequest::default()
    };
    let creds = Credentials::load(&request, &NoPassword).unwrap();
    check(
        &creds,
        &CheckOptions {
            now,
            warn_days: 30,
            aws_iot: false,
        },
    )
    .1
}

fn with_id(findings: &[Finding], id: FindingId) -> Vec<&Finding> {
    findings.iter().filter(|f| f.id == id).collect()
}

#[test]
fn leaf_and_intermediate_expiring_soon_are_both_warned() {
    let findings = findings_at("client-ec.pem", at(2125, 12, 20));
    let soon = with_id(&findings, FindingId::CertExpiringSoon);
    assert_eq!(soon.len(), 2, "{findings:#?}");
    assert!(soon.iter().all(|f| f.severity == Severity::Warning));
    assert!(soon.iter().any(|f| {
        f.message
            .contains("intermediate CA 'iotdoctor Test Intermediate CA'")
    }));
    assert!(soon.iter().any(|f| f.message.contains("(12 days left)")));
}

#[test]
fn after_expiry_one_cause_carries_both_certificates_as_evidence() {
    let findings = findings_at("client-ec.pem", at(2126, 2, 1));
    assert_eq!(
        with_id(&findings, FindingId::ClientCertExpired).len(),
        2,
        "{findings:#?}"
    );
    let diagnosis = diagnose(&findings, None, &Default::default());
    assert_eq!(diagnosis.causes[0].id, CauseId::ClientCertExpired);
    assert_eq!(diagnosis.causes[0].evidence.len(), 2);
}

#[test]
fn a_valid_leaf_under_a_not_yet_valid_intermediate() {
    // In mid-2020 the expired fixture was valid, but its issuer was only made valid from 2026.
    let findings = findings_at("client-expired.pem", at(2020, 6, 1));
    let expired = with_id(&findings, FindingId::ClientCertExpired);
    assert_eq!(expired.len(), 1, "{findings:#?}");
    assert!(
        expired[0]
            .message
            .starts_with("intermediate CA 'iotdoctor Test Intermediate CA' is not valid yet")
    );
}

#[test]
fn healthy_credentials_have_no_warnings_today_or_in_a_century() {
    for now in [at(2026, 11, 25), at(2100, 1, 1)] {
        let findings = findings_at("client-ec.pem", now);
        assert!(
            findings.iter().all(|f| f.severity == Severity::Info),
            "{findings:#?}"
        );
    }
}
