//! Secrets and the files that hold them.
//!
//! Private key material never reaches any output: private keys of every encoding are damaged in
//! many deterministic ways and read by everything that reads a key file: the library directly
//! (every role a file can have, every password answer, with iotdoctor's own log captured at trace
//! level), then a few dozen runs of `check-certs`, `connect` and `serve` in text and JSON with
//! `-vvv`. Everything they print is searched for the key's base64, its bytes in hex and as Rust
//! prints byte slices. A password given by mistake to `--key-pass-env` is not echoed either.
//!
//! Key logs hold TLS secrets: they are private to their owner, and not created for a connection
//! that never reached TLS. A PKCS#12 bundle with a key and no certificate is a problem, not a
//! healthy device.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use iotdoctor::credentials::checks::{CheckOptions, check, key_mismatch};
use iotdoctor::credentials::load::{PasswordSource, read_file};
use iotdoctor::credentials::{Credentials, LoadRequest};
use iotdoctor::diagnose::diagnose;
use iotdoctor::report::{Report, json, style::Style, text};

/// A key file as the fixtures hold it, and the certificate it belongs to.
struct KeyCase {
    name: &'static str,
    bytes: Vec<u8>,
    cert: &'static str,
    pem: bool,
}

fn pki_bytes(name: &str) -> Vec<u8> {
    std::fs::read(pki(name)).unwrap()
}

fn cases() -> Vec<KeyCase> {
    let mut combined = pki_bytes("client-ec.pem");
    combined.extend(pki_bytes("client-ec.key"));
    let case = |name, file: &str, cert, pem| KeyCase {
        name,
        bytes: pki_bytes(file),
        cert,
        pem,
    };
    vec![
        case("pkcs8", "client-ec.key", "client-ec.pem", true),
        case("pkcs1", "client-rsa-pkcs1.key", "client-rsa.pem", true),
        case("sec1", "client-ec-sec1.key", "client-ec.pem", true),
        case(
            "encrypted",
            "client-ec-encrypted.key",
            "client-ec.pem",
            true,
        ),
        case("der", "client-ec.key.der", "client-ec.pem", false),
        KeyCase {
            name: "cert+key",
            bytes: combined,
            cert: "client-ec.pem",
            pem: true,
        },
    ]
}

/// What must never be printed: every 16-character run of every base64 line of the key blocks,
/// and every 8-byte run of the key's DER (and of the decrypted key) raw, in hex (either case,
/// colons or not) or as `{:?}` prints a byte slice. Runs that the certificate holds too (the
/// algorithm identifiers, the public key) are public and left out.
struct Secrets {
    base64: HashSet<String>,
    hex: HashSet<String>,
    raw: HashSet<Vec<u8>>,
}

