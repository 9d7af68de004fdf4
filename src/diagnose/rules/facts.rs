//! The facts of a transcript the rules reason with, gathered in one walk over its events, and
//! the helpers that cite them: every evidence line names where it was seen.

use crate::model::certificate::CertInfo;
use crate::model::{
    CloseKind, Event, Plaintext, Seen, Side, Transcript, TransportProblem, TransportStage,
    VerifyProblem, What, WithheldReason, codes,
};

/// An alert as the rules need it.
#[derive(Clone, Copy)]
pub(super) struct AlertAt<'a> {
    pub(super) index: usize,
    pub(super) code: u8,
    pub(super) event: &'a Event,
}

impl AlertAt<'_> {
    /// Sent at level fatal: the connection ends with it.
    pub(super) fn is_fatal(&self) -> bool {
        matches!(&self.event.what, What::Alert { level, .. } if level.code == 2)
    }
}

/// The facts of a transcript the rules reason with, gathered once.
pub(super) struct Facts<'a> {
    pub(super) events: &'a [Event],
    pub(super) client_hello: Option<usize>,
    /// The SNI of the first ClientHello.
    pub(super) sni: Option<&'a str>,
    pub(super) server_hello: Option<usize>,
    pub(super) server_alert: Option<AlertAt<'a>>,
    pub(super) client_alert: Option<AlertAt<'a>>,
    pub(super) cert_request: Option<(usize, &'a [String], usize)>,
    pub(super) client_cert: Option<(usize, &'a [CertInfo])>,
    pub(super) withheld: Option<(usize, WithheldReason, &'a str)>,
    pub(super) client_verify: Option<(usize, Option<bool>)>,
    pub(super) server_chain: Option<&'a [CertInfo]>,
    pub(super) verification: Option<(usize, bool, Option<VerifyProblem>, &'a str)>,
    pub(super) not_tls: Option<(usize, &'a str, Plaintext)>,
    /// Server side: the client's first bytes were not TLS.
    pub(super) client_not_tls: Option<(usize, &'a str, Plaintext)>,
    /// Server side: the server stopped waiting before any ClientHello came (the client sent
    /// nothing, or too little, in time).
    pub(super) client_silent: Option<usize>,
    pub(super) transport: Option<(usize, TransportStage, TransportProblem, &'a str)>,
    pub(super) server_close: Option<(usize, CloseKind)>,
    /// The client ended the connection first: its close_notify (live), FIN or RST, or an
    /// encrypted alert of its own (capture, TLS 1.2).
    pub(super) client_ended: Option<usize>,
    /// TLS 1.2: the server sent its ChangeCipherSpec, which it does only after accepting the
    /// client's flight; a later close is not a handshake failure.
    pub(super) server_accepted: bool,
    pub(super) tls13: bool,
    /// The cipher suite of the ServerHello (or HelloRetryRequest): the size of an encrypted
    /// alert depends on it.
    pub(super) cipher_suite: Option<u16>,
    /// TLS 1.3 seen from outside: the client's first encrypted record after the ServerHello has
    /// exactly the size of an alert, which a Finished never has: the client sent an alert
    /// instead of its flight (event index, length).
    pub(super) hidden_client_alert: Option<(usize, u16)>,
    /// The client's first plaintext handshake record, decoded or not: the handshake started.
    pub(super) client_handshake_record: Option<usize>,
    /// TLS 1.2: a side sent a handshake record after its Finished (a renegotiation), and the
    /// other side answered it with an encrypted alert rather than a handshake record.
    pub(super) renegotiation_refused: Option<Renegotiation>,
    /// Encrypted records (index into events, from, length, content type), for inferences when
    /// nothing else is visible.
    pub(super) encrypted_records: Vec<(usize, Side, u16)>,
    /// Some handshake message was decoded from inside encrypted records.
    pub(super) saw_inside: bool,
    pub(super) client_error: Option<(usize, &'a str)>,
    /// Server side (`serve`): iotdoctor's TLS library failed the handshake, with or without an
    /// alert of its own.
    pub(super) server_error: Option<(usize, &'a str)>,
    /// Server side: the device connected and closed (or reset) without sending a byte.
    pub(super) client_left_silently: Option<usize>,
    /// Records a side's stream ended inside of (index into events).
    pub(super) partial_records: Vec<usize>,
    /// `connect --mqtt`: the client's CONNECT, and the broker's CONNACK code.
    pub(super) mqtt_connect: Option<(usize, &'a crate::model::MqttConnect)>,
    pub(super) mqtt_connack: Option<(usize, u8, &'a str)>,
    /// Why the key log given did not decrypt the connection, as the decoder's note says it
    /// (after its "key log: " prefix): no line for it, a suite not decrypted, wrong secrets.
    pub(super) key_log_problem: Option<(usize, &'a str)>,
}

impl<'a> Facts<'a> {
    pub(super) fn of(transcript: &'a Transcript) -> Facts<'a> {
        let mut f = Facts {
            events: &transcript.events,
            client_hello: None,
            sni: transcript.sni(),
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
            cipher_suite: None,
            hidden_client_alert: None,
            client_handshake_record: None,
            renegotiation_refused: None,
            encrypted_records: Vec::new(),
            saw_inside: false,
            client_error: None,
            server_error: None,
            client_left_silently: None,
            partial_records: Vec::new(),
            mqtt_connect: None,
            mqtt_connack: None,
            key_log_problem: None,
        };
        for (i, event) in transcript.events.iter().enumerate() {
            let from = event.from;
            match &event.what {
                What::Handshake { message, .. } => match message {
                    crate::model::Handshake::ClientHello { .. } => {
                        f.client_hello.get_or_insert(i);
                    }
                    crate::model::Handshake::ServerHello {
                        version,
                        cipher_suite,
                        ..
                    } => {
                        f.server_hello.get_or_insert(i);
                        // The drafts of TLS 1.3 (0x7fNN) encrypt the same messages.
                        f.tls13 = version.code == 0x0304 || version.code >> 8 == 0x7f;
                        f.cipher_suite = Some(cipher_suite.code);
                    }
                    // Only TLS 1.3 asks again; its ChangeCipherSpec that follows is for
                    // middleboxes, not the end of a TLS 1.2 handshake.
                    crate::model::Handshake::HelloRetryRequest { cipher_suite, .. } => {
                        f.tls13 = true;
                        f.cipher_suite = Some(cipher_suite.code);
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
                    f.withheld = Some((i, *reason, message));
                }
                What::CertificateVerify { verified, .. } if from == Side::Client => {
                    f.client_verify = Some((i, *verified));
                }
                What::Verification {
                    ok,
                    problem,
                    detail,
                } if from == Side::Client => {
                    f.verification = Some((i, *ok, *problem, detail));
                }
                What::NotTls {
                    preview,
                    looks_like,
                } if from == Side::Client => {
                    f.client_not_tls.get_or_insert((i, preview, *looks_like));
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
                What::NotTls {
                    preview,
                    looks_like,
                } if from == Side::Server => {
                    f.not_tls.get_or_insert((i, preview, *looks_like));
                }
                What::Transport {
                    stage,
                    problem,
                    message,
                } => {
                    f.transport.get_or_insert((i, *stage, *problem, message));
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
                    } else if from == Side::Client && content_type.code == 22 {
                        f.client_handshake_record.get_or_insert(i);
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
                What::Note { message } if f.key_log_problem.is_none() => {
                    f.key_log_problem = message.strip_prefix("key log: ").map(|why| (i, why));
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
        if !f.tls13 {
            f.renegotiation_refused = f.refused_renegotiation();
        }
        f
    }

    /// TLS 1.2 and below, where a record's content type shows even when it is encrypted: a
    /// side's second encrypted handshake record (the first is its Finished), once both sides
    /// sent theirs, starts a renegotiation (the client's ClientHello, the server's
    /// HelloRequest). The other side's next record says what became of it: a handshake record
    /// goes on with it, an alert refuses it.
    fn refused_renegotiation(&self) -> Option<Renegotiation> {
        let records: Vec<(usize, Side, u16, u16)> = self
            .events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.what {
                What::Record {
                    content_type,
                    encrypted: true,
                    length,
                    ..
                } => Some((i, e.from, content_type.code, *length)),
                _ => None,
            })
            .collect();
        let mut finished = [false; 2];
        for (n, &(request, from, content_type, request_length)) in records.iter().enumerate() {
            if content_type != 22 {
                continue;
            }
            let own = usize::from(from == Side::Server);
            if !finished[own] || !finished[1 - own] {
                finished[own] = true;
                continue;
            }
            let &(answer, _, answer_type, answer_length) =
                records[n + 1..].iter().find(|r| r.1 != from)?;
            if answer_type != 21 {
                return None;
            }
            let reply = records[n + 1..]
                .iter()
                .find(|r| r.1 == from && r.0 > answer)
                .filter(|r| r.2 == 21)
                .map(|r| (r.0, r.3));
            return Some(Renegotiation {
                request,
                from,
                request_length,
                answer,
                answer_length,
                reply,
            });
        }
        None
    }

    /// The length of an encrypted TLS 1.3 alert without padding under the cipher suite: its
    /// 2 bytes, the content type and the AEAD tag (8 bytes with AES-CCM-8, 16 with the others).
    pub(super) fn unpadded_alert(&self) -> u16 {
        match self.cipher_suite {
            Some(0x1305) => 2 + 1 + 8,
            _ => 2 + 1 + 16,
        }
    }

    /// TLS 1.3 seen from outside: the client's flight before the server's record at `reply`,
    /// when its sizes are exactly an empty Certificate (8 bytes: the header, an empty context and
    /// an empty list) and a Finished, with no CertificateVerify between them, in two records or
    /// in one (data may follow). Returns the event index of the flight's first record and the
    /// flight's sizes.
    pub(super) fn empty_certificate_flight(&self, reply: usize) -> Option<(usize, Vec<u16>)> {
        let flight = self.client_flight()?;
        let sizes: Vec<u16> = self
            .encrypted_records
            .iter()
            .filter(|(i, from, _)| *from == Side::Client && *i >= flight && *i < reply)
            .map(|(_, _, length)| *length)
            .collect();
        // Each record adds the content type and the tag to its plaintext.
        let overhead = self.unpadded_alert() - 2;
        let hash = if self.cipher_suite == Some(0x1302) {
            48
        } else {
            32
        };
        let (certificate, finished) = (8, 4 + hash);
        let separate = [certificate + overhead, finished + overhead];
        let together = [certificate + finished + overhead];
        // Data may follow the Finished before the server's verdict arrives.
        let flight_sizes = if sizes.starts_with(&separate) {
            separate.to_vec()
        } else if sizes.starts_with(&together) {
            together.to_vec()
        } else {
            return None;
        };
        Some((flight, flight_sizes))
    }

    /// Whether an encrypted TLS 1.3 record has exactly the size of an unpadded alert. Padding
    /// is not allowed for: the records that come closest (a 4-byte MQTT CONNACK, 21 bytes;
    /// six bytes of data, 23) are not alerts, and reading them as one makes a refusal of a
    /// session that went well.
    pub(super) fn alert_sized(&self, length: u16) -> bool {
        length == self.unpadded_alert()
    }

    /// TLS 1.3: the client's first encrypted record after the ServerHello, which starts its last
    /// flight (Certificate, CertificateVerify, Finished). Records before the ServerHello would
    /// be early data.
    pub(super) fn client_flight(&self) -> Option<usize> {
        self.encrypted_records.iter().find_map(|(i, from, _)| {
            (*from == Side::Client && self.server_hello.is_some_and(|hello| *i > hello))
                .then_some(*i)
        })
    }

    /// Bytes `side` sent that the capture lost, among `events` (indices into the events).
    pub(super) fn lost(&self, side: Side, events: std::ops::Range<usize>) -> u64 {
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
        // A flight that is one alert-sized record is no flight: a Finished is 4 bytes and a
        // hash (32 or 48) before the content type and tag, 53 or 69 bytes with a 16-byte tag.
        // The client sent an alert instead, and the handshake ended there.
        if let Some(&(_, _, length)) = self.encrypted_records.iter().find(|r| r.0 == flight)
            && self.alert_sized(length)
        {
            self.hidden_client_alert = Some((flight, length));
            self.client_ended = Some(self.client_ended.map_or(flight, |ended| ended.min(flight)));
            return;
        }
        let client: Vec<(usize, u16)> = self
            .encrypted_records
            .iter()
            .filter(|(i, from, _)| *from == Side::Client && *i >= flight)
            .map(|(i, _, length)| (*i, *length))
            .collect();
        if self.server_alert.is_none()
            && self.encrypted_records.iter().any(|(i, from, length)| {
                *from == Side::Server && *i > flight && !self.alert_sized(*length)
            })
        {
            self.server_accepted = true;
        }
        // Exactly an unpadded alert: a client's first bytes of data (`hello\n`, 23 bytes) are
        // alert-sized too, and must not hide the server's refusal that follows them.
        if let [_, .., (last, length)] = client[..]
            && self.alert_sized(length)
        {
            self.client_ended = Some(self.client_ended.map_or(last, |ended| ended.min(last)));
        }
    }

    /// TLS 1.3 seen from outside (a capture without keys): after the client's last flight the
    /// server sent one encrypted record the size of an alert and closed. Returns that record's
    /// event index and length.
    pub(super) fn opaque_rejection(&self) -> Option<(usize, u16)> {
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
            *from == Side::Client && *i > client_flight && *i < reply && self.alert_sized(*length)
        });
        // Nothing more from the server, whoever closes the connection and whether the capture
        // shows it: a device that drops the socket at once still gets the server's alert.
        let nothing_else = !self
            .encrypted_records
            .iter()
            .any(|(i, from, _)| *i > reply && *from == Side::Server);
        (self.alert_sized(length) && nothing_else && !client_closed_first)
            .then_some((reply, length))
    }

    /// Whether the handshake can be seen to have finished: the server's ChangeCipherSpec (TLS
    /// 1.2), or the server's acceptance or the client's encrypted last flight (TLS 1.3).
    pub(super) fn handshake_finished(&self) -> bool {
        if self.server_accepted {
            return true;
        }
        if !self.tls13 || self.hidden_client_alert.is_some() {
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
    pub(super) fn partial_record(&self, side: Side) -> Option<usize> {
        self.partial_records
            .iter()
            .copied()
            .find(|i| self.events[*i].from == side)
    }

    /// An evidence line for the record the stream ended inside of, at `index`.
    pub(super) fn partial_line(&self, index: usize) -> Option<String> {
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

    /// Whether the capture lost bytes of this connection.
    pub(super) fn lost_bytes(&self) -> bool {
        let all = 0..self.events.len();
        self.lost(Side::Client, all.clone()) + self.lost(Side::Server, all) > 0
    }

    /// Where an event was seen, for evidence lines.
    pub(super) fn at(&self, index: usize) -> String {
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

    pub(super) fn alert_line(&self, alert: AlertAt<'_>) -> String {
        let name = crate::model::codes::alert_name(alert.code).unwrap_or("unknown");
        format!(
            "the {} sent alert {} {name} ({}): {}",
            alert.event.from,
            alert.code,
            self.at(alert.index),
            codes::alert_meaning(alert.code)
        )
    }

    /// The server's rejection after `index`: its fatal alert, or its close without one.
    pub(super) fn rejection_after(&self, index: usize) -> Option<Rejection<'a>> {
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

/// A TLS 1.2 renegotiation the other side refused with an alert: event indices and lengths of
/// the encrypted records.
#[derive(Clone, Copy)]
pub(super) struct Renegotiation {
    /// The handshake record that started it, and who sent it.
    pub(super) request: usize,
    pub(super) from: Side,
    pub(super) request_length: u16,
    /// The other side's answer, an encrypted alert.
    pub(super) answer: usize,
    pub(super) answer_length: u16,
    /// The requester's encrypted alert after the answer, if it sent one.
    pub(super) reply: Option<(usize, u16)>,
}

/// The alert number of a refusal, when it came as an alert.
pub(super) fn alert_code(rejection: Rejection<'_>) -> Option<u8> {
    match rejection {
        Rejection::Alert(alert) => Some(alert.code),
        Rejection::Closed(..) => None,
    }
}

/// How the server refused the client's flight: with an alert, or by closing (event index, how)
/// without one.
#[derive(Clone, Copy)]
pub(super) enum Rejection<'a> {
    Alert(AlertAt<'a>),
    Closed(usize, CloseKind),
}

/// The name of a handshake event, as the RFCs name the message.
pub(super) fn message_name(what: &What) -> String {
    match what {
        What::Handshake { message, .. } => message.name().to_string(),
        What::Certificate { .. } => "Certificate".into(),
        What::CertificateRequest { .. } => "CertificateRequest".into(),
        What::CertificateVerify { .. } => "CertificateVerify".into(),
        _ => "message".into(),
    }
}
