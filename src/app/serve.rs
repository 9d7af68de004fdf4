//! `serve`: a diagnostic TLS server for devices under test, each connection diagnosed from the
//! server's side.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use super::credentials::{Identity, read_cas};
use super::output::{self, Format, report_write_error};
use crate::credentials::checks;
use crate::credentials::load::Embedded;
use crate::credentials::{Credentials, Finding, FindingId, Severity};
use crate::diagnose::{self, Context};
use crate::error::{Error, InputProblem};
use crate::explain::Stack;
use crate::model::Target;
use crate::produce::client::TlsVersion;
use crate::produce::offer;
use crate::produce::server::{self, Server, ServerOptions};
use crate::report::{Outcome, Report, style::Style};

/// What `serve` does.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    /// The server's certificate chain, leaf first; may also hold the key.
    pub cert: PathBuf,
    pub key: Option<PathBuf>,
    /// The CAs device certificates must chain to, named in the CertificateRequest.
    pub client_ca: Vec<PathBuf>,
    /// Files of `cert`, `key` and `client_ca` given by their contents instead of read from disk.
    pub embedded: Vec<Embedded>,
    /// Accept devices that send no certificate.
    pub optional_client_cert: bool,
    /// Accept only this version.
    pub tls: Option<TlsVersion>,
    /// IANA names of the signature schemes the CertificateRequest allows; none: all.
    pub client_sigalgs: Vec<String>,
    pub alpn: Vec<String>,
    /// Read the device's MQTT CONNECT and answer CONNACK with this code.
    pub mqtt: Option<u8>,
    /// Serve one connection, and exit with its verdict.
    pub once: bool,
    /// The time a device has for its handshake (and again for its CONNECT).
    pub timeout: Duration,
    /// Devices served at once; none: from the limit of open files.
    pub max_connections: Option<usize>,
}

/// Serves devices until interrupted (or one, with `once`), writing each connection's report
/// when it ends, with the fixes of `stack` when the devices' TLS stack is known. Returns the
/// exit code: with `once`, that of the one connection.
pub fn run(
    options: &Options,
    stack: Option<Stack>,
    format: Format,
    style: Style,
    out: &mut dyn Write,
) -> Result<u8, Error> {
    let server = Arc::new(server(options)?);
    let listener = server::listen(options.listen)?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Network(format!("--listen: {e}")))?;
    eprintln!("iotdoctor: serving TLS on {local}");

    let max_connections = options
        .max_connections
        .unwrap_or_else(default_max_connections);
    // Each connection is served on a thread of its own; reports come back here to be written
    // one at a time, as their connections end. A connection whose report cannot be queued (the
    // output is slower than the devices) keeps its place until it can: what waits is bounded.
    let (reports, finished) = std::sync::mpsc::sync_channel::<Served>(max_connections);
    // Ctrl-C ends the run with a summary; without a handler (already set) it simply ends it.
    let _ = ctrlc::set_handler({
        let reports = reports.clone();
        move || {
            let _ = reports.send(Served::Stop);
        }
    });
    std::thread::spawn({
        let once = options.once;
        move || accept_devices(&listener, &server, &reports, once, max_connections)
    });
    let mut summary = ServeSummary::default();
    for served in finished {
        let Served::Report(report) = served else {
            break;
        };
        let report = report.for_stack(stack);
        summary.add(&report);
        let written = output::write_one(&report, format, style, out);
        report_write_error(written.and_then(|_| out.flush()));
        if options.once {
            return Ok(report.exit_code(None));
        }
    }
    let written = match format {
        Format::Json => output::json_line(&summary, out),
        Format::Text => writeln!(out, "{}", summary.line()),
    };
    report_write_error(written.and_then(|_| out.flush()));
    Ok(if summary.problems > 0 {
        crate::error::exit::PROBLEMS
    } else {
        crate::error::exit::OK
    })
}