impl Secrets {
    fn of(case: &KeyCase) -> Secrets {
        let public = public_bytes();
        let public_text = public_base64();
        let mut ders = Vec::new();
        let mut base64 = HashSet::new();
        if case.pem {
            let text = String::from_utf8(case.bytes.clone()).unwrap();
            for block in pem::parse_many(&case.bytes).unwrap() {
                if block.tag().contains("PRIVATE KEY") {
                    ders.push(block.contents().to_vec());
                }
            }
            let mut inside = false;
            for line in text.lines() {
                if line.starts_with("-----BEGIN") {
                    inside = line.contains("PRIVATE KEY");
                } else if line.starts_with("-----END") {
                    inside = false;
                } else if inside {
                    let line = line.trim();
                    for start in 0..line.len().saturating_sub(15) {
                        let run = &line[start..start + 16];
                        if !public_text.iter().any(|p| p.contains(run)) {
                            base64.insert(run.to_string());
                        }
                    }
                }
            }
        } else {
            ders.push(case.bytes.clone());
        }
        // The decrypted key, as iotdoctor holds it in memory.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, &case.bytes).unwrap();
        for key in read_file(&path, &Fixed(PASSWORD)).unwrap().keys {
            ders.push(key.der.secret_der().to_vec());
        }
        assert!(!ders.is_empty(), "{}", case.name);
        let public: HashSet<&[u8]> = public.iter().flat_map(|p| p.windows(8)).collect();
        let raw: HashSet<Vec<u8>> = ders
            .iter()
            .flat_map(|der| der.windows(8))
            .filter(|w| !public.contains(w))
            .map(<[u8]>::to_vec)
            .collect();
        let hex = raw
            .iter()
            .map(|w| w.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        Secrets { base64, hex, raw }
    }

    /// Panics, saying what leaked, when `output` holds any of the secrets.
    fn assert_absent(&self, output: &[u8], what: &str) {
        let text = String::from_utf8_lossy(output);
        let fail = |how: &str, found: &str| -> ! {
            panic!("key material leaked ({how} '{found}'): {what}\n{text}")
        };
        for window in output.windows(16) {
            if let Ok(run) = std::str::from_utf8(window)
                && self.base64.contains(run)
            {
                fail("base64", run);
            }
        }
        if let Some(w) = output.windows(8).find(|w| self.raw.contains(*w)) {
            fail("raw bytes", &format!("{w:?}"));
        }
        // Hex, in runs of hex digits and colons: any 16 digits in a row.
        let lower = text.to_lowercase();
        for run in lower.split(|c: char| !(c.is_ascii_hexdigit() || c == ':')) {
            let digits: Vec<u8> = run.bytes().filter(|&b| b != b':').collect();
            for window in digits.windows(16) {
                let window = std::str::from_utf8(window).unwrap();
                if self.hex.contains(window) {
                    fail("hex", window);
                }
            }
        }
        // `{:?}` of bytes: runs of numbers under 256 separated by commas.
        for run in text.split(|c: char| !(c.is_ascii_digit() || c == ',' || c.is_whitespace())) {
            for bytes in run
                .split(',')
                .map(|n| n.trim().parse::<u8>().ok())
                .collect::<Vec<_>>()
                .split(Option::is_none)
            {
                let bytes: Vec<u8> = bytes.iter().flatten().copied().collect();
                if let Some(w) = bytes.windows(8).find(|w| self.raw.contains(*w)) {
                    fail("decimal bytes", &format!("{w:?}"));
                }
            }
        }
    }
}

/// DER of every certificate the keys belong to: their bytes are public.
fn public_bytes() -> Vec<Vec<u8>> {
    ["client-ec.pem", "client-rsa.pem", "server.pem"]
        .iter()
        .flat_map(|name| pem::parse_many(pki_bytes(name)).unwrap())
        .map(|block| block.contents().to_vec())
        .collect()
}

fn public_base64() -> Vec<String> {
    ["client-ec.pem", "client-rsa.pem", "server.pem"]
        .iter()
        .map(|name| {
            String::from_utf8(pki_bytes(name))
                .unwrap()
                .replace('\n', "")
        })
        .collect()
}

/// The damaged versions of a key file, each with a name.
fn mutations(case: &KeyCase) -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng(0x5EC2_E75E_C2E7 ^ case.bytes.len() as u64);
    if case.pem {
        pem_mutations(&String::from_utf8(case.bytes.clone()).unwrap(), &mut rng)
    } else {
        der_mutations(&case.bytes, &mut rng)
    }
}

