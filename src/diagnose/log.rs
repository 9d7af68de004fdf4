//! Diagnosis of a debug log ([`DebugLog`]): the same causes as for a transcript, from what the
//! log shows. A log tells less than the wire, so the rules lean on what each stack reliably
//! logs: the order of session creation and credential loading, a Certificate message's length,
//! a CertificateVerify the stack skipped, the alert and the error codes.

use super::confidence::{
    DOUBTFUL, FAIR, LIKELY, POSSIBLE, PROBABLE, SEEN, SLIGHT_LEAN, STRONG, UNLIKELY, WEAK,
};
use super::{CauseId, Diagnosis, Proposal, merge, sort};
use crate::debuglog::{ConnectionFailure, Credential, DebugLog, LoadScope, LogEvent, LogWhat};
use crate::explain::{self, Stack};
use crate::model::Side;

/// The rules a log is read with, in the order they speak: among causes of equal confidence and
/// tie-break, the earlier rule's comes first.
const RULES: &[fn(&DebugLog, &mut Vec<Proposal>)] = &[
    session_before_credentials,
    empty_certificate,
    verification,
    unusable_key,
    refused_client_certificate,
    connection_failure,
];

/// Ranks the causes a log supports.
pub fn diagnose(log: &DebugLog) -> Diagnosis {
    let mut proposals = Vec::new();
    for rule in RULES {
        rule(log, &mut proposals);
    }
    // The fallback: what the codes alone say, when no rule explained the log.
    if proposals.is_empty() {
        from_codes(log, &mut proposals);
    }
    let mut causes = Vec::new();
    for proposal in proposals {
        merge(&mut causes, proposal.into_cause());
    }
    sort(&mut causes);
    Diagnosis {
        causes,
        set_aside: Vec::new(),
    }
}

fn at(event: &LogEvent) -> String {
    format!("line {}: {}", event.line, event.text)
}

fn events(log: &DebugLog) -> impl Iterator<Item = (usize, &LogEvent)> {
    log.events.iter().enumerate()
}

/// The first fatal alert the peer sent, the first error, or the connection failing, after
/// event `index`.
fn rejection_after(log: &DebugLog, index: usize) -> Option<&LogEvent> {
    let peer = log.side.peer();
    log.events[index..].iter().find(|e| match &e.what {
        LogWhat::Alert { from, code, .. } => *from == peer && *code != Some(0),
        LogWhat::Error { .. } | LogWhat::ConnectionFailed { .. } => true,
        _ => false,
    })
}

fn message_index(log: &DebugLog, from: Side, name: &str) -> Option<usize> {
    events(log).find_map(|(i, e)| match &e.what {
        LogWhat::Message {
            from: f, message, ..
        } if *f == from && message == name => Some(i),
        _ => None,
    })
}

