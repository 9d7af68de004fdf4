//! `probe`'s verdicts: what the transcript of one probe connection says the server did with
//! the one thing that connection offered alone (accepted, refused, no answer), and what the
//! baseline connection shows of its client certificate request and chain. Pure: no I/O.

use serde::Serialize;

use crate::model::codes::{ALERT, CHANGE_CIPHER_SPEC};
use crate::model::{CloseKind, Handshake, Side, Transcript, TransportStage, What};

/// What one probe connection offered alone, as the plain values its answer is held against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// One version alone, by its code (0x0301 TLS 1.0 .. 0x0304 TLS 1.3).
    Version { code: u16 },
    /// One cipher suite alone with its own version (TLS 1.3 when `tls13`); `own` when in a
    /// ClientHello of iotdoctor's own, whose answer alone is read.
    Suite { code: u16, tls13: bool, own: bool },
    /// One group alone; `tls13_only` for a group that exists only in TLS 1.3; `own` when in a
    /// ClientHello of iotdoctor's own, which carries no key share for it.
    Group {
        code: u16,
        tls13_only: bool,
        own: bool,
    },
    /// One signature scheme alone, for the server's signature (read from its TLS 1.2
    /// ServerKeyExchange or, when rustls made the handshake, its CertificateVerify).
    Scheme(u16),
    /// A device's whole offer in a ClientHello of iotdoctor's own, which carries a key share
    /// only on x25519 or secp256r1.
    Whole,
    /// Nothing alone (the baseline, no SNI, an ALPN protocol, a device's whole offer,
    /// max_fragment_length): only whether the server answered counts.
    Other,
}

/// The record size the probe's max_fragment_length asks for: code 1, the least RFC 6066 lets a
/// client ask.
pub const MAX_FRAGMENT_BYTES: u16 = 512;

/// The server's answer to one thing offered alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The server answered with a ServerHello that took it.
    Accepted,
    /// The server answered with an alert or closed before its ServerHello.
    Refused,
    /// The connection failed for another reason (network, timeout): no answer either way.
    Unknown,
    /// Not offered: rustls cannot offer it, or the probe's time ran out.
    #[default]
    NotTested,
}