fn pem_mutations(text: &str, rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let begin = lines
        .iter()
        .position(|l| l.starts_with("-----BEGIN") && l.contains("PRIVATE KEY"))
        .unwrap();
    let end = begin
        + lines[begin..]
            .iter()
            .position(|l| l.starts_with("-----END"))
            .unwrap();
    let label = lines[begin]
        .trim_start_matches("-----BEGIN ")
        .trim_end_matches('-')
        .to_string();
    let join = |lines: &[String]| (lines.join("\n") + "\n").into_bytes();
    let edit = |f: &dyn Fn(&mut Vec<String>)| {
        let mut copy = lines.clone();
        f(&mut copy);
        join(&copy)
    };
    let relabel = |new: &str| {
        edit(&|l| {
            l[begin] = format!("-----BEGIN {new}-----");
            l[end] = format!("-----END {new}-----");
        })
    };
    let undash = |l: &mut Vec<String>, i: usize| l[i] = l[i].trim_end_matches('-').to_string();
    let mut out: Vec<(String, Vec<u8>)> = vec![
        ("begin-no-dashes".into(), edit(&|l| undash(l, begin))),
        ("end-no-dashes".into(), edit(&|l| undash(l, end))),
        (
            "both-no-dashes".into(),
            edit(&|l| {
                undash(l, begin);
                undash(l, end)
            }),
        ),
        (
            "begin-one-dash-short".into(),
            edit(&|l| {
                l[begin].pop();
            }),
        ),
        (
            "no-begin".into(),
            edit(&|l| {
                l.remove(begin);
            }),
        ),
        (
            "no-end".into(),
            edit(&|l| {
                l.remove(end);
            }),
        ),
        ("begin-cut".into(), edit(&|l| l[begin].truncate(16))),
        ("end-cut".into(), edit(&|l| l[end].truncate(12))),
        (
            "body-truncated".into(),
            edit(&|l| {
                let keep = (end - begin) / 2;
                l.drain(begin + 1 + keep..end);
            }),
        ),
        (
            "file-cut".into(),
            join(&lines)[..text.len() * 2 / 3].to_vec(),
        ),
        (
            "line-cut".into(),
            edit(&|l| {
                let n = l[begin + 1].len();
                l[begin + 1].truncate(n - 5)
            }),
        ),
        ("label-certificate".into(), relabel("CERTIFICATE")),
        ("label-pkcs8".into(), relabel("PRIVATE KEY")),
        ("label-rsa".into(), relabel("RSA PRIVATE KEY")),
        ("label-ec".into(), relabel("EC PRIVATE KEY")),
        ("label-encrypted".into(), relabel("ENCRYPTED PRIVATE KEY")),
        ("label-unknown".into(), relabel("FOO BAR")),
        (
            "label-mismatch".into(),
            edit(&|l| l[end] = "-----END CERTIFICATE-----".into()),
        ),
        (
            "label-with-body".into(),
            edit(&|l| {
                let body = l.remove(begin + 1);
                l[begin] = format!("-----BEGIN {body}-----");
            }),
        ),
        ("crlf".into(), join(&lines).iter().fold(vec![], crlf)),
        (
            "crlf-begin-no-dashes".into(),
            edit(&|l| undash(l, begin)).iter().fold(vec![], crlf),
        ),
        (
            "blank-line-in-body".into(),
            edit(&|l| l.insert(begin + 2, String::new())),
        ),
        (
            "headers".into(),
            edit(&|l| {
                l.insert(begin + 1, "Proc-Type: 4,ENCRYPTED".into());
                l.insert(begin + 2, "DEK-Info: AES-128-CBC,00".into());
                l.insert(begin + 3, String::new());
            }),
        ),
        (
            "colon-in-body".into(),
            edit(&|l| {
                l[begin + 1].insert(10, ':');
                l.insert(begin + 2, String::new())
            }),
        ),
        (
            "garbage-line".into(),
            edit(&|l| l.insert(begin + 2, "!! not base64 !!".into())),
        ),
        (
            "dashes-in-body".into(),
            edit(&|l| l[begin + 1].insert_str(20, "-----")),
        ),
        (
            "begin-joined".into(),
            edit(&|l| {
                let body = l.remove(begin + 1);
                l[begin].push_str(&body);
            }),
        ),
        (
            "duplicate-begin".into(),
            edit(&|l| l.insert(begin, format!("-----BEGIN {label}-----"))),
        ),
        (
            "indented".into(),
            edit(&|l| {
                for line in &mut l[begin + 1..end] {
                    line.insert_str(0, "  ");
                }
            }),
        ),
        (
            "one-line".into(),
            edit(&|l| {
                let body: String = l.drain(begin + 1..end).collect();
                l.insert(begin + 1, body);
            }),
        ),
    ];
    let mut non_utf8 = join(&lines);
    let at = text.find(&lines[begin + 1]).unwrap() + 7;
    non_utf8.insert(at, 0xff);
    out.push(("non-utf8".into(), non_utf8));
    let body_start = text.find(&lines[begin + 1]).unwrap();
    let body_end = text.find(&lines[end]).unwrap();
    for round in 0..8 {
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..=rng.below(3) {
            let i = body_start + rng.below(body_end - body_start);
            bytes[i] ^= 1 << rng.below(8);
        }
        out.push((format!("flipped-{round}"), bytes));
    }
    for round in 0..6 {
        let mut bytes = text.as_bytes().to_vec();
        let i = body_start + rng.below(body_end - body_start);
        let extra: Vec<u8> = (0..1 + rng.below(24)).map(|_| rng.next() as u8).collect();
        bytes.splice(i..i, extra);
        out.push((format!("garbage-{round}"), bytes));
    }
    out
}

