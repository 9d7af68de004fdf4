//! The transcript: what happened on one connection, in wire order. Every producer (live client,
//! live server, capture) emits these same events, so one diagnosis rule serves them all.

use std::fmt;
use std::net::SocketAddr;

use serde::Serialize;

use super::certificate::CertInfo;
use super::codes::{self, Named};

/// Which end of the connection an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// `client` or `server`, as reports write it.
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who a connection was with.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// `host:port` as given.
    pub endpoint: String,
    /// The SNI sent, if any.
    pub sni: Option<String>,
    /// The address connected to, once known.
    pub address: Option<SocketAddr>,
}

/// What else the capture held.
#[derive(Debug, Default, Clone, Serialize)]
pub struct CaptureSummary {
    /// TCP connections seen.
    pub tcp_flows: u64,
    /// Connections that carried a TLS handshake.
    pub tls_flows: u64,
    /// Notes about the capture itself (cut packets, unsupported link types, a truncated file).
    pub notes: Vec<String>,
}

/// Everything seen on one connection.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Transcript {
    /// Negotiated version, e.g. `TLSv1.3`, once known.
    pub tls_version: Option<String>,
    /// Negotiated cipher suite, once known.
    pub cipher_suite: Option<String>,
    /// Negotiated ALPN protocol, if any.
    pub alpn: Option<String>,
    pub events: Vec<Event>,
}

impl Transcript {
    pub fn push(&mut self, at_ms: f64, from: Side, what: What) {
        self.events.push(Event { at_ms, from, what });
    }

    /// The client's first ClientHello, with its index in the transcript.
    pub fn client_hello(&self) -> Option<(usize, &Handshake)> {
        self.events
            .iter()
            .enumerate()
            .find_map(|(i, e)| match &e.what {
                What::Handshake {
                    message: hello @ Handshake::ClientHello { .. },
                    ..
                } => Some((i, hello)),
                _ => None,
            })
    }

    /// The host name the client sent as SNI in its first ClientHello.
    pub fn sni(&self) -> Option<&str> {
        match self.client_hello()? {
            (_, Handshake::ClientHello { sni, .. }) => sni.as_deref(),
            _ => None,
        }
    }

    /// Whether the client's first ClientHello offered ALPN.
    pub fn alpn_offered(&self) -> bool {
        matches!(self.client_hello(), Some((_, Handshake::ClientHello { alpn, .. })) if !alpn.is_empty())
    }

    /// The first certificate chain a side presented (empty: it sent a Certificate message
    /// with no certificate), with its index in the transcript.
    pub fn chain(&self, from: Side) -> Option<(usize, &[CertInfo])> {
        self.events
            .iter()
            .enumerate()
            .find_map(|(i, e)| match &e.what {
                What::Certificate { certificates, .. } if e.from == from => {
                    Some((i, certificates.as_slice()))
                }
                _ => None,
            })
    }
}

/// One thing that happened, stamped with milliseconds since the start of the connection attempt.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at_ms: f64,
    pub from: Side,
    #[serde(flatten)]
    pub what: What,
}

/// How an event was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Seen {
    /// Decoded from plaintext bytes on the wire.
    Wire,
    /// Reported by the TLS library from inside the encrypted handshake.
    Decrypted,
}

