//! `iotdoctor demo`: no files, no network. A server on a loopback port with a small embedded
//! test PKI, and three devices connecting to it: one without its certificate (the classic story
//! behind alert 42; this server answers 116), one whose key is not its certificate's, and one
//! that does everything right.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::cli::{ConnectArgs, DeviceArgs, Format};
use crate::diagnose::CauseId;
use crate::error::{Error, InputProblem};
use crate::produce::server::{self, Server, ServerOptions};
use crate::report::{self, Report, style::Style};

/// The demo PKI: the project's test fixtures, built into the binary (test keys, public).
const FILES: [(&str, &str); 6] = [
    ("root-ca.pem", include_str!("../fixtures/pki/root-ca.pem")),
    (
        "server-chain.pem",
        include_str!("../fixtures/pki/server-chain.pem"),
    ),
    ("server.key", include_str!("../fixtures/pki/server.key")),
    (
        "device.pem",
        include_str!("../fixtures/pki/client-ec-chain.pem"),
    ),
    ("device.key", include_str!("../fixtures/pki/client-ec.key")),
    (
        "other-device.key",
        include_str!("../fixtures/pki/stranger.key"),
    ),
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
        cert: Some("device.pem"),
        key: Some("other-device.key"),
        expected: Some(CauseId::ClientKeyMismatch),
    },
    Scenario {
        title: "a device with the right certificate and key",
        cert: Some("device.pem"),
        key: Some("device.key"),
        expected: None,
    },
];

/// Runs the three scenarios and writes their reports. Exit code 0 when each was diagnosed as
/// expected.
pub fn run(format: Format, style: Style, out: &mut dyn Write) -> Result<u8, Error> {
    let dir = std::env::temp_dir().join(format!("iotdoctor-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::input(&dir, InputProblem::Unreadable(e)))?;
    let result = run_in(&dir, format, style, out);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &Path, format: Format, style: Style, out: &mut dyn Write) -> Result<u8, Error> {
    for (name, text) in FILES {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| Error::input(&path, InputProblem::Unreadable(e)))?;
    }
    let file = |name: &str| -> PathBuf { dir.join(name) };
    let options = ServerOptions {
        chain: CertificateDer::pem_file_iter(file("server-chain.pem"))
            .map_err(pem_error("server-chain.pem"))?
            .collect::<Result<_, _>>()
            .map_err(pem_error("server-chain.pem"))?,
        key: rustls::pki_types::PrivateKeyDer::from_pem_file(file("server.key"))
            .map_err(pem_error("server.key"))?,
        client_cas: vec![
            CertificateDer::from_pem_file(file("root-ca.pem")).map_err(pem_error("root-ca.pem"))?,
        ],
        optional_client_cert: false,
        tls: None,
        client_sigalgs: None,
        alpn: vec![],
        timeout: Duration::from_secs(5),
        mqtt: None,
    };
    let server = Arc::new(Server::new(&options)?);
    let listener = server::listen("127.0.0.1:0".parse().expect("a loopback address"))?;
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
        let args = ConnectArgs {
            endpoint: address.to_string(),
            ca: vec![file("root-ca.pem")],
            device: DeviceArgs {
                cert: scenario.cert.map(file),
                key: scenario.key.map(file),
                chain: vec![],
                p12: None,
                key_pass_env: None,
            },
            address: None,
            sni: Some("localhost".into()),
            no_sni: false,
            alpn: vec![],
            tls: None,
            timeout: 5.0,
            grace: 2.0,
            keylog: None,
            insecure: false,
            profile: None,
            mqtt: crate::cli::MqttArgs {
                mqtt: false,
                client_id: None,
                mqtt_version: crate::cli::MqttVersion::V311,
                username: None,
            },
        };
        let report = crate::app::connect(&args)?;
        let top = report.diagnosis.causes.first().map(|c| c.id);
        as_expected &= top == scenario.expected;
        let written = match format {
            Format::Json => serde_json::to_writer(&mut *out, &report)
                .map_err(std::io::Error::from)
                .and_then(|_| writeln!(out)),
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
    report::text::render(report, style, out)?;
    writeln!(out)
}

fn pem_error(name: &'static str) -> impl Fn(rustls::pki_types::pem::Error) -> Error {
    move |e| Error::Usage(format!("demo PKI {name}: {e}"))
}