fn crlf(mut acc: Vec<u8>, &b: &u8) -> Vec<u8> {
    if b == b'\n' {
        acc.push(b'\r');
    }
    acc.push(b);
    acc
}

fn der_mutations(der: &[u8], rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        ("truncated-half".into(), der[..der.len() / 2].to_vec()),
        ("truncated-one".into(), der[..der.len() - 1].to_vec()),
        ("trailing-garbage".into(), [der, b"\x00\xffjunk"].concat()),
        (
            "leading-garbage".into(),
            [b"\x01\x02".as_slice(), der].concat(),
        ),
        ("zero-first".into(), [&[0u8][..], &der[1..]].concat()),
        (
            "as-pem-certificate".into(),
            pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec())).into_bytes(),
        ),
        (
            "as-pem-unknown".into(),
            pem::encode(&pem::Pem::new("FOO", der.to_vec())).into_bytes(),
        ),
        (
            "as-pem-no-dashes".into(),
            pem::encode(&pem::Pem::new("PRIVATE KEY", der.to_vec()))
                .replacen("KEY-----", "KEY", 1)
                .into_bytes(),
        ),
    ];
    for round in 0..14 {
        let mut bytes = der.to_vec();
        match round % 3 {
            0 => {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(bytes.len());
                bytes[i] = [0x80, 0x81, 0x82, 0x84, 0xff, 0x00][rng.below(6)];
            }
            _ => {
                let i = rng.below(bytes.len());
                let extra: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect();
                bytes.splice(i..i, extra);
            }
        }
        out.push((format!("damaged-{round}"), bytes));
    }
    out
}

/// iotdoctor's log on this thread, at trace level, into a buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);
impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything the library makes of a credential request: the error (shown and debug-printed,
/// and as the JSON report of a failed command), or the checks' findings, the rendered reports and
/// the debug print of what was loaded.
fn library_output(request: &LoadRequest, passwords: &dyn PasswordSource) -> Vec<u8> {
    let mut out = Vec::new();
    match Credentials::load(request, passwords) {
        Err(error) => {
            writeln!(out, "{error}\n{error:?}").unwrap();
            json::render(&Report::failed("check-certs", &error), &mut out).unwrap();
        }
        Ok(creds) => {
            writeln!(out, "{creds:?}").unwrap();
            let options = CheckOptions {
                now: 1_800_000_000,
                warn_days: 30,
                aws_iot: true,
            };
            let (summary, findings) = check(&creds, &options);
            if let (Some(key), Some(leaf)) = (&creds.key, creds.device.first()) {
                writeln!(out, "{:?}", key_mismatch(key, &leaf.info)).unwrap();
            }
            writeln!(out, "{findings:?}").unwrap();
            let diagnosis = diagnose(&findings, None, &Default::default());
            let report = Report::new("check-certs", findings, diagnosis).with_credentials(summary);
            text::render(&report, Style::plain(), &mut out).unwrap();
            json::render(&report, &mut out).unwrap();
        }
    }
    out
}

#[test]
fn damaged_keys_never_show_their_material_through_the_library() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let log = log.clone();
            move || log.clone()
        })
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.key");
    let mut runs = 0;
    for case in cases() {
        let secrets = Secrets::of(&case);
        let cert = pki_path(case.cert);
        let mut damaged = mutations(&case);
        damaged.push(("intact".into(), case.bytes.clone()));
        for (mutation, bytes) in damaged {
            std::fs::write(&path, &bytes).unwrap();
            let requests = [
                LoadRequest {
                    cert: Some(cert.clone()),
                    key: Some(path.clone()),
                    ..Default::default()
                },
                LoadRequest {
                    cert: Some(path.clone()),
                    ..Default::default()
                },
                LoadRequest {
                    p12: Some(path.clone()),
                    ..Default::default()
                },
                LoadRequest {
                    cert: Some(cert.clone()),
                    chain: vec![path.clone()],
                    cas: vec![path.clone()],
                    ..Default::default()
                },
            ];
            // Every answer to a password question, where a password can be asked for.
            let encrypted = case.name == "encrypted" || mutation == "label-encrypted";
            let passwords: &[&dyn PasswordSource] = if encrypted {
                &[&Fixed(PASSWORD), &Fixed("wrong"), &NoPassword]
            } else {
                &[&Fixed(PASSWORD)]
            };
            for request in &requests {
                for &source in passwords {
                    let out = library_output(request, source);
                    let what = format!("{} {mutation} {request:?}", case.name);
                    secrets.assert_absent(&out, &what);
                    let mut log = log.0.lock().unwrap();
                    secrets.assert_absent(&log, &format!("log of {what}"));
                    log.clear();
                    runs += 1;
                }
            }
        }
    }
    assert!(runs > 1000, "{runs}");
}