/// wolfSSL copies the context's certificate and key into a session when the session is made
/// (`wolfSSL_new`): loading them into the context afterwards leaves that session without any.
fn session_before_credentials(log: &DebugLog, out: &mut Vec<Proposal>) {
    if log.side != Side::Client {
        return;
    }
    // The session used: the last one created before the handshake started.
    let hello = message_index(log, Side::Client, "ClientHello").unwrap_or(log.events.len());
    let Some((created, session)) = events(log)
        .take(hello)
        .filter(|(_, e)| matches!(e.what, LogWhat::SessionCreated { .. }))
        .last()
    else {
        return;
    };
    let late: Vec<&LogEvent> = log.events[created..hello]
        .iter()
        .filter(|e| {
            matches!(e.what, LogWhat::CredentialLoaded { item, scope: LoadScope::Context, .. } if item != Credential::Ca)
        })
        .collect();
    let on_session = log.events[created..].iter().any(|e| {
        matches!(e.what, LogWhat::CredentialLoaded { scope: LoadScope::Session, item, .. } if item != Credential::Ca)
    });
    if late.is_empty() || on_session {
        return;
    }
    let mut evidence = vec![format!(
        "{}: the session was created here, before its credentials were loaded",
        at(session)
    )];
    evidence.extend(late.iter().map(|e| {
        format!(
            "{}: loaded into the context after the session was made: the session does not get it",
            at(e)
        )
    }));
    let request = message_index(log, Side::Server, "CertificateRequest");
    if let Some(i) = request {
        evidence.push(format!(
            "{}: the server asked for a client certificate",
            at(&log.events[i])
        ));
    }
    if let Some(e) = log
        .events
        .iter()
        .find(|e| matches!(e.what, LogWhat::NoSignature { .. }))
        && let LogWhat::NoSignature { detail } = &e.what
    {
        evidence.push(format!("line {}: {detail}", e.line));
    }
    let rejection = request.and_then(|i| rejection_after(log, i));
    if let Some(e) = rejection {
        evidence.push(format!("{}: the handshake then failed", at(e)));
    }
    let confidence = match (request, rejection) {
        (Some(_), Some(_)) => SEEN,
        (Some(_), None) => PROBABLE,
        // Without a CertificateRequest in the log, the session would send an empty
        // certificate if asked: a latent bug, not yet this failure.
        (None, _) => POSSIBLE,
    };
    // The catalogue's wolfSSL fix says what to change.
    out.push(Proposal::new(
        CauseId::ClientCertNotSent,
        confidence,
        evidence,
    ));
}

/// The client answered a CertificateRequest with an empty Certificate (or skipped the
/// CertificateVerify a certificate calls for), and the server refused the handshake.
fn empty_certificate(log: &DebugLog, out: &mut Vec<Proposal>) {
    let request = message_index(log, Side::Server, "CertificateRequest");
    let empty = request.and_then(|request| {
        events(log).skip(request).find(|(_, e)| {
            matches!(
                &e.what,
                LogWhat::Message { from: Side::Client, message, certificates: Some(0) } if message == "Certificate"
            ) || matches!(e.what, LogWhat::NoSignature { .. })
        })
    });
    if let (Some(request), Some((index, event))) = (request, empty) {
        let mut evidence = vec![
            format!(
                "{}: the server asked for a client certificate",
                at(&log.events[request])
            ),
            match &event.what {
                LogWhat::NoSignature { detail } => format!("line {}: {detail}", event.line),
                _ => format!("{}: the client's Certificate message was empty", at(event)),
            },
        ];
        let rejection = rejection_after(log, index);
        if let Some(e) = rejection {
            evidence.push(format!("{}: the handshake then failed", at(e)));
        }
        let confidence = if rejection.is_some() { SEEN } else { FAIR };
        out.push(Proposal::new(
            CauseId::ClientCertNotSent,
            confidence,
            evidence,
        ));
        return;
    }
    if certificate_required(log, out) {
        return;
    }
    // The log does not show what the client sent: a CertificateRequest followed by an alert
    // servers send when no certificate comes is consistent with a missing one, and no more.
    let Some(request) = request else {
        return;
    };
    // A client that signed a CertificateVerify, or listed its certificates, sent one.
    let sent_one = log.events.iter().any(|e| {
        matches!(&e.what, LogWhat::Message { from: Side::Client, message, certificates }
            if message == "CertificateVerify" || (message == "Certificate" && certificates.is_some_and(|n| n > 0)))
    });
    if sent_one {
        return;
    }
    // Anywhere in the log: s_client prints the CertificateRequest's CA names in its summary,
    // after the error line.
    let peer = log.side.peer();
    let Some(rejection) = log.events.iter().find(
        |e| matches!(e.what, LogWhat::Alert { from, code: Some(40 | 42 | 50), .. } if from == peer),
    ) else {
        return;
    };
    out.push(Proposal::new(
        CauseId::ClientCertNotSent,
        DOUBTFUL,
        vec![
            format!(
                "{}: the server asked for a client certificate",
                at(&log.events[request])
            ),
            format!(
                "{}: and refused the handshake with an alert servers also send when none comes",
                at(rejection)
            ),
            "the log does not show whether the client sent a certificate: a log with the messages (openssl -msg, wolfSSL debug, mbedTLS debug level 3), a capture (iotdoctor analyze) or iotdoctor connect would".into(),
        ],
    ));
}

