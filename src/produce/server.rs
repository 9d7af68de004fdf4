//! The live server: accepts devices on a socket, drives a rustls server handshake with each,
//! and records every byte each way (decoded by [`Wire`]) and what the hooks saw inside.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ProtocolVersion, RootCertStore, ServerConfig, ServerConnection, SignatureScheme};

use super::client::{TlsVersion, timed_out};
use super::hooks::{
    Facts, HookFact, RecordingClientVerifier, RecordingKey, describe_certificate_error,
    own_signature_detail,
};
use super::recorder::Recorder;
use crate::credentials::inspect::CertInfo;
use crate::error::Error;
use crate::model::{CloseKind, Side, Transcript, TransportProblem, TransportStage, What, codes};

/// Everything `serve` needs to know.
#[derive(Debug)]
pub struct ServerOptions {
    /// Our certificate chain (leaf first) and key.
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// CAs device certificates must chain to; their names go into the CertificateRequest.
    pub client_cas: Vec<CertificateDer<'static>>,
    /// Accept devices that send no certificate.
    pub optional_client_cert: bool,
    pub tls: Option<TlsVersion>,
    /// Signature schemes the CertificateRequest allows (all rustls supports by default).
    pub client_sigalgs: Option<Vec<SignatureScheme>>,
    pub alpn: Vec<String>,
    /// The time a device has for its handshake, counted from its connection; with `mqtt`, the
    /// same again for its CONNECT, counted from the end of the handshake.
    pub timeout: Duration,
    /// Read the device's MQTT CONNECT after the handshake and answer CONNACK with this code.
    pub mqtt: Option<u8>,
}

static TLS12_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
static TLS13_ONLY: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];

/// A ready server: what each connection's configuration is made of (each connection records
/// into facts of its own, so each gets its own verifier).
pub struct Server {
    parts: Parts,
    timeout: Duration,
    mqtt: Option<u8>,
}

struct Parts {
    inner: Arc<dyn rustls::server::danger::ClientCertVerifier>,
    mandatory: bool,
    schemes: Option<Vec<SignatureScheme>>,
    chain: Vec<CertificateDer<'static>>,
    /// The same chain, summarised for the transcript (TLS 1.3 sends it encrypted).
    chain_infos: Vec<CertInfo>,
    key: Arc<dyn rustls::sign::SigningKey>,
    versions: &'static [&'static rustls::SupportedProtocolVersion],
    alpn: Vec<Vec<u8>>,
}

/// One device's connection, recorded.
#[derive(Debug)]
pub struct ServerRun {
    pub peer: SocketAddr,
    pub transcript: Transcript,
}

