//! The application layer: command -> producer -> diagnose -> render. The only place that knows
//! about the process: stdout, stderr, environment, terminal and exit code.

use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::TrySendError;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use zeroize::Zeroizing;

use crate::cli::{
    AnalyzeArgs, CheckCertsArgs, Cli, ColorChoice, Command, ConnectArgs, DeviceArgs, ExplainArgs,
    Format, MqttArgs, MqttVersion, Profile, ServeArgs, StackChoice, TlsChoice,
};
use crate::credentials::aws_iot;
use crate::credentials::checks::{self, CheckOptions};
use crate::credentials::inspect::CertInfo;
use crate::credentials::load::PasswordSource;
use crate::credentials::{Credentials, Finding, FindingId, LoadRequest, Severity};
use crate::debuglog;
use crate::decode::decrypt::KeyLog;
use crate::decode::mqtt::ConnectRequest;
use crate::diagnose::{self, Context, Diagnosis};
use crate::error::{Error, InputProblem};
use crate::explain::Stack;
use crate::model::{Handshake, Target, What, codes};
use crate::produce::analyze;
use crate::produce::client::{self, ClientOptions, TlsVersion};
use crate::produce::server::{self, Server, ServerOptions};
use crate::report::capture::{CaptureWriter, RenderedHandshake};
use crate::report::{self, Explanation, HandshakeReport, Outcome, Report, style::Style};

/// Runs the command and renders its report to stdout; errors also go to stderr.
pub fn run(cli: Cli) -> ExitCode {
    // Reports are written in large pieces: a locked stdout alone would write line by line.
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let (name, result) = match &cli.command {
        Command::CheckCerts(args) => ("check-certs", check_certs(args)),
        Command::Connect(args) => ("connect", connect(args)),
        Command::Explain(args) => ("explain", explain(args)),
        Command::Demo => {
            match crate::demo::run(cli.global.format, style_for(cli.global.color), &mut stdout) {
                Ok(code) => {
                    report_write_error(stdout.flush());
                    return ExitCode::from(code);
                }
                Err(error) => ("demo", Err(error)),
            }
        }
        Command::Serve(args) => match serve(
            args,
            cli.global.format,
            style_for(cli.global.color),
            &mut stdout,
        ) {
            Ok(code) => return ExitCode::from(code),
            Err(error) => ("serve", Err(error)),
        },
        Command::Analyze(args) => {
            // A capture's handshakes are written as they are found, not held until the end.
            let mut writer = match cli.global.format {
                Format::Json => CaptureWriter::json(&mut stdout),
                Format::Text => CaptureWriter::text(&mut stdout, style_for(cli.global.color)),
            };
            match analyze(args, &mut writer) {
                Ok(report) => {
                    report_write_error(writer.finish(&report));
                    report_write_error(stdout.flush());
                    return ExitCode::from(report.exit_code(None));
                }
                Err(error) => ("analyze", Err(error)),
            }
        }
    };
    let report = match &result {
        Ok(report) => report.clone(),
        Err(error) => {
            tracing::debug!(?error, "command failed");
            Report::failed(name, error)
        }
    };
    let code = report.exit_code(result.as_ref().err());
    let rendered = match cli.global.format {
        Format::Json => report::json::render(&report, &mut stdout),
        // A text report of an error is just the message: it goes to stderr alone.
        Format::Text if result.is_err() => Ok(()),
        Format::Text => report::text::render(&report, style_for(cli.global.color), &mut stdout),
    };
    if let Err(error) = &result {
        eprintln!("iotdoctor: {error}");
    }
    report_write_error(rendered.and_then(|_| stdout.flush()));
    ExitCode::from(code)
}

fn report_write_error(result: std::io::Result<()>) {
    if let Err(e) = result {
        // A closed pipe (`| head`) is the reader's choice, not a failure of ours.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("iotdoctor: cannot write the report: {e}");
        }
    }
}

fn style_for(choice: ColorChoice) -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
    };
    if color {
        // `colored` has its own environment checks; the user's choice wins.
        colored::control::set_override(true);
        Style::colored()
    } else {
        Style::plain()
    }
}

fn check_certs(args: &CheckCertsArgs) -> Result<Report, Error> {
    let creds = Credentials::load(
        &device_request(&args.device, args.ca.clone()),
        &passwords(&args.device),
    )?;
    let options = CheckOptions {
        now: checks::now(),
        warn_days: args.warn_days,
        aws_iot: args.profile == Some(Profile::AwsIot),
    };
    let (summary, findings) = checks::check(&creds, &options);
    let diagnosis = diagnose::diagnose(&findings, None, &Context::default());
    Ok(Report::new("check-certs", findings, diagnosis).with_credentials(summary))
}