/// A run of the binary that must end by itself: killed (and failed) after a minute. Its exit
/// code, and all it printed.
fn run_within_a_minute(args: &[String], env: &[(&str, &str)]) -> (Option<i32>, Vec<u8>) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut run = run_bounded(&args, env, Duration::from_secs(60));
    run.stdout.extend(run.stderr);
    (run.code, run.stdout)
}

#[test]
fn keys_never_show_their_material_in_any_command() {
    let dir = tempfile::tempdir().unwrap();
    let closed = format!("127.0.0.1:{}", free_port());
    let mut runs = 0;
    // Each command, in each format, sees a key without its BEGIN dashes and one more damage.
    let others = [
        "blank-line-in-body",
        "label-mismatch",
        "label-with-body",
        "crlf-begin-no-dashes",
        "as-pem-certificate",
        "colon-in-body",
    ];
    for (index, case) in cases().into_iter().enumerate() {
        let secrets = Secrets::of(&case);
        let damaged = mutations(&case);
        let pick = |name: &str| {
            damaged
                .iter()
                .find(|(m, _)| m == name)
                .map(|(_, bytes)| bytes.clone())
        };
        let first = pick("begin-no-dashes").or_else(|| pick("as-pem-no-dashes"));
        let second = (0..others.len()).find_map(|k| pick(others[(index + k) % others.len()]));
        for (n, bytes) in [first, second].into_iter().flatten().enumerate() {
            let key = dir
                .path()
                .join(format!("{}-{n}.key", case.name.replace('+', "-")));
            std::fs::write(&key, &bytes).unwrap();
            let (key, cert) = (key.to_string_lossy().into_owned(), pki(case.cert));
            let root = pki("root-ca.pem");
            let commands: [Vec<&str>; 3] = [
                vec!["check-certs", "--cert", &cert, "--key", &key],
                vec![
                    "connect",
                    "--endpoint",
                    &closed,
                    "--cert",
                    &cert,
                    "--key",
                    &key,
                ],
                vec![
                    "serve",
                    "--listen",
                    "127.0.0.1:0",
                    "--once",
                    "--cert",
                    &cert,
                    "--key",
                    &key,
                    "--client-ca",
                    &root,
                ],
            ];
            // Both formats for the first damage, one (in turn) for the second.
            let formats: &[&str] = match (n, index % 2) {
                (0, _) => &["text", "json"],
                (_, 0) => &["json"],
                _ => &["text"],
            };
            for command in commands {
                for &format in formats {
                    let mut args: Vec<String> = command.iter().map(|s| s.to_string()).collect();
                    args.extend(["--format".into(), format.into(), "-vvv".into()]);
                    if command[0] != "serve" {
                        args.extend(["--key-pass-env".into(), "KEY_PASS".into()]);
                    }
                    let (code, output) = run_within_a_minute(&args, &[("KEY_PASS", PASSWORD)]);
                    let what = format!("{} {args:?}", case.name);
                    secrets.assert_absent(&output, &what);
                    assert_eq!(
                        code,
                        Some(3),
                        "{what}: {}",
                        String::from_utf8_lossy(&output)
                    );
                    runs += 1;
                }
            }
        }
    }
    assert!(runs >= 50, "{runs}");
    handshakes_with_intact_keys();
}