/// The kinds of event. Serialised with a `kind` tag (docs/json-report.md).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum What {
    /// The host name resolved to these addresses.
    Resolved {
        host: String,
        addresses: Vec<SocketAddr>,
    },
    /// TCP connection established.
    Connected { address: SocketAddr },
    /// One TLS record as it crossed the wire.
    Record {
        /// 1-based, counted over both directions in wire order.
        index: u32,
        content_type: Named,
        version: Named,
        length: u16,
        /// Protected by record encryption: its content is not visible on the wire.
        encrypted: bool,
    },
    /// A plaintext handshake message (Certificate, CertificateRequest and CertificateVerify
    /// have kinds of their own).
    Handshake {
        /// The record that completed the message.
        record: u32,
        #[serde(flatten)]
        message: Handshake,
    },
    /// A Certificate message: the chain a side presented. Empty means no certificate.
    Certificate {
        record: Option<u32>,
        seen: Seen,
        certificates: Vec<CertInfo>,
    },
    /// The server asks the client for a certificate.
    CertificateRequest {
        record: Option<u32>,
        seen: Seen,
        /// TLS 1.2 certificate types (rsa_sign, ecdsa_sign, ...); empty in TLS 1.3.
        certificate_types: Vec<Named>,
        signature_schemes: Vec<Named>,
        /// Distinguished names of the CAs the server accepts (empty: any).
        ca_names: Vec<String>,
    },
    /// A side that has (or was asked for) a certificate sends none, and why.
    CertificateWithheld {
        reason: WithheldReason,
        message: String,
    },
    /// A signature proving possession of the certificate's key.
    CertificateVerify {
        record: Option<u32>,
        seen: Seen,
        scheme: Named,
        signature_length: usize,
        /// Checked against the sender's certificate; `None` when it could not be checked.
        verified: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A TLS alert.
    Alert {
        record: Option<u32>,
        seen: Seen,
        level: Named,
        description: Named,
    },
    /// Our verification of the peer's certificate chain.
    Verification {
        ok: bool,
        detail: String,
        /// What failed, when verification failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        problem: Option<VerifyProblem>,
    },
    /// A network failure: resolving, connecting, or the connection breaking.
    Transport {
        stage: TransportStage,
        problem: TransportProblem,
        message: String,
    },
    /// The connection ended.
    Close { how: CloseKind },
    /// The peer sent bytes that are not TLS.
    NotTls {
        /// The first bytes, printable characters as they are, others as `\xNN`.
        preview: String,
        /// What the bytes are, read from the bytes themselves.
        #[serde(skip)]
        looks_like: Plaintext,
    },
    /// Something went wrong on this side (a TLS library error, a timeout, ...).
    Error { message: String },
    /// An MQTT CONNECT, read after the handshake.
    MqttConnect {
        #[serde(flatten)]
        connect: MqttConnect,
    },
    /// The answer to an MQTT CONNECT: its return code (3.x) or reason code (5).
    MqttConnack { code: u8, name: String },
    /// Bytes of this direction's stream that the capture does not hold (lost or cut packets).
    CaptureGap { missing: u64 },
    /// The sender's stream ended inside a record: its first bytes came, the rest never did.
    PartialRecord {
        /// The record's content type, once its first byte came.
        content_type: Named,
        /// The body length its header declares, once the header is whole.
        #[serde(skip_serializing_if = "Option::is_none")]
        declared: Option<u16>,
        /// Bytes of the record that came, its header included.
        received: usize,
        /// The bytes that came (at most 64), shown as `not_tls` previews are: without credentials.
        #[serde(skip_serializing_if = "Option::is_none")]
        preview: Option<String>,
    },
    /// A fact worth showing that is none of the above.
    Note { message: String },
}

/// What bytes that are not TLS are, when they are something iotdoctor knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Plaintext {
    /// An MQTT CONNECT: a device that speaks MQTT without TLS.
    MqttConnect,
    /// An MQTT CONNACK: a broker that speaks MQTT without TLS.
    MqttConnack,
    HttpRequest,
    /// An HTTP response or an HTML page: an HTTP server.
    HttpResponse,
    /// An SSH server's banner.
    Ssh,
    /// The client's own ClientHello sent back: an echo service, not a TLS server.
    Echo,
    /// A ClientHello from the side that should answer one: a TLS client, not a server.
    TlsClient,
    /// A ClientHello in the SSLv2-compatible format (RFC 5246 appendix E.2).
    Sslv2ClientHello,
    /// A CONNACK to the plain-text MQTT CONNECT of `connect`'s probe, on a connection of its
    /// own: the port speaks plain MQTT.
    MqttProbeConnack,
    Unknown,
}

/// Why a side that has (or was asked for) a certificate sends none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WithheldReason {
    /// No certificate was configured.
    NotConfigured,
    /// iotdoctor's TLS library cannot sign with the key given.
    KeyUnusable,
    /// The key can make none of the signature schemes the peer accepts.
    NoMatchingScheme,
}

/// Why the verification of a certificate chain failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyProblem {
    UnknownIssuer,
    NameMismatch,
    Expired,
    NotYetValid,
    BadSignature,
    WrongPurpose,
    /// A CA certificate (basicConstraints CA:TRUE) sent as the peer's own.
    CaUsedAsLeaf,
    Revoked,
    Other,
}

/// Where a network failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportStage {
    /// Resolving the host name.
    Resolve,
    /// Making the TCP connection.
    Connect,
    /// During the TLS handshake.
    Handshake,
    /// During the MQTT exchange after the handshake.
    Mqtt,
}

impl fmt::Display for TransportStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::cause::serde_name(self))
    }
}

/// What failed on the network, by what the user should check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportProblem {
    NotFound,
    Refused,
    Unreachable,
    Timeout,
    Reset,
    Other,
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseKind {
    /// A close_notify alert, then the end of the stream.
    CloseNotify,
    /// The TCP stream ended (FIN) without close_notify.
    Eof,
    /// The TCP connection was reset.
    Reset,
    /// We stopped waiting.
    Timeout,
}

