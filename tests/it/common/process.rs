//! Runs of the binary: to the end, bounded by a kill deadline, or as a `serve` that keeps
//! running. Whatever a test waits for (a port, a line of output, an exit) is polled for with a
//! deadline, never slept for.

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::fixtures::pki;

/// Calls `done` every few milliseconds until it says true (then true) or `limit` has passed
/// (then false).
pub fn poll_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The built binary, with no colour, width or log level set from outside: a shell that
/// exports `COLUMNS` would otherwise move where text reports wrap.
pub fn binary() -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("iotdoctor"));
    command
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .env_remove("COLUMNS");
    command
}

/// What a pipe of a running process has given so far, read by a thread.
pub struct Collector {
    bytes: Arc<Mutex<Vec<u8>>>,
    thread: Option<JoinHandle<()>>,
}

impl Collector {
    pub fn new(mut pipe: impl Read + Send + 'static) -> Collector {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let thread = std::thread::spawn({
            let bytes = bytes.clone();
            move || {
                let mut buffer = [0u8; 16 * 1024];
                while let Ok(n) = pipe.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    bytes.lock().unwrap().extend_from_slice(&buffer[..n]);
                }
            }
        });
        Collector {
            bytes,
            thread: Some(thread),
        }
    }

    /// What came so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    /// Waits until what came satisfies `done`, at most `limit`; returns whether it did.
    pub fn wait_for(&self, limit: Duration, done: impl Fn(&str) -> bool) -> bool {
        poll_until(limit, || done(&self.text()))
    }

    /// Everything, once the pipe has closed (the process ended or closed it).
    pub fn finish(mut self) -> Vec<u8> {
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        std::mem::take(&mut *self.bytes.lock().unwrap())
    }
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
    let Output {
        status,
        stdout,
        stderr,
    } = binary()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("binary runs");
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

/// Runs `iotdoctor connect` with `--format json` against an endpoint.
pub fn connect_json(endpoint: &str, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["connect", "--endpoint", endpoint, "--timeout", "5"];
    all.extend_from_slice(args);
    iotdoctor_json(&all)
}

/// A run of the binary that must end by itself.
pub struct BoundedRun {
    /// `None` when it was still running after its `kill_after` and was killed.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

/// Runs iotdoctor with `args` and `env` (no stdin, no SSLKEYLOGFILE from outside), reading its
/// output as it comes, and kills it after `kill_after` so that a hang fails the test instead of
/// the suite.
pub fn run_bounded(args: &[&str], env: &[(&str, &str)], kill_after: Duration) -> BoundedRun {
    let started = Instant::now();
    let mut child = binary()
        .args(args)
        .envs(env.iter().copied())
        .env_remove("SSLKEYLOGFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("iotdoctor runs");
    let stdout = Collector::new(child.stdout.take().unwrap());
    let stderr = Collector::new(child.stderr.take().unwrap());
    let mut code = None;
    let ended = poll_until(kill_after, || match child.try_wait().unwrap() {
        Some(status) => {
            code = Some(status.code().expect("exited, not killed by a signal"));
            true
        }
        None => false,
    });
    if !ended {
        let _ = child.kill();
        let _ = child.wait();
    }
    let elapsed = started.elapsed();
    BoundedRun {
        code,
        stdout: stdout.finish(),
        stderr: stderr.finish(),
        elapsed,
    }
}

/// One run of the binary, timed around the whole process, its stdout read as JSON.
pub struct TimedRun {
    /// `None` when it was still running after `kill_after` and was killed.
    pub code: Option<i32>,
    /// Its stdout as JSON (`Null` when killed).
    pub report: Value,
    pub stdout_len: usize,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs iotdoctor with `args`, killed after `kill_after` (see [`run_bounded`]). A panic, or
/// stdout that is not JSON, fails the test.
pub fn run_timed(args: &[&str], kill_after: Duration) -> TimedRun {
    let run = run_bounded(args, &[], kill_after);
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "iotdoctor panicked: {stderr}");
    let report = match run.code {
        Some(_) => serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {stderr}",
                String::from_utf8_lossy(&run.stdout[..run.stdout.len().min(4000)])
            )
        }),
        None => Value::Null,
    };
    TimedRun {
        code: run.code,
        report,
        stdout_len: run.stdout.len(),
        stderr,
        elapsed: run.elapsed,
    }
}

