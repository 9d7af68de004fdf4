//! The client refused the server's certificate, seen from outside the client (a capture, or
//! `serve`): its alert, the chain the server sent, and the name the client asked for.

use crate::diagnose::confidence::{
    ALTERNATIVE, LIKELY, NEAR_CERTAIN, PLAUSIBLE, POSSIBLE, PROBABLE, SHADE, STRONG, SUGGESTED,
    UNLIKELY,
};
use crate::model::certificate::{CertInfo, short_dn};
use crate::model::{CauseId, Side, What};

use super::facts::{AlertAt, Facts};
use super::server_certificate::without_server_auth;
use super::{Input, Proposal};

/// The client refused the server's certificate (seen from a capture or a server's side).
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let f = input.facts;
    if f.client_alert.is_none()
        && let Some((record, length)) = f.hidden_client_alert
    {
        hidden_refusal(f, record, length, out);
        return;
    }
    let Some(alert) = f.client_alert else { return };
    let after_server_certificate = f.events[..alert.index]
        .iter()
        .any(|e| e.from == Side::Server && matches!(&e.what, What::Certificate { .. }));
    // TLS 1.3 without keys: the server's Certificate is inside its encrypted flight, and a
    // client that refuses it answers before sending a flight of its own.
    let after_hidden_certificate = f.tls13
        && !f.saw_inside
        && f.encrypted_records
            .iter()
            .any(|(i, from, _)| *from == Side::Server && *i < alert.index)
        && !f
            .encrypted_records
            .iter()
            .any(|(i, from, _)| *from == Side::Client && *i < alert.index);
    let before_own_certificate = f.client_cert.is_none_or(|(i, _)| i > alert.index);
    if !(after_server_certificate || after_hidden_certificate) || !before_own_certificate {
        return;
    }
    let line = f.alert_line(alert);
    let chain = f.server_chain.unwrap_or(&[]);
    let top = chain.last().map(|c| {
        format!(
            "; the server's chain ends at '{}', issued by '{}'",
            c.short_name(),
            short_dn(&c.issuer)
        )
    });
    let confidence = match (alert.code, after_server_certificate) {
        (48, true) => LIKELY,
        (48, false) => SUGGESTED,
        (_, true) => POSSIBLE,
        (_, false) => UNLIKELY,
    };
    let after_certificate = if after_server_certificate {
        format!(
            "{line}, right after the server's Certificate{}",
            top.unwrap_or_default()
        )
    } else {
        // A key log given that does not decrypt the connection is no "no key log".
        let hidden = if f.key_log_problem.is_some() {
            "the key log given does not decrypt it"
        } else {
            "no key log"
        };
        format!(
            "{line}, right after the server's encrypted flight (TLS 1.3, {hidden}: its Certificate is in it) and before any flight of the client's own"
        )
    };
    // In a capture checked with --ca, iotdoctor's own check may pass where the device's failed:
    // the device checks against something else than it was given.
    let passed_here = f.verification.filter(|v| v.1).map(|(i, ..)| {
        let differs = match alert.code {
            48 => "the device's CA store lacks the CA that iotdoctor was given",
            45 => "the device's clock, or the validity it checks, differs",
            _ => "the device's CA store, its clock or the name it checks differs",
        };
        format!(
            "iotdoctor's own check of the server's chain passed ({}, against the CA given with --ca and the name asked for): {differs}",
            f.at(i)
        )
    });
    let evidence = || -> Vec<String> {
        std::iter::once(after_certificate.clone())
            .chain(passed_here.clone())
            .collect()
    };
    // A fault of the leaf's role that the capture shows: every client stack refuses a server
    // certificate whose extendedKeyUsage leaves out serverAuth (mbedTLS and OpenSSL with 43,
    // wolfSSL with 42).
    let wrong_usage = chain
        .first()
        .filter(|leaf| leaf.raw.eku_server_auth == Some(false));
    if let Some(leaf) = wrong_usage {
        let confidence = match alert.code {
            43 | 42 | 46 => NEAR_CERTAIN,
            _ => ALTERNATIVE,
        };
        let mut evidence = evidence();
        evidence.push(without_server_auth(leaf));
        out.push(Proposal::new(
            CauseId::ServerCertUsage,
            confidence,
            evidence,
        ));
    }
    match alert.code {
        // Sent for a certificate of a kind the client does not accept for this use: its key
        // usage, extended key usage or key type, none of which is about the CA.
        43 if wrong_usage.is_none() => out.push(Proposal::new(
            CauseId::ServerCertUsage,
            POSSIBLE,
            {
                let mut evidence = evidence();
                evidence.push("the server's certificate shows no fault of its usages: the client may not support its key type or signature".into());
                evidence
            },
        )),
        43 => {}
        48 | 42 | 46 => match only_leaf_sent(chain) {
            Some(leaf) => {
                let issuer = short_dn(&leaf.issuer);
                let mut evidence = evidence();
                evidence.push(format!("the server sent only its certificate '{}', not its issuer '{issuer}': a client that trusts the root above '{issuer}' cannot build the chain", leaf.short_name()));
                out.push(Proposal::new(
                    CauseId::ServerChainIncomplete,
                    confidence - SHADE,
                    evidence,
                ));
                out.push(Proposal::new(
                    CauseId::ServerCaUntrusted,
                    ALTERNATIVE,
                    vec![format!(
                        "if '{issuer}' is itself a root, the client does not trust it"
                    )],
                ));
            }
            None => out.push(Proposal::new(
                CauseId::ServerCaUntrusted,
                confidence,
                evidence(),
            )),
        },
        45 => out.push(Proposal::new(
            CauseId::ServerCertExpired,
            PROBABLE,
            std::iter::once(line).chain(passed_here).collect(),
        )),
        _ => {}
    }
    if let Some(leaf) = chain.first()
        && let Some(mismatch) = judge_the_name(f, alert, leaf, out)
    {
        out.push(mismatch);
    }
}