/// The server `options` describe, ready to serve connections: its credentials read and checked.
pub fn server(options: &Options) -> Result<Server, Error> {
    let identity = Identity {
        cert: Some(options.cert.clone()),
        key: options.key.clone(),
        ..Identity::default()
    };
    let creds = identity.load(&[], &options.embedded)?;
    let key = creds.key.as_ref().ok_or_else(|| {
        Error::Usage(
            "the server needs its private key: give --key (or put it in the --cert file)".into(),
        )
    })?;
    refuse_key_of_another_certificate(&creds, key)?;
    // Named as `connect --sigalgs` names them: IANA or OpenSSL spellings, or codes.
    let client_sigalgs = if options.client_sigalgs.is_empty() {
        None
    } else {
        let codes = offer::parse_sigalgs(&options.client_sigalgs.join(","))
            .map_err(|e| Error::Usage(format!("--client-sigalgs: {e}")))?;
        Some(
            codes
                .into_iter()
                .map(rustls::SignatureScheme::from)
                .collect(),
        )
    };
    let server_options = ServerOptions {
        chain: creds
            .device
            .iter()
            .map(|c| CertificateDer::from(c.info.raw.der.clone()))
            .collect(),
        key: key.key.der.clone_key(),
        client_cas: read_cas(&options.client_ca, &options.embedded)?
            .iter()
            .map(|ca| CertificateDer::from(ca.raw.der.clone()))
            .collect(),
        optional_client_cert: options.optional_client_cert,
        tls: options.tls,
        client_sigalgs,
        alpn: options.alpn.clone(),
        mqtt: options.mqtt,
        timeout: options.timeout,
    };
    Server::new(&server_options)
}

/// A server whose key is not its certificate's fails every handshake, and the devices look to
/// blame: refuse to start, with the same check `check-certs` makes.
fn refuse_key_of_another_certificate(
    creds: &Credentials,
    key: &crate::credentials::LoadedKey,
) -> Result<(), Error> {
    let Some(leaf) = creds.device.first() else {
        return Ok(());
    };
    match checks::key_mismatch(key, &leaf.info) {
        Some(finding) => Err(Error::input(
            &key.path,
            InputProblem::KeyNotForCertificate {
                cert: leaf.origin.path.clone(),
                why: finding.message,
            },
        )),
        None => Ok(()),
    }
}

/// Accepts devices and serves each on a thread of its own, at most `max` at once: past that,
/// new connections wait in the listen backlog until one ends. A failure to accept (most often
/// the limit of open files) is retried after a pause that grows from 10 ms to 1 s, and said once
/// per run of failures, so that it neither spins nor floods stderr.
fn accept_devices(
    listener: &std::net::TcpListener,
    server: &Arc<Server>,
    reports: &std::sync::mpsc::SyncSender<Served>,
    once: bool,
    max: usize,
) {
    let slots = Arc::new(Slots::new(max));
    let mut failures = AcceptFailures::default();
    let mut number = 0u64;
    loop {
        let slot = Slots::take(&slots);
        let (socket, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            // The device gave up before it was accepted: nothing is held, nothing to wait for.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => {
                failures.failed("accept a connection", &e, max);
                continue;
            }
        };
        failures.recovered();
        number += 1;
        let (server, reports) = (server.clone(), reports.clone());
        let worker = std::thread::Builder::new().spawn(move || {
            let _slot = slot;
            let run = server.serve(socket, peer);
            let _ = reports.send(Served::Report(Box::new(device_report(number, run))));
        });
        match worker {
            Ok(worker) if once => {
                let _ = worker.join();
                return;
            }
            Ok(_) => {}
            // The closure, and with it the socket and the slot, is dropped: the device sees
            // its connection closed.
            Err(e) => failures.failed("start a thread for a connection", &e, max),
        }
    }
}

/// Connections being served, at most `max`.
struct Slots {
    busy: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
    max: usize,
}

impl Slots {
    fn new(max: usize) -> Slots {
        Slots {
            busy: std::sync::Mutex::new(0),
            freed: std::sync::Condvar::new(),
            max: max.max(1),
        }
    }

    /// Waits for a free slot and takes it; it is given back when the [`Slot`] is dropped.
    fn take(slots: &Arc<Slots>) -> Slot {
        let mut busy = slots
            .busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while *busy >= slots.max {
            busy = slots
                .freed
                .wait(busy)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *busy += 1;
        Slot(slots.clone())
    }
}

/// One connection's place among the [`Slots`], held by its thread until it ends (or panics).
struct Slot(Arc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut busy = self
            .0
            .busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *busy -= 1;
        self.0.freed.notify_one();
    }
}

/// A run of failures to accept a connection (or to start its thread): the pause before the next
/// try, and how many failed.
#[derive(Default)]
struct AcceptFailures {
    count: u64,
    pause: Duration,
}

impl AcceptFailures {
    const FIRST_PAUSE: Duration = Duration::from_millis(10);
    const LONGEST_PAUSE: Duration = Duration::from_secs(1);