/// A run still going after this is killed, so that a run that never ends fails its test
/// instead of hanging the suite.
pub const KILL_AFTER: Duration = Duration::from_secs(30);
/// What a run may take past its `--timeout`: process start, the report, a loaded machine.
pub const MARGIN: Duration = Duration::from_secs(3);
/// More report than any connection should make: a transcript shows at most 1000 decoded events.
pub const MAX_REPORT_BYTES: usize = 2 * 1024 * 1024;

/// `iotdoctor connect --endpoint 127.0.0.1:PORT --timeout TIMEOUT --format json` plus `extra`,
/// timed around the whole process; see [`TimedRun::assert_in_time`].
pub fn connect_timed(port: u16, timeout: Duration, extra: &[&str]) -> TimedRun {
    let endpoint = format!("127.0.0.1:{port}");
    let seconds = timeout.as_secs().to_string();
    let mut args = vec![
        "connect",
        "--endpoint",
        &endpoint,
        "--timeout",
        &seconds,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    run_timed(&args, KILL_AFTER)
}

impl TimedRun {
    /// Asserts the run ended by itself within `timeout` plus the margin, with a report of a
    /// bounded size.
    pub fn assert_in_time(&self, timeout: Duration) {
        assert!(
            self.code.is_some(),
            "still running after {KILL_AFTER:?}, killed\n{self}"
        );
        assert!(
            self.elapsed <= timeout + MARGIN,
            "took {:?}, more than --timeout {timeout:?} plus {MARGIN:?}\n{self}",
            self.elapsed
        );
        assert!(
            self.stdout_len <= MAX_REPORT_BYTES,
            "a report of {} bytes",
            self.stdout_len
        );
    }

    /// The messages of the report's notes.
    pub fn notes(&self) -> Vec<String> {
        super::report::notes(&self.report)
    }

    /// The evidence of the top cause, as JSON text.
    pub fn evidence(&self) -> String {
        self.report["diagnosis"]["causes"][0]["evidence"].to_string()
    }
}

impl std::fmt::Display for TimedRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut report = serde_json::to_string_pretty(&self.report).unwrap_or_default();
        if report.len() > 8000 {
            let mut cut = 8000;
            while !report.is_char_boundary(cut) {
                cut -= 1;
            }
            report.truncate(cut);
            report.push_str("\n... (cut)");
        }
        let causes = match self.report["diagnosis"]["causes"].as_array() {
            Some(_) => super::report::cause_ids(&self.report),
            None => Vec::new(),
        };
        let stderr = &self.stderr[self
            .stderr
            .floor_char_boundary(self.stderr.len().saturating_sub(2000))..];
        write!(
            f,
            "exit {:?} after {:?}, causes {causes:?}, {} bytes of report\nstderr: {stderr}\n{report}",
            self.code, self.elapsed, self.stdout_len
        )
    }
}

/// Waits until `child` listens on `port` (false if it exits or takes more than 10 s).
pub fn wait_listening(child: &mut Child, port: u16) -> bool {
    let mut exited = false;
    let ours = poll_until(Duration::from_secs(10), || {
        if let Ok(Some(_)) = child.try_wait() {
            exited = true;
            return true;
        }
        // Ours, not another test's server that raced for the same port.
        listening_inodes(port)
            .iter()
            .any(|inode| owns_socket(child.id(), inode))
    });
    ours && !exited
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

/// The sockets process `pid` holds open: a server's listener and the connections it serves.
pub fn sockets_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
        })
        .count()
}