/// TLS 1.3 without keys: the client answered the server's encrypted flight with one record of
/// exactly an alert's size instead of its Finished. Which alert it was, and so which check of
/// the server's certificate failed, is hidden: the causes are the usual ones, none certain.
fn hidden_refusal(f: &Facts<'_>, record: usize, length: u16, out: &mut Vec<Proposal>) {
    let tag = f.unpadded_alert() - 3;
    let hash = if f.cipher_suite == Some(0x1302) {
        48
    } else {
        32
    };
    let finished = 4 + hash + 1 + tag;
    let suite = f
        .cipher_suite
        .map(|code| format!(" with {}", crate::model::codes::cipher_suite(code)))
        .unwrap_or_default();
    let closed = f
        .client_ended
        .filter(|ended| *ended > record)
        .or_else(|| {
            f.events
                .iter()
                .enumerate()
                .skip(record + 1)
                .find(|(_, e)| e.from == Side::Client && matches!(e.what, What::Close { .. }))
                .map(|(i, _)| i)
        })
        .map(|i| format!(", then closed the connection ({})", f.at(i)))
        .unwrap_or_default();
    let mut evidence = vec![
        format!(
            "TLS 1.3, no key log: the client answered the server's encrypted flight (its Certificate is in it) with one encrypted record of {length} bytes ({}){closed}",
            f.at(record)
        ),
        format!(
            "{length} bytes is exactly an encrypted alert without padding (2 bytes, the content type and a {tag}-byte tag{suite}); the client's Finished would be {finished} bytes: the client sent an alert instead of finishing the handshake, which failed"
        ),
        "known: the client refused something of the server's flight, most often its certificate; not known: which alert it sent, so whether the CA, the name or the validity failed (the key log would tell)".into(),
    ];
    if let Some((hello, sni)) = client_sni(f) {
        evidence.push(format!(
            "the client asked for '{sni}' (SNI, {}); the certificate it checked is encrypted",
            f.at(hello)
        ));
    }
    let keylog = "Capture again with the client's key log (SSLKEYLOGFILE, or iotdoctor connect --keylog) and run analyze --keylog FILE: the alert then says which check failed.";
    out.push(Proposal::new(CauseId::ServerCaUntrusted, PLAUSIBLE, evidence).fix(keylog));
    out.push(
        Proposal::new(
            CauseId::ServerNameMismatch,
            ALTERNATIVE,
            vec!["if the server's certificate does not cover the name the client connects to, the client refuses it the same way".into()],
        )
        .fix(keylog),
    );
    out.push(
        Proposal::new(
            CauseId::ServerCertExpired,
            ALTERNATIVE,
            vec!["if the server's certificate is outside its validity period (or the device's clock is wrong), the client refuses it the same way".into()],
        )
        .fix(keylog),
    );
}

/// What the client's SNI says about its rejection of `leaf`: a name the certificate does not
/// cover is a cause of its own (returned). Without SNI, the client checked some name or none,
/// which cannot be known: the first of the proposals already `made` says so.
fn judge_the_name(
    f: &Facts<'_>,
    alert: AlertAt<'_>,
    leaf: &CertInfo,
    made: &mut [Proposal],
) -> Option<Proposal> {
    match client_sni(f) {
        Some((hello, sni)) => {
            (!leaf.covers(sni)).then(|| name_not_covered(f, alert, (hello, sni), leaf))
        }
        None => {
            if let Some(first) = made.first_mut() {
                first.evidence.push(format!(
                    "the client sent no SNI: the name it checked the certificate against, if any, cannot be known; the certificate '{}' covers {}",
                    leaf.short_name(),
                    leaf.covered_names().join(", ")
                ));
            }
            None
        }
    }
}

/// The client's SNI, with the index of its ClientHello, when it sent one.
fn client_sni<'a>(f: &Facts<'a>) -> Option<(usize, &'a str)> {
    Some((f.client_hello?, f.sni?))
}

