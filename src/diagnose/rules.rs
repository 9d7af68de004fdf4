//! Rules from a transcript (and the credential findings) to causes. Every rule reasons from what
//! was sent and seen, and cites it; no rule maps an alert number to a cause by itself, because
//! different TLS stacks send 40, 42, 48 or 116 for the same mistake.

use crate::credentials::inspect::{CertInfo, short_dn};
use crate::credentials::{Finding, FindingId, Severity};
use crate::model::codes::Named;
use crate::model::{CloseKind, Event, Handshake, Seen, Side, Transcript, What};

use super::alerts;
use super::causes::CauseId;
use super::{Cause, Context};

/// A cause as a rule proposes it.
pub(super) struct Proposal {
    pub id: CauseId,
    pub confidence: f32,
    pub evidence: Vec<String>,
    /// Fixes specific to what was seen, shown before the catalogue's.
    pub fixes: Vec<String>,
}

impl Proposal {
    pub(super) fn new(id: CauseId, confidence: f32, evidence: Vec<String>) -> Proposal {
        Proposal {
            id,
            confidence,
            evidence,
            fixes: vec![],
        }
    }

    pub(super) fn fix(mut self, fix: impl Into<String>) -> Proposal {
        self.fixes.push(fix.into());
        self
    }

    pub fn into_cause(self) -> Cause {
        let mut fixes = self.fixes;
        fixes.extend(
            self.id
                .fixes()
                .iter()
                .chain(self.id.stack_fixes())
                .map(|f| f.to_string()),
        );
        Cause {
            id: self.id,
            confidence: self.confidence,
            summary: self.id.summary().into(),
            evidence: self.evidence,
            fixes,
        }
    }
}

/// An alert as the rules need it.
#[derive(Clone, Copy)]
struct AlertAt<'a> {
    index: usize,
    code: u8,
    event: &'a Event,
}

