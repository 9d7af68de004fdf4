//! `connect`: one instrumented client handshake, the device's files checked before it, and
//! the diagnosis of what crossed the wire.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;

use super::credentials::{Identity, read_cas};
use crate::credentials::aws_iot;
use crate::credentials::checks::{self, CheckOptions};
use crate::credentials::inspect::CertInfo;
use crate::credentials::load::Embedded;
use crate::credentials::{Finding, FindingId, Severity};
use crate::decode::mqtt as mqtt_codes;
use crate::decode::mqtt::{ConnectRequest, Password};
use crate::diagnose::{self, Context};
use crate::error::Error;
use crate::model::{CloseKind, Event, Plaintext, Side, Transcript, What};
use crate::produce::client::{self, ClientOptions, TlsVersion};
use crate::produce::mqtt_probe::{self, Answer};
use crate::produce::offer::{self, Offer, TLS12, TLS13};
use crate::produce::raw_hello;
use crate::report::Report;

/// What `connect` does.
#[derive(Debug, Clone)]
pub struct Options {
    pub server: Server,
    /// The trust anchors for the server; none: the Mozilla roots bundled with iotdoctor.
    pub ca: Vec<PathBuf>,
    /// The device's certificate and key, if it presents one.
    pub device: Identity,
    /// Files of `ca` and `device` given by their contents instead of read from disk.
    pub embedded: Vec<Embedded>,
    pub alpn: Vec<String>,
    /// Offer only this version.
    pub tls: Option<TlsVersion>,
    /// What else the ClientHello offers instead of rustls's own offer (--ciphers, --groups,
    /// --sigalgs, --like); --tls and --alpn change it.
    pub offer: Offer,
    /// The whole connection ends by then, however slowly the server sends.
    pub timeout: Duration,
    /// The wait for the server's verdict on the client certificate after a TLS 1.3 handshake.
    pub grace: Duration,
    /// Append the TLS secrets to this NSS key log.
    pub keylog: Option<PathBuf>,
    /// Do not let the server's certificate stop the handshake.
    pub insecure: bool,
    /// Check what AWS IoT Core needs (also when `host` is an AWS IoT endpoint).
    pub aws_iot: bool,
    /// Send an MQTT CONNECT after the handshake.
    pub mqtt: Option<Mqtt>,
}

/// The server `connect` and `probe` make their handshakes with.
#[derive(Debug, Clone)]
pub struct Server {
    /// The server's host name or IP address.
    pub host: String,
    pub port: u16,
    /// The server as the user named it, for what is said about it.
    pub endpoint: String,
    /// The address to connect to instead of the first one `host` resolves to.
    pub address: Option<IpAddr>,
    pub sni: Sni,
}

impl Server {
    /// The name sent in SNI (none for an IP address or `Sni::Off`), and the name the server's
    /// certificate is checked against.
    pub fn names(&self) -> (Option<String>, String) {
        let host = &self.host;
        match &self.sni {
            Sni::Name(name) => (Some(name.clone()), name.clone()),
            Sni::Off => (None, host.clone()),
            Sni::Host if host.parse::<IpAddr>().is_ok() => (None, host.clone()),
            Sni::Host => (Some(host.clone()), host.clone()),
        }
    }
}

/// The server name sent in SNI; the server's certificate is checked against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sni {
    /// The host, unless it is an IP address (then no SNI).
    Host,
    /// This name instead of the host.
    Name(String),
    /// No SNI; the certificate is checked against the host.
    Off,
}