/// Alert 116 certificate_required says it all by itself.
fn certificate_required(log: &DebugLog, out: &mut Vec<Proposal>) -> bool {
    let peer = log.side.peer();
    let Some(alert) = log
        .events
        .iter()
        .find(|e| matches!(e.what, LogWhat::Alert { from, code: Some(116), .. } if from == peer))
    else {
        return false;
    };
    out.push(Proposal::new(
        CauseId::ClientCertNotSent,
        STRONG,
        vec![format!(
            "{}: alert 116 certificate_required: the server received no client certificate",
            at(alert)
        )],
    ));
    true
}

/// The client sent its certificate, then failed to sign its CertificateVerify: the key it
/// holds cannot sign (an empty key object whose load failed unnoticed, a wrong password, a
/// type the stack cannot use).
fn unusable_key(log: &DebugLog, out: &mut Vec<Proposal>) {
    if log.side != Side::Client {
        return;
    }
    let Some(sent) = events(log).find(|(_, e)| {
        matches!(&e.what, LogWhat::Message { from: Side::Client, message, certificates } if message == "Certificate" && *certificates != Some(0))
    }) else {
        return;
    };
    let signing_failed = log.events[sent.0..].iter().find(|e| match &e.what {
        LogWhat::Error { message, .. } => {
            let text = message.to_ascii_lowercase();
            ["pk_sign", "cert_verify", "certificateverify", "sign("]
                .iter()
                .any(|word| text.contains(word))
        }
        _ => false,
    });
    let Some(failed) = signing_failed else {
        return;
    };
    let name = match &failed.what {
        LogWhat::Error {
            name: Some(name), ..
        } => format!(" ({name})"),
        _ => String::new(),
    };
    out.push(Proposal::new(
        CauseId::ClientKeyUnusable,
        LIKELY,
        vec![
            format!("{}: the client sent its certificate", at(sent.1)),
            format!(
                "{}{name}: signing its CertificateVerify with the private key then failed",
                at(failed)
            ),
        ],
    ));
}

/// What a server's alert says of the client certificate it refused: the cause, its
/// confidence, what the alert tells, and what would show the rest. The log shows that a
/// certificate was sent, not the certificate: the confidences stay below what seeing it gives.
/// 42 bad_certificate and 46 certificate_unknown name no reason: they are left to the codes.
fn client_certificate_alert(alert: u8) -> Option<(CauseId, f32, &'static str, &'static str)> {
    Some(match alert {
        45 => (
            CauseId::ClientCertExpired,
            LIKELY,
            "the server found a certificate of the client's chain expired or not yet valid, by its own clock",
            "the log does not show the certificates' dates: iotdoctor check-certs --cert CERT shows each one's validity",
        ),
        44 => (
            CauseId::ClientCertRevoked,
            PROBABLE,
            "the server found the client certificate revoked",
            "the log does not show which certificate: the server's CRL or OCSP responder, or the certificate's status with its CA (AWS IoT: the certificate's status in the registry), tells",
        ),
        48 => (
            CauseId::ClientCaUntrusted,
            FAIR,
            "the server found no CA it trusts for the client certificate's chain",
            "the log does not show the certificates: iotdoctor check-certs --cert CERT --ca CA shows whom the chain leads to (an intermediate the client did not send gives the same alert)",
        ),
        43 => (
            CauseId::ClientCertUsage,
            SLIGHT_LEAN,
            "the server does not accept this certificate for client authentication, most often for want of the clientAuth extended key usage",
            "the log does not show the certificate's extensions: iotdoctor check-certs --cert CERT shows its key usage and extended key usage",
        ),
        _ => return None,
    })
}