/// Plaintext handshake messages, decoded.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "message", rename_all = "snake_case")]
pub enum Handshake {
    ClientHello {
        /// Versions offered: supported_versions when present, else the legacy version.
        versions: Vec<Named>,
        cipher_suites: Vec<Named>,
        groups: Vec<Named>,
        key_shares: Vec<Named>,
        signature_schemes: Vec<Named>,
        sni: Option<String>,
        alpn: Vec<String>,
    },
    ServerHello {
        version: Named,
        cipher_suite: Named,
        key_share: Option<Named>,
        alpn: Option<String>,
        /// The max_fragment_length the server echoed (RFC 6066), in bytes: it sends no record
        /// longer than that. Absent when it did not echo one.
        #[serde(skip_serializing_if = "Option::is_none")]
        max_fragment_length: Option<u16>,
    },
    HelloRetryRequest {
        cipher_suite: Named,
        key_share: Option<Named>,
    },
    ServerKeyExchange {
        group: Option<Named>,
        scheme: Option<Named>,
    },
    ServerHelloDone,
    ClientKeyExchange {
        length: usize,
    },
    Finished,
    NewSessionTicket,
    EncryptedExtensions,
    KeyUpdate,
    /// A message type iotdoctor does not decode.
    Other {
        message_type: u8,
        length: usize,
    },
}

/// Events a TLS library reports from inside the encrypted handshake (the hooks of the live
/// client and server): no record number, seen [`Seen::Decrypted`].
impl What {
    pub fn decrypted_certificate(certificates: Vec<CertInfo>) -> What {
        What::Certificate {
            record: None,
            seen: Seen::Decrypted,
            certificates,
        }
    }

    /// A CertificateRequest naming these CAs and signature schemes (IANA codes).
    pub fn decrypted_request(
        ca_names: Vec<String>,
        schemes: impl IntoIterator<Item = u16>,
    ) -> What {
        What::CertificateRequest {
            record: None,
            seen: Seen::Decrypted,
            certificate_types: vec![],
            signature_schemes: schemes.into_iter().map(codes::signature_scheme).collect(),
            ca_names,
        }
    }

    pub fn decrypted_verify(
        scheme: u16,
        signature_length: usize,
        verified: Option<bool>,
        detail: Option<String>,
    ) -> What {
        What::CertificateVerify {
            record: None,
            seen: Seen::Decrypted,
            scheme: codes::signature_scheme(scheme),
            signature_length,
            verified,
            detail,
        }
    }

    /// A fatal alert with this description.
    pub fn decrypted_alert(description: u8) -> What {
        What::Alert {
            record: None,
            seen: Seen::Decrypted,
            level: codes::alert_level(2),
            description: codes::alert(description),
        }
    }
}

impl Handshake {
    /// The message's name as the RFCs write it.
    pub fn name(&self) -> &'static str {
        match self {
            Handshake::ClientHello { .. } => "ClientHello",
            Handshake::ServerHello { .. } => "ServerHello",
            Handshake::HelloRetryRequest { .. } => "HelloRetryRequest",
            Handshake::ServerKeyExchange { .. } => "ServerKeyExchange",
            Handshake::ServerHelloDone => "ServerHelloDone",
            Handshake::ClientKeyExchange { .. } => "ClientKeyExchange",
            Handshake::Finished => "Finished",
            Handshake::NewSessionTicket => "NewSessionTicket",
            Handshake::EncryptedExtensions => "EncryptedExtensions",
            Handshake::KeyUpdate => "KeyUpdate",
            Handshake::Other { .. } => "handshake message",
        }
    }
}

/// A device's CONNECT, as far as a diagnosis cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MqttConnect {
    /// `MQTT` (3.1.1 and 5) or `MQIsdp` (3.1).
    pub protocol: String,
    /// 3 (MQTT 3.1), 4 (3.1.1) or 5.
    pub level: u8,
    pub client_id: String,
    pub keep_alive: u16,
    pub clean_start: bool,
    pub username: bool,
    pub password: bool,
    pub will: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(sni: Option<&str>, alpn: &[&str]) -> What {
        What::Handshake {
            record: 1,
            message: Handshake::ClientHello {
                versions: vec![],
                cipher_suites: vec![],
                groups: vec![],
                key_shares: vec![],
                signature_schemes: vec![],
                sni: sni.map(str::to_string),
                alpn: alpn.iter().map(|a| a.to_string()).collect(),
            },
        }
    }

    #[test]
    fn the_first_client_hello_answers() {
        let mut t = Transcript::default();
        assert!(t.client_hello().is_none() && t.sni().is_none() && !t.alpn_offered());
        t.push(
            0.0,
            Side::Client,
            What::Note {
                message: "x".into(),
            },
        );
        t.push(1.0, Side::Client, hello(Some("broker.example"), &["mqtt"]));
        t.push(2.0, Side::Client, hello(Some("other.example"), &[]));
        assert_eq!(t.client_hello().map(|(i, _)| i), Some(1));
        assert_eq!(t.sni(), Some("broker.example"));
        assert!(t.alpn_offered());
    }

    #[test]
    fn each_side_has_its_own_chain() {
        let mut t = Transcript::default();
        t.push(0.0, Side::Server, What::decrypted_certificate(vec![]));
        assert_eq!(
            t.chain(Side::Server).map(|(i, c)| (i, c.len())),
            Some((0, 0))
        );
        assert!(t.chain(Side::Client).is_none());
    }
}