/// The key's way through a real handshake, both sides, at trace level.
fn handshakes_with_intact_keys() {
    let case = &cases()[3];
    let secrets = Secrets::of(case);
    let key = pki("client-ec-encrypted.key");
    let server = mutual_tls_server(&[]);
    let endpoint = server.endpoint();
    let run = iotdoctor_env(
        &[
            "connect",
            "--endpoint",
            &endpoint,
            "--ca",
            &pki("root-ca.pem"),
            "--cert",
            &pki("client-ec-chain.pem"),
            "--key",
            &key,
            "--key-pass-env",
            "KEY_PASS",
            "--format",
            "json",
            "-vvv",
        ],
        &[("KEY_PASS", PASSWORD)],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    secrets.assert_absent(
        format!("{}{}", run.stdout, run.stderr).as_bytes(),
        "connect",
    );

    // serve with the combined certificate and key file, and a device connecting to it.
    let combined = &cases()[5];
    let secrets = Secrets::of(combined);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server-and-key.pem");
    let mut bytes = pki_bytes("server-chain.pem");
    bytes.extend(pki_bytes("server.key"));
    std::fs::write(&file, &bytes).unwrap();
    let server_secrets = Secrets::of(&KeyCase {
        name: "server",
        bytes: bytes.clone(),
        cert: "server.pem",
        pem: true,
    });
    // No --key: the key comes in the certificate file.
    let mut command = binary();
    command.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--once",
        "--timeout",
        "5",
        "--format",
        "json",
        "-vvv",
        "--cert",
        file.to_str().unwrap(),
        "--client-ca",
        &pki("root-ca.pem"),
    ]);
    let serve = Serve::run(command);
    let port = serve.port;
    let device = iotdoctor_env(
        &[
            "connect",
            "--endpoint",
            &format!("127.0.0.1:{port}"),
            "--ca",
            &pki("root-ca.pem"),
            "--cert",
            &pki("client-ec-chain.pem"),
            "--key",
            &pki("client-ec.key"),
            "--format",
            "json",
            "-vvv",
        ],
        &[],
    );
    let (code, stdout, serve_log) = serve.output_bytes();
    assert_eq!(code, 0, "{}", device.stdout);
    for out in [
        stdout,
        serve_log,
        format!("{}{}", device.stdout, device.stderr).into_bytes(),
    ] {
        secrets.assert_absent(&out, "serve and its device");
        server_secrets.assert_absent(&out, "serve and its device");
    }
}

#[test]
fn a_password_given_instead_of_a_variable_name_is_not_echoed() {
    let files = pki_flags(&[
        ("--cert", "client-ec.pem"),
        ("--key", "client-ec-encrypted.key"),
    ]);
    // check-certs of the encrypted key, then `extra`: all it printed.
    let check = |extra: &[&str]| {
        let mut args = vec!["check-certs"];
        args.extend(strs(&files));
        args.extend_from_slice(extra);
        let run = iotdoctor(&args);
        (run.code, format!("{}{}", run.stdout, run.stderr))
    };
    for password in ["Tr0ub4dor&3-horse", "--hunter2-Secret"] {
        let given = format!("--key-pass-env={password}");
        for (format, verbosity) in [("text", "-v"), ("json", "-vvv")] {
            let (code, everything) = check(&[&given, "--format", format, verbosity]);
            assert_eq!(code, 3, "{everything}");
            assert!(!everything.contains(password), "{everything}");
            assert!(
                everything.contains("--key-pass-env"),
                "the message says which option: {everything}"
            );
        }
        // The same mistake with the value as a separate argument.
        let (code, everything) = check(&["--key-pass-env", password]);
        assert!(!everything.contains(password), "{everything}");
        assert_eq!(code, 3, "{everything}");
    }
}