/// The client sent a certificate and the server's next word was an alert about it: the
/// server refused that certificate, for the reason its alert names.
fn refused_client_certificate(log: &DebugLog, out: &mut Vec<Proposal>) {
    if log.side != Side::Client {
        return;
    }
    let Some((sent_at, sent)) = sent_client_certificate(log) else {
        return;
    };
    let Some((alert, code)) = server_answer(log, sent_at) else {
        return;
    };
    let Some((cause, confidence, meaning, unseen)) = client_certificate_alert(code) else {
        return;
    };
    let name = crate::model::codes::alert_name(code).unwrap_or("unknown");
    let evidence = vec![
        format!("{}: the client sent its certificate", at(sent)),
        format!(
            "{}: the server's answer to it was alert {code} {name}: {meaning}",
            at(alert)
        ),
        unseen.to_string(),
    ];
    out.push(Proposal::new(cause, confidence, evidence.clone()));
    if cause == CauseId::ClientCaUntrusted {
        // OpenSSL, among others, answers a chain it cannot complete with unknown_ca as well.
        let mut evidence = evidence;
        evidence[1] = format!(
            "{}: alert 48 unknown_ca: the server could not chain the client certificate to a CA it trusts, which a missing intermediate also causes",
            at(alert)
        );
        out.push(Proposal::new(
            CauseId::ClientChainIncomplete,
            DOUBTFUL,
            evidence,
        ));
    }
}

/// The client's Certificate message, when the log shows it held a certificate: it lists
/// some, or a CertificateVerify follows it (a client signs one only with a certificate), and
/// no line says the client had nothing to sign with.
fn sent_client_certificate(log: &DebugLog) -> Option<(usize, &LogEvent)> {
    if log
        .events
        .iter()
        .any(|e| matches!(e.what, LogWhat::NoSignature { .. }))
    {
        return None;
    }
    let (index, event) = events(log).find(|(_, e)| {
        matches!(&e.what, LogWhat::Message { from: Side::Client, message, .. } if message == "Certificate")
    })?;
    let LogWhat::Message { certificates, .. } = &event.what else {
        return None;
    };
    let signed = log.events[index..].iter().any(|e| {
        matches!(&e.what, LogWhat::Message { from: Side::Client, message, .. } if message == "CertificateVerify")
    });
    let holds_one = match certificates {
        Some(count) => *count > 0,
        None => signed,
    };
    holds_one.then_some((index, event))
}

/// The server's first word after event `index`, when it is an alert with its number: no
/// handshake message of the server's came between.
fn server_answer(log: &DebugLog, index: usize) -> Option<(&LogEvent, u8)> {
    for event in &log.events[index..] {
        match &event.what {
            LogWhat::Message {
                from: Side::Server, ..
            } => return None,
            LogWhat::Alert {
                from: Side::Server,
                code: Some(code),
                ..
            } => return Some((event, *code)),
            _ => {}
        }
    }
    None
}

/// The connection failed beneath TLS: refused, the name did not resolve, no route, timed out;
/// or the peer closed or reset it without an alert.
fn connection_failure(log: &DebugLog, out: &mut Vec<Proposal>) {
    let Some((index, event, failure)) = events(log).find_map(|(i, e)| match e.what {
        LogWhat::ConnectionFailed { failure, .. } => Some((i, e, failure)),
        _ => None,
    }) else {
        return;
    };
    let (cause, confidence, meaning) = match failure {
        ConnectionFailure::Refused => (
            CauseId::ConnectRefused,
            SEEN,
            "nothing accepted the TCP connection: no server listens on that address and port, or a firewall rejects it; TLS never started",
        ),
        ConnectionFailure::NameNotResolved => (
            CauseId::DnsFailed,
            SEEN,
            "the host name did not resolve to an address; TLS never started",
        ),
        ConnectionFailure::Unreachable => (
            CauseId::NetworkUnreachable,
            STRONG,
            "the system has no route to the host; TLS never started",
        ),
        ConnectionFailure::TimedOut => {
            (CauseId::Timeout, LIKELY, "the peer did not answer in time")
        }
        ConnectionFailure::Reset | ConnectionFailure::Closed => {
            if peer_alert_before(log, index) {
                // The alert said why; the connection closing after it is no news.
                return;
            }
            if handshake_completed_before(log, index) {
                // The handshake went through: the close refused what followed (a TLS 1.3
                // server checks the client certificate after the client has finished), or ended
                // the session without close_notify.
                (
                    CauseId::PeerClosed,
                    POSSIBLE,
                    "the handshake had completed; then the peer ended the connection without an alert",
                )
            } else {
                (
                    CauseId::PeerClosed,
                    FAIR,
                    "the peer ended the connection during the handshake without sending an alert",
                )
            }
        }
    };
    let mut evidence = vec![format!("{}: {meaning}", at(event))];
    if cause == CauseId::PeerClosed
        && let Some(last) = log.events[..index]
            .iter()
            .rev()
            .find(|e| matches!(e.what, LogWhat::Message { .. }))
    {
        evidence.push(format!(
            "{}: the last handshake message before it",
            at(last)
        ));
    }
    out.push(Proposal::new(cause, confidence, evidence));
}

