//! The live client: resolve, connect, and drive a rustls handshake step by step over a socket,
//! recording every byte each way (decoded by [`Wire`]) and what the hooks saw inside.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, ProtocolVersion, RootCertStore};

use super::hooks::{
    Facts, HookFact, Identity, RecordingResolver, RecordingVerifier, describe_certificate_error,
    own_signature_detail,
};
use super::recorder::Recorder;
use crate::decode::mqtt::{self, ConnectRequest};
use crate::error::Error;
use crate::model::{
    CloseKind, Handshake, Seen, Side, Target, Transcript, TransportProblem, TransportStage,
    VerifyProblem, What, WithheldReason, codes,
};

/// The shortest wait a socket is given: a zero timeout means none at all.
const MIN_WAIT: Duration = Duration::from_millis(1);
/// The close phase ends this long after our close_notify at the latest (or at the deadline,
/// if that comes first), even while the server goes on sending.
const CLOSE_BUDGET: Duration = Duration::from_secs(1);
/// Within the close phase, how long a silent server is waited for.
const CLOSE_IDLE: Duration = Duration::from_millis(500);
/// The most of the broker's answer to CONNECT that is kept while it is not yet a whole
/// CONNACK: a CONNACK is a few bytes, with MQTT 5 properties rarely more than a few hundred.
const MAX_CONNACK_LEN: usize = 64 * 1024;

/// Which TLS version(s) to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    V12,
    V13,
}

/// Everything `connect` needs to know.
#[derive(Debug)]
pub struct ClientOptions {
    pub host: String,
    pub port: u16,
    /// Connect to this address, without resolving the name (which is still sent and checked).
    pub address: Option<IpAddr>,
    /// SNI to send: `None` sends none; by default the host name.
    pub sni: Option<String>,
    /// Name the server certificate must cover.
    pub verify_name: String,
    pub alpn: Vec<String>,
    pub tls: Option<TlsVersion>,
    /// Bounds the whole connection, from resolving the name to the end of the close phase:
    /// every stage shares one deadline, however slowly or endlessly the server sends.
    pub timeout: Duration,
    /// How long to wait after a TLS 1.3 handshake for the server's verdict on our certificate
    /// (within the deadline).
    pub grace: Duration,
    /// Trust anchors for the server; `None` uses the Mozilla roots bundled with iotdoctor.
    pub roots: Option<Vec<CertificateDer<'static>>>,
    /// Our certificate chain (leaf first) and key.
    pub identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    pub insecure: bool,
    pub keylog: Option<PathBuf>,
    /// After the handshake, send this MQTT CONNECT and wait for the broker's CONNACK.
    pub mqtt: Option<ConnectRequest>,
}

/// The outcome of one connection attempt.
#[derive(Debug)]
pub struct ClientRun {
    pub target: Target,
    pub transcript: Transcript,
}

/// Makes one connection and records it. Network and TLS failures end up in the transcript;
/// `Err` only when the options themselves are unusable.
pub fn connect(options: &ClientOptions) -> Result<ClientRun, Error> {
    connect_restricted(options, &Restrict::default())
}

/// What one connection offers instead of all rustls can: `probe` offers one cipher suite, group
/// or signature scheme at a time. An empty list keeps rustls's own.
#[derive(Debug, Clone, Default)]
pub struct Restrict {
    pub suites: Vec<rustls::SupportedCipherSuite>,
    pub groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup>,
    /// The schemes offered for the server's signature (signature_algorithms).
    pub schemes: Vec<rustls::SignatureScheme>,
}

/// [`connect`], offering only what `restrict` leaves.
pub fn connect_restricted(
    options: &ClientOptions,
    restrict: &Restrict,
) -> Result<ClientRun, Error> {
    let facts = Facts::default();
    let config = client_config(options, &facts, restrict)?;
    let server_name = ServerName::try_from(options.verify_name.clone()).map_err(|_| {
        Error::Usage(format!(
            "'{}' is not a valid server name",
            options.verify_name
        ))
    })?;

    let mut run = Run::new(options, facts);
    let mut target = target_of(options);

    let Some(address) = run.resolve(options) else {
        return Ok(ClientRun {
            target,
            transcript: run.rec.transcript,
        });
    };
    target.address = Some(address);
    let Some(mut socket) = run.tcp_connect(address) else {
        return Ok(ClientRun {
            target,
            transcript: run.rec.transcript,
        });
    };
    let mut conn = ClientConnection::new(Arc::new(config), server_name.to_owned())
        .map_err(|e| Error::Usage(format!("cannot start a TLS client: {e}")))?;
    let mut up = run.handshake(&mut conn, &mut socket, options);
    if let (true, Some(request)) = (up, &options.mqtt) {
        up = run.mqtt(&mut conn, &mut socket, request);
    }
    if up {
        run.close(&mut conn, &mut socket);
    }
    run.finish(&conn);
    Ok(ClientRun {
        target,
        transcript: run.rec.transcript,
    })
}