/// A PKCS#12 bundle exported with `-nocerts`: a key and no certificate is not a healthy device.
#[test]
fn a_pkcs12_bundle_without_a_certificate_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for (password, env) in [("", vec![]), (PASSWORD, vec![("KEY_PASS", PASSWORD)])] {
        let bundle = dir.path().join(format!("key-only-{}.p12", password.len()));
        let made = std::process::Command::new("openssl")
            .args(["pkcs12", "-export", "-nocerts", "-inkey"])
            .arg(pki("client-ec.key"))
            .arg("-out")
            .arg(&bundle)
            .args(["-passout", &format!("pass:{password}")])
            .output()
            .expect("openssl is installed (tests/run installs it)");
        assert!(made.status.success(), "{made:?}");
        let bundle = bundle.to_string_lossy().into_owned();
        let mut args = vec!["check-certs", "--p12", &bundle];
        if !password.is_empty() {
            args.extend(["--key-pass-env", "KEY_PASS"]);
        }
        let (code, report) = iotdoctor_json_env(&args, &env);
        assert_eq!(code, 1, "{report:#}");
        assert_eq!(report["outcome"], "problems", "{report:#}");
        let finding = finding(&report, "client-cert-missing");
        assert_eq!(finding["severity"], "error");
        assert_eq!(finding["subject"], bundle.as_str());
        assert!(
            finding["message"]
                .as_str()
                .unwrap()
                .contains("a private key but no certificate"),
            "{finding:#}"
        );
        // The key it does hold is still described.
        assert_eq!(
            report["credentials"]["key"]["key"]["curve"], "P-256",
            "{report:#}"
        );

        let run = iotdoctor_env(&args, &env);
        assert_eq!(run.code, 1, "{}", run.stdout);
        assert!(run.stdout.contains("client-cert-missing"), "{}", run.stdout);
        assert!(!run.stdout.contains("OK"), "{}", run.stdout);
    }
}

fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `connect` to a local TLS 1.3 server, its secrets going to `--keylog` or to SSLKEYLOGFILE.
fn connect_logging_keys(endpoint: &str, keylog: &Path, from_env: bool) -> Run {
    let keylog = keylog.to_string_lossy().into_owned();
    let root = pki("root-ca.pem");
    let mut args = vec![
        "connect",
        "--endpoint",
        endpoint,
        "--timeout",
        "5",
        "--ca",
        &root,
        "--sni",
        "localhost",
    ];
    let mut env = vec![];
    if from_env {
        env.push(("SSLKEYLOGFILE", keylog.as_str()));
    } else {
        args.extend(["--keylog", &keylog]);
    }
    iotdoctor_env(&args, &env)
}

#[test]
fn key_logs_are_private_to_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    for from_env in [false, true] {
        // A new file: created 0600, whatever the umask.
        let server = OpenSslServer::start(&["-tls1_3"]);
        let fresh = dir.path().join(format!("fresh-{from_env}.keys"));
        let run = connect_logging_keys(&server.endpoint(), &fresh, from_env);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let text = std::fs::read_to_string(&fresh).unwrap();
        assert!(text.contains("CLIENT_HANDSHAKE_TRAFFIC_SECRET "), "{text}");
        assert_eq!(file_mode(&fresh), 0o600, "from SSLKEYLOGFILE: {from_env}");

        // A file others could read: tightened, said so, and appended to.
        let server = OpenSslServer::start(&["-tls1_3"]);
        let open = dir.path().join(format!("open-{from_env}.keys"));
        std::fs::write(&open, "# earlier secrets\n").unwrap();
        std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .unwrap();
        let run = connect_logging_keys(&server.endpoint(), &open, from_env);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert_eq!(file_mode(&open), 0o600, "from SSLKEYLOGFILE: {from_env}");
        assert!(run.stderr.contains("WARN"), "{}", run.stderr);
        assert!(run.stderr.contains("0666"), "{}", run.stderr);
        let text = std::fs::read_to_string(&open).unwrap();
        assert!(text.starts_with("# earlier secrets\n"), "{text}");
        assert!(text.contains("CLIENT_TRAFFIC_SECRET_0 "), "{text}");
    }
}

#[test]
fn no_key_log_is_created_when_the_connection_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let closed = format!("127.0.0.1:{}", free_port());
    for from_env in [false, true] {
        let keylog = dir.path().join(format!("refused-{from_env}.keys"));
        let run = connect_logging_keys(&closed, &keylog, from_env);
        assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
        assert!(!keylog.exists(), "from SSLKEYLOGFILE: {from_env}");
    }
    // A directory that does not exist is refused before any connection.
    let run = connect_logging_keys(&closed, &dir.path().join("no/such.keys"), true);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("cannot write"), "{}", run.stderr);
}