fn handshake_completed_before(log: &DebugLog, index: usize) -> bool {
    log.events[..index].iter().any(|e| {
        matches!(
            e.what,
            LogWhat::HandshakeDone | LogWhat::ApplicationData { .. }
        )
    })
}

fn peer_alert_before(log: &DebugLog, index: usize) -> bool {
    let peer = log.side.peer();
    log.events[..index]
        .iter()
        .any(|e| matches!(e.what, LogWhat::Alert { from, .. } if from == peer))
}

/// Verification errors: what the verify code says of the chain, at the depth it failed.
fn verification(log: &DebugLog, out: &mut Vec<Proposal>) {
    let mut seen = Vec::new();
    for event in &log.events {
        let LogWhat::VerifyError { code, depth, .. } = &event.what else {
            continue;
        };
        if seen.contains(&(event.stack, *code)) {
            continue;
        }
        seen.push((event.stack, *code));
        // A client's log verifies the server's chain; a server's log, the client's.
        let server_chain = log.side == Side::Client;
        let causes = match event.stack {
            Stack::GnuTls => gnutls_status_causes(*code, *depth, server_chain),
            _ => openssl_verify_causes(*code, *depth, server_chain),
        };
        for (rank, cause) in causes.into_iter().enumerate() {
            let confidence = if rank == 0 { LIKELY } else { UNLIKELY };
            let depth_note = match depth {
                Some(0) => " (depth 0: the peer's own certificate)".to_string(),
                Some(d) => format!(" (depth {d}: a CA certificate of the chain)"),
                None => String::new(),
            };
            out.push(Proposal::new(
                cause,
                confidence,
                vec![format!("{}{depth_note}", at(event))],
            ));
        }
    }
}

/// OpenSSL's verify error number, at its depth.
fn openssl_verify_causes(code: u32, depth: Option<u32>, server_chain: bool) -> Vec<CauseId> {
    match code {
        // The issuer of the certificate at that depth was not found.
        20 => issuer_not_found(depth, server_chain),
        // The issuer of the leaf, whatever depth is printed.
        21 => issuer_not_found(Some(0), server_chain),
        2 | 19 => issuer_not_found(None, server_chain),
        _ => catalogue_causes(&code.to_string(), Stack::OpenSsl, server_chain),
    }
}

/// GnuTLS's `GNUTLS_CERT_SIGNER_NOT_FOUND`: "The certificate issuer is unknown."
const GNUTLS_CERT_SIGNER_NOT_FOUND: u32 = 1 << 6;

/// A GnuTLS status bit; an unknown issuer at the depth the reader found for it.
fn gnutls_status_causes(bit: u32, depth: Option<u32>, server_chain: bool) -> Vec<CauseId> {
    if bit == GNUTLS_CERT_SIGNER_NOT_FOUND {
        return issuer_not_found(depth, server_chain);
    }
    match explain::gnutls_status(bit) {
        Some(status) => catalogue_causes(status.name, Stack::GnuTls, server_chain),
        None => Vec::new(),
    }
}

