//! Key logs printed by devices (fixtures/keylog/*.c, docs/device-keylog.md): the mbedTLS and
//! wolfSSL callbacks, built with gcc against the system libraries, print the same NSS lines
//! `openssl s_server -keylogfile` writes for the same connection, and those lines, taken from
//! the device's console as the docs say, let `analyze --keylog` decrypt a tcpdump capture.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::common::*;
use serde_json::Value;

/// The extraction docs/device-keylog.md gives for a console log: whole NSS lines, whatever the
/// device's logger put before them.
const EXTRACT: &str = "[A-Z0-9_]+ [0-9a-f]{64} [0-9a-f]{64,96}";

/// Builds `fixtures/keylog/NAME.c` into `dir` with gcc against the system library.
fn build(dir: &Path, name: &str, libraries: &[&str]) -> PathBuf {
    let binary = dir.join(name);
    let output = Command::new("gcc")
        .args(["-Wall", "-Werror", "-o"])
        .arg(&binary)
        .arg(fixture("keylog", &format!("{name}.c")))
        .args(libraries)
        .output()
        .expect("gcc is installed (tests/run installs it)");
    assert!(
        output.status.success(),
        "{name}.c builds against the system library (tests/run installs libmbedtls-dev and \
         libwolfssl-dev): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    binary
}

fn mbedtls_client(dir: &Path) -> PathBuf {
    build(
        dir,
        "mbedtls-keylog",
        &["-lmbedtls", "-lmbedx509", "-lmbedcrypto"],
    )
}

fn wolfssl_client(dir: &Path) -> PathBuf {
    build(dir, "wolfssl-keylog", &["-lwolfssl"])
}

/// An `openssl s_server -rev` writing its key log to `keys`.
fn server(keys: &Path, version: &str) -> OpenSslServer {
    let keys = keys.to_string_lossy();
    OpenSslServer::start(&["-rev", "-keylogfile", &keys, version])
}

/// Runs `client` (built in `dir`) with `leading` arguments, then 127.0.0.1, the port and the
/// fixture root, against an `openssl s_server -rev` of `version` writing its key log to
/// dir/server.keys: the client's output, that key log, and the server (killed when dropped).
fn run_against_server(
    dir: &Path,
    client: &Path,
    version: &str,
    leading: &[&str],
) -> (Output, PathBuf, OpenSslServer) {
    let keys = dir.join("server.keys");
    let server = server(&keys, version);
    let (port, root) = (server.port.to_string(), pki("root-ca.pem"));
    let mut args = leading.to_vec();
    args.extend(["127.0.0.1", &port, &root]);
    (run(client, &args), keys, server)
}

/// Runs a client to its end; its stdout is the device's console.
fn run(client: &Path, args: &[&str]) -> Output {
    Command::new(client)
        .args(args)
        .output()
        .expect("the client runs")
}

fn console(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The key-log lines of a console, taken out with the docs' `grep -oE`.
fn extracted(console: &str) -> Vec<String> {
    let mut grep = Command::new("grep")
        .args(["-oE", EXTRACT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("grep runs");
    use std::io::Write;
    grep.stdin
        .take()
        .unwrap()
        .write_all(console.as_bytes())
        .unwrap();
    let output = grep.wait_with_output().unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The secrets lines s_server wrote (its `#` header left out), once it has written `count`.
fn server_lines(keys: &Path, count: usize) -> Vec<String> {
    let read = || {
        std::fs::read_to_string(keys)
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    poll_until(Duration::from_secs(10), || read().len() >= count);
    read()
}

/// A TLS 1.2 connection: the device printed exactly one line, `CLIENT_RANDOM`, and it is the
/// line s_server logged (same client random, same master secret).
fn assert_tls12_line_matches(device: &str, output: &Output, keys: &Path) {
    let text = console(output);
    assert!(output.status.success(), "{device}: {text}");
    assert!(
        text.contains("gnip"),
        "{device}: the session carried data: {text}"
    );
    let lines = extracted(&text);
    assert_eq!(lines.len(), 1, "{device}: {text}");
    assert!(
        lines[0].starts_with("CLIENT_RANDOM "),
        "{device}: {lines:?}"
    );
    assert_eq!(lines, server_lines(keys, 1), "{device}: {text}");
}

#[test]
fn mbedtls_2_28_prints_the_master_secret_openssl_logged() {
    let dir = tempfile::tempdir().unwrap();
    let client = mbedtls_client(dir.path());
    let (output, keys, _server) = run_against_server(dir.path(), &client, "-tls1_2", &[]);
    assert!(
        console(&output).contains("mbed TLS 2.28"),
        "{}",
        console(&output)
    );
    assert_tls12_line_matches("mbedTLS", &output, &keys);
}

#[test]
fn wolfssl_prints_the_tls12_master_secret_openssl_logged() {
    let dir = tempfile::tempdir().unwrap();
    let client = wolfssl_client(dir.path());
    let (output, keys, _server) = run_against_server(dir.path(), &client, "-tls1_2", &["1.2"]);
    assert_tls12_line_matches("wolfSSL", &output, &keys);
}

/// Whether the installed wolfSSL was built with the secret callbacks TLS 1.3 needs.
fn wolfssl_has_secret_callback() -> bool {
    std::fs::read_to_string("/usr/include/wolfssl/options.h")
        .expect("wolfSSL's options.h (tests/run installs libwolfssl-dev)")
        .lines()
        .any(|line| line.trim() == "#define HAVE_SECRET_CALLBACK")
}

/// TLS 1.3 secrets need HAVE_SECRET_CALLBACK. Without it (Debian's wolfSSL) the client says so
/// and prints no line rather than something that cannot decrypt; with it, its lines are the
/// traffic secrets s_server logged.
#[test]
fn wolfssl_tls13_needs_the_secret_callback() {
    let dir = tempfile::tempdir().unwrap();
    let client = wolfssl_client(dir.path());
    let (output, keys, _server) = run_against_server(dir.path(), &client, "-tls1_3", &["1.3"]);
    let text = console(&output);
    if !wolfssl_has_secret_callback() {
        assert_eq!(output.status.code(), Some(3), "{text}");
        assert!(text.contains("without HAVE_SECRET_CALLBACK"), "{text}");
        assert!(extracted(&text).is_empty(), "{text}");
        return;
    }
    assert!(output.status.success(), "{text}");
    let logged = server_lines(&keys, 5);
    let printed = extracted(&text);
    for label in [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    ] {
        let line = printed
            .iter()
            .find(|line| line.starts_with(&format!("{label} ")))
            .unwrap_or_else(|| panic!("{label} printed: {text}"));
        assert!(logged.contains(line), "{line} not in {logged:?}");
    }
}

/// The ways a device's build may have that the installed libraries do not (wolfSSL's keylog
/// and TLS 1.3 secret callbacks) at least compile against the real headers.
#[test]
fn the_wolfssl_secret_callback_code_compiles() {
    let output = Command::new("gcc")
        .args([
            "-Wall",
            "-Werror",
            "-DHAVE_SECRET_CALLBACK",
            "-c",
            "-o",
            "/dev/null",
        ])
        .arg(fixture("keylog", "wolfssl-keylog.c"))
        .output()
        .expect("gcc is installed (tests/run installs it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// tcpdump on `lo` for one port, writing each packet as it comes.
struct Tcpdump {
    child: Child,
    path: PathBuf,
}

impl Tcpdump {
    fn start(path: PathBuf, port: u16) -> Tcpdump {
        let mut child = Command::new("tcpdump")
            .args(["-i", "lo", "-U", "-s", "0", "-w"])
            .arg(&path)
            .args(["tcp", "port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tcpdump is installed (tests/run installs it) and the tests run as root");
        let stderr = Collector::new(child.stderr.take().unwrap());
        let listening = stderr.wait_for(Duration::from_secs(10), |text| {
            text.contains("listening on")
        });
        assert!(listening, "tcpdump captures on lo: {}", stderr.text());
        Tcpdump { child, path }
    }

    /// Waits until the end of the connection is in the file, then stops tcpdump.
    fn finish(mut self) -> PathBuf {
        let closed = poll_until(Duration::from_secs(10), || {
            ended(&std::fs::read(&self.path).unwrap_or_default())
        });
        assert!(closed, "the connection's end captured");
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        self.path.clone()
    }
}

impl Drop for Tcpdump {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a little-endian pcap of Ethernet frames (tcpdump on `lo`) holds the end of its
/// connection: a FIN from both sides, or a reset (s_server answers the device's FIN with its
/// close_notify, and the closed socket with a reset). A packet still being written is not read.
fn ended(pcap: &[u8]) -> bool {
    let (mut fins, mut reset) = (0, false);
    let mut at = 24;
    while pcap.len() >= at + 16 {
        let captured = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        let Some(frame) = pcap.get(at + 16..at + 16 + captured) else {
            break;
        };
        at += 16 + captured;
        if frame.len() < 14 + 20 || frame[12..14] != [0x08, 0x00] || frame[14 + 9] != 6 {
            continue;
        }
        let tcp = 14 + usize::from(frame[14] & 0x0F) * 4;
        match frame.get(tcp + 13) {
            Some(flags) if flags & 4 != 0 => reset = true,
            Some(flags) if flags & 1 != 0 => fins += 1,
            _ => {}
        }
    }
    reset || fins >= 2
}

/// `analyze --keylog KEYS CAPTURE` (or without a key log) as JSON: the one handshake.
fn analyze(capture: &Path, keys: Option<&Path>) -> (i32, Value) {
    let capture = capture.to_string_lossy().into_owned();
    let mut args = vec!["analyze".to_string(), capture];
    if let Some(keys) = keys {
        args.extend(["--keylog".to_string(), keys.to_string_lossy().into_owned()]);
    }
    let (code, report) = iotdoctor_json(&strs(&args));
    let handshakes = report["handshakes"].as_array().expect("handshakes");
    assert_eq!(handshakes.len(), 1, "{report:#}");
    (code, handshakes[0].clone())
}

/// The senders of Finished messages read from inside encrypted records.
fn decrypted_finished(handshake: &Value) -> Vec<String> {
    let events = handshake["transcript"]["events"].as_array().unwrap();
    let encrypted = |index: &Value| {
        events
            .iter()
            .any(|e| e["kind"] == "record" && e["index"] == *index && e["encrypted"] == true)
    };
    events
        .iter()
        .filter(|e| e["kind"] == "handshake" && e["message"] == "finished")
        .filter(|e| encrypted(&e["record"]))
        .map(|e| e["from"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The whole path of docs/device-keylog.md: the device prints its lines on its console, they
/// are taken out with grep into a key log, and `analyze --keylog` decrypts the capture of the
/// same connection: both Finished messages, no `key log:` note, the session ok.
fn device_key_log_decrypts_its_capture(device: &str, client: &Path, version_arg: Option<&str>) {
    let dir = client.parent().unwrap();
    let server = server(&dir.join("server.keys"), "-tls1_2");
    let port = server.port.to_string();
    let capture = Tcpdump::start(dir.join("device.pcap"), server.port);
    let mut args: Vec<&str> = version_arg.into_iter().collect();
    let ca = pki("root-ca.pem");
    args.extend(["127.0.0.1", &port, &ca]);
    let output = run(client, &args);
    let text = console(&output);
    assert!(output.status.success(), "{device}: {text}");
    let capture = capture.finish();
    let keys = dir.join("device.keys");
    std::fs::write(&keys, extracted(&text).join("\n") + "\n").unwrap();

    let (code, handshake) = analyze(&capture, Some(&keys));
    assert_eq!(code, 0, "{device}: {handshake:#}");
    assert_eq!(handshake["outcome"], "ok", "{device}");
    assert_eq!(
        decrypted_finished(&handshake),
        ["client", "server"],
        "{device}: {handshake:#}"
    );
    let notes = notes(&handshake);
    assert!(
        !notes.iter().any(|note| note.starts_with("key log:")),
        "{device}: {notes:?}"
    );

    let (_, blind) = analyze(&capture, None);
    assert!(
        decrypted_finished(&blind).is_empty(),
        "{device}: without the key log the Finished messages stay opaque"
    );
}

#[test]
fn mbedtls_device_key_log_decrypts_its_capture() {
    let dir = tempfile::tempdir().unwrap();
    let client = mbedtls_client(dir.path());
    device_key_log_decrypts_its_capture("mbedTLS", &client, None);
}

#[test]
fn wolfssl_device_key_log_decrypts_its_capture() {
    let dir = tempfile::tempdir().unwrap();
    let client = wolfssl_client(dir.path());
    device_key_log_decrypts_its_capture("wolfSSL", &client, Some("1.2"));
}
