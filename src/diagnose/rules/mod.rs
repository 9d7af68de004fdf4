//! Rules from a transcript (and the credential findings) to causes. Every rule reasons from what
//! was sent and seen, and cites it; no rule maps an alert number to a cause by itself, because
//! different TLS stacks send 40, 42, 48 or 116 for the same mistake.
//!
//! Each rule lives in its own file and reads the [`Facts`] gathered once from the transcript.
//! [`RULES`] lists them in the order they speak, and says, for each, when its subject belongs to
//! another rule: every decision that spans rules is in this file.

mod client_certificate;
mod client_rejected_server;
mod facts;
mod hello_refused;
mod mqtt;
mod not_tls;
mod peer_closed;
mod server_certificate;
mod stopped_short;
mod tls13_from_outside;
mod transport;
mod unexplained;
mod version_not_offered;

use crate::credentials::Finding;
use crate::model::{CauseId, Transcript};

use super::{Context, Proposal};
use facts::Facts;

/// What every rule reads.
struct Input<'a> {
    facts: &'a Facts<'a>,
    findings: &'a [Finding],
    context: &'a Context,
    /// Whether the connection failed, decided from the facts before any rule speaks.
    failed: bool,
}

/// One rule of the list.
struct Rule {
    /// What the rule is about, for readers and test failures.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "read by people and by the tests")
    )]
    name: &'static str,
    /// Proposes causes from the input and the proposals of the rules before it, into a list
    /// that holds this rule's proposals only.
    run: fn(&Input<'_>, &[Proposal], &mut Vec<Proposal>),
    /// When the rule stays silent, given the input and the proposals of the rules before it:
    /// its subject is another rule's, or there is nothing left for it to say.
    silent_when: fn(&Input<'_>, &[Proposal]) -> bool,
}

/// For a rule whose own conditions are all it needs.
fn never(_: &Input<'_>, _: &[Proposal]) -> bool {
    false
}

/// Every rule, in the order they speak. Among causes of equal confidence and tie-break, the
/// earlier rule's comes first, and when two rules propose one cause the evidence of the earlier
/// comes first. A rule that reads other rules' proposals comes after all of them.
const RULES: &[Rule] = &[
    Rule {
        name: "transport",
        run: transport::rule,
        silent_when: never,
    },
    Rule {
        name: "not-tls",
        run: not_tls::rule,
        silent_when: never,
    },
    Rule {
        name: "client-certificate",
        run: client_certificate::rule,
        silent_when: never,
    },
    Rule {
        name: "client-rejected-server",
        run: client_rejected_server::rule,
        // iotdoctor's own verdict on the server's certificate says more than the client's alert
        // when it failed (server-certificate explains it), or when iotdoctor was the client. In
        // a capture, a chain that passes iotdoctor's check and not the device's is this rule's.
        silent_when: |input, _| {
            input
                .facts
                .verification
                .is_some_and(|(_, ok, ..)| !ok || !input.context.observed)
        },
    },
    Rule {
        name: "server-certificate",
        run: server_certificate::rule,
        silent_when: never,
    },
    Rule {
        name: "hello-refused",
        run: hello_refused::rule,
        silent_when: never,
    },
    Rule {
        name: "version-not-offered",
        run: version_not_offered::rule,
        silent_when: never,
    },
    Rule {
        name: "tls13-from-outside",
        run: tls13_from_outside::rule,
        silent_when: never,
    },
    Rule {
        name: "mqtt-rejected",
        run: mqtt::rejected,
        silent_when: never,
    },
    Rule {
        name: "mqtt-closed-after-connect",
        run: mqtt::closed_after_connect,
        // A TLS alert after the CONNECT is the TLS rules' subject: a TLS 1.3 server refuses the
        // client certificate after the client has finished, and may do it then.
        silent_when: |input, _| {
            let f = input.facts;
            f.mqtt_connect
                .is_some_and(|(connect, _)| f.server_alert.is_some_and(|a| a.index > connect))
        },
    },
    Rule {
        name: "stopped-short",
        run: stopped_short::rule,
        // Only a handshake that stopped with nothing seen to say why: what is seen is the other
        // rules' subject.
        silent_when: |input, _| !input.facts.stopped_short(),
    },
    Rule {
        name: "peer-closed",
        run: peer_closed::rule,
        // A close without an alert is peer-closed's only when nothing else explains it: the
        // server's alert (the rules of the alert), the broker refusing the CONNECT
        // (mqtt-closed-after-connect), a TLS 1.3 refusal read from record sizes
        // (tls13-from-outside), a peer that does not speak TLS (not-tls). How sure it is
        // also depends on whether other rules proposed anything.
        silent_when: |input, made| {
            let f = input.facts;
            f.server_alert.is_some()
                || made.iter().any(|p| p.id == CauseId::MqttClosedAfterConnect)
                || f.opaque_rejection().is_some()
                || f.not_tls.is_some()
                || f.client_not_tls.is_some()
        },
    },
    Rule {
        name: "unexplained",
        run: unexplained::rule,
        // The fallback: a failed connection that no rule explained still gets a cause, and one
        // that did not fail gets none.
        silent_when: |input, made| !input.failed || !made.is_empty(),
    },
];

/// Runs every rule over the transcript. Returns the proposals, and whether the connection
/// failed.
pub(super) fn propose(
    transcript: &Transcript,
    findings: &[Finding],
    context: &Context,
) -> (Vec<Proposal>, bool) {
    let facts = Facts::of(transcript);
    let input = Input {
        facts: &facts,
        findings,
        context,
        failed: facts.failed(),
    };
    let mut made: Vec<Proposal> = Vec::new();
    for rule in RULES {
        if (rule.silent_when)(&input, &made) {
            continue;
        }
        let mut own = Vec::new();
        (rule.run)(&input, &made, &mut own);
        made.append(&mut own);
    }
    (made, input.failed)
}

/// Whether the connection failed: the one verdict every rule and the report rely on. A
/// handshake that did not visibly finish is a failure even when nothing says why, so that a
/// failed or unfinished handshake is never called ok.
impl Facts<'_> {
    /// Whether the connection failed rather than ended normally.
    fn failed(&self) -> bool {
        self.failed_visibly() || self.stopped_short()
    }

    /// Whether something seen says the connection failed: an alert, an error, a refusal.
    fn failed_visibly(&self) -> bool {
        let server_closed_first = !self.server_accepted
            && match (self.server_close, self.client_ended) {
                (Some((close, _)), Some(ours)) => close < ours,
                (Some(_), None) => true,
                _ => false,
            };
        let mqtt_refused = match (self.mqtt_connect, self.mqtt_connack) {
            (_, Some((_, code, _))) => code != 0,
            (Some((connect, _)), None) => self.server_close.is_some_and(|(close, _)| {
                close > connect && self.client_ended.is_none_or(|ours| ours > close)
            }),
            (None, None) => false,
        };
        mqtt_refused
            || self.server_alert.is_some()
            || self.client_alert.is_some()
            || self.client_error.is_some()
            || self.server_error.is_some()
            || self.client_left_silently.is_some()
            || self.transport.is_some()
            || self.not_tls.is_some()
            || self.client_not_tls.is_some()
            || self.client_silent.is_some()
            || server_closed_first
            || self.opaque_rejection().is_some()
            || self.hidden_client_alert.is_some()
            || self.renegotiation_refused.is_some()
    }

    /// A handshake that started and stopped short with nothing to say why: no alert, no error,
    /// no refusal seen (a capture that stops or loses packets, a client that gives up, a client
    /// that stops inside its first record).
    fn stopped_short(&self) -> bool {
        (self.client_hello.is_some()
            || self.client_handshake_record.is_some()
            || self.lost_bytes()
            || !self.partial_records.is_empty())
            && !self.handshake_finished()
            && !self.failed_visibly()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{FindingId, Severity};
    use crate::diagnose::test_support::*;
    use crate::diagnose::{Context, diagnose};
    use crate::model::{CloseKind, Side, What};

    #[test]
    fn preflight_findings_become_causes_only_when_the_handshake_failed() {
        let expired = finding(FindingId::ClientCertExpired, Severity::Error);
        let mut ok = asked_for_a_certificate(vec![
            fixture_cert("client-ec.pem"),
            fixture_cert("intermediate-ca.pem"),
        ]);
        // The server's ChangeCipherSpec: it accepted the client's flight.
        ok.push(4.0, Side::Server, change_cipher_spec());
        ok.push(
            5.0,
            Side::Client,
            What::Close {
                how: CloseKind::CloseNotify,
            },
        );
        ok.push(
            5.1,
            Side::Server,
            What::Close {
                how: CloseKind::Eof,
            },
        );
        assert!(
            diagnose(
                std::slice::from_ref(&expired),
                Some(&ok),
                &Context::default()
            )
            .causes
            .is_empty()
        );

        let mut failed = asked_for_a_certificate(vec![
            fixture_cert("client-ec.pem"),
            fixture_cert("intermediate-ca.pem"),
        ]);
        alert(&mut failed, 45);
        assert_eq!(top(&failed, &[expired]).0, CauseId::ClientCertExpired);
    }

    #[test]
    fn a_tls12_server_that_sent_its_change_cipher_spec_finished_the_handshake() {
        let accepted = hello_exchange(Some((Side::Server, change_cipher_spec())));
        let diagnosis = diagnose(&[], Some(&accepted), &Context::default());
        assert!(diagnosis.causes.is_empty(), "{diagnosis:#?}");
    }

    #[test]
    fn the_rules_that_read_other_rules_proposals_come_after_them() {
        let names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        assert_eq!(names[names.len() - 2..], ["peer-closed", "unexplained"]);
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "a rule listed twice: {names:?}");
    }
}