fn explain(args: &ExplainArgs) -> Result<Report, Error> {
    let stack = args.stack.map(|choice| match choice {
        StackChoice::Tls => Stack::Tls,
        StackChoice::Wolfssl => Stack::WolfSsl,
        StackChoice::Mbedtls => Stack::MbedTls,
        StackChoice::Openssl => Stack::OpenSsl,
        StackChoice::Gnutls => Stack::GnuTls,
        StackChoice::Mqtt => Stack::Mqtt,
    });
    if let Some(path) = &args.log {
        return explain_log(path);
    }
    let query = args
        .query
        .iter()
        .chain(&args.more_words)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let readings = crate::explain::lookup(&query, stack);
    if readings.is_empty() {
        let among = stack.map_or_else(
            || "TLS alerts, wolfSSL, mbedTLS, OpenSSL and GnuTLS codes".to_string(),
            |s| format!("the {s} codes"),
        );
        return Err(Error::Usage(format!(
            "'{query}' is nothing iotdoctor knows among {among}: give the number, the symbolic name or the library's message as printed"
        )));
    }
    Ok(
        Report::new("explain", vec![], Diagnosis::default()).with_explanation(Explanation {
            query,
            stack,
            readings,
        }),
    )
}

/// `explain --log FILE|-`: the steps of the handshake a debug log shows, diagnosed.
fn explain_log(path: &Path) -> Result<Report, Error> {
    let read = if path == Path::new("-") {
        debuglog::read(std::io::stdin().lock(), "-")
    } else {
        let file = std::fs::File::open(path).map_err(|e| Error::input(path, e.into()))?;
        debuglog::read(std::io::BufReader::new(file), &path.display().to_string())
    };
    let log = read.map_err(|e| Error::input(path, e.into()))?;
    if log.events.is_empty() {
        return Err(Error::input(path, InputProblem::NotALog(log.lines)));
    }
    let diagnosis = diagnose::log::diagnose(&log);
    Ok(Report::new("explain", vec![], diagnosis).with_log(log))
}

