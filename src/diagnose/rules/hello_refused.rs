//! The server refused the ClientHello itself, before any ServerHello: what the hello offered and
//! the alert say which negotiation failed.

use crate::diagnose::confidence::{FAINT, PLAUSIBLE, STRONG, WEAK};
use crate::model::codes::Named;
use crate::model::{CauseId, Handshake, Side, What};

use super::facts::Facts;
use super::{Input, Proposal};

/// The server refused the ClientHello itself.
pub(super) fn rule(input: &Input<'_>, _: &[Proposal], out: &mut Vec<Proposal>) {
    let (f, context) = (input.facts, input.context);
    let Some(alert) = f.server_alert else { return };
    if f.server_hello.is_some_and(|hello| hello < alert.index) {
        return;
    }
    // Bytes of the server missing from a capture before its alert may hold its ServerHello.
    if f.lost(Side::Server, 0..alert.index) > 0 {
        return;
    }
    let alert_line = f.alert_line(alert);
    let before = "before any ServerHello: the server refused the ClientHello itself".to_string();
    // What the ClientHello offered settles a version mismatch, whatever the alert says (rustls
    // answers 40, OpenSSL 70): TLS 1.2 is the least a current server accepts.
    if let Some(i) = f.client_hello
        && let What::Handshake {
            message: Handshake::ClientHello { versions, .. },
            ..
        } = &f.events[i].what
        && !versions.is_empty()
        && versions
            .iter()
            .all(|v| v.code < 0x0303 || v.code & 0x0f0f == 0x0a0a)
    {
        let offered = versions
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        out.push(Proposal::new(
            CauseId::ProtocolVersionMismatch,
            STRONG,
            vec![format!("the ClientHello offers only {offered} ({}): servers today accept TLS 1.2 and 1.3", f.at(i)), alert_line],
        ));
        return;
    }
    match alert.code {
        70 => out.push(Proposal::new(
            CauseId::ProtocolVersionMismatch,
            STRONG,
            vec![alert_line, before],
        )),
        112 => out.push(Proposal::new(
            CauseId::SniRequired,
            STRONG,
            vec![alert_line, before, sni_line(f)],
        )),
        120 => out.push(Proposal::new(
            CauseId::AlpnMismatch,
            STRONG,
            vec![alert_line, before],
        )),
        40 | 71 | 47 => {
            out.push(Proposal::new(
                CauseId::NoCommonCipher,
                PLAUSIBLE,
                vec![alert_line.clone(), before.clone(), offered_line(f)],
            ));
            if f.sni.is_none() {
                out.push(Proposal::new(
                    CauseId::SniRequired,
                    WEAK,
                    vec![alert_line, sni_line(f)],
                ));
            }
            if context.alpn_offered && alert.code == 40 {
                out.push(Proposal::new(CauseId::AlpnMismatch, FAINT, vec!["ALPN protocols were offered; some servers refuse unknown ones with handshake_failure".into()]));
            }
        }
        _ => {}
    }
}

/// What the ClientHello offered to negotiate, for a server that found nothing in it.
fn offered_line(f: &Facts<'_>) -> String {
    let Some(i) = f.client_hello else {
        return "the ClientHello was not seen: what it offered is unknown".into();
    };
    let What::Handshake {
        message:
            Handshake::ClientHello {
                cipher_suites,
                groups,
                signature_schemes,
                ..
            },
        ..
    } = &f.events[i].what
    else {
        return "the ClientHello was not seen: what it offered is unknown".into();
    };
    let list = |names: &[Named]| {
        let shown: Vec<String> = names.iter().take(4).map(|n| n.to_string()).collect();
        match names.len() {
            0 => "none".to_string(),
            n if n > 4 => format!("{} (+{} more)", shown.join(", "), n - 4),
            _ => shown.join(", "),
        }
    };
    format!(
        "the ClientHello ({}) offered cipher suites {}; groups {}; signature schemes {}: a server that accepts none of the suites or groups, or whose certificate key can make none of the signature schemes, answers this way",
        f.at(i),
        list(cipher_suites),
        list(groups),
        list(signature_schemes)
    )
}

fn sni_line(f: &Facts<'_>) -> String {
    if f.sni.is_some() {
        "SNI was sent".into()
    } else {
        "no SNI was sent".into()
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnose::test_support::*;
    use crate::model::{CauseId, Handshake, Side, Transcript, What, codes};

    #[test]
    fn a_clienthello_refused_with_protocol_version_is_a_version_mismatch() {
        let mut t = Transcript::default();
        t.push(
            1.0,
            Side::Client,
            What::Handshake {
                record: 1,
                message: Handshake::ClientHello {
                    versions: vec![codes::version(0x0304)],
                    cipher_suites: vec![],
                    groups: vec![],
                    key_shares: vec![],
                    signature_schemes: vec![],
                    sni: None,
                    alpn: vec![],
                },
            },
        );
        alert(&mut t, 70);
        assert_eq!(top(&t, &[]).0, CauseId::ProtocolVersionMismatch);
    }
}
