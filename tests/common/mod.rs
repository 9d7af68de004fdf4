//! Helpers shared by the CLI tests: run the binary, read its output and exit code.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

pub fn pki(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "fixtures", "pki", name]
        .iter()
        .collect();
    path.to_string_lossy().into_owned()
}

pub fn amazon_root(number: u8) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "src",
        "credentials",
        "amazon",
        &format!("AmazonRootCA{number}.pem"),
    ]
    .iter()
    .collect();
    path.to_string_lossy().into_owned()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn iotdoctor(args: &[&str]) -> Run {
    iotdoctor_env(args, &[])
}

pub fn iotdoctor_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::cargo_bin("iotdoctor").expect("binary built");
    cmd.args(args).env_remove("NO_COLOR").env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("binary runs");
    let run = Run {
        code: status.code().expect("exited normally, not by a signal"),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "iotdoctor panicked: {}",
        run.stderr
    );
    run
}

/// Runs with `--format json` and parses stdout.
pub fn iotdoctor_json(args: &[&str]) -> (i32, Value) {
    iotdoctor_json_env(args, &[])
}

pub fn iotdoctor_json_env(args: &[&str], env: &[(&str, &str)]) -> (i32, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let run = iotdoctor_env(&all, env);
    let value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            run.stdout, run.stderr
        )
    });
    (run.code, value)
}

/// The ids of the findings of a JSON report, in order.
pub fn finding_ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// The finding with this id; panics with the report when there is none.
pub fn finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no finding {id} in {report:#}"))
}

pub fn top_cause(report: &Value) -> Option<&str> {
    report["diagnosis"]["causes"]
        .get(0)
        .and_then(|c| c["id"].as_str())
}

/// A real `openssl s_server` on a loopback port, killed when dropped.
pub struct OpenSslServer {
    child: std::process::Child,
    pub port: u16,
}

impl OpenSslServer {
    /// Starts `openssl s_server` with the fixture server certificate (chain and key) and `extra`
    /// arguments, and waits until it accepts connections.
    pub fn start(extra: &[&str]) -> OpenSslServer {
        OpenSslServer::spawn(extra, std::process::Stdio::null)
    }

    /// The same with s_server's stdout piped, where it prints what the client sends; take it
    /// with [`OpenSslServer::stdio`].
    pub fn start_echoing(extra: &[&str]) -> OpenSslServer {
        OpenSslServer::spawn(extra, std::process::Stdio::piped)
    }

    /// s_server's stdin (closing it ends the connection) and, after `start_echoing`, its stdout.
    pub fn stdio(&mut self) -> (std::process::ChildStdin, Option<std::process::ChildStdout>) {
        (
            self.child.stdin.take().expect("stdin is piped"),
            self.child.stdout.take(),
        )
    }

    fn spawn(extra: &[&str], stdout: fn() -> std::process::Stdio) -> OpenSslServer {
        for _ in 0..5 {
            let port = free_port();
            let accept = format!("127.0.0.1:{port}");
            let mut args = vec!["s_server", "-accept", &accept, "-quiet", "-no_dhe"];
            let (cert, key, chain) = (
                pki("server.pem"),
                pki("server.key"),
                pki("intermediate-ca.pem"),
            );
            if !extra.contains(&"-cert") {
                args.extend(["-cert", &cert, "-key", &key, "-cert_chain", &chain]);
            }
            args.extend_from_slice(extra);
            let child = std::process::Command::new("openssl")
                .args(&args)
                .stdin(std::process::Stdio::piped())
                .stdout(stdout())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("openssl is installed (tests/run installs it)");
            let mut server = OpenSslServer { child, port };
            if server.wait_ready() {
                return server;
            }
        }
        panic!("openssl s_server did not start");
    }

    fn wait_ready(&mut self) -> bool {
        wait_listening(&mut self.child, self.port)
    }

    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for OpenSslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `child` listens on `port` (false if it exits or takes more than 10 s).
pub fn wait_listening(child: &mut std::process::Child, port: u16) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        // Ours, not another test's server that raced for the same port.
        if listening_inodes(port)
            .iter()
            .any(|inode| owns_socket(child.id(), inode))
        {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

/// Inodes of the sockets listening on this TCP port, read from /proc without connecting (a probe
/// connection would count as a failed handshake in the server's eyes).
pub fn listening_inodes(port: u16) -> Vec<String> {
    let suffix = format!(":{port:04X}");
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 9 && fields[1].ends_with(&suffix) && fields[3] == "0A" {
                inodes.push(fields[9].to_string());
            }
        }
    }
    inodes
}

/// Whether process `pid` holds the socket with this inode.
fn owns_socket(pid: u32, inode: &str) -> bool {
    let wanted = format!("socket:[{inode}]");
    std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
        fds.flatten().any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|target| target.to_string_lossy() == wanted)
        })
    })
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain TCP server on loopback that runs `behave` on the first connection, in a thread.
pub fn tcp_server(behave: impl FnOnce(std::net::TcpStream) + Send + 'static) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            behave(stream);
        }
    });
    port
}