pub(crate) fn connect(args: &ConnectArgs) -> Result<Report, Error> {
    let (host, port) = parse_endpoint(&args.endpoint)?;
    let seconds = |name: &str, value: f64| {
        Duration::try_from_secs_f64(value)
            .map_err(|_| Error::Usage(format!("--{name} {value}: give a number of seconds")))
    };
    let (timeout, grace) = (
        seconds("timeout", args.timeout)?,
        seconds("grace", args.grace)?,
    );

    // Preflight: the device's files, checked before any packet is sent.
    let mut findings = Vec::new();
    let mut summary = None;
    let mut identity = None;
    if args.device.cert.is_some() || args.device.p12.is_some() {
        let creds = Credentials::load(
            &device_request(&args.device, vec![]),
            &passwords(&args.device),
        )?;
        let options = CheckOptions {
            now: checks::now(),
            warn_days: 30,
            aws_iot: false,
        };
        let (checked, mut preflight) = checks::check(&creds, &options);
        // The server judges the device's chain (its CertificateRequest names the CAs it accepts).
        preflight
            .retain(|f| f.id != FindingId::ChainNotChecked && f.id != FindingId::KeyNotChecked);
        findings.extend(preflight);
        let key = creds.key.as_ref().ok_or_else(|| {
            Error::Usage("a client certificate needs its private key: give --key (or put the key in the --cert file)".into())
        })?;
        let chain = creds
            .device
            .iter()
            .chain(&creds.chain)
            .map(|c| CertificateDer::from(c.info.raw.der.clone()))
            .collect();
        identity = Some((chain, key.key.der.clone_key()));
        summary = Some(checked);
    } else if args.device.key.is_some() {
        return Err(Error::Usage("--key needs --cert (or --p12)".into()));
    }

    // The server's trust anchors.
    let cas = read_cas(&args.ca)?;
    let trusted_cas: Vec<String> = cas.iter().map(|ca| ca.subject.clone()).collect();
    let roots = (!cas.is_empty()).then(|| {
        cas.iter()
            .map(|ca| CertificateDer::from(ca.raw.der.clone()))
            .collect()
    });

    let host_is_ip = host.parse::<IpAddr>().is_ok();
    let verify_name = args.sni.clone().unwrap_or_else(|| host.clone());
    let sni = match (&args.sni, args.no_sni || host_is_ip) {
        (Some(name), _) => Some(name.clone()),
        (None, true) => None,
        (None, false) => Some(host.clone()),
    };
    let aws = args.profile == Some(Profile::AwsIot) || aws_iot::is_endpoint(&host);
    if aws {
        findings.extend(aws_iot::check_connection(
            &host,
            port,
            sni.as_deref(),
            &args.alpn,
        ));
        let ca_refs: Vec<&CertInfo> = cas.iter().collect();
        let ca_subject = if args.ca.is_empty() {
            "--ca".to_string()
        } else {
            args.ca
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        findings.extend(aws_iot::check_server_roots(&ca_refs, &ca_subject));
        if let Some(leaf) = summary
            .as_ref()
            .and_then(|s| s.certificates.iter().find(|c| c.leaf))
        {
            findings.extend(aws_iot::check_device_certificate(
                &leaf.info,
                &leaf.info.short_name(),
            ));
        }
    }
    let options = ClientOptions {
        host,
        port,
        address: args.address,
        sni,
        verify_name: verify_name.clone(),
        alpn: args.alpn.clone(),
        tls: args.tls.map(|t| match t {
            TlsChoice::V12 => TlsVersion::V12,
            TlsChoice::V13 => TlsVersion::V13,
        }),
        timeout,
        grace,
        roots,
        identity,
        insecure: args.insecure,
        keylog: args.keylog.clone(),
        mqtt: args.mqtt.mqtt.then(|| mqtt_request(&args.mqtt)),
    };
    let run = client::connect(&options)?;
    if args.insecure {
        findings.push(
            Finding::new(
                FindingId::VerificationDisabled,
                Severity::Warning,
                &args.endpoint,
                "--insecure: the server's certificate was not allowed to stop the handshake; anyone could have answered",
            )
            .with_hint("Give --ca with the CA that issued the server's chain instead."),
        );
    }
    let context = Context {
        server_name: Some(verify_name),
        trusted_cas,
        alpn_offered: !args.alpn.is_empty(),
        at: Some(checks::now()),
        aws_iot: aws,
        observed: false,
    };
    let diagnosis = diagnose::diagnose(&findings, Some(&run.transcript), &context);
    let report = Report::new("connect", findings, diagnosis).with_connection(
        run.target,
        run.transcript,
        args.insecure,
    );
    Ok(match summary {
        Some(summary) => report.with_credentials(summary),
        None => report,
    })
}

/// A handshake as the decoding thread hands it to the writing one.
enum Handoff {
    /// Decoded, to be diagnosed by the writing thread.
    Found(analyze::FlowHandshake),
    /// Diagnosed by the decoding thread already (text reports).
    Diagnosed(HandshakeReport),
    /// Diagnosed and serialised by the decoding thread already (JSON reports).
    Rendered(std::io::Result<RenderedHandshake>),
}

/// Handshakes handed from one thread to the next at a time. Two batches may wait
/// in the channel, so at most about three batches are decoded ahead of the one being written.
const HANDOFF: usize = 64;

fn analyze(args: &AnalyzeArgs, writer: &mut CaptureWriter<'_>) -> Result<Report, Error> {
    let mut keylog_note = None;
    let keys = match &args.keylog {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::input(path, InputProblem::Unreadable(e)))?;
            let keys = KeyLog::parse(&text);
            // A key log of comments only is what OpenSSL leaves when no handshake got as far
            // as its first secret: analyse without keys, and say so.
            let only_comments = text
                .lines()
                .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'));
            if keys.is_empty() && only_comments {
                keylog_note = Some(format!(
                    "the key log {} holds no secrets (a client writes them only once a handshake gets far enough): analysed without keys",
                    path.display()
                ));
                None
            } else if keys.is_empty() {
                return Err(Error::input(
                    path,
                    InputProblem::WrongKind {
                        expected: "an NSS key log (SSLKEYLOGFILE)",
                        found: "no TLS secrets".into(),
                    },
                ));
            } else {
                Some(Arc::new(keys))
            }
        }
        None => None,
    };
    let anchors = read_cas(&args.ca)?;

    // Three stages, one thread each, in a pipeline: a reading thread reads the capture,
    // reassembles TCP and keeps what each TLS flow's decoder needs; a decoding thread decodes
    // each flow when it ends; this thread checks the deferred signatures, verifies server
    // chains, diagnoses and writes. Decoding is the cheapest stage, so when this thread falls
    // behind (the channel is full) the decoding thread takes its batch all the way, up to the
    // text of the JSON report: the two threads share the costliest work whichever it is
    // (signatures, serialising). The channels are FIFO with one consumer each, so handshakes
    // come out in capture order; they are bounded, so memory stays bounded whichever stage is
    // slower.
    let json = writer.writes_transcripts();
    let finish = |mut found: analyze::FlowHandshake| {
        found.settle_signature_checks();
        if !anchors.is_empty() {
            analyze::verify_server_chain(&mut found, &anchors);
        }
        diagnose_handshake(found, &anchors)
    };
    let mut shown = 0u64;
    let mut write_error = None;
    let mut summary = std::thread::scope(|scope| {
        let (send_read, receive_read) = std::sync::mpsc::sync_channel::<Vec<_>>(2);
        let (send_decoded, receive_decoded) = std::sync::mpsc::sync_channel::<Vec<Handoff>>(2);
        let reader = scope.spawn(move || {
            // Handed over in batches: one per handshake would wake the next thread for each.
            let mut batch = Vec::with_capacity(HANDOFF);
            let summary = analyze::analyze(&args.capture, keys, |pending| {
                if args.flow.is_none_or(|n| n == pending.flow()) {
                    batch.push(pending);
                    if batch.len() == HANDOFF {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(HANDOFF));
                        // Only fails when the next thread is gone (unwinding).
                        let _ = send_read.send(full);
                    }
                }
            });
            let _ = send_read.send(batch);
            summary
        });
        let decoder = scope.spawn(move || {
            for batch in receive_read {
                let decoded: Vec<Handoff> = batch
                    .into_iter()
                    .map(|pending| Handoff::Found(pending.decode()))
                    .collect();
                let decoded = match send_decoded.try_send(decoded) {
                    Ok(()) => continue,
                    Err(TrySendError::Disconnected(_)) => break,
                    Err(TrySendError::Full(decoded)) => decoded
                        .into_iter()
                        .map(|handoff| match handoff {
                            Handoff::Found(found) if json => {
                                Handoff::Rendered(RenderedHandshake::json(&finish(found)))
                            }
                            Handoff::Found(found) => Handoff::Diagnosed(finish(found)),
                            other => other,
                        })
                        .collect(),
                };
                if send_decoded.send(decoded).is_err() {
                    break;
                }
            }
        });
        for handoff in receive_decoded.into_iter().flatten() {
            if write_error.is_some() {
                continue;
            }
            shown += 1;
            write_error = match handoff {
                Handoff::Found(found) => writer.handshake(finish(found)).err(),
                Handoff::Diagnosed(report) => writer.handshake(report).err(),
                Handoff::Rendered(rendered) => rendered.and_then(|r| writer.rendered(r)).err(),
            };
        }
        decoder
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    if let Some(n) = args.flow
        && shown == 0
    {
        return Err(Error::Usage(format!(
            "--flow {n}: the capture has no TLS handshake on flow {n}"
        )));
    }
    report_write_error(write_error.map_or(Ok(()), Err));
    summary.notes.extend(keylog_note);
    Ok(Report::new("analyze", vec![], Diagnosis::default()).with_capture(summary, writer.failed()))
}