/// The issuer of the certificate at `depth` was not found. At the leaf, the peer most likely
/// did not send its intermediate; higher up, the chain leads to a CA the verifier does not hold.
fn issuer_not_found(depth: Option<u32>, server_chain: bool) -> Vec<CauseId> {
    match depth {
        Some(0) => vec![chain_incomplete(server_chain), ca_untrusted(server_chain)],
        _ => vec![ca_untrusted(server_chain), chain_incomplete(server_chain)],
    }
}

/// The causes the catalogue gives a code of this stack, those about the chain verified.
fn catalogue_causes(code: &str, stack: Stack, server_chain: bool) -> Vec<CauseId> {
    explain::lookup(code, Some(stack))
        .into_iter()
        .find(|r| r.stack == stack)
        .map(|r| r.causes)
        .unwrap_or_default()
        .into_iter()
        .filter(|c| server_chain == c.to_string().starts_with("server-"))
        .collect()
}

fn chain_incomplete(server: bool) -> CauseId {
    if server {
        CauseId::ServerChainIncomplete
    } else {
        CauseId::ClientChainIncomplete
    }
}

fn ca_untrusted(server: bool) -> CauseId {
    if server {
        CauseId::ServerCaUntrusted
    } else {
        CauseId::ClientCaUntrusted
    }
}

/// No rule explained the failure: what the peer's alert, or else the first error code, says,
/// plainly marked as coming from the code alone.
fn from_codes(log: &DebugLog, out: &mut Vec<Proposal>) {
    let peer = log.side.peer();
    let more = what_would_tell_more(log);
    let alert = log.events.iter().find_map(|e| match e.what {
        LogWhat::Alert {
            from,
            code: Some(code),
            ..
        } if from == peer && code != 0 => Some((e, code)),
        _ => None,
    });
    if let Some((event, code)) = alert {
        let meaning = explain::lookup(&code.to_string(), Some(Stack::Tls))
            .into_iter()
            .next()
            .map(|r| first_sentence(&r.meaning).to_string())
            .unwrap_or_default();
        out.push(Proposal::new(
            CauseId::AlertUnexplained,
            WEAK,
            vec![format!("{}: alert {code}: {meaning}", at(event)), more],
        ));
        return;
    }
    for event in &log.events {
        let LogWhat::Error { code, .. } = &event.what else {
            continue;
        };
        let Some(reading) = explain::lookup(code, Some(event.stack))
            .into_iter()
            .find(|r| r.stack == event.stack)
        else {
            continue;
        };
        let said = format!(
            "{}: {}: {}",
            at(event),
            reading.name,
            first_sentence(&reading.meaning)
        );
        // The library's code names one cause ("peer did not return a certificate").
        let proposal = match reading.causes.as_slice() {
            [only] => Proposal::new(*only, PROBABLE, vec![said]),
            _ => Proposal::new(CauseId::AlertUnexplained, WEAK, vec![said, more]),
        };
        out.push(proposal);
        return;
    }
}

/// What a log that explains no failure lacks, and what would supply it: the handshake
/// messages, or, when the log has them, the reason the peer kept to itself.
fn what_would_tell_more(log: &DebugLog) -> String {
    let shows = |side: Side| {
        log.events
            .iter()
            .any(|e| matches!(e.what, LogWhat::Message { from, .. } if from == side))
    };
    if shows(Side::Client) && shows(Side::Server) {
        "the log shows the handshake messages but not the reason the peer kept to itself: the peer's own log, iotdoctor check-certs on the credentials used, or iotdoctor connect with them would tell more".into()
    } else {
        "the log does not show the handshake messages: a log with them (openssl -msg, wolfSSL debug, mbedTLS debug level 3, gnutls-cli -d 4), a capture (iotdoctor analyze) or iotdoctor connect would tell more".into()
    }
}

fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text,
    }
}