    /// Says so at the first failure of a run, then waits before the next try.
    fn failed(&mut self, doing: &str, error: &std::io::Error, max: usize) {
        if self.count == 0 {
            let limit = open_files_limit()
                .map(|l| format!(", the process's limit of open files is {l}"))
                .unwrap_or_default();
            let why = if is_out_of_files(error) {
                format!(
                    ": no file descriptor is left{limit}; lower --max-connections ({max}) or \
                     raise the limit (ulimit -n)"
                )
            } else {
                String::new()
            };
            tracing::warn!(
                "cannot {doing}: {error}{why}. Retrying with pauses of up to 1 s; \
                 waiting devices stay in the listen backlog"
            );
            self.pause = Self::FIRST_PAUSE;
        }
        self.count += 1;
        std::thread::sleep(self.pause);
        self.pause = (self.pause * 2).min(Self::LONGEST_PAUSE);
    }

    /// A connection was accepted: the run of failures, if any, is over.
    fn recovered(&mut self) {
        if self.count > 0 {
            tracing::info!(
                "accepting connections again, after {} failed attempt(s)",
                self.count
            );
            self.count = 0;
        }
    }
}

/// EMFILE or ENFILE: no file descriptor left for the process, or for the system.
fn is_out_of_files(error: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

/// The process's limit of open files (its soft RLIMIT_NOFILE), when it has one.
fn open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct it is given, which lives across the call.
        let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        // rlim_t is u64 on Linux, not on every Unix.
        #[allow(clippy::unnecessary_cast)]
        let current = limit.rlim_cur as u64;
        (read && limit.rlim_cur != libc::RLIM_INFINITY).then_some(current)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The default `--max-connections`: each connection holds one socket, so half of the open files
/// the process may have, less 32 for its own (standard streams, the listener, the Ctrl-C pipe,
/// files read at start), at least 1 and at most 1024.
fn default_max_connections() -> usize {
    let limit = open_files_limit().unwrap_or(2 * 1024 + 32);
    let max = limit.saturating_sub(32) / 2;
    usize::try_from(max).unwrap_or(usize::MAX).clamp(1, 1024)
}

/// What the connection threads hand to the writer.
enum Served {
    Report(Box<Report>),
    /// Ctrl-C.
    Stop,
}

/// What `serve` saw until it was stopped, by top cause.
#[derive(Debug, Default, serde::Serialize)]
struct ServeSummary {
    connections: u64,
    ok: u64,
    problems: u64,
    /// Connections by their most likely cause.
    causes: std::collections::BTreeMap<String, u64>,
}

impl ServeSummary {
    fn add(&mut self, report: &Report) {
        self.connections += 1;
        match report.diagnosis.causes.first() {
            Some(top) => {
                self.problems += 1;
                *self.causes.entry(top.id.to_string()).or_default() += 1;
            }
            None if report.outcome == Outcome::Ok => self.ok += 1,
            None => self.problems += 1,
        }
    }

    fn line(&self) -> String {
        let causes: Vec<String> = self
            .causes
            .iter()
            .map(|(id, n)| format!("{id}: {n}"))
            .collect();
        format!(
            "Summary: {} connection(s), {} ok, {} with problems{}",
            self.connections,
            self.ok,
            self.problems,
            if causes.is_empty() {
                String::new()
            } else {
                format!(" ({})", causes.join(", "))
            }
        )
    }
}

/// The report of one device's connection, diagnosed from the server's side.
fn device_report(number: u64, run: server::ServerRun) -> Report {
    let sni = run.transcript.sni().map(str::to_string);
    let context = Context {
        server_name: sni.clone(),
        trusted_cas: vec![],
        alpn_offered: false,
        at: Some(checks::now()),
        aws_iot: false,
        observed: false,
        own_hello: vec![],
        insecure: false,
    };
    let diagnosis = diagnose::diagnose(&[], Some(&run.transcript), &context);
    let hello_seen = run.transcript.client_hello().is_some();
    let mut findings = Vec::new();
    if hello_seen && sni.is_none() {
        findings.push(
            Finding::new(
                FindingId::SniNotSent,
                Severity::Warning,
                run.peer.to_string(),
                "the device sent no SNI: AWS IoT Core, and brokers behind most cloud load balancers, refuse or misroute such connections",
            )
            .with_hint("Set the server name on the TLS session (wolfSSL_UseSNI, mbedtls_ssl_set_hostname, SSL_set_tlsext_host_name)."),
        );
    }
    let target = Target {
        endpoint: format!("connection {number} from {}", run.peer),
        sni,
        address: Some(run.peer),
    };
    Report::new("serve", findings, diagnosis).with_connection(target, run.transcript, false)
}
