//! iotdoctor's own verification of the server's certificate failed: which fault of the chain
//! sent, against the CAs given, explains it.

use crate::diagnose::Context;
use crate::diagnose::confidence::{POSSIBLE, SEEN, SLIGHT_LEAN, STRONG, UNLIKELY};
use crate::model::certificate::{CertInfo, short_dn};
use crate::model::{CauseId, VerifyProblem};

use super::facts::Facts;
use super::{Input, Proposal};

/// Our verification of the server failed. In a capture the client may have gone on regardless:
/// then the chain is still not what `--ca` expects, and the client does not check it that way.
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let (f, context) = (input.facts, input.context);
    server_chain_rejected(f, context, out);
    if context.observed && f.handshake_finished() {
        for proposal in out.iter_mut() {
            proposal.evidence.push(
                "the client went on with the handshake all the same: it trusts another CA than the one given, or does not verify the server's certificate"
                    .into(),
            );
        }
    } else if context.observed
        && let Some(alert) = f.client_alert
    {
        // The device's own refusal of the chain iotdoctor rejected too.
        for proposal in out.iter_mut() {
            proposal.evidence.push(format!(
                "the client refused it too: {}",
                f.alert_line(alert)
            ));
        }
    }
}

/// Why a server certificate whose extendedKeyUsage leaves out serverAuth is refused.
pub(super) fn without_server_auth(leaf: &CertInfo) -> String {
    format!(
        "'{}' has extended key usage {}, without serverAuth: a client accepts a server certificate only with serverAuth (or with no extendedKeyUsage at all)",
        leaf.short_name(),
        leaf.extended_key_usages()
    )
}

fn server_chain_rejected(f: &Facts<'_>, context: &Context, out: &mut Vec<Proposal>) {
    let Some((i, false, problem, detail)) = f.verification else {
        return;
    };
    let chain = f.server_chain.unwrap_or(&[]);
    let verdict = format!(
        "iotdoctor rejected the server's certificate ({}): {detail}",
        f.at(i)
    );
    let Some(leaf) = chain.first() else {
        out.push(Proposal::new(
            CauseId::ServerCaUntrusted,
            POSSIBLE,
            vec![verdict],
        ));
        return;
    };
    let trusted = if context.trusted_cas.is_empty() {
        "the Mozilla root store bundled with iotdoctor (no --ca given)".to_string()
    } else {
        context
            .trusted_cas
            .iter()
            .map(|n| format!("'{}'", short_dn(n)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match problem.unwrap_or(VerifyProblem::Other) {
        VerifyProblem::NameMismatch => {
            let names = if leaf.subject_alt_names.is_empty() {
                format!("no subjectAltName; subject '{}'", leaf.subject)
            } else {
                leaf.subject_alt_names.join(", ")
            };
            let used = context.server_name.as_deref().unwrap_or("?");
            out.push(
                Proposal::new(
                    CauseId::ServerNameMismatch,
                    SEEN,
                    vec![verdict, format!("the certificate '{}' covers {names}; iotdoctor connected as '{used}'", leaf.short_name())],
                )
                .fix(format!("Connect with a name the certificate covers ({names}), or use --sni to send and check another name.")),
            );
        }
        VerifyProblem::Expired | VerifyProblem::NotYetValid => out.push(Proposal::new(
            CauseId::ServerCertExpired,
            SEEN,
            vec![
                verdict,
                format!(
                    "'{}' is valid from {} to {}",
                    leaf.short_name(),
                    leaf.not_before,
                    leaf.not_after
                ),
            ],
        )),
        VerifyProblem::UnknownIssuer => {
            let top = &chain[chain.len() - 1];
            let sent = format!(
                "the server sent {} certificate(s): {}",
                chain.len(),
                chain
                    .iter()
                    .map(|c| format!("'{}'", c.short_name()))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            );
            let trusted_line = format!("trusted CAs: {trusted}");
            if top.self_issued {
                let what = if chain.len() == 1 {
                    "a self-signed certificate"
                } else {
                    "a root"
                };
                out.push(Proposal::new(
                    CauseId::ServerCaUntrusted,
                    STRONG,
                    vec![
                        verdict,
                        sent,
                        format!(
                            "the chain ends at {what} '{}', which is not trusted",
                            top.short_name()
                        ),
                        trusted_line,
                    ],
                ));
            } else if chain.len() == 1 {
                out.push(Proposal::new(
                    CauseId::ServerChainIncomplete,
                    SLIGHT_LEAN,
                    vec![
                        verdict.clone(),
                        sent.clone(),
                        format!("only the leaf was sent; its issuer '{}' is not a trusted CA: if it is an intermediate, the server should send it", short_dn(&top.issuer)),
                    ],
                ));
                out.push(Proposal::new(
                    CauseId::ServerCaUntrusted,
                    UNLIKELY,
                    vec![
                        verdict,
                        format!(
                            "if '{}' is a root, it is not among the {trusted_line}",
                            short_dn(&top.issuer)
                        ),
                    ],
                ));
            } else {
                let mut proposal = Proposal::new(
                    CauseId::ServerCaUntrusted,
                    STRONG,
                    vec![
                        verdict,
                        sent,
                        format!(
                            "the chain ends at '{}', issued by '{}', which is not among the {trusted_line}",
                            top.short_name(),
                            short_dn(&top.issuer)
                        ),
                    ],
                );
                if top.issuer.contains("Amazon Root CA") {
                    proposal = proposal.fix(format!(
                        "This server chains to '{}': give that Amazon root with --ca (AWS IoT serves Root CA 1 for RSA, Root CA 3 for ECC).",
                        short_dn(&top.issuer)
                    ));
                }
                out.push(proposal);
            }
        }
        VerifyProblem::WrongPurpose => out.push(Proposal::new(
            CauseId::ServerCertUsage,
            SEEN,
            vec![
                verdict,
                without_server_auth(leaf),
            ],
        )),
        VerifyProblem::CaUsedAsLeaf => out.push(Proposal::new(
            CauseId::ServerCertUsage,
            SEEN,
            vec![
                verdict,
                format!(
                    "'{}' is a CA certificate (basicConstraints CA:TRUE{}) sent as the server's own: RFC 5280 clients such as rustls refuse it, while OpenSSL, mbedTLS and wolfSSL clients accept it when it is their CA file, so a device may connect where iotdoctor cannot",
                    leaf.short_name(),
                    if leaf.self_issued { ", self-signed" } else { "" }
                ),
            ],
        )),
        _ => out.push(Proposal::new(
            CauseId::AlertUnexplained,
            POSSIBLE,
            vec![verdict],
        )),
    }
}