/// The client rejected a server certificate that does not cover the name it asked for. A
/// client checks the certificate against the name it connects to, which is the name it sends
/// as SNI; alerts that blame another problem (unknown_ca, certificate_expired) are stacks
/// reporting the check that failed first, and the name would fail next.
fn name_not_covered(
    f: &Facts<'_>,
    alert: AlertAt<'_>,
    (hello, sni): (usize, &str),
    leaf: &CertInfo,
) -> Proposal {
    let confidence = if [48, 45].contains(&alert.code) {
        PLAUSIBLE
    } else {
        STRONG
    };
    let covered = leaf.covered_names().join(", ");
    let kind = if sni.parse::<std::net::IpAddr>().is_ok() {
        "IP"
    } else {
        "DNS"
    };
    Proposal::new(
        CauseId::ServerNameMismatch,
        confidence,
        vec![
            format!(
                "{}, right after the server's Certificate",
                f.alert_line(alert)
            ),
            format!(
                "the client asked for '{sni}' (SNI, {}); the server's certificate '{}' covers {covered}, not '{sni}'",
                f.at(hello),
                leaf.short_name()
            ),
        ],
    )
    .fix(format!(
        "The server's certificate must cover the name the device connects to: issue it with {kind}:{sni} among its subjectAltNames, or have the device connect with a name it covers ({covered})."
    ))
}

/// The server's chain when it is one certificate that is not its own issuer: its issuer, an
/// intermediate or a root, was not sent.
fn only_leaf_sent(chain: &[CertInfo]) -> Option<&CertInfo> {
    match chain {
        [leaf] if !leaf.self_issued => Some(leaf),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnose::test_support::*;
    use crate::model::{CauseId, Handshake, Seen, Side, Transcript, What, codes};

    /// A TLS 1.2 ClientHello with `sni`, the server's Certificate (`localhost`, its intermediate),
    /// and the client's alert `code` right after it.
    fn client_rejects_localhost(sni: Option<&str>, code: u8) -> Transcript {
        let mut t = asked_for_a_certificate(vec![]);
        t.events.truncate(2);
        let What::Handshake {
            message: Handshake::ClientHello { sni: sent, .. },
            ..
        } = &mut t.events[0].what
        else {
            unreachable!()
        };
        *sent = sni.map(str::to_string);
        t.push(
            2.0,
            Side::Server,
            What::Certificate {
                record: Some(3),
                seen: Seen::Wire,
                certificates: vec![
                    fixture_cert("server.pem"),
                    fixture_cert("intermediate-ca.pem"),
                ],
            },
        );
        t.push(
            3.0,
            Side::Client,
            What::Alert {
                record: Some(4),
                seen: Seen::Wire,
                level: codes::alert_level(2),
                description: codes::alert(code),
            },
        );
        t
    }

    #[test]
    fn a_client_rejecting_a_certificate_that_does_not_cover_its_sni_is_a_name_mismatch() {
        for code in [42, 46, 43] {
            let causes = causes_of(&client_rejects_localhost(Some("broker.invalid"), code));
            let top = &causes[0];
            assert_eq!(top.id, CauseId::ServerNameMismatch, "alert {code}");
            let evidence = top.evidence.join("\n");
            assert!(
                evidence.contains("'broker.invalid'")
                    && evidence.contains("localhost, 127.0.0.1, ::1"),
                "{evidence}"
            );
            assert!(
                top.fixes[0].contains("DNS:broker.invalid"),
                "{:?}",
                top.fixes
            );
        }
    }

    #[test]
    fn unknown_ca_stays_first_and_the_name_comes_second() {
        let causes = causes_of(&client_rejects_localhost(Some("broker.invalid"), 48));
        let ids: Vec<CauseId> = causes.iter().map(|c| c.id).collect();
        assert_eq!(
            ids[..2],
            [CauseId::ServerCaUntrusted, CauseId::ServerNameMismatch]
        );
    }

    #[test]
    fn a_plaintext_unknown_ca_after_a_draft_tls13_flight_is_the_server_ca() {
        use crate::diagnose::rules::tls13_from_outside::tests::tls13_outside;
        // A TLS 1.3 draft (0x7f1c) encrypts the server's Certificate as TLS 1.3 does; the
        // client answers its flight with a plaintext alert 48.
        let mut t = tls13_outside(0x7f1c, 0x1301, &[], &[]);
        t.events.pop();
        t.push(
            3.0,
            Side::Client,
            What::Alert {
                record: Some(7),
                seen: Seen::Wire,
                level: codes::alert_level(2),
                description: codes::alert(48),
            },
        );
        assert_eq!(causes_of(&t)[0].id, CauseId::ServerCaUntrusted);
    }

    #[test]
    fn a_covered_sni_or_none_makes_no_name_mismatch() {
        for (sni, code) in [
            (Some("localhost"), 42),
            (Some("LocalHost."), 48),
            (None, 42),
        ] {
            let causes = causes_of(&client_rejects_localhost(sni, code));
            assert_eq!(causes[0].id, CauseId::ServerCaUntrusted, "{sni:?} {code}");
            assert!(
                causes.iter().all(|c| c.id != CauseId::ServerNameMismatch),
                "{sni:?} {code}: {causes:#?}"
            );
            let no_sni_said = causes[0]
                .evidence
                .iter()
                .any(|e| e.contains("sent no SNI") && e.contains("cannot be known"));
            assert_eq!(no_sni_said, sni.is_none(), "{sni:?}");
        }
    }
}
