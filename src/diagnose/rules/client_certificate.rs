//! The server asked for a client certificate and refused the connection: which fault of the
//! certificate sent (or not sent), of its key or of its chain explains the refusal.

use crate::credentials::chain::{Kinship, KnownCa, key_identifiers, kinship};
use crate::credentials::{FindingId, Severity};
use crate::diagnose::confidence::{
    ALTERNATIVE, CERTAIN, DOUBTFUL, FAIR, LIKELY, NEAR_CERTAIN, OTHERWISE_EXPLAINED, PLAUSIBLE,
    POSSIBLE, PROBABLE, SEEN, STRONG, SUGGESTED, WEAK,
};
use crate::model::certificate::short_dn;
use crate::model::{CauseId, CloseKind, Side, What, WithheldReason};

use super::facts::{AlertAt, Facts, Rejection, alert_code};
use super::{Input, Proposal};

/// The server asked for a client certificate and then refused the connection.
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let (f, findings, context) = (input.facts, input.findings, input.context);
    let Some((request_index, ca_names, scheme_count)) = f.cert_request else {
        return;
    };
    let Some((cert_index, chain)) = f.client_cert else {
        return;
    };
    let asked = format!(
        "the server asked for a client certificate ({}){}",
        f.at(request_index),
        if ca_names.is_empty() {
            ", naming no CAs".to_string()
        } else {
            format!(
                " issued under: {}",
                ca_names
                    .iter()
                    .map(|n| format!("'{}'", short_dn(n)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let Some(rejection) = f.rejection_after(cert_index) else {
        return;
    };
    let rejected = match rejection {
        Rejection::Alert(alert) => f.alert_line(alert),
        Rejection::Closed(i, how) => format!(
            "the server then closed the connection without an alert ({}, {})",
            f.at(i),
            if how == CloseKind::Reset {
                "reset"
            } else {
                "end of stream"
            }
        ),
    };
    let by_alert = matches!(rejection, Rejection::Alert(_));

    if chain.is_empty() {
        if let Some((i, WithheldReason::NoMatchingScheme, message)) = f.withheld {
            out.push(Proposal::new(
                CauseId::ClientSigalgMismatch,
                if by_alert { NEAR_CERTAIN } else { PROBABLE },
                vec![
                    asked,
                    format!("the server accepts {scheme_count} signature scheme(s) for the client's CertificateVerify"),
                    format!("{message} ({})", f.at(i)),
                    rejected,
                ],
            ));
            return;
        }
        let mut evidence = vec![
            asked,
            format!(
                "the client's Certificate message carried 0 certificates ({})",
                f.at(cert_index)
            ),
        ];
        // iotdoctor itself could not present the certificate: the server's answer is to no
        // certificate, not to this one, and the device's load order is not in question.
        if let Some((i, WithheldReason::KeyUnusable, message)) = f.withheld {
            evidence.push(format!(
                "{message}, so it connected without a certificate ({})",
                f.at(i)
            ));
            evidence.extend(
                findings
                    .iter()
                    .filter(|x| {
                        matches!(x.id, FindingId::WeakKey | FindingId::UnsupportedKey)
                            && x.severity == Severity::Error
                    })
                    .map(|x| format!("preflight: {}", x.message)),
            );
            evidence.push(rejected);
            out.push(Proposal::new(
                CauseId::ClientKeyUnusable,
                PROBABLE,
                evidence,
            ));
            return;
        }
        if let Some((_, WithheldReason::NotConfigured, message)) = f.withheld {
            evidence.push(format!("{message}: iotdoctor connected without one"));
        }
        evidence.push(rejected);
        if context.aws_iot && alert_code(rejection) == Some(42) {
            evidence.push(
                "AWS IoT Core answers a handshake without a client certificate with exactly this alert, 42 bad_certificate".into(),
            );
        }
        out.push(Proposal::new(
            CauseId::ClientCertNotSent,
            if by_alert { SEEN } else { FAIR },
            evidence,
        ));
        // Seen from outside (a capture), an empty Certificate may also be a stack that had a
        // certificate but no key for any scheme the server allows: say so when they are few.
        if f.withheld.is_none()
            && let Some(narrow) = narrow_schemes(f)
        {
            out.push(Proposal::new(
                CauseId::ClientSigalgMismatch,
                POSSIBLE,
                vec![format!(
                    "the server accepts only {narrow} for the client's signature: a client whose key cannot make \
                     one of these (an ECDSA key, say) sends an empty Certificate even when it has a certificate"
                )],
            ));
        }
        return;
    }

    // A certificate was sent and refused: which of its problems explains it?
    let leaf = &chain[0];
    let sent = format!(
        "the client sent {} certificate(s), leaf '{}' issued by '{}' ({})",
        chain.len(),
        leaf.short_name(),
        short_dn(&leaf.issuer),
        f.at(cert_index)
    );
    let alert_code = match rejection {
        Rejection::Alert(alert) => Some(alert.code),
        Rejection::Closed(..) => None,
    };
    let finding_lines = |id: FindingId| -> Vec<String> {
        findings
            .iter()
            .filter(|x| x.id == id && x.severity == Severity::Error)
            .map(|x| format!("preflight: {}", x.message))
            .collect()
    };
    let mut explained = false;

    // A signature made with a scheme the server never offered.
    if let (Some((verify_index, _)), Some((request_index, _, _))) =
        (f.client_verify, f.cert_request)
        && let (
            What::CertificateVerify { scheme, .. },
            What::CertificateRequest {
                signature_schemes, ..
            },
        ) = (&f.events[verify_index].what, &f.events[request_index].what)
        && !signature_schemes.is_empty()
        && !signature_schemes.contains(scheme)
    {
        out.push(Proposal::new(
            CauseId::ClientSigalgMismatch,
            LIKELY,
            vec![
                format!(
                    "the client signed its CertificateVerify with {scheme} ({}), a scheme the server's CertificateRequest did not offer",
                    f.at(verify_index)
                ),
                format!("the server offered: {}", signature_schemes.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")),
                rejected.clone(),
            ],
        ));
        explained = true;
    }

    let key_lines = finding_lines(FindingId::ClientKeyMismatch);
    let signature_failed = matches!(f.client_verify, Some((_, Some(false))));
    if !key_lines.is_empty() || signature_failed {
        let mut evidence = key_lines;
        if let Some((i, Some(false))) = f.client_verify {
            evidence.push(format!(
                "the client's CertificateVerify signature does not verify against its own certificate ({})",
                f.at(i)
            ));
        }
        evidence.push(rejected.clone());
        let confidence = if alert_code.is_some_and(|c| [51, 42, 40, 20].contains(&c)) {
            CERTAIN
        } else {
            STRONG
        };
        out.push(Proposal::new(
            CauseId::ClientKeyMismatch,
            confidence,
            evidence,
        ));
        explained = true;
    }

    let mut expired = finding_lines(FindingId::ClientCertExpired);
    if let Some(now) = context.at {
        for cert in chain
            .iter()
            .filter(|c| now < c.not_before.0 || now > c.not_after.0)
        {
            expired.push(format!(
                "'{}' sent by the client is valid from {} to {}: not at the time of the connection",
                cert.short_name(),
                cert.not_before.date(),
                cert.not_after.date()
            ));
        }
    }
    let usage = finding_lines(FindingId::ClientCertUsage);
    let expired_confidence = if alert_code == Some(45) {
        SEEN
    } else {
        PROBABLE
    };
    let usage_confidence = if alert_code.is_some_and(|c| [43, 42, 46].contains(&c)) {
        LIKELY
    } else {
        SUGGESTED
    };
    for (cause, confidence, mut evidence) in [
        (CauseId::ClientCertExpired, expired_confidence, expired),
        (CauseId::ClientCertUsage, usage_confidence, usage),
    ] {
        if !evidence.is_empty() {
            evidence.push(rejected.clone());
            out.push(Proposal::new(cause, confidence, evidence));
            explained = true;
        }
    }

    if alert_code == Some(44) {
        out.push(Proposal::new(
            CauseId::ClientCertRevoked,
            LIKELY,
            vec![sent.clone(), rejected.clone()],
        ));
        explained = true;
    }

    // The chain against the CAs the server named. Some stacks say more than one thing: GnuTLS
    // refuses a chain it cannot verify with 49 access_denied, then 42 bad_certificate.
    let further: Vec<AlertAt<'_>> = server_alerts_after(f, cert_index)
        .into_iter()
        .skip(1)
        .collect();
    let mut further_lines: Vec<String> = further
        .iter()
        .map(|a| format!("and then {}", f.alert_line(*a)))
        .collect();
    // Alone (TLS 1.3 hides what follows it), 49 is weaker evidence of a refused chain.
    let lone_access_denied = alert_code == Some(49) && further.is_empty();
    if lone_access_denied {
        further_lines.push(
            "GnuTLS refuses a client chain it cannot verify with 49 access_denied, then 42 bad_certificate".into(),
        );
    }
    let with_further = |mut evidence: Vec<String>| {
        evidence.extend(further_lines.iter().cloned());
        evidence
    };
    let chain_reaches_named = ca_names.iter().any(|name| {
        chain
            .iter()
            .any(|c| c.issuer == *name || c.subject == *name)
    });
    let trust_alert = alert_code.is_none_or(|c| TRUST_ALERTS.contains(&c))
        || further.iter().any(|a| TRUST_ALERTS.contains(&a.code))
        || lone_access_denied;
    let top = &chain[chain.len() - 1];
    let named_cas: Vec<KnownCa<'_>> = ca_names
        .iter()
        .map(|name| KnownCa {
            subject: name,
            key_id: None,
        })
        .collect();
    let top_kinship = kinship(&top.issuer, key_identifiers(top).0.as_deref(), &named_cas);
    if !chain_reaches_named && trust_alert {
        let scale = if explained { OTHERWISE_EXPLAINED } else { 1.0 }
            * if lone_access_denied {
                LONE_ACCESS_DENIED
            } else {
                1.0
            };
        let named = if ca_names.is_empty() {
            "the server named no acceptable CAs".to_string()
        } else {
            "no certificate sent is issued by (or is) a CA the server named".to_string()
        };
        if top.self_issued {
            out.push(Proposal::new(
                CauseId::ClientCaUntrusted,
                STRONG * scale,
                with_further(vec![
                    asked.clone(),
                    sent.clone(),
                    format!(
                        "the chain sent ends at root '{}'; {named}",
                        top.short_name()
                    ),
                    rejected.clone(),
                ]),
            ));
        } else if let (Kinship::Stranger { why }, false) = (&top_kinship, ca_names.is_empty()) {
            // An issuer that shares nothing with the CAs named is a CA of its own: no
            // intermediate would bring the chain to them.
            let issuer = short_dn(&top.issuer);
            out.push(Proposal::new(
                CauseId::ClientCaUntrusted,
                PROBABLE * scale,
                with_further(vec![
                    asked.clone(),
                    sent.clone(),
                    format!(
                        "'{issuer}' is not a CA the server named, and {why}: the certificate comes from a CA the server does not accept, not from one under it"
                    ),
                    rejected.clone(),
                ]),
            ));
            out.push(
                Proposal::new(
                    CauseId::ClientChainIncomplete,
                    WEAK * scale,
                    vec![
                        sent.clone(),
                        format!(
                            "the other reading: if '{issuer}' were an intermediate under a named CA, the server could not build the chain without it; nothing sent or named links it to one"
                        ),
                    ],
                )
                .fix(format!("If '{issuer}' is an intermediate, send it after the device certificate (append it to the certificate file, or pass --chain).")),
            );
        } else if chain.len() == 1 {
            // Only the leaf: its issuer is an intermediate left out, or a CA the server does
            // not accept. The organisation of a CA the server named (or, when it named none, of
            // the CA given for the server) is the hint that it is an intermediate under it.
            let missing = short_dn(&leaf.issuer);
            let given: Vec<KnownCa<'_>> = context
                .trusted_cas
                .iter()
                .map(|subject| KnownCa {
                    subject,
                    key_id: None,
                })
                .collect();
            let (kin, whose) = if ca_names.is_empty() {
                (
                    kinship(&leaf.issuer, None, &given),
                    "the CA given for the server: likely an intermediate of the same PKI",
                )
            } else {
                (
                    top_kinship,
                    "a CA the server named: likely an intermediate under it",
                )
            };
            let same_organisation = match kin {
                Kinship::SameOrganisation { organisation } => Some(organisation),
                _ => None,
            };
            // Without names only a coin's confidence either way, the hint deciding the order.
            let (incomplete, untrusted) = match (ca_names.is_empty(), &same_organisation) {
                (false, _) => (PLAUSIBLE, ALTERNATIVE),
                (true, Some(_)) => (POSSIBLE, DOUBTFUL),
                (true, None) => (DOUBTFUL, POSSIBLE),
            };
            let (only_leaf, fix, root) = if ca_names.is_empty() {
                (
                    format!(
                        "only the leaf was sent and the server named no CAs: if '{missing}' is an intermediate, the server cannot build the chain without it (unless it holds it itself)"
                    ),
                    format!(
                        "If '{missing}' is an intermediate, send it after the device certificate (append it to the certificate file, or pass --chain)."
                    ),
                    format!(
                        "if '{missing}' is itself a root, the server does not accept it: {named}"
                    ),
                )
            } else {
                (
                    format!(
                        "only the leaf was sent: if '{missing}' is an intermediate under a named CA, the server cannot build the chain without it"
                    ),
                    format!(
                        "Send the intermediate '{missing}' after the device certificate (append it to the certificate file, or pass --chain)."
                    ),
                    format!(
                        "if '{missing}' is itself a root, it is not one the server named: {named}"
                    ),
                )
            };
            let mut evidence = vec![asked.clone(), sent.clone(), only_leaf];
            if let Some(organisation) = &same_organisation {
                evidence.push(format!(
                    "'{missing}' belongs to '{organisation}', the organisation of {whose}"
                ));
            }
            evidence.push(rejected.clone());
            out.push(
                Proposal::new(
                    CauseId::ClientChainIncomplete,
                    incomplete * scale,
                    with_further(evidence),
                )
                .fix(fix),
            );
            out.push(Proposal::new(
                CauseId::ClientCaUntrusted,
                untrusted * scale,
                vec![sent.clone(), root],
            ));
        } else {
            out.push(Proposal::new(
                CauseId::ClientCaUntrusted,
                FAIR * scale,
                with_further(vec![
                    asked.clone(),
                    sent.clone(),
                    format!(
                        "the chain sent ends at '{}', issued by '{}'; {named}",
                        top.short_name(),
                        short_dn(&top.issuer)
                    ),
                    rejected.clone(),
                ]),
            ));
        }
        explained = true;
    }

    if !explained {
        // Say what the chain is, never more: a chain that does not reach a named CA is not
        // called one that does.
        let reading = if ca_names.is_empty() {
            "the server named no CAs and no preflight check found a fault: look at the server's log"
                .to_string()
        } else if chain_reaches_named {
            "the certificate reaches a CA the server named and no preflight check found a fault: look at the server's log".to_string()
        } else {
            format!(
                "no certificate sent is issued by (or is) a CA the server named (the top one is issued by '{}'), but the alert is not one servers send for an untrusted chain: look at the server's log",
                short_dn(&top.issuer)
            )
        };
        out.push(Proposal::new(
            CauseId::AlertUnexplained,
            ALTERNATIVE,
            with_further(vec![sent, rejected, reading]),
        ));
    }
}

/// How much a lone 49 access_denied keeps of the confidence of a trust alert.
const LONE_ACCESS_DENIED: f32 = 0.8;

/// Alerts servers answer an untrusted or unverifiable client chain with.
const TRUST_ALERTS: [u8; 5] = [48, 42, 46, 40, 116];

/// The server's alerts after event `index`, in order.
fn server_alerts_after<'a>(f: &Facts<'a>, index: usize) -> Vec<AlertAt<'a>> {
    f.events
        .iter()
        .enumerate()
        .skip(index + 1)
        .filter_map(|(i, event)| match &event.what {
            What::Alert { description, .. }
                if event.from == Side::Server && description.code != 0 =>
            {
                Some(AlertAt {
                    index: i,
                    code: u8::try_from(description.code).unwrap_or(u8::MAX),
                    event,
                })
            }
            _ => None,
        })
        .collect()
}

/// The schemes of the CertificateRequest, when they leave out a whole key type (no ECDSA, or
/// no RSA).
fn narrow_schemes(f: &Facts<'_>) -> Option<String> {
    let (i, _, _) = f.cert_request?;
    let What::CertificateRequest {
        signature_schemes, ..
    } = &f.events[i].what
    else {
        return None;
    };
    let names: Vec<String> = signature_schemes.iter().map(|s| s.to_string()).collect();
    let has = |prefix: &str| names.iter().any(|n| n.starts_with(prefix));
    let narrow = !names.is_empty() && (!has("ecdsa") || !(has("rsa_pss") || has("rsa_pkcs1")));
    narrow.then(|| names.join(", "))
}

#[cfg(test)]
mod tests {
    use crate::diagnose::test_support::*;
    use crate::diagnose::{Context, Diagnosis, diagnose};
    use crate::model::{CauseId, CloseKind, Seen, Side, What, codes};

    /// The client's CertificateVerify (record 9) with `scheme`, of `length` bytes, `verified`
    /// or not by iotdoctor's own check.
    fn client_verify(t: &mut crate::model::Transcript, scheme: u16, length: usize, verified: bool) {
        t.push(
            3.0,
            Side::Client,
            What::CertificateVerify {
                record: Some(9),
                seen: Seen::Wire,
                scheme: codes::signature_scheme(scheme),
                signature_length: length,
                verified: Some(verified),
                detail: None,
            },
        );
    }

    #[test]
    fn an_empty_certificate_is_not_sent_whatever_alert_the_stack_answers() {
        // OpenSSL 1.2 sends 40, OpenSSL 1.3 116, AWS IoT Core 42, others 46 or 48.
        for code in [40, 42, 116, 46, 48] {
            let mut t = asked_for_a_certificate(vec![]);
            alert(&mut t, code);
            let (id, confidence) = top(&t, &[]);
            assert_eq!(id, CauseId::ClientCertNotSent, "alert {code}");
            assert!(confidence >= 0.9, "alert {code}: {confidence}");
        }
    }

    #[test]
    fn a_silent_close_after_an_empty_certificate_is_a_likelier_not_sent_than_a_bare_close() {
        let mut t = asked_for_a_certificate(vec![]);
        t.push(
            4.0,
            Side::Server,
            What::Close {
                how: CloseKind::Eof,
            },
        );
        let diagnosis = diagnose(&[], Some(&t), &Context::default());
        let ids: Vec<CauseId> = diagnosis.causes.iter().map(|c| c.id).collect();
        assert_eq!(ids[0], CauseId::ClientCertNotSent, "{ids:?}");
        assert!(
            diagnosis.causes[0].confidence < 0.9,
            "no alert: less certain"
        );
        assert!(ids.contains(&CauseId::PeerClosed));
    }

    #[test]
    fn alert_42_after_a_good_certificate_is_not_called_not_sent() {
        let mut t = asked_for_a_certificate(vec![
            fixture_cert("client-ec.pem"),
            fixture_cert("intermediate-ca.pem"),
        ]);
        alert(&mut t, 42);
        let diagnosis = diagnose(&[], Some(&t), &Context::default());
        let ids: Vec<CauseId> = diagnosis.causes.iter().map(|c| c.id).collect();
        assert!(!ids.contains(&CauseId::ClientCertNotSent), "{ids:?}");
        // Nothing in the files or the chain explains it: say so with low confidence.
        assert_eq!(ids, [CauseId::AlertUnexplained]);
        assert!(diagnosis.causes[0].confidence < 0.5);
    }

    #[test]
    fn a_signature_that_fails_our_own_check_is_a_key_mismatch_even_under_alert_51() {
        let mut t = asked_for_a_certificate(vec![
            fixture_cert("client-ec.pem"),
            fixture_cert("intermediate-ca.pem"),
        ]);
        client_verify(&mut t, 0x0403, 71, false);
        alert(&mut t, 51);
        assert_eq!(top(&t, &[]).0, CauseId::ClientKeyMismatch);
    }

    #[test]
    fn a_chain_ending_at_a_foreign_root_is_untrusted() {
        let mut t = asked_for_a_certificate(vec![
            fixture_cert("client-unrelated.pem"),
            fixture_cert("unrelated-ca.pem"),
        ]);
        alert(&mut t, 48);
        assert_eq!(top(&t, &[]).0, CauseId::ClientCaUntrusted);
    }

    #[test]
    fn a_leaf_alone_from_a_stranger_ca_is_untrusted_before_incomplete() {
        // 'Unrelated Root CA' (O=some other PKI) shares nothing with the named root.
        let mut t = asked_for_a_certificate(vec![fixture_cert("client-unrelated.pem")]);
        alert(&mut t, 48);
        let diagnosis = diagnose(&[], Some(&t), &Context::default());
        let ids: Vec<CauseId> = diagnosis.causes.iter().map(|c| c.id).collect();
        assert_eq!(
            ids[..2],
            [CauseId::ClientCaUntrusted, CauseId::ClientChainIncomplete]
        );
        assert!(
            diagnosis.causes[0]
                .evidence
                .iter()
                .any(|e| e.contains("'some other PKI' is none of theirs")),
            "{:?}",
            diagnosis.causes[0].evidence
        );
    }

    #[test]
    fn a_leaf_alone_from_the_named_ca_s_organisation_is_incomplete_first() {
        let mut t = asked_for_a_certificate(vec![fixture_cert("client-ec.pem")]);
        alert(&mut t, 48);
        let diagnosis = diagnose(&[], Some(&t), &Context::default());
        assert_eq!(diagnosis.causes[0].id, CauseId::ClientChainIncomplete);
        assert!(
            diagnosis
                .causes
                .iter()
                .any(|c| c.id == CauseId::ClientCaUntrusted),
            "the other reading stays"
        );
    }

    #[test]
    fn access_denied_then_bad_certificate_is_read_as_a_refused_chain() {
        // GnuTLS: 49 access_denied, then 42 bad_certificate.
        let mut t = asked_for_a_certificate(vec![fixture_cert("client-unrelated.pem")]);
        alert(&mut t, 49);
        alert(&mut t, 42);
        let diagnosis = diagnose(&[], Some(&t), &Context::default());
        let top = &diagnosis.causes[0];
        assert_eq!(top.id, CauseId::ClientCaUntrusted, "{diagnosis:#?}");
        assert!(
            top.evidence
                .iter()
                .any(|e| e.contains("42 bad_certificate"))
        );
        let all: Vec<&String> = diagnosis.causes.iter().flat_map(|c| &c.evidence).collect();
        assert!(
            !all.iter()
                .any(|e| e.contains("reaches a CA the server named")),
            "{all:?}"
        );
    }

    #[test]
    fn an_unexplained_alert_never_claims_the_chain_reaches_a_named_ca_when_it_does_not() {
        let mut t = asked_for_a_certificate(vec![fixture_cert("client-unrelated.pem")]);
        alert(&mut t, 80);
        let diagnosis = diagnose(&[], Some(&t), &Context::default());
        let all: Vec<&String> = diagnosis.causes.iter().flat_map(|c| &c.evidence).collect();
        assert!(
            !all.iter()
                .any(|e| e.contains("reaches a CA the server named")),
            "{all:?}"
        );
        assert!(
            all.iter()
                .any(|e| e.contains("no certificate sent is issued by"))
        );
    }

    #[test]
    fn a_signature_scheme_the_server_never_offered_is_a_sigalg_mismatch() {
        // The server offered ecdsa_secp256r1_sha256 only; the client signed with rsa_pss_rsae_sha256.
        let mut t = asked_for_a_certificate(vec![
            fixture_cert("client-rsa.pem"),
            fixture_cert("intermediate-ca.pem"),
        ]);
        client_verify(&mut t, 0x0804, 256, true);
        alert(&mut t, 47);
        let diagnosis = diagnose(&[], Some(&t), &Context::default());
        assert_eq!(
            diagnosis.causes[0].id,
            CauseId::ClientSigalgMismatch,
            "{diagnosis:#?}"
        );
        assert!(diagnosis.causes[0].evidence[0].contains("rsa_pss_rsae_sha256"));
    }

    #[test]
    fn aws_iot_s_alert_42_for_a_missing_certificate_is_cited_only_for_aws() {
        let mut t = asked_for_a_certificate(vec![]);
        alert(&mut t, 42);
        let aws = Context {
            aws_iot: true,
            ..Context::default()
        };
        let with = diagnose(&[], Some(&t), &aws);
        assert!(
            with.causes[0]
                .evidence
                .iter()
                .any(|e| e.contains("AWS IoT Core answers")),
            "{:?}",
            with.causes[0].evidence
        );
        let without = diagnose(&[], Some(&t), &Context::default());
        let cites_aws = |d: &Diagnosis| {
            d.causes[0]
                .evidence
                .iter()
                .any(|e| e.contains("AWS IoT Core answers"))
        };
        assert!(!cites_aws(&without));
        // Another alert after the empty certificate is not what AWS sends: no AWS line.
        let mut t = asked_for_a_certificate(vec![]);
        alert(&mut t, 40);
        let other = diagnose(&[], Some(&t), &aws);
        assert!(!cites_aws(&other));
    }
}