impl Server {
    pub fn new(options: &ServerOptions) -> Result<Server, Error> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = RootCertStore::empty();
        for ca in &options.client_cas {
            roots.add(ca.clone()).map_err(|e| {
                Error::Usage(format!(
                    "a --client-ca certificate cannot be a trust anchor: {e}"
                ))
            })?;
        }
        let inner = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| Error::Usage(format!("--client-ca: {e}")))?;
        let key = provider
            .key_provider
            .load_private_key(options.key.clone_key())
            .map_err(|e| Error::Usage(format!("the server key cannot be used: {e}")))?;
        let versions: &'static [&'static rustls::SupportedProtocolVersion] = match options.tls {
            Some(TlsVersion::V12) => TLS12_ONLY,
            Some(TlsVersion::V13) => TLS13_ONLY,
            None => rustls::DEFAULT_VERSIONS,
        };
        let parts = Parts {
            inner,
            mandatory: !options.optional_client_cert,
            schemes: options.client_sigalgs.clone(),
            chain: options.chain.clone(),
            chain_infos: options
                .chain
                .iter()
                .filter_map(|der| CertInfo::from_der(der).ok())
                .collect(),
            key,
            versions,
            alpn: options.alpn.iter().map(|p| p.as_bytes().to_vec()).collect(),
        };
        // Built once here, so that a bad setting is a usage error, not a failure of every connection.
        parts.config(Facts::default())?;
        Ok(Server {
            parts,
            timeout: options.timeout,
            mqtt: options.mqtt,
        })
    }

    /// Serves one accepted connection to its end and returns what happened.
    pub fn serve(&self, mut socket: TcpStream, peer: SocketAddr) -> ServerRun {
        let facts = Facts::default();
        let mut run = Run {
            rec: Recorder::new(),
            facts: facts.clone(),
            tls13: false,
            pending: Vec::new(),
            own_chain: self.parts.chain_infos.clone(),
            client_bytes: 0,
            last_client_bytes: None,
        };
        run.push(Side::Client, What::Connected { address: peer });
        let config = match self.parts.config(facts) {
            Ok(config) => config,
            Err(e) => {
                run.push(
                    Side::Server,
                    What::Error {
                        message: e.to_string(),
                    },
                );
                return ServerRun {
                    peer,
                    transcript: run.rec.transcript,
                };
            }
        };
        match ServerConnection::new(config) {
            Ok(mut conn) => {
                let _ = socket.set_nodelay(true);
                run.converse(&mut conn, &mut socket, self.timeout, self.mqtt);
                run.rec.finish(Side::Client);
                run.rec.transcript.tls_version = conn
                    .protocol_version()
                    .map(|v| codes::version(u16::from(v)).to_string());
                run.rec.transcript.cipher_suite = conn
                    .negotiated_cipher_suite()
                    .map(|s| codes::cipher_suite(u16::from(s.suite())).to_string());
                run.rec.transcript.alpn = conn
                    .alpn_protocol()
                    .map(|p| String::from_utf8_lossy(p).into_owned());
            }
            Err(e) => run.push(
                Side::Server,
                What::Error {
                    message: format!("rustls: {}", super::rustls_text::error(&e)),
                },
            ),
        }
        ServerRun {
            peer,
            transcript: run.rec.transcript,
        }
    }
}

impl Parts {
    fn config(&self, facts: Facts) -> Result<Arc<ServerConfig>, Error> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = RecordingClientVerifier::new(
            self.inner.clone(),
            self.mandatory,
            self.schemes.clone(),
            facts.clone(),
        );
        // Our key records its signatures: in TLS 1.3 the one of our CertificateVerify marks
        // where our (encrypted) Certificate went out.
        let key: Arc<dyn rustls::sign::SigningKey> = match self.chain_infos.first() {
            Some(leaf) => Arc::new(RecordingKey::new(
                self.key.clone(),
                leaf.clone(),
                facts.clone(),
            )),
            None => self.key.clone(),
        };
        let certified = Arc::new(rustls::sign::CertifiedKey::new(self.chain.clone(), key));
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(self.versions)
            .map_err(|e| Error::Usage(format!("TLS versions: {e}")))?
            .with_client_cert_verifier(Arc::new(verifier))
            .with_cert_resolver(Arc::new(SingleCert(certified)));
        config.alpn_protocols = self.alpn.clone();
        Ok(Arc::new(config))
    }
}