fn diagnose_handshake(found: analyze::FlowHandshake, anchors: &[CertInfo]) -> HandshakeReport {
    let hello = found.transcript.events.iter().find_map(|e| match &e.what {
        What::Handshake {
            message: Handshake::ClientHello { sni, alpn, .. },
            ..
        } => Some((sni.clone(), !alpn.is_empty())),
        _ => None,
    });
    let (sni, alpn_offered) = hello.unwrap_or((None, false));
    let context = Context {
        server_name: sni.clone(),
        trusted_cas: anchors.iter().map(|a| a.subject.clone()).collect(),
        alpn_offered,
        at: Some(found.started as i64),
        aws_iot: sni.as_deref().is_some_and(aws_iot::is_endpoint),
        observed: true,
    };
    let diagnosis = diagnose::diagnose(&[], Some(&found.transcript), &context);
    let outcome = if diagnosis.causes.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Problems
    };
    HandshakeReport {
        flow: found.flow,
        client: found.client,
        server: found.server,
        sni,
        outcome,
        transcript: found.transcript,
        diagnosis,
    }
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

/// Serves devices until interrupted (or one, with `--once`), writing each connection's report
/// when it ends. Returns the exit code: with `--once`, that of the one connection.
fn serve(args: &ServeArgs, format: Format, style: Style, out: &mut dyn Write) -> Result<u8, Error> {
    let creds = Credentials::load(
        &LoadRequest {
            cert: Some(args.cert.clone()),
            key: args.key.clone(),
            ..LoadRequest::default()
        },
        &EnvOrPrompt { env_var: None },
    )?;
    let key = creds.key.as_ref().ok_or_else(|| {
        Error::Usage(
            "the server needs its private key: give --key (or put it in the --cert file)".into(),
        )
    })?;
    refuse_key_of_another_certificate(&creds, key)?;
    let mut client_sigalgs = None;
    if !args.client_sigalgs.is_empty() {
        let mut schemes = Vec::new();
        for name in &args.client_sigalgs {
            let code = codes::signature_scheme_code(name).ok_or_else(|| {
                Error::Usage(format!(
                    "--client-sigalgs: unknown signature scheme '{name}'"
                ))
            })?;
            schemes.push(rustls::SignatureScheme::from(code));
        }
        client_sigalgs = Some(schemes);
    }
    let options = ServerOptions {
        chain: creds
            .device
            .iter()
            .map(|c| CertificateDer::from(c.info.raw.der.clone()))
            .collect(),
        key: key.key.der.clone_key(),
        client_cas: read_cas(&args.client_ca)?
            .iter()
            .map(|ca| CertificateDer::from(ca.raw.der.clone()))
            .collect(),
        optional_client_cert: args.optional_client_cert,
        tls: args.tls.map(|t| match t {
            TlsChoice::V12 => TlsVersion::V12,
            TlsChoice::V13 => TlsVersion::V13,
        }),
        client_sigalgs,
        alpn: args.alpn.clone(),
        mqtt: args.mqtt.then_some(args.mqtt_return_code),
        timeout: Duration::try_from_secs_f64(args.timeout).map_err(|_| {
            Error::Usage(format!(
                "--timeout {}: give a number of seconds",
                args.timeout
            ))
        })?,
    };
    let server = Arc::new(Server::new(&options)?);
    let listener = server::listen(args.listen)?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::Network(format!("--listen: {e}")))?;
    eprintln!("iotdoctor: serving TLS on {local}");

    let max_connections = args
        .max_connections
        .map_or_else(default_max_connections, |n| n as usize);
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
        let once = args.once;
        move || accept_devices(&listener, &server, &reports, once, max_connections)
    });
    let mut summary = ServeSummary::default();
    for served in finished {
        let Served::Report(report) = served else {
            break;
        };
        summary.add(&report);
        let written = match format {
            Format::Json => serde_json::to_writer(&mut *out, &report)
                .map_err(std::io::Error::from)
                .and_then(|_| writeln!(out)),
            Format::Text => report::text::render(&report, style, out).and_then(|_| writeln!(out)),
        };
        report_write_error(written.and_then(|_| out.flush()));
        if args.once {
            return Ok(report.exit_code(None));
        }
    }
    let written = match format {
        Format::Json => serde_json::to_writer(&mut *out, &summary)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out)),
        Format::Text => writeln!(out, "{}", summary.line()),
    };
    report_write_error(written.and_then(|_| out.flush()));
    Ok(if summary.problems > 0 {
        crate::error::exit::PROBLEMS
    } else {
        crate::error::exit::OK
    })
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
    let sni = run.transcript.events.iter().find_map(|e| match &e.what {
        What::Handshake {
            message: Handshake::ClientHello { sni, .. },
            ..
        } => sni.clone(),
        _ => None,
    });
    let context = Context {
        server_name: sni.clone(),
        trusted_cas: vec![],
        alpn_offered: false,
        at: Some(checks::now()),
        aws_iot: false,
        observed: false,
    };
    let diagnosis = diagnose::diagnose(&[], Some(&run.transcript), &context);
    let hello_seen = run.transcript.events.iter().any(|e| {
        matches!(
            &e.what,
            What::Handshake {
                message: Handshake::ClientHello { .. },
                ..
            }
        )
    });
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