/// The facts of a transcript the rules reason with, gathered once.
struct Facts<'a> {
    events: &'a [Event],
    client_hello: Option<usize>,
    server_hello: Option<usize>,
    server_alert: Option<AlertAt<'a>>,
    client_alert: Option<AlertAt<'a>>,
    cert_request: Option<(usize, &'a [String], usize)>,
    client_cert: Option<(usize, &'a [CertInfo])>,
    withheld: Option<(usize, &'a str, &'a str)>,
    client_verify: Option<(usize, Option<bool>)>,
    server_chain: Option<&'a [CertInfo]>,
    verification: Option<(usize, bool, Option<&'a str>, &'a str)>,
    not_tls: Option<(usize, &'a str)>,
    /// Server side: the client's first bytes were not TLS.
    client_not_tls: Option<(usize, &'a str)>,
    /// Server side: the server stopped waiting before any ClientHello came (the client sent
    /// nothing, or too little, in time).
    client_silent: Option<usize>,
    transport: Option<(usize, &'a str, &'a str, &'a str)>,
    server_close: Option<(usize, CloseKind)>,
    /// The client ended the connection first: its close_notify (live), FIN or RST, or an
    /// encrypted alert of its own (capture, TLS 1.2).
    client_ended: Option<usize>,
    /// TLS 1.2: the server sent its ChangeCipherSpec, which it does only after accepting the
    /// client's flight; a later close is not a handshake failure.
    server_accepted: bool,
    tls13: bool,
    /// Encrypted records (index into events, from, length, content type), for inferences when
    /// nothing else is visible.
    encrypted_records: Vec<(usize, Side, u16)>,
    /// Some handshake message was decoded from inside encrypted records.
    saw_inside: bool,
    client_error: Option<(usize, &'a str)>,
    /// Server side (`serve`): iotdoctor's TLS library failed the handshake, with or without an
    /// alert of its own.
    server_error: Option<(usize, &'a str)>,
    /// Server side: the device connected and closed (or reset) without sending a byte.
    client_left_silently: Option<usize>,
    /// Records a side's stream ended inside of (index into events).
    partial_records: Vec<usize>,
    sni_sent: bool,
    /// `connect --mqtt`: the client's CONNECT, and the broker's CONNACK code.
    mqtt_connect: Option<(usize, &'a crate::decode::mqtt::Connect)>,
    mqtt_connack: Option<(usize, u8, &'a str)>,
}

impl<'a> Facts<'a> {
    fn of(transcript: &'a Transcript) -> Facts<'a> {
        let mut f = Facts {
            events: &transcript.events,
            client_hello: None,
            server_hello: None,
            server_alert: None,
            client_alert: None,
            cert_request: None,
            client_cert: None,
            withheld: None,
            client_verify: None,
            server_chain: None,
            verification: None,
            not_tls: None,
            client_not_tls: None,
            client_silent: None,
            transport: None,
            server_close: None,
            client_ended: None,
            server_accepted: false,
            tls13: false,
            encrypted_records: Vec::new(),
            saw_inside: false,
            client_error: None,
            server_error: None,
            client_left_silently: None,
            partial_records: Vec::new(),
            sni_sent: false,
            mqtt_connect: None,
            mqtt_connack: None,
        };
        for (i, event) in transcript.events.iter().enumerate() {
            let from = event.from;
            match &event.what {
                What::Handshake { message, .. } => match message {
                    crate::model::Handshake::ClientHello { sni, .. } => {
                        f.client_hello.get_or_insert(i);
                        f.sni_sent = sni.is_some();
                    }
                    crate::model::Handshake::ServerHello { version, .. } => {
                        f.server_hello.get_or_insert(i);
                        f.tls13 = version.code == 0x0304;
                    }
                    _ => {}
                },
                What::Alert {
                    level, description, ..
                } if level.code == 2 || description.code != 0 => {
                    let code = u8::try_from(description.code).unwrap_or(u8::MAX);
                    if code == 0 {
                        continue;
                    }
                    let alert = AlertAt {
                        index: i,
                        code,
                        event,
                    };
                    match from {
                        Side::Server => {
                            f.server_alert.get_or_insert(alert);
                        }
                        Side::Client => {
                            f.client_alert.get_or_insert(alert);
                        }
                    }
                }
                What::CertificateRequest {
                    ca_names,
                    signature_schemes,
                    ..
                } if from == Side::Server => {
                    f.cert_request = Some((i, ca_names, signature_schemes.len()));
                }
                What::Certificate { certificates, .. } => match from {
                    Side::Client => f.client_cert = Some((i, certificates)),
                    Side::Server => f.server_chain = Some(certificates),
                },
                What::CertificateWithheld { reason, message } if from == Side::Client => {
                    f.withheld = Some((i, reason, message));
                }
                What::CertificateVerify { verified, .. } if from == Side::Client => {
                    f.client_verify = Some((i, *verified));
                }
                What::Verification {
                    ok,
                    problem,
                    detail,
                } if from == Side::Client => {
                    f.verification = Some((i, *ok, problem.as_deref(), detail));
                }
                What::NotTls { preview } if from == Side::Client => {
                    f.client_not_tls.get_or_insert((i, preview));
                }
                What::Close {
                    how: CloseKind::Timeout,
                } if from == Side::Client && f.client_hello.is_none() => {
                    f.client_silent.get_or_insert(i);
                }
                What::Close {
                    how: CloseKind::Eof | CloseKind::Reset,
                } if from == Side::Client
                    && f.client_hello.is_none()
                    && !transcript.events[..i].iter().any(|e| {
                        e.from == Side::Client
                            && matches!(
                                e.what,
                                What::Record { .. }
                                    | What::PartialRecord { .. }
                                    | What::NotTls { .. }
                                    | What::CaptureGap { .. }
                            )
                    }) =>
                {
                    f.client_left_silently.get_or_insert(i);
                    f.client_ended.get_or_insert(i);
                }
                What::NotTls { preview } if from == Side::Server => {
                    f.not_tls.get_or_insert((i, preview));
                }
                What::Transport {
                    stage,
                    problem,
                    message,
                } => {
                    f.transport.get_or_insert((i, stage, problem, message));
                }
                What::Close { how } => match from {
                    Side::Client => {
                        f.client_ended.get_or_insert(i);
                    }
                    Side::Server => {
                        f.server_close.get_or_insert((i, *how));
                    }
                },
                What::Record {
                    content_type,
                    encrypted,
                    length,
                    ..
                } => {
                    if *encrypted {
                        f.encrypted_records.push((i, from, *length));
                        if from == Side::Client && content_type.code == 21 {
                            f.client_ended.get_or_insert(i);
                        }
                    } else if from == Side::Server && content_type.code == 20 && !f.tls13 {
                        f.server_accepted = true;
                    }
                }
                What::Error { message } if from == Side::Client => {
                    f.client_error.get_or_insert((i, message));
                }
                What::Error { message } if from == Side::Server => {
                    f.server_error.get_or_insert((i, message));
                }
                What::MqttConnect { connect } if from == Side::Client => {
                    f.mqtt_connect.get_or_insert((i, connect));
                }
                What::PartialRecord { .. } => f.partial_records.push(i),
                What::MqttConnack { code, name } if from == Side::Server => {
                    f.mqtt_connack.get_or_insert((i, *code, name));
                }
                _ => {}
            }
        }
        f.saw_inside = transcript.events.iter().any(|e| match &e.what {
            What::Certificate { seen, .. }
            | What::CertificateRequest { seen, .. }
            | What::CertificateVerify { seen, .. }
            | What::Alert { seen, .. } => *seen == Seen::Decrypted,
            _ => false,
        });
        // TLS 1.3, seen from inside (live, or a capture with keys): a record from the server
        // after the client's last flight that is not an alert (a ticket, data, a CONNACK) means
        // it accepted the handshake, client certificate included.
        if f.tls13 && f.saw_inside && f.server_alert.is_none() {
            let flight = f.client_flight();
            let answered = flight.is_some_and(|flight| {
                f.encrypted_records
                    .iter()
                    .any(|(i, from, _)| *i > flight && *from == Side::Server)
            });
            f.server_accepted = answered || f.mqtt_connack.is_some();
        }
        if f.tls13 && !f.saw_inside {
            f.infer_from_record_sizes();
        }
        f
    }

    /// TLS 1.3: the client's first encrypted record after the ServerHello, which starts its last
    /// flight (Certificate, CertificateVerify, Finished). Records before the ServerHello would
    /// be early data.
    fn client_flight(&self) -> Option<usize> {
        self.encrypted_records.iter().find_map(|(i, from, _)| {
            (*from == Side::Client && self.server_hello.is_some_and(|hello| *i > hello))
                .then_some(*i)
        })
    }

    /// Bytes `side` sent that the capture lost, among `events` (indices into the events).
    fn lost(&self, side: Side, events: std::ops::Range<usize>) -> u64 {
        self.events[events]
            .iter()
            .filter(|e| e.from == side)
            .filter_map(|e| match e.what {
                What::CaptureGap { missing } => Some(missing),
                _ => None,
            })
            .sum()
    }

    /// TLS 1.3 seen from outside (a capture without keys): record sizes are all there is. A
    /// record from the server bigger than an alert after the client's flight (a ticket, data)
    /// means the server accepted the handshake. The client's last record, after its flight and
    /// exactly the size of an unpadded alert, is its close_notify or an alert of its own (a
    /// Finished is bigger): the client ended the connection there, whatever the order of the
    /// FINs.
    fn infer_from_record_sizes(&mut self) {
        let Some(flight) = self.client_flight() else {
            return;
        };
        let client: Vec<(usize, u16)> = self
            .encrypted_records
            .iter()
            .filter(|(i, from, _)| *from == Side::Client && *i >= flight)
            .map(|(i, _, length)| (*i, *length))
            .collect();
        if self.server_alert.is_none()
            && self.encrypted_records.iter().any(|(i, from, length)| {
                *from == Side::Server && *i > flight && !alert_sized(*length)
            })
        {
            self.server_accepted = true;
        }
        // Exactly an unpadded alert: a client's first bytes of data (`hello\n`, 23 bytes) are
        // alert-sized too, and must not hide the server's refusal that follows them.
        if let [_, .., (last, UNPADDED_ALERT)] = client[..] {
            self.client_ended = Some(self.client_ended.map_or(last, |ended| ended.min(last)));
        }
    }

    /// TLS 1.3 seen from outside (a capture without keys): after the client's last flight the
    /// server sent one encrypted record the size of an alert and closed. Returns that record's
    /// event index and length.
    fn opaque_rejection(&self) -> Option<(usize, u16)> {
        if !self.tls13 || self.saw_inside || self.server_alert.is_some() {
            return None;
        }
        // The client's first protected flight (its Certificate, CertificateVerify, Finished),
        // and the server's first record after it: a ticket or data when all is well.
        let client_flight = self.client_flight()?;
        let (reply, _, length) = *self
            .encrypted_records
            .iter()
            .find(|(i, from, _)| *i > client_flight && *from == Side::Server)?;
        // The client's own close_notify first: the server's record answers it.
        let client_closed_first = self.encrypted_records.iter().any(|(i, from, length)| {
            *from == Side::Client && *i > client_flight && *i < reply && *length == UNPADDED_ALERT
        });
        // Nothing more from the server, whoever closes the connection and whether the capture
        // shows it: a device that drops the socket at once still gets the server's alert.
        let nothing_else = !self
            .encrypted_records
            .iter()
            .any(|(i, from, _)| *i > reply && *from == Side::Server);
        (alert_sized(length) && nothing_else && !client_closed_first).then_some((reply, length))
    }

    /// Whether the handshake can be seen to have finished: the server's ChangeCipherSpec (TLS
    /// 1.2), or the server's acceptance or the client's encrypted last flight (TLS 1.3).
    fn handshake_finished(&self) -> bool {
        if self.server_accepted {
            return true;
        }
        if !self.tls13 {
            return false;
        }
        let Some(flight) = self.client_flight() else {
            return false;
        };
        // What the server sent after the client's flight is its verdict on it: bytes of it
        // that the capture lost leave the verdict unknown.
        self.lost(Side::Server, flight..self.events.len()) == 0
    }

    /// A record `side`'s stream ended inside of.
    fn partial_record(&self, side: Side) -> Option<usize> {
        self.partial_records
            .iter()
            .copied()
            .find(|i| self.events[*i].from == side)
    }

    /// An evidence line for the record the stream ended inside of, at `index`.
    fn partial_line(&self, index: usize) -> Option<String> {
        let event = &self.events[index];
        let What::PartialRecord {
            content_type,
            declared,
            received,
            preview,
        } = &event.what
        else {
            return None;
        };
        let of = match declared {
            Some(length) => format!("of the {} its header declares", usize::from(*length) + 5),
            None => "(not even its whole 5-byte header)".into(),
        };
        let shown = preview
            .as_deref()
            .map(|p| format!(": \"{p}\""))
            .unwrap_or_default();
        Some(format!(
            "the {}'s stream ends inside a {content_type} record ({}): {received} bytes came {of}{shown}",
            event.from.name(),
            self.at(index)
        ))
    }

    /// A handshake that started and stopped short with nothing to say why: no alert, no error,
    /// no refusal seen (a capture that stops or loses packets, a client that gives up, a client
    /// that stops inside its first record).
    fn stopped_short(&self) -> bool {
        (self.client_hello.is_some() || self.lost_bytes() || !self.partial_records.is_empty())
            && !self.handshake_finished()
            && !self.failed_visibly()
    }

    /// Whether the capture lost bytes of this connection.
    fn lost_bytes(&self) -> bool {
        let all = 0..self.events.len();
        self.lost(Side::Client, all.clone()) + self.lost(Side::Server, all) > 0
    }

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
    }

    /// Where an event was seen, for evidence lines.
    fn at(&self, index: usize) -> String {
        let event = &self.events[index];
        let record = match &event.what {
            What::Record { index, .. } => Some(*index),
            What::Handshake { record, .. } => Some(*record),
            What::Certificate { record, .. }
            | What::CertificateRequest { record, .. }
            | What::CertificateVerify { record, .. }
            | What::Alert { record, .. } => *record,
            _ => None,
        };
        let seen = match &event.what {
            What::Certificate { seen, .. }
            | What::CertificateRequest { seen, .. }
            | What::CertificateVerify { seen, .. }
            | What::Alert { seen, .. } => Some(*seen),
            _ => None,
        };
        match (record, seen) {
            (Some(r), _) => format!("record {r}, {:.1} ms", event.at_ms),
            (None, Some(Seen::Decrypted)) => format!("encrypted, {:.1} ms", event.at_ms),
            _ => format!("{:.1} ms", event.at_ms),
        }
    }

    fn alert_line(&self, alert: AlertAt<'_>) -> String {
        let name = crate::model::codes::alert_name(alert.code).unwrap_or("unknown");
        format!(
            "the {} sent alert {} {name} ({}): {}",
            alert.event.from,
            alert.code,
            self.at(alert.index),
            alerts::meaning(alert.code)
        )
    }

    /// The server's rejection after `index`: its fatal alert, or its close without one.
    fn rejection_after(&self, index: usize) -> Option<Rejection<'a>> {
        if let Some(alert) = self.server_alert.filter(|a| a.index > index) {
            return Some(Rejection::Alert(alert));
        }
        let closed_first = !self.server_accepted
            && self
                .client_ended
                .is_none_or(|ours| self.server_close.is_some_and(|(c, _)| c < ours));
        match self.server_close {
            Some((close, how)) if close > index && closed_first && self.server_alert.is_none() => {
                Some(Rejection::Closed(close, how))
            }
            _ => None,
        }
    }
}

/// An encrypted TLS 1.3 alert without padding: 2 bytes, the content type and a 16-byte tag.
const UNPADDED_ALERT: u16 = 19;

/// Whether an encrypted TLS 1.3 record has the size of an alert, with a little padding allowed.
fn alert_sized(length: u16) -> bool {
    (UNPADDED_ALERT..=32).contains(&length)
}

fn alert_code(rejection: Rejection<'_>) -> Option<u8> {
    match rejection {
        Rejection::Alert(alert) => Some(alert.code),
        Rejection::Closed(..) => None,
    }
}

#[derive(Clone, Copy)]
enum Rejection<'a> {
    Alert(AlertAt<'a>),
    Closed(usize, CloseKind),
}

/// Runs every rule over the transcript.
pub(super) fn propose(
    transcript: &Transcript,
    findings: &[Finding],
    context: &Context,
) -> (Vec<Proposal>, bool) {
    let f = Facts::of(transcript);
    let failed = f.failed();
    let mut proposals = Vec::new();
    transport(&f, &mut proposals);
    not_tls(&f, &mut proposals);
    client_certificate(&f, findings, context, &mut proposals);
    client_rejected_server(&f, &mut proposals);
    server_certificate(&f, context, &mut proposals);
    hello_refused(&f, context, &mut proposals);
    version_not_offered(&f, &mut proposals);
    tls13_from_outside(&f, &mut proposals);
    mqtt(&f, context, &mut proposals);
    stopped_short(&f, &mut proposals);
    peer_closed(
        &f,
        &proposals.iter().map(|p| p.id).collect::<Vec<_>>(),
        &mut proposals,
    );
    if failed {
        unexplained(&f, &mut proposals);
    }
    (proposals, failed)
}

fn transport(f: &Facts<'_>, out: &mut Vec<Proposal>) {
    let Some((_, stage, problem, message)) = f.transport else {
        return;
    };
    let evidence = vec![format!("{stage}: {message}")];
    let proposal = match (stage, problem) {
        ("resolve", _) => Proposal::new(CauseId::DnsFailed, 0.99, evidence),
        (_, "refused") => Proposal::new(CauseId::ConnectRefused, 0.99, evidence),
        (_, "unreachable") => Proposal::new(CauseId::NetworkUnreachable, 0.95, evidence),
        (_, "timeout") => {
            let mut evidence = evidence;
            let server_spoke = f.events.iter().any(|e| {
                e.from == Side::Server
                    && matches!(e.what, What::Record { .. } | What::PartialRecord { .. })
            });
            if stage == "handshake"
                && f.server_hello.is_none()
                && f.client_hello.is_some()
                && !server_spoke
            {
                evidence.push(
                    "the ClientHello got no answer at all: a TLS server answers it at once, so something other than TLS (or a firewall) holds this port"
                        .into(),
                );
            }
            Proposal::new(CauseId::Timeout, 0.9, evidence)
        }
        ("handshake", "reset") => return,
        _ => Proposal::new(CauseId::ConnectRefused, 0.6, evidence),
    };
    out.push(proposal);
}

fn not_tls(f: &Facts<'_>, out: &mut Vec<Proposal>) {
    if let Some((i, preview)) = f.client_not_tls {
        // Seen from the server: the device spoke first, and not TLS.
        let mqtt = preview.starts_with("\\x10") && preview.contains("MQTT");
        let http = preview.contains("(an HTTP request in plain text");
        let what = if mqtt {
            "an MQTT CONNECT in plain text: the device does not use TLS on this port"
        } else if http {
            "an HTTP request in plain text: the device does not use TLS on this port"
        } else {
            "something other than a TLS ClientHello"
        };
        out.push(
            Proposal::new(
                CauseId::NotTls,
                0.95,
                vec![format!("the device's first bytes are not a TLS record ({}): \"{preview}\"", f.at(i)), format!("this looks like {what}")],
            )
            .fix("Enable TLS in the device's connection settings (MQTT over TLS: port 8883), or point it at a plain-text port."),
        );
    }
    if let Some(i) = f.client_left_silently {
        out.push(
            Proposal::new(
                CauseId::PeerClosed,
                0.6,
                vec![format!(
                    "the device connected and closed the connection without sending a byte ({}): no TLS was attempted",
                    f.at(i)
                )],
            )
            .fix("A port check (a load balancer's health probe, nc -z) does this; a device that does it gave up before starting TLS: its own log says why (DNS, a credential it could not load, a TLS library not initialised)."),
        );
    }
    if let Some(i) = f.client_silent {
        // A device that drips its first bytes, or stops inside its first record, did send
        // something: those bytes are the evidence, not silence.
        let records = f.events[..i]
            .iter()
            .filter(|e| e.from == Side::Client && matches!(e.what, What::Record { .. }))
            .count();
        let partial = f.partial_record(Side::Client).filter(|p| *p < i);
        let mut evidence = vec![match (records, partial) {
            (0, None) => format!(
                "the device connected and sent nothing ({}): no ClientHello came",
                f.at(i)
            ),
            (0, Some(_)) => format!(
                "the device had not sent a whole record when iotdoctor stopped waiting ({}): no ClientHello came",
                f.at(i)
            ),
            (records, _) => format!(
                "the device had sent {records} record(s) but no whole ClientHello when iotdoctor stopped waiting ({})",
                f.at(i)
            ),
        }];
        evidence.extend(partial.and_then(|p| f.partial_line(p)));
        out.push(Proposal::new(CauseId::Timeout, 0.8, evidence));
    }
    let Some((i, preview)) = f.not_tls else {
        return;
    };
    let html = preview
        .trim_start()
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("<!doc") || p.eq_ignore_ascii_case("<html"));
    let what = if preview.starts_with("HTTP/") || html {
        "an HTTP server"
    } else if preview.starts_with("SSH-") {
        "an SSH server"
    } else if preview.starts_with(" \\x02") {
        "a plain (non-TLS) MQTT broker answering with CONNACK"
    } else {
        "a service that does not speak TLS"
    };
    out.push(
        Proposal::new(
            CauseId::NotTls,
            0.97,
            vec![format!("the server answered the ClientHello with bytes that are not a TLS record ({}): \"{preview}\"", f.at(i)), format!("this looks like {what}")],
        )
        .fix("Connect to the TLS port of the service (MQTT over TLS: 8883), or enable TLS on this listener."),
    );
}

/// The server asked for a client certificate and then refused the connection.
fn client_certificate(
    f: &Facts<'_>,
    findings: &[Finding],
    context: &Context,
    out: &mut Vec<Proposal>,
) {
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
        if let Some((i, "no-matching-scheme", message)) = f.withheld {
            out.push(Proposal::new(
                CauseId::ClientSigalgMismatch,
                if by_alert { 0.92 } else { 0.8 },
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
        if let Some((i, "key-unusable", message)) = f.withheld {
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
            out.push(Proposal::new(CauseId::ClientKeyUnusable, 0.8, evidence));
            return;
        }
        if let Some((_, "not-configured", message)) = f.withheld {
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
            if by_alert { 0.95 } else { 0.75 },
            evidence,
        ));
        // Seen from outside (a capture), an empty Certificate may also be a stack that had a
        // certificate but no key for any scheme the server allows: say so when they are few.
        if f.withheld.is_none()
            && let Some(narrow) = narrow_schemes(f)
        {
            out.push(Proposal::new(
                CauseId::ClientSigalgMismatch,
                0.5,
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
            0.85,
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
            0.97
        } else {
            0.9
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
    if !expired.is_empty() {
        let confidence = if alert_code == Some(45) { 0.95 } else { 0.8 };
        let mut evidence = expired;
        evidence.push(rejected.clone());
        out.push(Proposal::new(
            CauseId::ClientCertExpired,
            confidence,
            evidence,
        ));
        explained = true;
    }

    let usage = finding_lines(FindingId::ClientCertUsage);
    if !usage.is_empty() {
        let confidence = if alert_code.is_some_and(|c| [43, 42, 46].contains(&c)) {
            0.85
        } else {
            0.7
        };
        let mut evidence = usage;
        evidence.push(rejected.clone());
        out.push(Proposal::new(
            CauseId::ClientCertUsage,
            confidence,
            evidence,
        ));
        explained = true;
    }

    if alert_code == Some(44) {
        out.push(Proposal::new(
            CauseId::ClientCertRevoked,
            0.85,
            vec![sent.clone(), rejected.clone()],
        ));
        explained = true;
    }

    // The chain against the CAs the server named.
    let chain_reaches_named = ca_names.iter().any(|name| {
        chain
            .iter()
            .any(|c| c.issuer == *name || c.subject == *name)
    });
    let trust_alert = alert_code.is_none_or(|c| [48, 42, 46, 40, 116].contains(&c));
    if !chain_reaches_named && trust_alert {
        let top = &chain[chain.len() - 1];
        let scale = if explained { 0.5 } else { 1.0 };
        let named = if ca_names.is_empty() {
            "the server named no acceptable CAs".to_string()
        } else {
            "no certificate sent is issued by (or is) a CA the server named".to_string()
        };
        if top.self_issued {
            out.push(Proposal::new(
                CauseId::ClientCaUntrusted,
                0.9 * scale,
                vec![
                    asked.clone(),
                    sent.clone(),
                    format!(
                        "the chain sent ends at root '{}'; {named}",
                        top.short_name()
                    ),
                    rejected.clone(),
                ],
            ));
        } else if chain.len() == 1 && !ca_names.is_empty() {
            let missing = short_dn(&leaf.issuer);
            out.push(
                Proposal::new(
                    CauseId::ClientChainIncomplete,
                    0.6 * scale,
                    vec![
                        asked.clone(),
                        sent.clone(),
                        format!("only the leaf was sent: if '{missing}' is an intermediate under a named CA, the server cannot build the chain without it"),
                        rejected.clone(),
                    ],
                )
                .fix(format!("Send the intermediate '{missing}' after the device certificate (append it to the certificate file, or pass --chain).")),
            );
            out.push(Proposal::new(
                CauseId::ClientCaUntrusted,
                0.35 * scale,
                vec![
                    sent.clone(),
                    format!(
                        "if '{missing}' is itself a root, it is not one the server named: {named}"
                    ),
                ],
            ));
        } else {
            out.push(Proposal::new(
                CauseId::ClientCaUntrusted,
                0.75 * scale,
                vec![
                    asked.clone(),
                    sent.clone(),
                    format!(
                        "the chain sent ends at '{}', issued by '{}'; {named}",
                        top.short_name(),
                        short_dn(&top.issuer)
                    ),
                    rejected.clone(),
                ],
            ));
        }
        explained = true;
    }

    if !explained {
        out.push(Proposal::new(
            CauseId::AlertUnexplained,
            0.35,
            vec![sent, rejected, "the certificate reaches a CA the server named and no preflight check found a fault: look at the server's log".into()],
        ));
    }
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

/// The client refused the server's certificate (seen from a capture or a server's side).
fn client_rejected_server(f: &Facts<'_>, out: &mut Vec<Proposal>) {
    let Some(alert) = f.client_alert else { return };
    // Our own verdict, when there is one, is explained by `server_certificate`.
    if f.verification.is_some() {
        return;
    }
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
        (48, true) => 0.85,
        (48, false) => 0.7,
        (_, true) => 0.5,
        (_, false) => 0.4,
    };
    let after_certificate = if after_server_certificate {
        format!(
            "{line}, right after the server's Certificate{}",
            top.unwrap_or_default()
        )
    } else {
        format!(
            "{line}, right after the server's encrypted flight (TLS 1.3, no key log: its Certificate is in it) and before any flight of the client's own"
        )
    };
    let start = out.len();
    match alert.code {
        48 | 42 | 46 | 43 => match only_leaf_sent(chain) {
            Some(leaf) => {
                let issuer = short_dn(&leaf.issuer);
                out.push(Proposal::new(
                    CauseId::ServerChainIncomplete,
                    confidence - 0.1,
                    vec![
                        after_certificate.clone(),
                        format!("the server sent only its certificate '{}', not its issuer '{issuer}': a client that trusts the root above '{issuer}' cannot build the chain", leaf.short_name()),
                    ],
                ));
                out.push(Proposal::new(
                    CauseId::ServerCaUntrusted,
                    0.35,
                    vec![format!(
                        "if '{issuer}' is itself a root, the client does not trust it"
                    )],
                ));
            }
            None => out.push(Proposal::new(
                CauseId::ServerCaUntrusted,
                confidence,
                vec![after_certificate.clone()],
            )),
        },
        45 => out.push(Proposal::new(CauseId::ServerCertExpired, 0.8, vec![line])),
        _ => {}
    }
    if let Some(leaf) = chain.first()
        && let Some(mismatch) = judge_the_name(f, alert, leaf, &mut out[start..])
    {
        out.push(mismatch);
    }
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
    let hello = f.client_hello?;
    match &f.events[hello].what {
        What::Handshake {
            message: Handshake::ClientHello { sni, .. },
            ..
        } => sni.as_deref().map(|sni| (hello, sni)),
        _ => None,
    }
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
        0.6
    } else {
        0.9
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

/// Our verification of the server failed. In a capture the client may have gone on regardless:
/// then the chain is still not what `--ca` expects, and the client does not check it that way.
fn server_certificate(f: &Facts<'_>, context: &Context, out: &mut Vec<Proposal>) {
    let start = out.len();
    server_chain_rejected(f, context, out);
    if context.observed && f.handshake_finished() {
        for proposal in &mut out[start..] {
            proposal.evidence.push(
                "the client went on with the handshake all the same: it trusts another CA than the one given, or does not verify the server's certificate"
                    .into(),
            );
        }
    }
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
            0.5,
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
    match problem.unwrap_or("other") {
        "name-mismatch" => {
            let names = if leaf.subject_alt_names.is_empty() {
                format!("no subjectAltName; subject '{}'", leaf.subject)
            } else {
                leaf.subject_alt_names.join(", ")
            };
            let used = context.server_name.as_deref().unwrap_or("?");
            out.push(
                Proposal::new(
                    CauseId::ServerNameMismatch,
                    0.95,
                    vec![verdict, format!("the certificate '{}' covers {names}; iotdoctor connected as '{used}'", leaf.short_name())],
                )
                .fix(format!("Connect with a name the certificate covers ({names}), or use --sni to send and check another name.")),
            );
        }
        "expired" | "not-yet-valid" => out.push(Proposal::new(
            CauseId::ServerCertExpired,
            0.95,
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
        "unknown-issuer" => {
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
                    0.9,
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
                    0.55,
                    vec![
                        verdict.clone(),
                        sent.clone(),
                        format!("only the leaf was sent; its issuer '{}' is not a trusted CA: if it is an intermediate, the server should send it", short_dn(&top.issuer)),
                    ],
                ));
                out.push(Proposal::new(
                    CauseId::ServerCaUntrusted,
                    0.4,
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
                    0.9,
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
        _ => out.push(Proposal::new(CauseId::AlertUnexplained, 0.5, vec![verdict])),
    }
}

/// The server refused the ClientHello itself.
fn hello_refused(f: &Facts<'_>, context: &Context, out: &mut Vec<Proposal>) {
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
            0.9,
            vec![format!("the ClientHello offers only {offered} ({}): servers today accept TLS 1.2 and 1.3", f.at(i)), alert_line],
        ));
        return;
    }
    match alert.code {
        70 => out.push(Proposal::new(
            CauseId::ProtocolVersionMismatch,
            0.9,
            vec![alert_line, before],
        )),
        112 => out.push(Proposal::new(
            CauseId::SniRequired,
            0.9,
            vec![alert_line, before, sni_line(f)],
        )),
        120 => out.push(Proposal::new(
            CauseId::AlpnMismatch,
            0.9,
            vec![alert_line, before],
        )),
        40 | 71 | 47 => {
            out.push(Proposal::new(
                CauseId::NoCommonCipher,
                0.6,
                vec![alert_line.clone(), before.clone(), offered_line(f)],
            ));
            if !f.sni_sent {
                out.push(Proposal::new(
                    CauseId::SniRequired,
                    0.3,
                    vec![alert_line, sni_line(f)],
                ));
            }
            if context.alpn_offered && alert.code == 40 {
                out.push(Proposal::new(CauseId::AlpnMismatch, 0.2, vec!["ALPN protocols were offered; some servers refuse unknown ones with handshake_failure".into()]));
            }
        }
        _ => {}
    }
}

/// The server chose a version below every one the client offered (an SSLv3- or TLS 1.0-only
/// server answering a TLS 1.2 client): the client refuses the ServerHello, whichever alert it
/// sends for it (rustls and OpenSSL 70, others 40 or 47).
fn version_not_offered(f: &Facts<'_>, out: &mut Vec<Proposal>) {
    let (Some(hello), Some(answer)) = (f.client_hello, f.server_hello) else {
        return;
    };
    let (
        What::Handshake {
            message: Handshake::ClientHello { versions, .. },
            ..
        },
        What::Handshake {
            message: Handshake::ServerHello { version, .. },
            ..
        },
    ) = (&f.events[hello].what, &f.events[answer].what)
    else {
        return;
    };
    let offered: Vec<_> = versions
        .iter()
        .filter(|v| v.code & 0x0f0f != 0x0a0a)
        .collect();
    let Some(lowest) = offered.iter().map(|v| v.code).min() else {
        return;
    };
    if version.code >= lowest {
        return;
    }
    let offered = offered
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut evidence = vec![format!(
        "the server chose {version} ({}), a version the ClientHello did not offer (it offered {offered}, {})",
        f.at(answer),
        f.at(hello)
    )];
    evidence.extend(f.client_alert.map(|alert| f.alert_line(alert)));
    out.push(
        Proposal::new(CauseId::ProtocolVersionMismatch, 0.9, evidence)
            .fix("The server speaks only an old protocol version: enable TLS 1.2 (or 1.3) on it; a device must not be made to accept SSLv3, TLS 1.0 or 1.1."),
    );
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
    if f.sni_sent {
        "SNI was sent".into()
    } else {
        "no SNI was sent".into()
    }
}

/// TLS 1.3 without keys: say what is hidden and what the record sizes still suggest.
fn tls13_from_outside(f: &Facts<'_>, out: &mut Vec<Proposal>) {
    let Some((reply, length)) = f.opaque_rejection() else {
        return;
    };
    out.push(
        Proposal::new(
            CauseId::AlertUnexplained,
            0.35,
            vec![
                "TLS 1.3 encrypts everything after the ServerHello and no key log was given: the certificates, the \
                 CertificateRequest and the alerts are not visible"
                    .into(),
                format!(
                    "after the client's last flight the server sent one encrypted record of {length} bytes ({}), the size \
                     of an alert, and nothing more{}",
                    f.at(reply),
                    if f.server_close.is_some_and(|(close, _)| close > reply) {
                        ": it closed the connection"
                    } else {
                        ""
                    }
                ),
                "most likely the server rejected the client's certificate (none sent, an untrusted CA, or a key that \
                 does not match): the key log would tell which"
                    .into(),
            ],
        )
        .fix("Capture again with the client's key log (SSLKEYLOGFILE, or iotdoctor connect --keylog) and run analyze --keylog FILE."),
    );
}

/// `connect --mqtt`: TLS is done; did the broker accept the CONNECT?
fn mqtt(f: &Facts<'_>, context: &Context, out: &mut Vec<Proposal>) {
    let Some((connect_index, connect)) = f.mqtt_connect else {
        return;
    };
    let sent = format!(
        "the client sent MQTT CONNECT, client id '{}'{} ({})",
        connect.client_id,
        if connect.username {
            ", with a user name"
        } else {
            ""
        },
        f.at(connect_index)
    );
    if let Some((i, code, name)) = f.mqtt_connack {
        if code == 0 {
            return;
        }
        let mut proposal = Proposal::new(
            CauseId::MqttRejected,
            0.97,
            vec![
                "the TLS handshake succeeded".into(),
                sent,
                format!("the broker answered CONNACK {code} '{name}' ({})", f.at(i)),
            ],
        );
        for fix in connack_fixes(connect.level, code, context.aws_iot) {
            proposal = proposal.fix(fix);
        }
        out.push(proposal);
        return;
    }
    // A TLS alert after the CONNECT is the TLS rules' business (TLS 1.3 client certificates).
    if f.server_alert.is_some_and(|a| a.index > connect_index) {
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
        sent,
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
        0.85
    } else {
        evidence.push(
            "the server sent nothing between the end of the TLS 1.3 handshake and the close: a server that refuses a client certificate without an alert would look the same".into(),
        );
        0.5
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

/// The server closed without saying why.
fn peer_closed(f: &Facts<'_>, already: &[CauseId], out: &mut Vec<Proposal>) {
    let Some((i, how)) = f.server_close else {
        return;
    };
    if f.server_alert.is_some()
        || f.server_accepted
        || already.contains(&CauseId::MqttClosedAfterConnect)
        || f.opaque_rejection().is_some()
        || f.not_tls.is_some()
        || f.client_ended.is_some_and(|ours| ours < i)
    {
        return;
    }
    let last_sent = f.events[..i]
        .iter()
        .rev()
        .find(|e| {
            e.from == Side::Client
                && matches!(
                    e.what,
                    What::Handshake { .. }
                        | What::Certificate { .. }
                        | What::CertificateVerify { .. }
                )
        })
        .map_or_else(|| "the connection".into(), |e| message_name(&e.what));
    let how = if how == CloseKind::Reset {
        "reset the connection"
    } else {
        "closed the connection"
    };
    let mut evidence = vec![format!(
        "the server {how} without an alert ({}), after the client's {last_sent}",
        f.at(i)
    )];
    evidence.extend(
        f.partial_record(Side::Server)
            .and_then(|partial| f.partial_line(partial)),
    );
    // An alert the capture lost looks like no alert at all, and the client's lost bytes may
    // be what the server refused.
    // (A hole shows when the bytes after it arrive, which may be after the close.)
    let all = 0..f.events.len();
    let (server_lost, client_lost) = (f.lost(Side::Server, all.clone()), f.lost(Side::Client, all));
    if server_lost > 0 {
        evidence.push(format!(
            "{server_lost} bytes the server sent are missing from the capture: an alert may have been among them"
        ));
    }
    if client_lost > 0 {
        evidence.push(format!(
            "{client_lost} bytes the client sent are missing from the capture: what the server answered to them is unknown"
        ));
    }
    // TLS 1.3 without keys, after the client's whole flight: a server that simply closes
    // without a close_notify looks the same as one that refused the client in silence.
    let after_flight = f.tls13
        && !f.saw_inside
        && f.encrypted_records
            .iter()
            .any(|(r, from, _)| *from == Side::Client && *r < i);
    if after_flight {
        evidence.push(
            "TLS 1.3 hides the rest: the client had sent its whole flight, so this may be a refusal without an alert, or the end of a session that sent no ticket".into(),
        );
    }
    let confidence = match (
        server_lost + client_lost > 0,
        after_flight,
        already.is_empty(),
    ) {
        (true, _, _) => 0.3,
        (false, true, _) => 0.45,
        (false, false, true) => 0.7,
        (false, false, false) => 0.4,
    };
    out.push(Proposal::new(CauseId::PeerClosed, confidence, evidence));
}

/// A handshake that stopped before it finished, with no alert or error: say how far it got,
/// who closed, and whether the capture lost bytes that may hold the rest.
fn stopped_short(f: &Facts<'_>, out: &mut Vec<Proposal>) {
    if !f.stopped_short() {
        return;
    }
    let mut evidence = Vec::new();
    match (f.client_hello, f.server_hello) {
        (None, _) => evidence
            .push("no handshake message of this connection is whole in what was seen".into()),
        (Some(hello), None) => evidence.push(format!(
            "the ClientHello ({}) got no ServerHello in what was seen",
            f.at(hello)
        )),
        (Some(_), Some(_)) if f.tls13 && !f.saw_inside => {
            if let Some(flight) = f.client_flight() {
                evidence.push(format!(
                    "TLS 1.3 encrypts the rest of the handshake: the client sent its last flight ({}), and the server's answer to it, its verdict, is not in what was seen",
                    f.at(flight)
                ));
            } else {
                evidence.push(
                    "TLS 1.3 encrypts the rest of the handshake: the client's last flight is not in what was seen".into(),
                );
            }
        }
        (Some(_), Some(_)) => {
            if let Some(last) = f.events.iter().rposition(|e| {
                matches!(
                    e.what,
                    What::Handshake { .. }
                        | What::Certificate { .. }
                        | What::CertificateRequest { .. }
                        | What::CertificateVerify { .. }
                )
            }) {
                evidence.push(format!(
                    "the last handshake message seen is the {}'s {} ({}); the handshake does not finish after it",
                    f.events[last].from.name(),
                    message_name(&f.events[last].what),
                    f.at(last)
                ));
            }
        }
    }
    evidence.extend(f.partial_records.iter().filter_map(|i| f.partial_line(*i)));
    let gaps: Vec<String> = f
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e.what {
            What::CaptureGap { missing } => Some(format!(
                "{missing} bytes the {} sent are missing from the capture ({}): the rest of the handshake may be in them",
                e.from.name(),
                f.at(i)
            )),
            _ => None,
        })
        .collect();
    let lost_bytes = !gaps.is_empty();
    const SHOWN: usize = 3;
    let more = gaps.len().saturating_sub(SHOWN);
    evidence.extend(gaps.into_iter().take(SHOWN));
    if more > 0 {
        evidence.push(format!("and {more} more gap(s) in the capture"));
    }
    let client_closed = f
        .client_ended
        .filter(|ours| f.server_close.is_none_or(|(theirs, _)| theirs > *ours));
    match (client_closed, f.server_close) {
        // Without keys, a TLS 1.3 client's alert would be encrypted: only its close is seen.
        (Some(i), _) if f.tls13 && !f.saw_inside => evidence.push(format!(
            "the client closed the connection ({}) before the server's verdict was seen",
            f.at(i)
        )),
        (Some(i), _) => evidence.push(format!(
            "the client closed the connection without an alert ({}), before the handshake finished",
            f.at(i)
        )),
        (None, Some(_)) => {}
        (None, None) => {
            evidence.push("the connection is still open at the end of what was seen".into())
        }
    }
    let confidence = match (lost_bytes, client_closed) {
        (true, _) => 0.3,
        (false, Some(_)) => 0.6,
        (false, None) => 0.5,
    };
    out.push(Proposal::new(
        CauseId::HandshakeIncomplete,
        confidence,
        evidence,
    ));
}

/// The name of a handshake event, as the RFCs name the message.
fn message_name(what: &What) -> String {
    match what {
        What::Handshake { message, .. } => message.name().to_string(),
        What::Certificate { .. } => "Certificate".into(),
        What::CertificateRequest { .. } => "CertificateRequest".into(),
        What::CertificateVerify { .. } => "CertificateVerify".into(),
        _ => "message".into(),
    }
}

/// A failure no rule explained: say what the alert (or our error) means.
fn unexplained(f: &Facts<'_>, out: &mut Vec<Proposal>) {
    if !out.is_empty() {
        return;
    }
    if let Some(alert) = f.server_alert.or(f.client_alert) {
        out.push(Proposal::new(
            CauseId::AlertUnexplained,
            0.3,
            vec![f.alert_line(alert)],
        ));
    } else if let Some((i, message)) = f.client_error.or(f.server_error) {
        out.push(Proposal::new(
            CauseId::AlertUnexplained,
            0.3,
            vec![format!("{message} ({})", f.at(i))],
        ));
    }
}