/// The server as `options` name it; its address is filled in once resolved.
fn target_of(options: &ClientOptions) -> Target {
    Target {
        // An IPv6 literal in brackets, so that the endpoint can be read back (and pasted).
        endpoint: if options.host.contains(':') {
            format!("[{}]:{}", options.host, options.port)
        } else {
            format!("{}:{}", options.host, options.port)
        },
        sni: options.sni.clone(),
        address: None,
    }
}

fn client_config(
    options: &ClientOptions,
    facts: &Facts,
    restrict: &Restrict,
) -> Result<ClientConfig, Error> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if !restrict.suites.is_empty() {
        provider.cipher_suites = restrict.suites.clone();
    }
    if !restrict.groups.is_empty() {
        provider.kx_groups = restrict.groups.clone();
    }
    let provider = Arc::new(provider);
    let versions: &[&'static rustls::SupportedProtocolVersion] = match options.tls {
        Some(TlsVersion::V12) => &[&rustls::version::TLS12],
        Some(TlsVersion::V13) => &[&rustls::version::TLS13],
        None => rustls::DEFAULT_VERSIONS,
    };
    let mut roots = RootCertStore::empty();
    match &options.roots {
        Some(certs) => {
            for cert in certs {
                roots.add(cert.clone()).map_err(|e| {
                    Error::Usage(format!("a --ca certificate cannot be a trust anchor: {e}"))
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| Error::Usage(format!("cannot build the server verifier: {e}")))?;
    let identity = match &options.identity {
        Some((chain, key)) => match provider.key_provider.load_private_key(key.clone_key()) {
            Ok(key) => Ok(Identity {
                chain: chain.clone(),
                key,
            }),
            Err(e) => {
                tracing::warn!(
                    "the client key cannot be used by rustls ({e}); connecting without a client certificate"
                );
                Err((
                    WithheldReason::KeyUnusable,
                    format!(
                        "iotdoctor's TLS library (rustls) cannot sign with the client key ({e})"
                    ),
                ))
            }
        },
        None => Err((
            WithheldReason::NotConfigured,
            "no client certificate was configured (--cert / --key)".into(),
        )),
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| Error::Usage(format!("TLS versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(
            RecordingVerifier::new(webpki, options.insecure, facts.clone())
                .offering(&restrict.schemes),
        ))
        .with_client_cert_resolver(Arc::new(RecordingResolver::new(identity, facts.clone())));
    config.alpn_protocols = options.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    config.enable_sni = options.sni.is_some();
    config.resumption = rustls::client::Resumption::disabled();
    if let Some(key_log) = super::keylog::KeyLogFile::for_connect(options.keylog.as_deref())? {
        config.key_log = Arc::new(key_log);
    }
    Ok(config)
}

/// The state of one recorded connection.
struct Run {
    rec: Recorder,
    facts: Facts,
    tls13: bool,
    /// Our CertificateVerify self-check, to attach to the wire event in TLS 1.2.
    client_signature: Option<Option<bool>>,
    /// `--timeout`, and when it runs out: every wait of the connection ends by then.
    timeout: Duration,
    deadline: Instant,
    /// What came from the server so far, and when the last of it came.
    server_bytes: u64,
    last_server_bytes: Option<Instant>,
    /// The first [`MAX_CONNACK_LEN`] bytes of application data the server sent (the MQTT
    /// check reads them); the rest is dropped.
    application: Vec<u8>,
}

impl Run {
    /// A run whose `--timeout` starts now; `facts` are those the hooks of its config record.
    fn new(options: &ClientOptions, facts: Facts) -> Self {
        Run {
            rec: Recorder::new(),
            facts,
            tls13: false,
            client_signature: None,
            timeout: options.timeout,
            deadline: Instant::now() + options.timeout,
            server_bytes: 0,
            last_server_bytes: None,
            application: Vec::new(),
        }
    }

    fn push(&mut self, from: Side, what: What) {
        self.rec.push(from, what);
    }

    fn transport(&mut self, stage: TransportStage, problem: TransportProblem, message: String) {
        self.push(
            Side::Client,
            What::Transport {
                stage,
                problem,
                message,
            },
        );
    }

    /// Time left before the deadline.
    fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// `--timeout` in seconds, as the user gave it.
    fn timeout_secs(&self) -> f64 {
        self.timeout.as_secs_f64()
    }

    fn resolve(&mut self, options: &ClientOptions) -> Option<SocketAddr> {
        if let Some(ip) = options.address {
            // curl's --resolve: the name is not looked up; it is only sent (SNI) and checked.
            let address = SocketAddr::new(ip, options.port);
            self.push(
                Side::Client,
                What::Note {
                    message: format!(
                        "--address: {address} is used for {} without resolving the name",
                        options.host
                    ),
                },
            );
            return Some(address);
        }
        // The system resolver cannot be given a timeout: it runs on a thread of its own, left
        // behind if it outlives the deadline (it ends with the process).
        let (sender, answer) = std::sync::mpsc::channel();
        let (host, port) = (options.host.clone(), options.port);
        let spawned = std::thread::Builder::new()
            .name("resolve".into())
            .spawn(move || {
                let result = (host.as_str(), port)
                    .to_socket_addrs()
                    .map(|addresses| addresses.collect::<Vec<SocketAddr>>());
                let _ = sender.send(result);
            });
        let result = match spawned {
            Ok(_) => answer.recv_timeout(self.left()).ok(),
            Err(_) => Some(
                (options.host.as_str(), options.port)
                    .to_socket_addrs()
                    .map(|addresses| addresses.collect()),
            ),
        };
        let addresses: Vec<SocketAddr> = match result {
            Some(Ok(addresses)) => addresses,
            Some(Err(e)) => {
                self.transport(
                    TransportStage::Resolve,
                    TransportProblem::NotFound,
                    format!("cannot resolve {}: {e}", options.host),
                );
                return None;
            }
            None => {
                self.transport(
                    TransportStage::Resolve,
                    TransportProblem::Timeout,
                    format!(
                        "cannot resolve {}: no answer from the resolver within --timeout ({} s)",
                        options.host,
                        self.timeout_secs()
                    ),
                );
                return None;
            }
        };
        self.push(
            Side::Client,
            What::Resolved {
                host: options.host.clone(),
                addresses: addresses.clone(),
            },
        );
        match addresses.first() {
            None => {
                self.transport(
                    TransportStage::Resolve,
                    TransportProblem::NotFound,
                    format!("{} has no addresses", options.host),
                );
                None
            }
            Some(&address) => Some(address),
        }
    }

    fn tcp_connect(&mut self, address: SocketAddr) -> Option<TcpStream> {
        let left = self.left();
        let attempt = if left.is_zero() {
            Err(io::Error::from(io::ErrorKind::TimedOut))
        } else {
            TcpStream::connect_timeout(&address, left)
        };
        match attempt {
            Ok(socket) => {
                let _ = socket.set_nodelay(true);
                self.push(Side::Client, What::Connected { address });
                Some(socket)
            }
            Err(e) => {
                let problem = problem_of(&e);
                self.transport(
                    TransportStage::Connect,
                    problem,
                    format!("cannot connect to {address}: {}", describe(problem, &e)),
                );
                None
            }
        }
    }

    /// Writes everything rustls has queued, recording it.
    fn flush(&mut self, conn: &mut ClientConnection, socket: &mut TcpStream) -> io::Result<()> {
        // A server that reads nothing fills the socket's buffers: writes wait no longer than
        // reads (what a flush after the deadline still sends, an alert, fits in the buffer).
        let _ = socket.set_write_timeout(Some(self.left().max(MIN_WAIT)));
        while conn.wants_write() {
            let mut bytes = Vec::new();
            conn.write_tls(&mut bytes)?;
            self.record(Side::Client, &bytes);
            socket.write_all(&bytes)?;
        }
        Ok(())
    }

    fn record(&mut self, from: Side, bytes: &[u8]) {
        if from == Side::Server {
            self.server_bytes += bytes.len() as u64;
            self.last_server_bytes = Some(Instant::now());
        }
        self.rec.record(from, bytes);
    }

    /// Turns what the hooks saw into events, in place in the transcript.
    fn absorb_facts(&mut self) {
        // rustls asks for our certificate before it verifies the server's, but on the wire the
        // server's flight comes first: put the server's facts first.
        let (server, client): (Vec<HookFact>, Vec<HookFact>) =
            self.facts.drain().into_iter().partition(|fact| {
                matches!(
                    fact,
                    HookFact::ServerChain { .. }
                        | HookFact::ServerSignature { .. }
                        | HookFact::ServerKeyExchangeSignature { .. }
                        | HookFact::CertificateRequested { .. }
                )
            });
        for fact in server.into_iter().chain(client) {
            match fact {
                HookFact::ServerChain { chain, result } => {
                    if self.tls13 {
                        self.push(Side::Server, What::decrypted_certificate(chain));
                    }
                    let (ok, detail) = match &result {
                        Ok(()) => (true, "the server's chain verifies against the trusted CAs and covers the name".to_string()),
                        Err(e) => (false, describe_certificate_error(e)),
                    };
                    self.push(
                        Side::Client,
                        What::Verification {
                            ok,
                            detail,
                            problem: result.err().map(|e| verify_problem(&e)),
                        },
                    );
                }
                HookFact::ServerSignature {
                    scheme,
                    length,
                    result,
                } => self.push(
                    Side::Server,
                    What::decrypted_verify(
                        u16::from(scheme),
                        length,
                        Some(result.is_ok()),
                        result.err().map(|e| super::rustls_text::error(&e)),
                    ),
                ),
                HookFact::ServerKeyExchangeSignature { scheme, result } => {
                    let verdict = match result {
                        Ok(()) => "verified against the server certificate".to_string(),
                        Err(e) => format!("did NOT verify: {}", super::rustls_text::error(&e)),
                    };
                    let scheme = codes::signature_scheme(u16::from(scheme));
                    self.push(
                        Side::Client,
                        What::Note {
                            message: format!("ServerKeyExchange signature ({scheme}) {verdict}"),
                        },
                    );
                }
                HookFact::CertificateRequested { ca_names, schemes } => {
                    if self.tls13 {
                        self.push(
                            Side::Server,
                            What::decrypted_request(
                                ca_names,
                                schemes.iter().map(|s| u16::from(*s)),
                            ),
                        );
                    }
                }
                HookFact::ClientCertificate { chain, withheld } => {
                    if let Some((reason, message)) = withheld {
                        self.push(Side::Client, What::CertificateWithheld { reason, message });
                    }
                    if self.tls13 {
                        self.push(Side::Client, What::decrypted_certificate(chain));
                    }
                }
                // Facts of the server side of a connection: never raised in a client.
                HookFact::RequestSent { .. }
                | HookFact::ClientCertificateArrived
                | HookFact::ClientChain { .. }
                | HookFact::ClientSignatureChecked { .. } => {}
                HookFact::ClientNote(message) => self.push(Side::Client, What::Note { message }),
                HookFact::OwnSignature {
                    scheme,
                    length,
                    verified,
                } => {
                    if self.tls13 {
                        self.push(
                            Side::Client,
                            What::decrypted_verify(
                                u16::from(scheme),
                                length,
                                verified,
                                own_signature_detail(verified),
                            ),
                        );
                    } else {
                        self.client_signature = Some(verified);
                    }
                }
            }
        }
    }

    /// Drives the handshake (and, in TLS 1.3, waits for the server's verdict). Returns whether
    /// the connection is still up.
    fn handshake(
        &mut self,
        conn: &mut ClientConnection,
        socket: &mut TcpStream,
        options: &ClientOptions,
    ) -> bool {
        let mut buffer = vec![0u8; 16 * 1024 + 256];
        // After a TLS 1.3 handshake: when we started waiting for the server's verdict.
        let mut waiting_since: Option<Instant> = None;
        loop {
            if let Err(e) = self.flush(conn, socket) {
                let problem = problem_of(&e);
                self.close_or_transport(TransportStage::Handshake, problem, e);
                return false;
            }
            if !conn.is_handshaking() && waiting_since.is_none() {
                self.tls13 = conn.protocol_version() == Some(ProtocolVersion::TLSv1_3);
                // With --mqtt the broker's answer to CONNECT (or its alert) settles it instead.
                if !self.tls13 || options.mqtt.is_some() {
                    return true;
                }
                // In TLS 1.3 the server judges our certificate after we think we are done:
                // the first record it sends now (a ticket, data or an alert) settles it.
                waiting_since = Some(Instant::now());
            }
            let left = self.left();
            let wait = match waiting_since {
                None if left.is_zero() => {
                    self.handshake_timeout();
                    return false;
                }
                None => left,
                Some(since) => {
                    let grace = options.grace.saturating_sub(since.elapsed());
                    if grace.is_zero() || left.is_zero() {
                        let waited = if grace.is_zero() {
                            format!(
                                "within {} ms after the handshake",
                                options.grace.as_millis()
                            )
                        } else {
                            format!(
                                "in the {} ms from the handshake to the end of --timeout",
                                since.elapsed().as_millis()
                            )
                        };
                        self.push(Side::Client, What::Note {
                            message: format!(
                                "the server sent nothing {waited}: its acceptance of the client certificate is not confirmed"
                            ),
                        });
                        return true;
                    }
                    grace.min(left)
                }
            };
            let _ = socket.set_read_timeout(Some(wait.max(MIN_WAIT)));
            match socket.read(&mut buffer) {
                Ok(0) => {
                    self.peer_ended(conn);
                    return false;
                }
                Ok(n) => {
                    self.record(Side::Server, &buffer[..n]);
                    let mut offered = &buffer[..n];
                    while !offered.is_empty() {
                        match conn.read_tls(&mut offered) {
                            Ok(_) => {}
                            Err(e) => {
                                self.push(
                                    Side::Client,
                                    What::Error {
                                        message: format!("TLS input: {e}"),
                                    },
                                );
                                return false;
                            }
                        }
                        match self.process(conn) {
                            Ok(()) => {}
                            Err(()) => {
                                // Send the alert rustls queued, so the server's log says why too.
                                let _ = self.flush(conn, socket);
                                self.rest_of_refusal(socket);
                                return false;
                            }
                        }
                    }
                    if waiting_since.is_some() {
                        self.push(Side::Client, What::Note {
                            message: "the server's first records after the handshake carried no alert: it accepted the handshake".into(),
                        });
                        return true;
                    }
                }
                // The loop looks at the deadline again.
                Err(e) if timed_out(&e) => {}
                Err(e) => {
                    let problem = problem_of(&e);
                    self.close_or_transport(TransportStage::Handshake, problem, e);
                    return false;
                }
            }
        }
    }

    /// After the server's fatal alert, what else it sends before it closes (GnuTLS refuses a
    /// client chain with 49 access_denied, then 42 bad_certificate): part of its answer.
    fn rest_of_refusal(&mut self, socket: &mut TcpStream) {
        let refused = self
            .rec
            .transcript
            .events
            .iter()
            .rev()
            .take(3)
            .any(|e| e.from == Side::Server && matches!(e.what, What::Alert { .. }));
        if !refused {
            return;
        }
        let until = self.deadline.min(Instant::now() + CLOSE_IDLE);
        let mut buffer = [0u8; 4096];
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let _ = socket.set_read_timeout(Some(left.max(MIN_WAIT)));
            match socket.read(&mut buffer) {
                Ok(n @ 1..) => self.record(Side::Server, &buffer[..n]),
                _ => return,
            }
        }
    }

    /// The deadline came before the handshake finished: records it, with what had come from
    /// the server by then.
    fn handshake_timeout(&mut self) {
        // A record the server was still sending is part of what came: reported before the
        // timeout, which ends the server's stream as a close would.
        self.rec.finish(Side::Server);
        let timeout = self.timeout_secs();
        let message = match self.last_server_bytes {
            None => format!("no answer from the server within {timeout} s"),
            Some(last) => format!(
                "the handshake had not finished when --timeout ran out ({timeout} s after \
                 iotdoctor began connecting): {} bytes had come from the server, the last of \
                 them {} ms before",
                self.server_bytes,
                Instant::now().saturating_duration_since(last).as_millis()
            ),
        };
        self.transport(
            TransportStage::Handshake,
            TransportProblem::Timeout,
            message,
        );
    }

    /// Sends the MQTT CONNECT and reads until the CONNACK, an alert, the end of the connection
    /// or the deadline. Returns whether the connection is still up.
    fn mqtt(
        &mut self,
        conn: &mut ClientConnection,
        socket: &mut TcpStream,
        request: &ConnectRequest,
    ) -> bool {
        if conn.writer().write_all(&request.encode()).is_err() {
            return false;
        }
        self.push(
            Side::Client,
            What::MqttConnect {
                connect: request.summary(),
            },
        );
        let mut buffer = vec![0u8; 16 * 1024 + 256];
        loop {
            if let Err(e) = self.flush(conn, socket) {
                let problem = problem_of(&e);
                self.close_or_transport(TransportStage::Mqtt, problem, e);
                return false;
            }
            let left = self.left();
            if left.is_zero() {
                let message = format!(
                    "no CONNACK from the broker before --timeout ran out ({} s after iotdoctor \
                     began connecting)",
                    self.timeout_secs()
                );
                self.transport(TransportStage::Mqtt, TransportProblem::Timeout, message);
                return true;
            }
            let _ = socket.set_read_timeout(Some(left.max(MIN_WAIT)));
            let n = match socket.read(&mut buffer) {
                Ok(0) => {
                    self.peer_ended(conn);
                    return false;
                }
                Ok(n) => n,
                Err(e) if timed_out(&e) => {
                    continue;
                }
                Err(e) => {
                    let problem = problem_of(&e);
                    self.close_or_transport(TransportStage::Mqtt, problem, e);
                    return false;
                }
            };
            self.record(Side::Server, &buffer[..n]);
            let mut offered = &buffer[..n];
            let mut peer_closed = false;
            while !offered.is_empty() {
                let absorbed = match conn.read_tls(&mut offered) {
                    Ok(_) => self.absorb(conn),
                    Err(_) => Err(()),
                };
                match absorbed {
                    Ok(closed) => peer_closed |= closed,
                    Err(()) => {
                        // An alert (TLS 1.3: the verdict on our certificate) or broken TLS.
                        let _ = self.flush(conn, socket);
                        return false;
                    }
                }
            }
            // `absorb` kept the plaintext so far, before the close_notify that may follow it.
            let answer = match mqtt::parse_connack(&self.application) {
                Ok(None) if self.application.len() >= MAX_CONNACK_LEN => Err(format!(
                    "the broker sent {} bytes without a whole CONNACK (a CONNACK is a few bytes): \
                     its answer to CONNECT is not read further",
                    self.application.len()
                )),
                answer => answer,
            };
            match &answer {
                Ok(Some(code)) => self.push(
                    Side::Server,
                    What::MqttConnack {
                        code: *code,
                        name: mqtt::connack_name(request.level, *code).to_string(),
                    },
                ),
                Err(why) => self.push(
                    Side::Server,
                    What::Note {
                        message: why.clone(),
                    },
                ),
                Ok(None) => {}
            }
            if peer_closed {
                self.push_close_notify();
                return false;
            }
            if answer != Ok(None) {
                return true;
            }
        }
    }

    /// The server ended the TCP stream: record it, and let rustls see the end too.
    fn peer_ended(&mut self, conn: &mut ClientConnection) {
        self.push(
            Side::Server,
            What::Close {
                how: CloseKind::Eof,
            },
        );
        let _ = conn.read_tls(&mut &[][..]);
        let _ = self.process(conn);
    }

    fn close_or_transport(
        &mut self,
        stage: TransportStage,
        problem: TransportProblem,
        e: io::Error,
    ) {
        if problem == TransportProblem::Reset {
            self.push(
                Side::Server,
                What::Close {
                    how: CloseKind::Reset,
                },
            );
        } else {
            self.transport(stage, problem, e.to_string());
        }
    }

    /// Lets rustls process what it read. `Err(())` when the handshake failed.
    fn process(&mut self, conn: &mut ClientConnection) -> Result<(), ()> {
        if self.absorb(conn)? {
            self.push_close_notify();
        }
        Ok(())
    }

    /// [`Run::process`] without recording the server's close_notify: returns whether it came,
    /// for a caller that records what preceded it first.
    fn absorb(&mut self, conn: &mut ClientConnection) -> Result<bool, ()> {
        let result = conn.process_new_packets();
        // rustls takes no more records while it holds 16 KiB of data unread: a server that
        // keeps sending would otherwise hide what follows (its alert, its close_notify).
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = conn.reader().read(&mut chunk) {
            let room = MAX_CONNACK_LEN.saturating_sub(self.application.len());
            self.application.extend_from_slice(&chunk[..n.min(room)]);
        }
        if conn.protocol_version() == Some(ProtocolVersion::TLSv1_3) {
            self.tls13 = true;
        }
        self.absorb_facts();
        match result {
            Ok(state) => Ok(state.peer_has_closed()),
            Err(error) => {
                self.record_error(&error);
                Err(())
            }
        }
    }

    fn push_close_notify(&mut self) {
        self.push(
            Side::Server,
            What::Close {
                how: CloseKind::CloseNotify,
            },
        );
    }

    fn record_error(&mut self, error: &rustls::Error) {
        match error {
            rustls::Error::AlertReceived(description) => {
                // Plaintext alerts are already on the wire; encrypted ones only rustls saw.
                let on_wire = self.rec.transcript.events.iter().rev().take(3).any(|e| {
                    e.from == Side::Server
                        && matches!(
                            &e.what,
                            What::Alert {
                                seen: Seen::Wire,
                                ..
                            }
                        )
                });
                if !on_wire {
                    self.push(Side::Server, What::decrypted_alert(u8::from(*description)));
                }
            }
            rustls::Error::InvalidCertificate(e) => {
                let description = rustls::AlertDescription::from(e.clone());
                self.push(
                    Side::Client,
                    What::Error {
                        message: format!("rustls: {}", super::rustls_text::error(error)),
                    },
                );
                if self.tls13 {
                    self.push(Side::Client, What::decrypted_alert(u8::from(description)));
                }
            }
            other => self.push(
                Side::Client,
                What::Error {
                    message: format!("rustls: {}", super::rustls_text::error(other)),
                },
            ),
        }
    }

    /// Sends close_notify, then reads the server's last records until it closes too, stays
    /// silent for [`CLOSE_IDLE`], or [`CLOSE_BUDGET`] or the deadline runs out, whichever
    /// comes first: a server that keeps sending is left, and the report says so.
    fn close(&mut self, conn: &mut ClientConnection, socket: &mut TcpStream) {
        conn.send_close_notify();
        self.push(
            Side::Client,
            What::Close {
                how: CloseKind::CloseNotify,
            },
        );
        if self.flush(conn, socket).is_err() {
            return;
        }
        let _ = socket.shutdown(Shutdown::Write);
        let closing = Instant::now();
        let until = self.deadline.min(closing + CLOSE_BUDGET);
        let before = self.server_bytes;
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let wait = left.min(CLOSE_IDLE);
            let _ = socket.set_read_timeout(Some(wait.max(MIN_WAIT)));
            match socket.read(&mut buffer) {
                Ok(0) => {
                    self.push(
                        Side::Server,
                        What::Close {
                            how: CloseKind::Eof,
                        },
                    );
                    return;
                }
                Ok(n) => {
                    self.record(Side::Server, &buffer[..n]);
                    let mut offered = &buffer[..n];
                    while !offered.is_empty() && conn.read_tls(&mut offered).is_ok() {
                        if self.process(conn).is_err() {
                            return;
                        }
                    }
                }
                // Silent for CLOSE_IDLE: it has nothing more to say.
                Err(e) if timed_out(&e) && wait == CLOSE_IDLE => {
                    return;
                }
                Err(e) if timed_out(&e) => {}
                Err(e) => {
                    if problem_of(&e) == TransportProblem::Reset {
                        self.push(
                            Side::Server,
                            What::Close {
                                how: CloseKind::Reset,
                            },
                        );
                    }
                    return;
                }
            }
        }
        let still_sending = self
            .last_server_bytes
            .is_some_and(|last| last.elapsed() < CLOSE_IDLE);
        if self.server_bytes > before && still_sending {
            let why = if until == self.deadline {
                format!(
                    "--timeout ran out ({} s after iotdoctor began connecting)",
                    self.timeout_secs()
                )
            } else {
                format!("the close waits at most {} ms", CLOSE_BUDGET.as_millis())
            };
            let message = format!(
                "the server was still sending {} ms after iotdoctor's close_notify ({} bytes \
                 since it) and had not closed: iotdoctor stopped reading there, as {why}",
                closing.elapsed().as_millis(),
                self.server_bytes - before
            );
            self.push(Side::Client, What::Note { message });
        }
    }

    /// Fills in the summary fields and attaches our signature self-check to the wire event.
    fn finish(&mut self, conn: &ClientConnection) {
        self.rec.finish(Side::Server);
        self.rec.transcript.tls_version = conn
            .protocol_version()
            .map(|v| codes::version(u16::from(v)).to_string());
        self.rec.transcript.cipher_suite = conn
            .negotiated_cipher_suite()
            .map(|s| codes::cipher_suite(u16::from(s.suite())).to_string());
        self.rec.transcript.alpn = conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        if let Some(verified) = self.client_signature {
            let ours =
                self.rec
                    .transcript
                    .events
                    .iter_mut()
                    .rev()
                    .find_map(|e| match &mut e.what {
                        What::CertificateVerify {
                            verified: slot @ None,
                            detail,
                            seen: Seen::Wire,
                            ..
                        } if e.from == Side::Client => Some((slot, detail)),
                        _ => None,
                    });
            if let Some((slot, detail)) = ours {
                *slot = verified;
                *detail = own_signature_detail(verified);
            }
        }
    }
}

/// Why a server certificate was rejected, in the terms the rules reason with.
fn verify_problem(error: &rustls::Error) -> VerifyProblem {
    use rustls::CertificateError as C;
    match error {
        rustls::Error::InvalidCertificate(e) => match e {
            C::UnknownIssuer => VerifyProblem::UnknownIssuer,
            C::NotValidForName | C::NotValidForNameContext { .. } => VerifyProblem::NameMismatch,
            C::Expired | C::ExpiredContext { .. } => VerifyProblem::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => VerifyProblem::NotYetValid,
            C::BadSignature | C::UnsupportedSignatureAlgorithmContext { .. } => {
                VerifyProblem::BadSignature
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => VerifyProblem::WrongPurpose,
            C::Revoked => VerifyProblem::Revoked,
            C::Other(other)
                if matches!(
                    other.0.downcast_ref::<webpki::Error>(),
                    Some(webpki::Error::CaUsedAsEndEntity)
                ) =>
            {
                VerifyProblem::CaUsedAsLeaf
            }
            _ => VerifyProblem::Other,
        },
        _ => VerifyProblem::Other,
    }
}

/// Whether an I/O error is a socket timeout (the deadline's, set on the socket).
pub(super) fn timed_out(e: &io::Error) -> bool {
    problem_of(e) == TransportProblem::Timeout
}

/// The transport problem an I/O error is.
fn problem_of(e: &io::Error) -> TransportProblem {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => TransportProblem::Refused,
        K::TimedOut | K::WouldBlock => TransportProblem::Timeout,
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => TransportProblem::Reset,
        K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => {
            TransportProblem::Unreachable
        }
        _ => TransportProblem::Other,
    }
}

/// An I/O error in the words of its transport problem.
fn describe(problem: TransportProblem, e: &io::Error) -> String {
    match problem {
        TransportProblem::Refused => "connection refused (nothing listens on that port)".into(),
        TransportProblem::Timeout => "timed out".into(),
        _ => e.to_string(),
    }
}

/// Sends `hello`, a ClientHello iotdoctor wrote itself for an offer rustls cannot make, and
/// records the server's answer to it: its hello (up to ServerHelloDone in TLS 1.2, the
/// ServerHello alone in TLS 1.3), a HelloRetryRequest, an alert, its close or its silence. The
/// handshake goes no further: iotdoctor closes the connection there.
pub fn send_hello(options: &ClientOptions, hello: &[u8]) -> Result<ClientRun, Error> {
    let mut run = Run::new(options, Facts::default());
    let mut target = target_of(options);
    if let Some(address) = run.resolve(options) {
        target.address = Some(address);
        if let Some(mut socket) = run.tcp_connect(address) {
            run.hello_answer(&mut socket, hello);
        }
    }
    run.rec.finish(Side::Server);
    Ok(ClientRun {
        target,
        transcript: run.rec.transcript,
    })
}

impl Run {
    /// [`send_hello`]'s exchange on a connected socket.
    fn hello_answer(&mut self, socket: &mut TcpStream, hello: &[u8]) {
        self.record(Side::Client, hello);
        let _ = socket.set_write_timeout(Some(self.left().max(MIN_WAIT)));
        if let Err(e) = socket.write_all(hello) {
            let problem = problem_of(&e);
            self.close_or_transport(TransportStage::Handshake, problem, e);
            return;
        }
        let mut buffer = vec![0u8; 16 * 1024 + 256];
        while !self.hello_answered() {
            let left = self.left();
            if left.is_zero() {
                self.handshake_timeout();
                return;
            }
            let _ = socket.set_read_timeout(Some(left.max(MIN_WAIT)));
            match socket.read(&mut buffer) {
                Ok(0) => {
                    self.push(
                        Side::Server,
                        What::Close {
                            how: CloseKind::Eof,
                        },
                    );
                    return;
                }
                Ok(n) => self.record(Side::Server, &buffer[..n]),
                Err(e) if timed_out(&e) => {}
                Err(e) => {
                    let problem = problem_of(&e);
                    self.close_or_transport(TransportStage::Handshake, problem, e);
                    return;
                }
            }
        }
        self.rest_of_refusal(socket);
        let refused = self.rec.transcript.events.iter().any(|e| {
            e.from == Side::Server && matches!(e.what, What::Alert { .. } | What::Close { .. })
        });
        if !refused {
            // The server is waiting for a client flight iotdoctor cannot send: it goes no
            // further, and says so by closing.
            let _ = socket.shutdown(Shutdown::Both);
            self.push(
                Side::Client,
                What::Close {
                    how: CloseKind::Eof,
                },
            );
        }
    }

    /// Whether the server has said all it says to a ClientHello before the client's turn.
    fn hello_answered(&self) -> bool {
        self.rec.transcript.events.iter().any(|e| {
            e.from == Side::Server
                && match &e.what {
                    What::Alert { .. } | What::NotTls { .. } | What::Close { .. } => true,
                    What::Handshake { message, .. } => match message {
                        Handshake::ServerHelloDone | Handshake::HelloRetryRequest { .. } => true,
                        Handshake::ServerHello { version, .. } => version.code >= 0x0304,
                        _ => false,
                    },
                    _ => false,
                }
        })
    }
}