/// Our one certificate, whatever the SNI.
#[derive(Debug)]
struct SingleCert(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for SingleCert {
    fn resolve(
        &self,
        _: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Binds the listening socket.
pub fn listen(address: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(address).map_err(|e| cannot_listen(address, &e))
}

/// Why `address` cannot be listened on, and what to do about it.
fn cannot_listen(address: SocketAddr, error: &io::Error) -> Error {
    let why = match error.kind() {
        io::ErrorKind::AddrInUse => {
            "the address is already in use: another server listens on this port; stop it, or give --listen another port".to_string()
        }
        io::ErrorKind::AddrNotAvailable => {
            "the address is not one of this machine's: give one of its addresses, 127.0.0.1, or 0.0.0.0 for all".to_string()
        }
        io::ErrorKind::PermissionDenied => {
            "permission denied: ports below 1024 need privileges; give --listen a higher port (8883 is MQTT over TLS)".to_string()
        }
        _ => error.to_string(),
    };
    Error::Network(format!("cannot listen on {address} (--listen): {why}"))
}

/// The state of one recorded connection, server side.
struct Run {
    rec: Recorder,
    facts: Facts,
    tls13: bool,
    /// Events about what the server is sending, shown once its bytes are on the wire.
    pending: Vec<(Side, What)>,
    /// Our certificate chain, as we send it.
    own_chain: Vec<CertInfo>,
    /// Bytes the device sent, and when the last of them came.
    client_bytes: u64,
    last_client_bytes: Option<Instant>,
}

/// Where a connection is, for its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Handshake,
    /// `--mqtt`: the handshake is done, the device's CONNECT is awaited.
    Mqtt,
    /// Nothing more is awaited: the device's own close, or the deadline.
    Connected,
}

/// The shortest wait a socket is given: a zero timeout means none at all.
const MIN_WAIT: Duration = Duration::from_millis(1);

/// The most application data kept while a CONNECT is awaited: a CONNECT is a few hundred bytes,
/// a few kilobytes with a token for a password; bytes past this are not waited on.
const MAX_CONNECT: usize = 64 * 1024;

impl Run {
    fn push(&mut self, from: Side, what: What) {
        self.rec.push(from, what);
    }

    fn record(&mut self, from: Side, bytes: &[u8]) {
        self.rec.record(from, bytes);
    }

    fn flush(&mut self, conn: &mut ServerConnection, socket: &mut TcpStream) -> io::Result<()> {
        while conn.wants_write() {
            let mut bytes = Vec::new();
            conn.write_tls(&mut bytes)?;
            self.record(Side::Server, &bytes);
            for (side, what) in std::mem::take(&mut self.pending) {
                self.push(side, what);
            }
            socket.write_all(&bytes)?;
        }
        Ok(())
    }

    /// Handshake, then read until the device closes, fails, or its time is up: the handshake
    /// must finish within `timeout` of the connection, and with `--mqtt` the CONNECT (and the
    /// device's answer to the CONNACK) must come within `timeout` of the handshake. However
    /// slowly or however much the device sends, reading stops at that deadline.
    fn converse(
        &mut self,
        conn: &mut ServerConnection,
        socket: &mut TcpStream,
        timeout: Duration,
        mut mqtt: Option<u8>,
    ) {
        let mut deadline = Instant::now() + timeout;
        let mut stage = Stage::Handshake;
        let mut buffer = vec![0u8; 16 * 1024 + 256];
        // Application data received, while an MQTT CONNECT is awaited (at most MAX_CONNECT).
        let mut application = Vec::new();
        loop {
            if stage == Stage::Handshake && !conn.is_handshaking() {
                stage = Stage::Connected;
                if mqtt.is_some() {
                    stage = Stage::Mqtt;
                    deadline = Instant::now() + timeout;
                }
            }
            if stage == Stage::Mqtt && mqtt.is_none() {
                stage = Stage::Connected;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            // What a device that does not read leaves us writing is bounded by the deadline too.
            let _ = socket.set_write_timeout(Some(left.max(MIN_WAIT)));
            if let Err(e) = self.flush(conn, socket) {
                if timed_out(&e) {
                    self.deadline_reached(stage, timeout);
                } else {
                    self.push(
                        Side::Client,
                        What::Close {
                            how: close_kind(&e),
                        },
                    );
                }
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.deadline_reached(stage, timeout);
                return;
            }
            let _ = socket.set_read_timeout(Some(left.max(MIN_WAIT)));
            match socket.read(&mut buffer) {
                Ok(0) => {
                    self.push(
                        Side::Client,
                        What::Close {
                            how: CloseKind::Eof,
                        },
                    );
                    return;
                }
                Ok(n) => {
                    self.client_bytes += n as u64;
                    self.last_client_bytes = Some(Instant::now());
                    self.record(Side::Client, &buffer[..n]);
                    let mut offered = &buffer[..n];
                    while !offered.is_empty() {
                        if let Err(e) = conn.read_tls(&mut offered) {
                            self.push(
                                Side::Server,
                                What::Error {
                                    message: format!("rustls: {e}"),
                                },
                            );
                            return;
                        }
                        let result = conn.process_new_packets();
                        if conn.protocol_version() == Some(ProtocolVersion::TLSv1_3) {
                            self.tls13 = true;
                        }
                        self.absorb_facts();
                        match result {
                            Ok(state) if state.peer_has_closed() => {
                                self.push(
                                    Side::Client,
                                    What::Close {
                                        how: CloseKind::CloseNotify,
                                    },
                                );
                                conn.send_close_notify();
                                let _ = self.flush(conn, socket);
                                return;
                            }
                            Ok(_) => {
                                if let Some(code) = mqtt {
                                    take_application_data(conn, &mut application);
                                    if self.mqtt_exchange(conn, &application, code) {
                                        mqtt = None;
                                        application = Vec::new();
                                    }
                                } else {
                                    // Read only to make room: what a device sends after its
                                    // CONNECT is no part of the diagnosis.
                                    discard_application_data(conn);
                                }
                            }
                            Err(error) => {
                                self.record_error(&error);
                                let _ = self.flush(conn, socket);
                                return;
                            }
                        }
                    }
                }
                // The loop looks at the deadline again.
                Err(e) if timed_out(&e) => {}
                Err(e) => {
                    self.push(
                        Side::Client,
                        What::Close {
                            how: close_kind(&e),
                        },
                    );
                    return;
                }
            }
        }
    }

    /// `--timeout` ran out in `stage`: the device's stream ends there (a record it was in the
    /// middle of is shown), and what it had sent by then is said.
    fn deadline_reached(&mut self, stage: Stage, timeout: Duration) {
        self.push(
            Side::Client,
            What::Close {
                how: CloseKind::Timeout,
            },
        );
        let secs = timeout.as_secs_f64();
        match stage {
            Stage::Handshake if self.client_bytes == 0 => self.push(
                Side::Server,
                What::Note {
                    message: format!(
                        "the device sent nothing within --timeout ({secs} s): stopped waiting"
                    ),
                },
            ),
            Stage::Handshake => {
                let message = format!(
                    "the handshake had not finished when --timeout ran out ({secs} s after the \
                     device connected): {}; iotdoctor stopped reading there",
                    self.sent_so_far()
                );
                self.timed_out(TransportStage::Handshake, message);
            }
            Stage::Mqtt => {
                let message = format!(
                    "no whole MQTT CONNECT from the device when --timeout ran out ({secs} s after \
                     the handshake): {}; iotdoctor stopped reading there",
                    self.sent_so_far()
                );
                self.timed_out(TransportStage::Mqtt, message);
            }
            Stage::Connected => self.push(
                Side::Server,
                What::Note {
                    message: format!(
                        "--timeout ran out ({secs} s) with the connection still open: iotdoctor \
                         stopped reading there"
                    ),
                },
            ),
        }
    }

    /// How much the device had sent, and when the last of it came.
    fn sent_so_far(&self) -> String {
        let mut said = format!("the device had sent {} bytes", self.client_bytes);
        if let Some(last) = self.last_client_bytes {
            let _ = write!(
                said,
                ", the last of them {} ms before",
                Instant::now().saturating_duration_since(last).as_millis()
            );
        }
        let events = &self.rec.transcript.events;
        let last_message = events.iter().rev().find_map(|e| match &e.what {
            What::Handshake { message, .. } if e.from == Side::Client => Some(message.name()),
            _ => None,
        });
        if let Some(name) = last_message {
            let _ = write!(said, "; its last whole handshake message was its {name}");
        }
        // The record the device was in the middle of, reported as its stream ended.
        let partial = events.iter().rev().take(4).find_map(|e| match &e.what {
            What::PartialRecord {
                content_type,
                declared,
                received,
                ..
            } if e.from == Side::Client => Some((content_type, declared, received)),
            _ => None,
        });
        if let Some((content_type, declared, received)) = partial {
            let of = declared.map_or_else(
                || "of its 5-byte header".to_string(),
                |length| format!("of {}", usize::from(length) + 5),
            );
            let _ = write!(
                said,
                "; it was in the middle of a {content_type} record ({received} bytes {of})"
            );
        }
        said
    }

    fn timed_out(&mut self, stage: TransportStage, message: String) {
        self.push(
            Side::Server,
            What::Transport {
                stage,
                problem: TransportProblem::Timeout,
                message,
            },
        );
    }

    /// Reads the device's CONNECT from the application data so far and answers it. Returns
    /// whether the exchange is over (answered, or the bytes are not MQTT).
    fn mqtt_exchange(&mut self, conn: &mut ServerConnection, application: &[u8], code: u8) -> bool {
        use crate::decode::mqtt;
        match mqtt::parse_connect(application) {
            Ok(None) if application.len() >= MAX_CONNECT => {
                self.push(
                    Side::Client,
                    What::Note {
                        message: format!(
                            "the device's first application data is not a whole MQTT CONNECT \
                             within its first {MAX_CONNECT} bytes: iotdoctor reads no further \
                             and does not answer"
                        ),
                    },
                );
                true
            }
            Ok(None) => false,
            Ok(Some((connect, _))) => {
                let level = connect.level;
                self.push(Side::Client, What::MqttConnect { connect });
                let _ = conn.writer().write_all(&mqtt::connack(level, code));
                self.pending.push((
                    Side::Server,
                    What::MqttConnack {
                        code,
                        name: mqtt::connack_name(level, code).to_string(),
                    },
                ));
                true
            }
            Err(why) => {
                self.push(
                    Side::Client,
                    What::Note {
                        message: format!(
                            "the device's first application data is not an MQTT CONNECT: {why}"
                        ),
                    },
                );
                true
            }
        }
    }

    fn absorb_facts(&mut self) {
        let facts = self.facts.drain();
        let chain_follows = facts
            .iter()
            .any(|f| matches!(f, HookFact::ClientChain { .. }));
        for fact in facts {
            match fact {
                HookFact::ClientCertificateArrived if self.tls13 && !chain_follows => {
                    self.push(Side::Client, What::decrypted_certificate(vec![]));
                }
                HookFact::RequestSent { ca_names, schemes } if self.tls13 => self.pending.push((
                    Side::Server,
                    What::decrypted_request(ca_names, schemes.iter().map(|s| u16::from(*s))),
                )),
                HookFact::ClientChain { chain, result } => {
                    if self.tls13 {
                        self.push(Side::Client, What::decrypted_certificate(chain));
                    }
                    let (ok, detail) = match &result {
                        Ok(()) => (
                            true,
                            "the device's chain verifies against --client-ca".to_string(),
                        ),
                        Err(e) => (false, describe_certificate_error(e)),
                    };
                    self.push(
                        Side::Server,
                        What::Verification {
                            ok,
                            detail,
                            problem: None,
                        },
                    );
                }
                HookFact::OwnSignature {
                    scheme,
                    length,
                    verified,
                } if self.tls13 => {
                    // rustls signs our CertificateVerify right after queueing our Certificate;
                    // both go out encrypted in the flight being written.
                    self.pending.push((
                        Side::Server,
                        What::decrypted_certificate(self.own_chain.clone()),
                    ));
                    self.pending.push((
                        Side::Server,
                        What::decrypted_verify(
                            u16::from(scheme),
                            length,
                            verified,
                            own_signature_detail(verified),
                        ),
                    ));
                }
                HookFact::ClientSignatureChecked {
                    scheme,
                    length,
                    result,
                } if self.tls13 => self.push(
                    Side::Client,
                    What::decrypted_verify(
                        u16::from(scheme),
                        length,
                        Some(result.is_ok()),
                        result.err().map(|e| super::rustls_text::error(&e)),
                    ),
                ),
                _ => {}
            }
        }
    }

    fn record_error(&mut self, error: &rustls::Error) {
        // The device's TLS 1.3 alert is encrypted: shown as rustls read it, before its reaction.
        if let rustls::Error::AlertReceived(description) = error
            && self.tls13
            && !self.client_sent_plaintext_alert()
        {
            self.push(Side::Client, What::decrypted_alert(u8::from(*description)));
        }
        self.push(
            Side::Server,
            What::Error {
                message: format!("rustls: {}", super::rustls_text::error(error)),
            },
        );
        if !self.tls13 {
            // TLS 1.2 alerts before the ChangeCipherSpec are plaintext: the wire shows ours.
            if matches!(error, rustls::Error::NoCertificatesPresented) {
                self.pending.push((
                    Side::Server,
                    What::Note {
                        message: TLS12_CERTIFICATE_REQUIRED.into(),
                    },
                ));
            }
            return;
        }
        let description = match error {
            rustls::Error::InvalidCertificate(e) => Some(rustls::AlertDescription::from(e.clone())),
            rustls::Error::NoCertificatesPresented => {
                Some(rustls::AlertDescription::CertificateRequired)
            }
            _ => None,
        };
        if let Some(description) = description {
            self.pending
                .push((Side::Server, What::decrypted_alert(u8::from(description))));
        }
    }

    /// Whether the device's last record was a plaintext alert, which the wire already shows:
    /// some stacks (OpenSSL) send an alert in the clear while still reading the server's
    /// TLS 1.3 flight, before they encrypt anything.
    fn client_sent_plaintext_alert(&self) -> bool {
        self.rec
            .transcript
            .events
            .iter()
            .rev()
            .find_map(|e| match &e.what {
                What::Record {
                    content_type,
                    encrypted,
                    ..
                } if e.from == Side::Client => Some(content_type.code == 21 && !encrypted),
                _ => None,
            })
            .unwrap_or(false)
    }
}

/// rustls answers a missing client certificate with certificate_required whatever the version,
/// and lets no server choose another alert: said next to it, so that the device's 116 is not
/// taken for what a TLS 1.2 broker would send.
const TLS12_CERTIFICATE_REQUIRED: &str = "alert 116 certificate_required is TLS 1.3's: the TLS library \
     behind iotdoctor (rustls) sends it in TLS 1.2 too, where a broker usually answers a missing \
     certificate with 42 bad_certificate (AWS IoT Core) or 40 handshake_failure (OpenSSL)";

/// Moves the application data rustls has decrypted into `application`, up to [`MAX_CONNECT`]
/// bytes in all; the rest is read and dropped, so that rustls always has room for more records.
fn take_application_data(conn: &mut ServerConnection, application: &mut Vec<u8>) {
    let mut chunk = [0u8; 4096];
    while let Ok(n @ 1..) = conn.reader().read(&mut chunk) {
        let room = MAX_CONNECT.saturating_sub(application.len());
        application.extend_from_slice(&chunk[..n.min(room)]);
    }
}

/// Reads and drops the application data rustls has decrypted.
fn discard_application_data(conn: &mut ServerConnection) {
    let mut chunk = [0u8; 4096];
    while let Ok(1..) = conn.reader().read(&mut chunk) {}
}

fn close_kind(e: &io::Error) -> CloseKind {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => CloseKind::Reset,
        _ => CloseKind::Eof,
    }
}