/// `host`, `host:port`, `1.2.3.4:port`, `[::1]:port` or a bare IPv6 address; port 8883 by default.
/// The CONNECT `connect --mqtt` sends.
fn mqtt_request(args: &MqttArgs) -> ConnectRequest {
    let client_id = args.client_id.clone().unwrap_or_else(|| {
        // Unique enough that two runs do not take over each other's session.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        format!(
            "iotdoctor-{:08x}",
            nanos ^ std::process::id().rotate_left(16)
        )
    });
    ConnectRequest {
        level: match args.mqtt_version {
            MqttVersion::V311 => 4,
            MqttVersion::V5 => 5,
        },
        client_id,
        username: args.username.clone(),
        keep_alive: 60,
    }
}

fn parse_endpoint(endpoint: &str) -> Result<(String, u16), Error> {
    const MQTT_TLS: u16 = 8883;
    let bad = |why: &str| Error::Usage(format!("--endpoint {endpoint}: {why}"));
    let port = |text: &str| {
        text.parse::<u16>()
            .map_err(|_| bad("the port must be a number from 1 to 65535"))
    };
    let (host, port) = if let Some(rest) = endpoint.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
        match after.strip_prefix(':') {
            Some(p) => (host, port(p)?),
            None if after.is_empty() => (host, MQTT_TLS),
            None => return Err(bad("expected ':PORT' after ']'")),
        }
    } else if endpoint.matches(':').count() > 1 {
        (endpoint, MQTT_TLS)
    } else {
        match endpoint.rsplit_once(':') {
            Some((host, p)) => (host, port(p)?),
            None => (endpoint, MQTT_TLS),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if port == 0 {
        return Err(bad("the port must be a number from 1 to 65535"));
    }
    Ok((host.to_string(), port))
}

/// The certificates of `--ca` files, each file required to hold at least one.
fn read_cas(paths: &[std::path::PathBuf]) -> Result<Vec<CertInfo>, Error> {
    let request = LoadRequest {
        cas: paths.to_vec(),
        ..LoadRequest::default()
    };
    let creds = Credentials::load(&request, &EnvOrPrompt { env_var: None })?;
    Ok(creds.cas.into_iter().map(|ca| ca.info).collect())
}

fn device_request(device: &DeviceArgs, cas: Vec<std::path::PathBuf>) -> LoadRequest {
    LoadRequest {
        cert: device.cert.clone(),
        key: device.key.clone(),
        p12: device.p12.clone(),
        chain: device.chain.clone(),
        cas,
    }
}

fn passwords(device: &DeviceArgs) -> EnvOrPrompt {
    EnvOrPrompt {
        env_var: device.key_pass_env.clone(),
    }
}

/// Passwords from the environment variable named by `--key-pass-env`, else from the terminal.
/// Never from a plain command-line argument, which other users of the machine can see.
struct EnvOrPrompt {
    env_var: Option<String>,
}

impl PasswordSource for EnvOrPrompt {
    fn password(&self, path: &Path) -> Result<Zeroizing<String>, Error> {
        if let Some(var) = &self.env_var {
            // The name is not repeated: users who give the password itself instead of a
            // variable's name would see it printed (and logged by CI).
            return match std::env::var(var) {
                Ok(password) => Ok(Zeroizing::new(password)),
                Err(std::env::VarError::NotUnicode(_)) => Err(Error::Password(
                    "--key-pass-env: the environment variable it names does not hold text".into(),
                )),
                Err(std::env::VarError::NotPresent) => Err(Error::Password(
                    "--key-pass-env: no environment variable of that name is set (give the name of a variable that holds the password, not the password)".into(),
                )),
            };
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::input(path, InputProblem::NeedsPassword));
        }
        rpassword::prompt_password(format!("Password for {}: ", path.display()))
            .map(Zeroizing::new)
            .map_err(|e| {
                Error::Password(format!("cannot read the password from the terminal: {e}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_endpoint;

    #[test]
    fn endpoints_take_the_forms_users_type() {
        let ok = |e: &str| parse_endpoint(e).unwrap();
        assert_eq!(
            ok("broker.example.com"),
            ("broker.example.com".into(), 8883)
        );
        assert_eq!(
            ok("broker.example.com:443"),
            ("broker.example.com".into(), 443)
        );
        assert_eq!(ok("127.0.0.1:8884"), ("127.0.0.1".into(), 8884));
        assert_eq!(ok("[::1]:8883"), ("::1".into(), 8883));
        assert_eq!(ok("[::1]"), ("::1".into(), 8883));
        assert_eq!(ok("::1"), ("::1".into(), 8883));
        for bad in [
            "",
            ":8883",
            "host:",
            "host:99999",
            "host:0",
            "[::1",
            "[::1]x",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
    }
}