/// `iotdoctor serve` on an ephemeral loopback port, killed when dropped. Its stderr is read as
/// it comes (a verbose log must not fill the pipe and stop it).
pub struct Serve {
    pub child: Child,
    pub port: u16,
    pub stderr: Collector,
}

/// What serve writes on stderr once it listens, before any connection.
const LISTENING: &str = "iotdoctor: serving TLS on ";

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
    /// `extra` gives a `--cert`), requiring client certificates of the fixture root, plus `extra`.
    pub fn spawn(extra: &[&str]) -> Serve {
        let mut command = binary();
        command.args(Serve::arguments(extra));
        Serve::run(command)
    }

    /// The arguments of [`Serve::spawn`], `serve` first.
    pub fn arguments(extra: &[&str]) -> Vec<String> {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        let (cert, key, ca) = (
            pki("server-chain.pem"),
            pki("server.key"),
            pki("root-ca.pem"),
        );
        if !extra.contains(&"--cert") {
            args.extend(["--cert", &cert]);
        }
        if !extra.contains(&"--key") {
            args.extend(["--key", &key]);
        }
        args.extend(["--client-ca", &ca]);
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_string).collect()
    }

    /// Starts `command`, a serve, with stdout and stderr piped, and waits until it says where it
    /// listens.
    pub fn run(mut command: Command) -> Serve {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("iotdoctor runs");
        let stderr = Collector::new(child.stderr.take().unwrap());
        let listening = stderr.wait_for(Duration::from_secs(30), |log| {
            log.lines()
                .any(|line| line.starts_with(LISTENING) && log.contains(&format!("{line}\n")))
        });
        let log = stderr.text();
        let port = log
            .lines()
            .find_map(|line| line.strip_prefix(LISTENING))
            .and_then(|address| address.rsplit(':').next()?.parse().ok());
        match port {
            Some(port) if listening => Serve {
                child,
                port,
                stderr,
            },
            _ => {
                let _ = child.kill();
                panic!("serve did not say where it listens: {log}")
            }
        }
    }

    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Waits for the one connection's report and the exit code.
    pub fn report(self) -> (i32, Value) {
        let (code, out, _) = self.output();
        let report = serde_json::from_str(out.lines().next().unwrap_or_default())
            .unwrap_or_else(|e| panic!("not one JSON report per line ({e}): {out}"));
        (code, report)
    }

    /// Waits for serve to end by itself: its exit code, stdout (unless a test took it) and
    /// stderr.
    pub fn output(self) -> (i32, String, String) {
        let (code, out, err) = self.output_bytes();
        let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
        (code, text(out), text(err))
    }

    /// The same, as the bytes serve wrote.
    pub fn output_bytes(mut self) -> (i32, Vec<u8>, Vec<u8>) {
        let mut out = Vec::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            stdout.read_to_end(&mut out).unwrap();
        }
        let code = self.child.wait().unwrap().code().expect("exited by itself");
        let stderr = std::mem::replace(&mut self.stderr, Collector::new(std::io::empty()));
        (code, out, stderr.finish())
    }

    /// Stops serve as Ctrl-C does: its exit code, the rest of its stdout, and its stderr.
    pub fn interrupt(self) -> (i32, String, String) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.output()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts that `iotdoctor COMMAND --help` succeeds and says each of `expected`.
pub fn assert_help_says(command: &str, expected: &[&str]) {
    let run = iotdoctor(&[command, "--help"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    super::report::assert_says_all(&run.stdout, expected);
}

/// Asserts that `iotdoctor ARGS` is a usage error (exit code 2) whose message says `expected`.
pub fn assert_usage_error(args: &[&str], expected: &str) {
    let run = iotdoctor(args);
    assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
}

/// The arguments of `openssl req` that make a new P-256 key without a passphrase.
pub const NEW_EC_KEY: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
];

/// Runs the openssl command line in `dir` (to make certificates), failing the test if it fails.
pub fn openssl_in(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed (tests/run installs it)");
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}