/// The CONNECT `connect` sends.
#[derive(Debug, Clone)]
pub struct Mqtt {
    pub version: MqttVersion,
    /// Default: `iotdoctor-` and a random number.
    pub client_id: Option<String>,
    pub username: Option<String>,
    /// Sent after the user name; never shown.
    pub password: Option<Password>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MqttVersion {
    V311,
    V5,
}

/// MQTT's plain-text port: a broker there that closes on a ClientHello is probed.
const MQTT_PLAIN_PORT: u16 = 1883;

pub fn run(options: &Options) -> Result<Report, Error> {
    let started = Instant::now();
    let server = &options.server;
    let host = &server.host;
    let device = &options.device;

    // Preflight: the device's files, checked before any packet is sent.
    let mut findings = Vec::new();
    let mut summary = None;
    let mut identity = None;
    if device.cert.is_some() || device.p12.is_some() {
        let creds = device.load(&[], &options.embedded)?;
        let check = CheckOptions {
            now: checks::now(),
            warn_days: 30,
            aws_iot: false,
        };
        let (checked, mut preflight) = checks::check(&creds, &check);
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
    } else if device.key.is_some() {
        return Err(Error::Usage("--key needs --cert (or --p12)".into()));
    }

    // The server's trust anchors.
    let cas = read_cas(&options.ca, &options.embedded)?;
    let trusted_cas: Vec<String> = cas.iter().map(|ca| ca.subject.clone()).collect();
    let roots = (!cas.is_empty()).then(|| {
        cas.iter()
            .map(|ca| CertificateDer::from(ca.raw.der.clone()))
            .collect()
    });

    let (sni, verify_name) = server.names();
    let aws = options.aws_iot || aws_iot::is_endpoint(host);
    if aws {
        findings.extend(aws_iot::check_connection(
            host,
            server.port,
            sni.as_deref(),
            &options.alpn,
        ));
        let ca_refs: Vec<&CertInfo> = cas.iter().collect();
        let ca_subject = if options.ca.is_empty() {
            "--ca".to_string()
        } else {
            options
                .ca
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
    // The offer: the device's (--like) or the lists given, with --tls, --alpn and --sni over it.
    let mut offer = options.offer.clone();
    if let Some(tls) = options.tls {
        offer.versions = vec![match tls {
            TlsVersion::V12 => TLS12,
            TlsVersion::V13 => TLS13,
        }];
    }
    offer::check(&offer).map_err(Error::Usage)?;
    let alpn = match &offer.alpn {
        Some(device) if options.alpn.is_empty() => device.clone(),
        _ => options.alpn.clone(),
    };
    let sni = match (offer.sni, &server.sni) {
        // The device sends none: neither does iotdoctor, unless --sni says otherwise.
        (Some(false), Sni::Host) => None,
        _ => sni,
    };
    let client = ClientOptions {
        host: host.clone(),
        port: server.port,
        address: server.address,
        sni,
        verify_name: verify_name.clone(),
        alpn,
        tls: options.tls,
        timeout: options.timeout,
        grace: options.grace,
        roots,
        identity,
        insecure: options.insecure,
        keylog: options.keylog.clone(),
        mqtt: options.mqtt.as_ref().map(mqtt_request),
    };
    // A device that sends SNI names its broker; an IP address cannot be that name.
    let unnamed = (offer.sni == Some(true) && client.sni.is_none()).then(|| {
        "the device sends SNI, but iotdoctor has no name to send (the host is an IP address): \
         give --sni with the name the device sends"
            .to_string()
    });
    let (mut run, raw) = offer_and_connect(client, &offer)?;
    if let Some(note) = unnamed {
        note_first(&mut run.transcript, note);
    }
    if server.port == MQTT_PLAIN_PORT || options.mqtt.is_some() {
        let left = options.timeout.saturating_sub(started.elapsed());
        if let Some(address) = run.target.address {
            probe_plain_mqtt(&mut run.transcript, address, left);
        }
    }
    if options.insecure {
        findings.push(
            Finding::new(
                FindingId::VerificationDisabled,
                Severity::Warning,
                &server.endpoint,
                "--insecure: the server's certificate was not allowed to stop the handshake; anyone could have answered",
            )
            .with_hint("Give --ca with the CA that issued the server's chain instead."),
        );
    }
    let context = Context {
        server_name: Some(verify_name),
        trusted_cas,
        alpn_offered: !options.alpn.is_empty(),
        at: Some(checks::now()),
        aws_iot: aws,
        observed: false,
        own_hello: raw.unwrap_or_default(),
        insecure: options.insecure,
    };
    let diagnosis = diagnose::diagnose(&findings, Some(&run.transcript), &context);
    // A handshake that succeeded may still rest on a server that did not verify the chain.
    if diagnosis.causes.is_empty() {
        findings.extend(checks::unverified_acceptance(&run.transcript));
    }
    let report = Report::new("connect", findings, diagnosis).with_connection(
        run.target,
        run.transcript,
        options.insecure,
    );
    Ok(match summary {
        Some(summary) => report.with_credentials(summary),
        None => report,
    })
}

/// When the server closed (or reset) the connection right after the ClientHello without
/// sending a byte, which a broker without TLS does, one plain-text MQTT CONNECT on a new
/// connection tells whether the port speaks plain MQTT: a CONNACK is then recorded as the
/// server's answer that is not TLS, with a note that the probe was made.
fn probe_plain_mqtt(transcript: &mut Transcript, address: std::net::SocketAddr, left: Duration) {
    let hello_sent = transcript.client_hello().is_some();
    let server_spoke = transcript
        .events
        .iter()
        .any(|e| e.from == Side::Server && !matches!(e.what, What::Close { .. }));
    let Some(close_at) = transcript.events.iter().find_map(|e| match e.what {
        What::Close {
            how: CloseKind::Eof | CloseKind::Reset,
        } if e.from == Side::Server => Some(e.at_ms),
        _ => None,
    }) else {
        return;
    };
    if !hello_sent || server_spoke || left.is_zero() {
        return;
    }
    let probe = mqtt_probe::probe(address, left);
    let at = transcript.events.last().map_or(close_at, |e| e.at_ms)
        + probe.elapsed.as_secs_f64() * 1000.0;
    let said = match &probe.answer {
        Answer::Connack { code } => {
            format!("CONNACK {code} ({})", mqtt_codes::connack_name(4, *code))
        }
        Answer::Other(why) => why.clone(),
    };
    transcript.push(
        at,
        Side::Client,
        What::Note {
            message: format!(
                "the server closed right after the ClientHello: iotdoctor made one plain-text MQTT \
                 3.1.1 CONNECT (client id '{}') on a new connection to {address}: {said}",
                mqtt_probe::CLIENT_ID
            ),
        },
    );
    if let Answer::Connack { code } = probe.answer {
        transcript.push(
            at,
            Side::Server,
            What::NotTls {
                preview: format!(
                    "CONNACK {code} ({}) to a plain-text MQTT CONNECT",
                    mqtt_codes::connack_name(4, code)
                ),
                looks_like: Plaintext::MqttProbeConnack,
            },
        );
    }
}

/// The CONNECT to send.
fn mqtt_request(mqtt: &Mqtt) -> ConnectRequest {
    let client_id = mqtt.client_id.clone().unwrap_or_else(|| {
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
        level: match mqtt.version {
            MqttVersion::V311 => 4,
            MqttVersion::V5 => 5,
        },
        client_id,
        username: mqtt.username.clone(),
        password: mqtt.password.clone(),
        keep_alive: 60,
    }
}

/// Connects offering `offer`: through rustls when it can make the offer, else with a ClientHello
/// iotdoctor writes itself, whose answer alone is read. Returns the run and, for the latter,
/// what rustls could not offer.
fn offer_and_connect(
    mut client: ClientOptions,
    offer: &Offer,
) -> Result<(client::ClientRun, Option<Vec<String>>), Error> {
    if offer.is_default() {
        return Ok((client::connect(&client)?, None));
    }
    let from = offer
        .source
        .as_ref()
        .map(|source| format!(" ({source})"))
        .unwrap_or_default();
    match offer::for_rustls(offer) {
        Ok(rustls) => {
            client.tls = rustls.tls;
            let mut run = client::connect_restricted(&client, &rustls.restrict)?;
            note_first(
                &mut run.transcript,
                format!("iotdoctor offered{from}: {}", offer.describe()),
            );
            Ok((run, None))
        }
        Err(cannot) => {
            let hello = raw_hello::client_hello(
                offer,
                &offer::rustls_suites(),
                client.sni.as_deref(),
                &client.alpn,
            )
            .map_err(Error::Usage)?;
            let mut run = client::send_hello(&client, &hello)?;
            note_first(
                &mut run.transcript,
                format!(
                    "iotdoctor offered{from}: {}. rustls cannot offer {}: iotdoctor wrote this \
                     ClientHello itself and reads only the server's answer to it; the handshake \
                     is not completed",
                    offer.describe(),
                    cannot.join("; ")
                ),
            );
            if let Some((answer, _)) = diagnose::own_hello::server_answer(&run.transcript) {
                let at = run.transcript.events.last().map_or(0.0, |e| e.at_ms);
                run.transcript
                    .push(at, Side::Client, What::Note { message: answer });
            }
            Ok((run, Some(cannot)))
        }
    }
}

/// A note before everything else the transcript holds.
fn note_first(transcript: &mut Transcript, message: String) {
    transcript.events.insert(
        0,
        Event {
            at_ms: 0.0,
            from: Side::Client,
            what: What::Note { message },
        },
    );
}
