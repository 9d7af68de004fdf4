//! `iotdoctor demo`: no files, no network. A server on a loopback port with a small embedded
//! test PKI, and three devices connecting to it: one without its certificate (the classic story
//! behind alert 42; this server answers 116), one whose key is not its certificate's, and one
//! that does everything right.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::connect::{self, Server, Sni};
use super::credentials::Identity;
use super::output::{self, Format};
use super::serve;
use crate::credentials::load::Embedded;
use crate::diagnose::CauseId;
use crate::error::Error;
use crate::produce::server;
use crate::report::{Report, style::Style};

const ROOT_CA: &str = "built-in/root-ca.pem";
const SERVER_CHAIN: &str = "built-in/server-chain.pem";
const SERVER_KEY: &str = "built-in/server.key";
const DEVICE_CERT: &str = "built-in/device.pem";
const DEVICE_KEY: &str = "built-in/device.key";
const OTHER_DEVICE_KEY: &str = "built-in/other-device.key";

/// A file of the test PKI (`fixtures/pki`), built in under `path`.
macro_rules! built_in {
    ($path:expr, $file:literal) => {
        Embedded {
            path: $path,
            bytes: include_bytes!(concat!("../../fixtures/pki/", $file)),
        }
    };
}

/// The demo PKI: the project's test fixtures, built into the binary (test keys, public). The
/// reports name each by its path here; no such file is read or written.
const PKI: [Embedded; 6] = [
    built_in!(ROOT_CA, "root-ca.pem"),
    built_in!(SERVER_CHAIN, "server-chain.pem"),
    built_in!(SERVER_KEY, "server.key"),
    built_in!(DEVICE_CERT, "client-ec-chain.pem"),
    built_in!(DEVICE_KEY, "client-ec.key"),
    built_in!(OTHER_DEVICE_KEY, "stranger.key"),
];

/// One demo device: what it is, what it presents, and the cause iotdoctor must name.
struct Scenario {
    title: &'static str,
    cert: Option<&'static str>,
    key: Option<&'static str>,
    expected: Option<CauseId>,
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        title: "a device that sends no client certificate (a wolfSSL device that loaded it after wolfSSL_new() \
                does exactly this; AWS IoT Core answers alert 42)",
        cert: None,
        key: None,
        expected: Some(CauseId::ClientCertNotSent),
    },
    Scenario {
        title: "a device whose private key does not belong to its certificate",
        cert: Some(DEVICE_CERT),
        key: Some(OTHER_DEVICE_KEY),
        expected: Some(CauseId::ClientKeyMismatch),
    },
    Scenario {
        title: "a device with the right certificate and key",
        cert: Some(DEVICE_CERT),
        key: Some(DEVICE_KEY),
        expected: None,
    },
];

/// Runs the three scenarios and writes their reports. Exit code 0 when each was diagnosed as
/// expected.
pub fn run(format: Format, style: Style, out: &mut dyn Write) -> Result<u8, Error> {
    let serving = serve::Options {
        listen: "127.0.0.1:0".parse().expect("a loopback address"),
        cert: SERVER_CHAIN.into(),
        key: Some(SERVER_KEY.into()),
        client_ca: vec![ROOT_CA.into()],
        embedded: PKI.to_vec(),
        optional_client_cert: false,
        tls: None,
        client_sigalgs: vec![],
        alpn: vec![],
        mqtt: None,
        once: false,
        timeout: Duration::from_secs(5),
        max_connections: None,
    };
    // The server is `serve`'s, but its connections are not reported: the devices' side tells
    // each story.
    let server = Arc::new(serve::server(&serving)?);
    let listener = server::listen(serving.listen)?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::Usage(format!("demo server: {e}")))?;
    std::thread::spawn(move || {
        for stream in listener.incoming().take(SCENARIOS.len()).flatten() {
            if let Ok(peer) = stream.peer_addr() {
                server.serve(stream, peer);
            }
        }
    });

    let mut as_expected = true;
    for (number, scenario) in SCENARIOS.iter().enumerate() {
        let options = connect::Options {
            server: Server {
                host: address.ip().to_string(),
                port: address.port(),
                endpoint: address.to_string(),
                address: None,
                sni: Sni::Name("localhost".into()),
            },
            ca: vec![ROOT_CA.into()],
            device: Identity {
                cert: scenario.cert.map(PathBuf::from),
                key: scenario.key.map(PathBuf::from),
                ..Identity::default()
            },
            embedded: PKI.to_vec(),
            alpn: vec![],
            tls: None,
            offer: Default::default(),
            timeout: Duration::from_secs(5),
            grace: Duration::from_secs(2),
            keylog: None,
            insecure: false,
            aws_iot: false,
            mqtt: None,
        };
        let report = connect::run(&options)?;
        let top = report.diagnosis.causes.first().map(|c| c.id);
        as_expected &= top == scenario.expected;
        let written = match format {
            Format::Json => output::write_one(&report, format, style, out),
            Format::Text => write_scenario(number + 1, scenario.title, &report, style, out),
        };
        written.map_err(|e| Error::Usage(format!("cannot write the report: {e}")))?;
    }
    Ok(if as_expected {
        crate::error::exit::OK
    } else {
        crate::error::exit::PROBLEMS
    })
}

fn write_scenario(
    number: usize,
    title: &str,
    report: &Report,
    style: Style,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let rule = "=".repeat(100);
    writeln!(out, "{}", style.heading(&rule))?;
    writeln!(
        out,
        "{}",
        style.heading(&format!("Demo {number} of {}: {title}", SCENARIOS.len()))
    )?;
    writeln!(out, "{}\n", style.heading(&rule))?;
    output::write_one(report, Format::Text, style, out)
}
