//! `connect --mqtt`: the TLS handshake is done; did the broker accept the CONNECT? A CONNACK
//! that refuses it, or a close without a CONNACK, and what each broker code asks to change.

use crate::diagnose::confidence::{CERTAIN, LIKELY, POSSIBLE};
use crate::model::MqttConnect;
use crate::model::{CauseId, CloseKind};

use super::facts::Facts;
use super::{Input, Proposal};

/// The broker answered the CONNECT with a CONNACK that refuses it.
pub(super) fn rejected(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let (f, context) = (input.facts, input.context);
    let (Some((connect_index, connect)), Some((i, code, name))) = (f.mqtt_connect, f.mqtt_connack)
    else {
        return;
    };
    if code == 0 {
        return;
    }
    let mut proposal = Proposal::new(
        CauseId::MqttRejected,
        CERTAIN,
        vec![
            "the TLS handshake succeeded".into(),
            sent(f, connect_index, connect),
            format!("the broker answered CONNACK {code} '{name}' ({})", f.at(i)),
        ],
    );
    for fix in connack_fixes(connect.level, code, context.aws_iot) {
        proposal = proposal.fix(fix);
    }
    out.push(proposal);
}

/// The broker closed the connection after the CONNECT without a CONNACK (and without a TLS
/// alert: that is the TLS rules' subject).
pub(super) fn closed_after_connect(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let (f, context) = (input.facts, input.context);
    let Some((connect_index, connect)) = f.mqtt_connect else {
        return;
    };
    if f.mqtt_connack.is_some() {
        return;
    }
    let Some((close, how)) = f.server_close.filter(|(close, _)| *close > connect_index) else {
        return;
    };
    if f.client_ended.is_some_and(|ours| ours < close) {
        return;
    }
    let how = if how == CloseKind::Reset {
        "reset the connection"
    } else {
        "closed the connection"
    };
    let mut evidence = vec![
        sent(f, connect_index, connect),
        format!(
            "the broker {how} ({}) without a CONNACK and without a TLS alert",
            f.at(close)
        ),
    ];
    let confidence = if f.server_accepted {
        evidence.insert(
            0,
            if f.tls13 {
                "the server accepted the TLS 1.3 handshake, client certificate included: it sent records after the client's Finished, and no alert".into()
            } else {
                "the server completed the TLS handshake (its ChangeCipherSpec and Finished)".into()
            },
        );
        LIKELY
    } else {
        evidence.push(
            "the server sent nothing between the end of the TLS 1.3 handshake and the close: a server that refuses a client certificate without an alert would look the same".into(),
        );
        POSSIBLE
    };
    let mut proposal = Proposal::new(CauseId::MqttClosedAfterConnect, confidence, evidence);
    if context.aws_iot {
        proposal.evidence.push(
            "AWS IoT Core closes the connection without a CONNACK when it refuses a CONNECT".into(),
        );
        for fix in AWS_CONNECT_FIXES {
            proposal = proposal.fix(*fix);
        }
    }
    out.push(proposal);
}

/// The evidence line for the client's CONNECT.
fn sent(f: &Facts<'_>, index: usize, connect: &MqttConnect) -> String {
    format!(
        "the client sent MQTT CONNECT, client id '{}'{} ({})",
        connect.client_id,
        if connect.username {
            ", with a user name"
        } else {
            ""
        },
        f.at(index)
    )
}

/// Why AWS IoT Core refuses a CONNECT after a good handshake, and where it says so.
const AWS_CONNECT_FIXES: &[&str] = &[
    "AWS IoT: the certificate must be ACTIVE and attached to a policy (and usually to the thing): IoT console > Security > Certificates.",
    "AWS IoT: the policy must allow iot:Connect on arn:aws:iot:REGION:ACCOUNT:client/CLIENT_ID for this client id (policies often allow only the thing name: --client-id THING_NAME).",
    "AWS IoT: another connection with the same client id is disconnected (DUPLICATE_CLIENTID): give each device its own client id.",
    "AWS IoT: see why in CloudWatch Logs (log group AWSIotLogsV2, eventType Connect, status Failure, reason such as AUTHORIZATION_FAILURE) and in the lifecycle events ($aws/events/presence/disconnected/CLIENT_ID).",
];