/// Runs `iotdoctor connect` with `--format json` against an endpoint.
pub fn connect_json(endpoint: &str, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["connect", "--endpoint", endpoint, "--timeout", "5"];
    all.extend_from_slice(args);
    iotdoctor_json(&all)
}

/// The kinds of a report's transcript events, in order, with the side that sent them.
pub fn event_kinds(report: &Value) -> Vec<String> {
    report["transcript"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["from"].as_str().unwrap(),
                e["kind"].as_str().unwrap()
            )
        })
        .collect()
}

pub fn events_of<'a>(report: &'a Value, from: &str, kind: &str) -> Vec<&'a Value> {
    report["transcript"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["from"] == from && e["kind"] == kind)
        .collect()
}

pub fn cause_ids(report: &Value) -> Vec<String> {
    report["diagnosis"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// An `openssl s_server` that requires a client certificate from the fixture PKI and rejects
/// any it cannot verify, as AWS IoT Core does.
pub fn mutual_tls_server(extra: &[&str]) -> OpenSslServer {
    mutual_tls(extra, OpenSslServer::start)
}

/// The same, printing what the client sends (see [`OpenSslServer::start_echoing`]).
pub fn mutual_tls_echoing_server(extra: &[&str]) -> OpenSslServer {
    mutual_tls(extra, OpenSslServer::start_echoing)
}

fn mutual_tls(extra: &[&str], start: fn(&[&str]) -> OpenSslServer) -> OpenSslServer {
    let root = pki("root-ca.pem");
    let mut args = vec!["-CAfile", &root, "-Verify", "3", "-verify_return_error"];
    args.extend_from_slice(extra);
    start(&args)
}

/// `iotdoctor serve --once --format json` on an ephemeral loopback port.
pub struct Serve {
    pub child: std::process::Child,
    pub port: u16,
}

impl Serve {
    /// One connection and its JSON report: `serve --once --format json --timeout 3`, plus
    /// `extra`.
    pub fn start(extra: &[&str]) -> Serve {
        let mut args = vec!["--once", "--format", "json"];
        if !extra.contains(&"--timeout") {
            args.extend(["--timeout", "3"]);
        }
        args.extend_from_slice(extra);
        Serve::spawn(&args)
    }

    /// `iotdoctor serve` on an ephemeral loopback port with the fixture server chain (unless
    /// `extra` gives a `--cert`), requiring client certificates of the fixture root, plus `extra`;
    /// stdout and stderr piped.
    pub fn spawn(extra: &[&str]) -> Serve {
        let (cert, key, ca) = (
            pki("server-chain.pem"),
            pki("server.key"),
            pki("root-ca.pem"),
        );
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        if !extra.contains(&"--cert") {
            args.extend(["--cert", &cert]);
        }
        args.extend(["--key", &key, "--client-ca", &ca]);
        args.extend_from_slice(extra);
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("iotdoctor"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("iotdoctor runs");
        // serve says where it listens on its first line of stderr.
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stderr.as_mut().unwrap()),
            &mut line,
        )
        .unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{line}"));
        Serve { child, port }
    }

    /// Waits for the one connection's report and the exit code.
    pub fn report(mut self) -> (i32, Value) {
        let mut out = String::new();
        let mut stdout = self.child.stdout.take().unwrap();
        std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
        let code = self.child.wait().unwrap().code().unwrap();
        let report = serde_json::from_str(out.lines().next().unwrap_or_default())
            .unwrap_or_else(|e| panic!("not one JSON report per line ({e}): {out}"));
        (code, report)
    }
}

/// One run of the binary, timed around the whole process.
pub struct TimedRun {
    /// `None` when it was still running after `kill_after` and was killed.
    pub code: Option<i32>,
    /// Its stdout as JSON (`Null` when killed).
    pub report: Value,
    pub stdout_len: usize,
    pub stderr: String,
    pub elapsed: std::time::Duration,
}

/// Runs iotdoctor with `args`, reading its output as it comes, and kills it after `kill_after`
/// so that a hang fails the test instead of the suite. A panic, or stdout that is not JSON,
/// fails the test.
pub fn run_timed(args: &[&str], kill_after: std::time::Duration) -> TimedRun {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let started = std::time::Instant::now();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("iotdoctor"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("iotdoctor runs");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status.code().expect("exited, not killed by a signal"));
        }
        if started.elapsed() > kill_after {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let stdout = stdout.join().unwrap();
    let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    assert!(!stderr.contains("panicked"), "iotdoctor panicked: {stderr}");
    let report = match code {
        Some(_) => serde_json::from_slice(&stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {stderr}",
                String::from_utf8_lossy(&stdout[..stdout.len().min(4000)])
            )
        }),
        None => Value::Null,
    };
    TimedRun {
        code,
        report,
        stdout_len: stdout.len(),
        stderr,
        elapsed,
    }
}