/// The server's answer to a ClientHello asking for smaller records (RFC 6066).
#[derive(Debug, Clone, Serialize)]
pub struct MaxFragment {
    /// The record size asked for, in bytes.
    pub requested: u16,
    pub result: Fragment,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fragment {
    /// The ServerHello echoed the extension: the server's records stay within the size.
    Honoured,
    /// The ServerHello left it out: the server's records may be 16384 bytes.
    Ignored,
    /// The server answered the hello with an alert or a close.
    Refused,
    /// No answer either way (network, timeout), or an answer RFC 6066 forbids.
    Unknown,
    /// Not offered: the probe's time ran out.
    NotTested,
}

/// What the server asks of a client certificate.
#[derive(Debug, Clone, Serialize)]
pub struct ClientCertificate {
    /// The server sent a CertificateRequest.
    pub requested: bool,
    /// It ended the handshake when none came; `None` when that could not be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// The CAs the CertificateRequest names (empty: any).
    pub ca_names: Vec<String>,
    pub signature_schemes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The chain the server sent, and whether it verified.
#[derive(Debug, Clone, Serialize)]
pub struct Chain {
    pub certificates: Vec<ChainCertificate>,
    /// The DER bytes of all its certificates.
    pub bytes: usize,
    /// Checked against `--ca` (else the bundled Mozilla roots) and the host name.
    pub verified: bool,
    pub verification: String,
}

/// One certificate of that chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainCertificate {
    pub subject: String,
    pub key: String,
    pub bytes: usize,
}

/// The largest TLS record the server sent.
#[derive(Debug, Clone, Serialize)]
pub struct LargestRecord {
    /// The record's body length on the wire (without its 5-byte header).
    pub length: u16,
    pub content_type: String,
    /// Encrypted (TLS 1.3 after the ServerHello): its plaintext is at least 17 bytes shorter.
    pub encrypted: bool,
}

/// The server's answer to one offer: a ServerHello takes it; an alert or a close before one
/// refuses it; anything else (the network, a timeout) is no answer.
pub fn answer(transcript: &Transcript) -> (Verdict, Option<String>) {
    let mut closed = None;
    for event in &transcript.events {
        match &event.what {
            What::Handshake {
                message: Handshake::ServerHello { .. },
                ..
            } if event.from == Side::Server => return (Verdict::Accepted, None),
            What::Alert { description, .. } if event.from == Side::Server => {
                return (
                    Verdict::Refused,
                    Some(format!("alert {} {description}", description.code)),
                );
            }
            What::Transport {
                stage: TransportStage::Resolve | TransportStage::Connect,
                message,
                ..
            } => return (Verdict::Unknown, Some(message.clone())),
            What::NotTls { preview, .. } if event.from == Side::Server => {
                return (
                    Verdict::Unknown,
                    Some(format!(
                        "the server answered with bytes that are not TLS: {preview}"
                    )),
                );
            }
            What::Close { how } if event.from == Side::Server && closed.is_none() => {
                closed = Some(*how);
            }
            _ => {}
        }
    }
    match closed {
        Some(CloseKind::Eof | CloseKind::Reset) => (
            Verdict::Refused,
            Some("the server closed the connection without a ServerHello".into()),
        ),
        _ => {
            let why = transcript.events.iter().rev().find_map(|e| match &e.what {
                What::Error { message } | What::Transport { message, .. } => Some(message.clone()),
                _ => None,
            });
            (
                Verdict::Unknown,
                Some(why.unwrap_or_else(|| "no ServerHello and no alert".into())),
            )
        }
    }
}

/// The server's largest record on one connection.
/// Alerts and change_cipher_spec are left out: a server that refused every connection sized
/// nothing a device must hold.
pub fn largest_record(transcript: &Transcript) -> Option<LargestRecord> {
    transcript
        .events
        .iter()
        .filter(|e| e.from == Side::Server)
        .filter_map(|e| match &e.what {
            What::Record {
                content_type,
                length,
                encrypted,
                ..
            } if ![CHANGE_CIPHER_SPEC, ALERT]
                .map(u16::from)
                .contains(&content_type.code) =>
            {
                Some(LargestRecord {
                    length: *length,
                    content_type: content_type.to_string(),
                    encrypted: *encrypted,
                })
            }
            _ => None,
        })
        .max_by_key(|r| r.length)
}

/// What the server asked of a client certificate, on a connection that sent none.
pub fn client_certificate(transcript: &Transcript) -> Option<ClientCertificate> {
    if !transcript.events.iter().any(|e| {
        e.from == Side::Server
            && matches!(
                e.what,
                What::Handshake {
                    message: Handshake::ServerHello { .. },
                    ..
                }
            )
    }) {
        return None;
    }
    let Some((at, ca_names, schemes)) =
        transcript
            .events
            .iter()
            .enumerate()
            .find_map(|(i, e)| match &e.what {
                What::CertificateRequest {
                    ca_names,
                    signature_schemes,
                    ..
                } if e.from == Side::Server => Some((i, ca_names, signature_schemes)),
                _ => None,
            })
    else {
        // A request comes before the server's CertificateVerify (TLS 1.3) or its
        // ServerHelloDone (TLS 1.2): once either came, none was sent.
        let finished = transcript.events.iter().any(|e| {
            e.from == Side::Server
                && matches!(
                    e.what,
                    What::CertificateVerify { .. }
                        | What::Handshake {
                            message: Handshake::ServerHelloDone | Handshake::Finished,
                            ..
                        }
                )
        });
        return finished.then(|| ClientCertificate {
            requested: false,
            required: Some(false),
            ca_names: vec![],
            signature_schemes: vec![],
            detail: None,
        });
    };
    let after = &transcript.events[at + 1..];
    let alert = after.iter().find_map(|e| match &e.what {
        What::Alert { description, .. } if e.from == Side::Server => Some(description),
        _ => None,
    });
    // The server's close counts only when it came first: after a handshake that completed,
    // iotdoctor closes, and the server's own close follows.
    let closed = after
        .iter()
        .find(|e| matches!(e.what, What::Close { .. }))
        .is_some_and(|e| {
            e.from == Side::Server
                && matches!(
                    e.what,
                    What::Close {
                        how: CloseKind::Eof | CloseKind::Reset
                    }
                )
        });
    let unconfirmed = after
        .iter()
        .any(|e| matches!(&e.what, What::Note { message } if message.contains("is not confirmed")));
    let errors = after
        .iter()
        .any(|e| matches!(e.what, What::Error { .. } | What::Transport { .. }));
    let (required, detail) = match alert {
        Some(alert) => (
            Some(true),
            Some(format!(
                "the server answered no certificate with alert {} {alert}",
                alert.code
            )),
        ),
        None if closed => (
            Some(true),
            Some("the server closed the connection when no certificate came".into()),
        ),
        None if unconfirmed || errors => (None, None),
        None => (
            Some(false),
            Some("the handshake completed without a client certificate".into()),
        ),
    };
    Some(ClientCertificate {
        requested: true,
        required,
        ca_names: ca_names.clone(),
        signature_schemes: schemes.iter().map(|s| s.to_string()).collect(),
        detail,
    })
}

/// The chain the server sent and the verdict on it, when it sent one.
pub fn chain(transcript: &Transcript) -> Option<Chain> {
    let (_, certificates) = transcript.chain(Side::Server)?;
    let certificates: Vec<ChainCertificate> = certificates
        .iter()
        .map(|c| ChainCertificate {
            subject: c.subject.clone(),
            key: c.key.to_string(),
            bytes: c.raw.der.len(),
        })
        .collect();
    let (verified, verification) = transcript
        .events
        .iter()
        .find_map(|e| match &e.what {
            What::Verification { ok, detail, .. } => Some((*ok, detail.clone())),
            _ => None,
        })
        .unwrap_or((false, "not checked".into()));
    Some(Chain {
        bytes: certificates.iter().map(|c| c.bytes).sum(),
        certificates,
        verified,
        verification,
    })
}

/// Why the server's answer does not take what was offered alone, when it does not: a server
/// without TLS 1.3 answers a client that offers only TLS 1.3 with a TLS 1.2 ServerHello.
pub fn mismatch(offered: Offered, transcript: &Transcript) -> Option<String> {
    let (version, suite, key_share) = transcript.events.iter().find_map(|e| match &e.what {
        What::Handshake {
            message:
                Handshake::ServerHello {
                    version,
                    cipher_suite,
                    key_share,
                    ..
                },
            ..
        } if e.from == Side::Server => Some((version, cipher_suite, key_share.as_ref())),
        _ => None,
    })?;
    let tls13 = version.code == 0x0304;
    let wanted_version = match offered {
        Offered::Version { code } => Some(code),
        Offered::Suite { tls13, .. } => Some(if tls13 { 0x0304 } else { 0x0303 }),
        Offered::Group {
            tls13_only: true, ..
        } => Some(0x0304),
        _ => None,
    };
    if let Some(wanted) = wanted_version
        && wanted != version.code
    {
        return Some(format!("the server chose {version} instead"));
    }
    let server_kx = || {
        transcript.events.iter().find_map(|e| match &e.what {
            What::Handshake {
                message: Handshake::ServerKeyExchange { group, scheme },
                ..
            } if e.from == Side::Server => Some((group.clone(), scheme.clone())),
            _ => None,
        })
    };
    match offered {
        Offered::Suite { code, .. } if suite.code != code => {
            Some(format!("the server chose {suite} instead"))
        }
        Offered::Group { code, .. } => {
            let chosen = if tls13 {
                key_share.cloned()
            } else {
                server_kx().and_then(|(group, _)| group)
            };
            chosen
                .filter(|g| g.code != code)
                .map(|g| format!("the server chose {g} instead"))
        }
        Offered::Scheme(code) => {
            let signed = transcript
                .events
                .iter()
                .find_map(|e| match &e.what {
                    What::CertificateVerify { scheme, .. } if e.from == Side::Server => {
                        Some(scheme.clone())
                    }
                    _ => None,
                })
                .or_else(|| server_kx().and_then(|(_, scheme)| scheme));
            signed
                .filter(|s| s.code != code)
                .map(|s| format!("the server signed with {s} instead"))
        }
        _ => None,
    }
}

/// A server that answers a TLS 1.3 ClientHello of iotdoctor's own with a HelloRetryRequest has
/// chosen its suite, and names the group it wants a key share on (iotdoctor's own hello offers
/// none for a group rustls lacks). `None` for every other answer.
pub fn retried(offered: Offered, transcript: &Transcript) -> Option<(Verdict, Option<String>)> {
    let (suite, group) = match offered {
        Offered::Suite {
            code, own: true, ..
        } => (Some(code), None),
        Offered::Group {
            code, own: true, ..
        } => (None, Some(code)),
        Offered::Whole => (None, None),
        _ => return None,
    };
    if transcript.events.iter().any(|e| {
        e.from == Side::Server
            && matches!(
                e.what,
                What::Handshake {
                    message: Handshake::ServerHello { .. },
                    ..
                } | What::Alert { .. }
            )
    }) {
        return None;
    }
    transcript.events.iter().find_map(|e| match &e.what {
        What::Handshake {
            message:
                Handshake::HelloRetryRequest {
                    cipher_suite,
                    key_share,
                },
            ..
        } if e.from == Side::Server => Some(match (suite, group) {
            (Some(suite), _) if cipher_suite.code == suite => (
                Verdict::Accepted,
                Some("its HelloRetryRequest chose it".to_string()),
            ),
            (Some(_), _) => (
                Verdict::Refused,
                Some(format!(
                    "its HelloRetryRequest chose {cipher_suite} instead"
                )),
            ),
            (None, None) => (
                Verdict::Accepted,
                Some(match key_share {
                    Some(share) => {
                        format!("its HelloRetryRequest asked for a key share on {share}")
                    }
                    None => "it answered with a HelloRetryRequest".to_string(),
                }),
            ),
            (None, group) => match key_share {
                Some(share) if Some(share.code) == group => (
                    Verdict::Accepted,
                    Some("its HelloRetryRequest asked for a key share on it".to_string()),
                ),
                Some(share) => (
                    Verdict::Refused,
                    Some(format!(
                        "its HelloRetryRequest asked for a key share on {share} instead"
                    )),
                ),
                None => (
                    Verdict::Unknown,
                    Some("its HelloRetryRequest asked for no key share".to_string()),
                ),
            },
        }),
        _ => None,
    })
}

/// The detail of a suite offered in iotdoctor's own ClientHello: only the server's answer was
/// read, the handshake was not completed.
pub fn raw_detail(result: Verdict, detail: Option<&str>) -> String {
    let own = "iotdoctor's own ClientHello, the handshake not completed";
    match (detail, result) {
        (Some(detail), _) => format!("{detail} ({own})"),
        (None, Verdict::Accepted) => format!("the server chose it ({own})"),
        (None, _) => own.to_string(),
    }
}

/// Whether the server echoed max_fragment_length 512 (honoured: it sends no record longer)
/// or left it out (ignored: its records may be up to 16384 bytes).
pub fn max_fragment(
    result: Verdict,
    detail: Option<String>,
    transcript: Option<&Transcript>,
    tls12: bool,
) -> MaxFragment {
    let echoed = transcript.and_then(|t| {
        t.events.iter().find_map(|e| match &e.what {
            What::Handshake {
                message:
                    Handshake::ServerHello {
                        max_fragment_length,
                        ..
                    },
                ..
            } if e.from == Side::Server => Some(*max_fragment_length),
            _ => None,
        })
    });
    let (result, detail) = match (result, echoed) {
        (Verdict::Accepted, Some(Some(MAX_FRAGMENT_BYTES))) => (
            Fragment::Honoured,
            format!(
                "the server echoed it, so it sends records of at most {MAX_FRAGMENT_BYTES} bytes"
            ),
        ),
        (Verdict::Accepted, Some(Some(other))) => (
            Fragment::Unknown,
            format!(
                "the server echoed {other} bytes instead of {MAX_FRAGMENT_BYTES}, which RFC 6066 \
                 forbids"
            ),
        ),
        (Verdict::Accepted, _) => (
            Fragment::Ignored,
            "the server's ServerHello left it out: its records may be up to 16384 bytes".into(),
        ),
        (Verdict::Refused, _) => {
            let why = detail.unwrap_or_default();
            (
                Fragment::Refused,
                if tls12 {
                    format!("{why}: TLS 1.2 without it was accepted, so the extension is why")
                } else {
                    format!("{why}: TLS 1.2 was not accepted either")
                },
            )
        }
        (Verdict::Unknown, _) => (Fragment::Unknown, detail.unwrap_or_default()),
        (Verdict::NotTested, _) => (Fragment::NotTested, detail.unwrap_or_default()),
    };
    MaxFragment {
        requested: MAX_FRAGMENT_BYTES,
        result,
        detail: Some(detail),
    }
}

/// The version of the server's ServerHello: a ClientHello of iotdoctor's own goes no further.
pub fn hello_version(transcript: &Transcript) -> Option<String> {
    transcript.events.iter().find_map(|e| match &e.what {
        What::Handshake {
            message: Handshake::ServerHello { version, .. },
            ..
        } if e.from == Side::Server => Some(version.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::test_support::{alert, asked_for_a_certificate};
    use crate::model::codes;

    fn server_hello(version: u16, suite: u16, max_fragment_length: Option<u16>) -> Transcript {
        let mut t = Transcript::default();
        t.push(
            1.0,
            Side::Server,
            What::Handshake {
                record: 1,
                message: Handshake::ServerHello {
                    version: codes::version(version),
                    cipher_suite: codes::cipher_suite(suite),
                    key_share: None,
                    alpn: None,
                    max_fragment_length,
                },
            },
        );
        t
    }

    fn hello_retry(suite: u16) -> Transcript {
        let mut t = Transcript::default();
        t.push(
            1.0,
            Side::Server,
            What::Handshake {
                record: 1,
                message: Handshake::HelloRetryRequest {
                    cipher_suite: codes::cipher_suite(suite),
                    key_share: Some(codes::group(0x0018)),
                },
            },
        );
        t
    }

    #[test]
    fn only_a_server_hello_accepts() {
        assert_eq!(
            answer(&server_hello(0x0304, 0x1301, None)).0,
            Verdict::Accepted
        );
        let mut refused = Transcript::default();
        alert(&mut refused, 40);
        assert_eq!(
            answer(&refused),
            (
                Verdict::Refused,
                Some("alert 40 handshake_failure".to_string())
            )
        );
        let mut closed = Transcript::default();
        closed.push(
            1.0,
            Side::Server,
            What::Close {
                how: CloseKind::Eof,
            },
        );
        assert_eq!(answer(&closed).0, Verdict::Refused);
        assert_eq!(answer(&Transcript::default()).0, Verdict::Unknown);
    }

    #[test]
    fn a_server_hello_that_takes_something_else_is_a_mismatch() {
        let tls12 = server_hello(0x0303, 0xc02b, None);
        assert_eq!(
            mismatch(Offered::Version { code: 0x0304 }, &tls12).as_deref(),
            Some("the server chose TLSv1.2 instead")
        );
        assert_eq!(
            mismatch(Offered::Version { code: 0x0301 }, &tls12).as_deref(),
            Some("the server chose TLSv1.2 instead")
        );
        assert_eq!(mismatch(Offered::Version { code: 0x0303 }, &tls12), None);
        let other_suite = Offered::Suite {
            code: 0xc02c,
            tls13: false,
            own: true,
        };
        assert!(
            mismatch(other_suite, &tls12)
                .is_some_and(|why| why.starts_with("the server chose TLS_ECDHE_ECDSA"))
        );
        assert_eq!(mismatch(Offered::Other, &tls12), None);
    }

    #[test]
    fn a_hello_retry_request_answers_only_an_own_hello() {
        let own = |code| Offered::Suite {
            code,
            tls13: true,
            own: true,
        };
        assert_eq!(
            retried(own(0x1304), &hello_retry(0x1304)).map(|(v, _)| v),
            Some(Verdict::Accepted)
        );
        assert_eq!(
            retried(own(0x1305), &hello_retry(0x1304)).map(|(v, _)| v),
            Some(Verdict::Refused)
        );
        // rustls answers the HelloRetryRequest itself: the ServerHello after it decides.
        let rustls = Offered::Suite {
            code: 0x1301,
            tls13: true,
            own: false,
        };
        assert_eq!(retried(rustls, &hello_retry(0x1301)), None);

        // A group rustls lacks: the HelloRetryRequest names the group it wants a share on.
        let group = |code| Offered::Group {
            code,
            tls13_only: false,
            own: true,
        };
        let (verdict, detail) = retried(group(0x0018), &hello_retry(0x1301)).unwrap();
        assert_eq!(verdict, Verdict::Accepted);
        assert_eq!(
            detail.as_deref(),
            Some("its HelloRetryRequest asked for a key share on it")
        );
        let (verdict, detail) = retried(group(0x0019), &hello_retry(0x1301)).unwrap();
        assert_eq!(verdict, Verdict::Refused);
        assert_eq!(
            detail.as_deref(),
            Some("its HelloRetryRequest asked for a key share on secp384r1 instead")
        );
        let rustls_group = Offered::Group {
            code: 0x0018,
            tls13_only: false,
            own: false,
        };
        assert_eq!(retried(rustls_group, &hello_retry(0x1301)), None);
    }

    #[test]
    fn the_largest_record_leaves_out_alerts_and_change_cipher_spec() {
        let record = |t: &mut Transcript, content_type: u8, length: u16| {
            t.push(
                1.0,
                Side::Server,
                What::Record {
                    index: 1,
                    content_type: codes::content_type(content_type),
                    version: codes::version(0x0303),
                    length,
                    encrypted: false,
                },
            )
        };
        let mut refused = Transcript::default();
        record(&mut refused, ALERT, 2);
        record(&mut refused, CHANGE_CIPHER_SPEC, 1);
        assert!(largest_record(&refused).is_none());
        record(&mut refused, codes::HANDSHAKE, 1044);
        assert_eq!(largest_record(&refused).map(|r| r.length), Some(1044));
    }

    #[test]
    fn an_alert_after_the_certificate_request_means_required() {
        let mut t = asked_for_a_certificate(vec![]);
        alert(&mut t, 116);
        let asked = client_certificate(&t).expect("a request");
        assert!(asked.requested);
        assert_eq!(asked.required, Some(true));
        assert_eq!(asked.ca_names.len(), 1);
        // No ServerHello: nothing can be said.
        assert!(client_certificate(&Transcript::default()).is_none());
    }

    #[test]
    fn max_fragment_length_is_honoured_only_when_echoed() {
        let echoed = server_hello(0x0303, 0xc02b, Some(MAX_FRAGMENT_BYTES));
        let left_out = server_hello(0x0303, 0xc02b, None);
        let verdict = |t: &Transcript| max_fragment(Verdict::Accepted, None, Some(t), true).result;
        assert_eq!(verdict(&echoed), Fragment::Honoured);
        assert_eq!(verdict(&left_out), Fragment::Ignored);
        let refused = max_fragment(
            Verdict::Refused,
            Some("alert 47 illegal_parameter".into()),
            None,
            true,
        );
        assert_eq!(refused.result, Fragment::Refused);
        assert!(refused.detail.unwrap().contains("so the extension is why"));
    }

    #[test]
    fn an_own_hello_says_the_handshake_was_not_completed() {
        assert_eq!(
            raw_detail(Verdict::Accepted, None),
            "the server chose it (iotdoctor's own ClientHello, the handshake not completed)"
        );
        assert_eq!(
            raw_detail(Verdict::Refused, Some("alert 40 handshake_failure")),
            "alert 40 handshake_failure (iotdoctor's own ClientHello, the handshake not completed)"
        );
        assert_eq!(
            hello_version(&server_hello(0x0303, 0xc0ae, None)).as_deref(),
            Some("TLSv1.2")
        );
    }
}