/// What to change for a CONNACK code.
fn connack_fixes(level: u8, code: u8, aws_iot: bool) -> Vec<String> {
    let v5 = level == 5;
    let fix = match (v5, code) {
        (false, 1) | (true, 0x84) => Some(
            "The broker does not accept this MQTT version: try the other one (--mqtt-version 3.1.1 or 5) and configure the device to match.",
        ),
        (false, 2) | (true, 0x85) => Some(
            "The broker refuses this client id: use one it allows (length, characters, prefix, or one registered for this device).",
        ),
        (false, 3) | (true, 0x88 | 0x89 | 0x9f) => {
            Some("The broker is unavailable or busy: retry later, with back-off.")
        }
        (false, 4) | (true, 0x86 | 0x8c) => Some(
            "The broker refuses the user name or password: check the credentials the device sends (or that it sends none where the certificate is the identity).",
        ),
        (false, 5) | (true, 0x87) => Some(
            "The broker does not authorise this client: check its ACL / policy for this identity (certificate, user name) and client id.",
        ),
        (true, 0x8a) => Some("The broker has banned this client: ask its operator."),
        (true, 0x9c | 0x9d) => {
            Some("The broker redirects this client to another server: connect there.")
        }
        _ => None,
    };
    let mut fixes: Vec<String> = fix.into_iter().map(str::to_string).collect();
    let not_authorised = matches!((v5, code), (false, 5) | (true, 0x87));
    if aws_iot && not_authorised {
        fixes.extend(AWS_CONNECT_FIXES.iter().map(|f| f.to_string()));
    }
    fixes
}

#[cfg(test)]
mod tests {
    use crate::diagnose::test_support::*;
    use crate::diagnose::{Context, diagnose};
    use crate::model::{CauseId, CloseKind, Handshake, Seen, Side, Transcript, What, codes};

    /// A TLS 1.3 handshake seen from inside up to the client's Finished, then an MQTT CONNECT; the
    /// server's records after the client's flight are `tickets`.
    fn tls13_then_connect(tickets: usize) -> Transcript {
        let mut t = Transcript::default();
        let server_hello = Handshake::ServerHello {
            version: codes::version(0x0304),
            cipher_suite: codes::cipher_suite(0x1301),
            key_share: None,
            alpn: None,
            max_fragment_length: None,
        };
        t.push(
            1.0,
            Side::Server,
            What::Handshake {
                record: 2,
                message: server_hello,
            },
        );
        t.push(
            1.5,
            Side::Server,
            What::Certificate {
                record: None,
                seen: Seen::Decrypted,
                certificates: vec![fixture_cert("server.pem")],
            },
        );
        let record = |index, from| {
            (
                from,
                What::Record {
                    index,
                    content_type: codes::content_type(23),
                    version: codes::version(0x0303),
                    length: 60,
                    encrypted: true,
                },
            )
        };
        let mut events = vec![record(5, Side::Client)];
        for i in 0..tickets {
            events.push(record(6 + i as u32, Side::Server));
        }
        for (from, what) in events {
            t.push(2.0, from, what);
        }
        t.push(
            3.0,
            Side::Client,
            What::MqttConnect {
                connect: crate::model::MqttConnect {
                    protocol: "MQTT".into(),
                    level: 4,
                    client_id: "thing".into(),
                    keep_alive: 60,
                    clean_start: true,
                    username: false,
                    password: false,
                    will: false,
                },
            },
        );
        t.push(
            4.0,
            Side::Server,
            What::Close {
                how: CloseKind::Eof,
            },
        );
        t
    }

    #[test]
    fn a_close_after_connect_is_surer_when_the_server_had_accepted_the_handshake() {
        let accepted = diagnose(&[], Some(&tls13_then_connect(2)), &Context::default());
        assert_eq!(accepted.causes.len(), 1, "{accepted:?}");
        assert_eq!(accepted.causes[0].id, CauseId::MqttClosedAfterConnect);
        assert!(accepted.causes[0].confidence >= 0.8);

        // Nothing from the server after the handshake: a silent refusal of the certificate would
        // look the same, and the diagnosis says so.
        let silent = diagnose(&[], Some(&tls13_then_connect(0)), &Context::default());
        let cause = silent
            .causes
            .iter()
            .find(|c| c.id == CauseId::MqttClosedAfterConnect)
            .expect("still the likely reading");
        assert!(cause.confidence <= 0.5);
        assert!(
            cause
                .evidence
                .iter()
                .any(|e| e.contains("would look the same"))
        );
    }
}
