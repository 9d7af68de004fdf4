//! The JSON report read back with types written from docs/json-report.md, not from the code:
//! a renamed or retyped field breaks this test before it breaks a user's CI.

use crate::common::*;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    schema: String,
    tool: Tool,
    generated_at: String,
    command: String,
    outcome: String,
    error: Option<ReportError>,
    credentials: Option<Credentials>,
    findings: Vec<Finding>,
    diagnosis: Diagnosis,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tool {
    name: String,
    version: String,
}

/// Every report names iotdoctor and its version, and when it was made: RFC 3339, UTC, to the
/// second (`2026-01-01T12:00:00Z`).
fn assert_made_by_iotdoctor(tool: &Tool, generated_at: &str) {
    assert_eq!(
        (tool.name.as_str(), tool.version.as_str()),
        ("iotdoctor", env!("CARGO_PKG_VERSION"))
    );
    let shape: String = generated_at
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "9999-99-99T99:99:99Z", "{generated_at}");
    let year: i32 = generated_at[..4].parse().unwrap();
    assert!(year >= 2025, "{generated_at}");
}

/// The same, of a report read untyped.
fn assert_value_made_by_iotdoctor(report: &serde_json::Value) {
    let tool: Tool = serde_json::from_value(report["tool"].clone())
        .unwrap_or_else(|e| panic!("no tool ({e}): {report}"));
    assert_made_by_iotdoctor(&tool, report["generated_at"].as_str().unwrap_or_default());
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportError {
    kind: String,
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Finding {
    id: String,
    severity: String,
    subject: String,
    message: String,
    hint: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Diagnosis {
    causes: Vec<Cause>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cause {
    id: String,
    confidence: f64,
    summary: String,
    evidence: Vec<String>,
    fixes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    certificates: Vec<Certificate>,
    key: Option<Key>,
    chain: Chain,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Certificate {
    file: String,
    position: u32,
    role: String,
    leaf: bool,
    days_left: i64,
    subject: String,
    issuer: String,
    serial: String,
    version: u32,
    not_before: String,
    not_after: String,
    key: PublicKey,
    signature_algorithm: SignatureAlgorithm,
    subject_alt_names: Vec<String>,
    key_usage: Option<Vec<String>>,
    extended_key_usage: Option<Vec<String>>,
    is_ca: Option<bool>,
    path_len: Option<u32>,
    self_issued: bool,
    sha256: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicKey {
    #[serde(rename = "type")]
    kind: String,
    bits: Option<u32>,
    curve: Option<String>,
    oid: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureAlgorithm {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Key {
    file: String,
    container: String,
    encoding: String,
    encrypted: bool,
    key: Option<PublicKey>,
    matches_certificate: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Chain {
    path: Vec<String>,
    status: String,
    anchor: Option<String>,
    missing_issuer: Option<String>,
}

fn read(args: &[&str]) -> (i32, Report) {
    let mut all = vec!["check-certs"];
    all.extend_from_slice(args);
    all.extend(["--format", "json"]);
    let run = iotdoctor(&all);
    let report: Report =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    (run.code, report)
}

/// [`read`] of the certificate `cert` and key `key` of the test PKI, trusting the test root.
fn read_trusting_the_root(cert: &str, key: &str) -> (i32, Report) {
    let files = pki_flags(&[("--cert", cert), ("--key", key), ("--ca", "root-ca.pem")]);
    read(&strs(&files))
}

const SEVERITIES: [&str; 3] = ["error", "warning", "info"];

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[test]
fn a_report_with_problems_follows_the_contract() {
    let (code, report) = read_trusting_the_root("client-ec.pem", "stranger.key");
    assert_eq!(code, 1);
    assert_eq!(report.schema, "iotdoctor.report/1");
    assert_made_by_iotdoctor(&report.tool, &report.generated_at);
    assert_eq!(report.command, "check-certs");
    assert_eq!(report.outcome, "problems");
    assert!(report.error.is_none());
    for finding in &report.findings {
        assert!(is_kebab(&finding.id), "{}", finding.id);
        assert!(SEVERITIES.contains(&finding.severity.as_str()));
        assert!(!finding.subject.is_empty() && !finding.message.is_empty());
        assert!(finding.hint.as_ref().is_none_or(|h| !h.is_empty()));
    }
    let causes = &report.diagnosis.causes;
    assert_eq!(causes[0].id, "client-key-mismatch");
    for cause in causes {
        assert!(is_kebab(&cause.id));
        assert!((0.0..=1.0).contains(&cause.confidence));
        assert!(!cause.summary.is_empty() && !cause.evidence.is_empty() && !cause.fixes.is_empty());
    }
    let creds = report
        .credentials
        .expect("check-certs reports its credentials");
    let key = creds.key.expect("a key was given");
    assert_eq!(
        (key.container.as_str(), key.encoding.as_str(), key.encrypted),
        ("pem", "pkcs8", false)
    );
    assert!(key.file.ends_with("stranger.key"));
    assert_eq!(key.matches_certificate, "does-not-match");
    let key_type = key.key.expect("algorithm known");
    assert_eq!(
        (
            key_type.kind.as_str(),
            key_type.curve.as_deref(),
            key_type.bits,
            key_type.oid
        ),
        ("ec", Some("P-256"), None, None)
    );
    assert_eq!(creds.chain.status, "missing-issuer");
    assert!(creds.chain.anchor.is_none());
    assert_eq!(creds.chain.path.len(), 1);
    assert!(creds.chain.missing_issuer.is_some());
    let leaf = &creds.certificates[0];
    assert!(leaf.leaf && leaf.role == "device" && leaf.position == 1);
    assert!(leaf.not_before.ends_with('Z') && leaf.not_after.ends_with('Z'));
    assert!(creds.certificates.iter().any(|c| c.role == "ca"));
}

#[test]
fn a_healthy_report_follows_the_contract() {
    let (code, report) = read_trusting_the_root("client-rsa-chain.pem", "client-rsa.key");
    assert_eq!(code, 0);
    assert_eq!(report.outcome, "ok");
    assert!(report.diagnosis.causes.is_empty());
    let creds = report.credentials.unwrap();
    assert_eq!(creds.chain.status, "trusted");
    assert_eq!(creds.certificates[0].key.kind, "rsa");
    assert_eq!(creds.certificates[0].key.bits, Some(2048));
    // Signed by the EC intermediate, whatever the leaf's own key.
    assert_eq!(
        creds.certificates[0].signature_algorithm.name,
        "ecdsa-with-SHA256"
    );
}

#[test]
fn an_error_report_follows_the_contract() {
    let (code, report) = read(&["--cert", "/nonexistent.pem"]);
    assert_eq!(code, 3);
    assert_eq!(report.outcome, "error");
    let error = report.error.unwrap();
    assert_eq!(error.kind, "input");
    assert_made_by_iotdoctor(&report.tool, &report.generated_at);
    assert!(!error.message.is_empty());
    assert!(
        report.credentials.is_none()
            && report.findings.is_empty()
            && report.diagnosis.causes.is_empty()
    );
}

/// The fields each event kind carries, as docs/json-report.md lists them.
fn documented_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "resolved" => &["host", "addresses"],
        "connected" => &["address"],
        "transport" => &["stage", "problem", "message"],
        "record" => &["index", "content_type", "version", "length", "encrypted"],
        "certificate" => &["record", "seen", "certificates"],
        "certificate_request" => &[
            "record",
            "seen",
            "certificate_types",
            "signature_schemes",
            "ca_names",
        ],
        "certificate_verify" => &[
            "record",
            "seen",
            "scheme",
            "signature_length",
            "verified",
            "detail",
        ],
        "certificate_withheld" => &["reason", "message"],
        "alert" => &["record", "seen", "level", "description"],
        "verification" => &["ok", "detail", "problem"],
        "close" => &["how"],
        "not_tls" => &["preview"],
        "partial_record" => &["content_type", "declared", "received", "preview"],
        "error" | "note" => &["message"],
        other => panic!("undocumented event kind {other}"),
    }
}

fn handshake_fields(message: &str) -> &'static [&'static str] {
    match message {
        "client_hello" => &[
            "versions",
            "cipher_suites",
            "groups",
            "key_shares",
            "signature_schemes",
            "sni",
            "alpn",
        ],
        "server_hello" => &["version", "cipher_suite", "key_share", "alpn"],
        "hello_retry_request" => &["cipher_suite", "key_share"],
        "server_key_exchange" => &["group", "scheme"],
        "client_key_exchange" => &["length"],
        "other" => &["message_type", "length"],
        "server_hello_done"
        | "finished"
        | "new_session_ticket"
        | "encrypted_extensions"
        | "key_update" => &[],
        other => panic!("undocumented handshake message {other}"),
    }
}

#[test]
fn a_connect_report_follows_the_contract() {
    let root = pki("root-ca.pem");
    let mut kinds_seen = std::collections::BTreeSet::new();
    for version in ["-tls1_2", "-tls1_3"] {
        let server = mutual_tls_server(&[version]);
        let run = iotdoctor(&[
            "connect",
            "--endpoint",
            &server.endpoint(),
            "--ca",
            &root,
            "--sni",
            "localhost",
            "--format",
            "json",
        ]);
        assert_eq!(run.code, 1);
        let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let report: Report =
            serde_json::from_value(strip(&value, &["target", "transcript", "insecure"])).unwrap();
        assert_eq!(report.command, "connect");
        assert_made_by_iotdoctor(&report.tool, &report.generated_at);
        assert_eq!(report.outcome, "problems");
        assert_eq!(report.diagnosis.causes[0].id, "client-cert-not-sent");

        let target = value["target"].as_object().unwrap();
        assert_eq!(
            target.keys().collect::<Vec<_>>(),
            ["address", "endpoint", "sni"]
        );
        let transcript = value["transcript"].as_object().unwrap();
        assert_eq!(
            transcript.keys().collect::<Vec<_>>(),
            ["alpn", "cipher_suite", "events", "tls_version"]
        );
        for event in transcript["events"].as_array().unwrap() {
            let object = event.as_object().unwrap();
            assert!(object["at_ms"].is_f64() || object["at_ms"].is_u64());
            assert!(["client", "server"].contains(&object["from"].as_str().unwrap()));
            let kind = object["kind"].as_str().unwrap();
            kinds_seen.insert(kind.to_string());
            let mut expected: Vec<&str> = vec!["at_ms", "from", "kind"];
            if kind == "handshake" {
                expected.extend(["record", "message"]);
                expected.extend(handshake_fields(object["message"].as_str().unwrap()));
            } else {
                expected.extend(documented_fields(kind));
            }
            let mut actual: Vec<&str> = object.keys().map(String::as_str).collect();
            // Optional fields may be absent.
            expected.retain(|f| actual.contains(f) || !["detail", "problem"].contains(f));
            expected.sort();
            actual.sort();
            assert_eq!(actual, expected, "{event:#}");
        }
    }
    for kind in [
        "record",
        "handshake",
        "certificate",
        "certificate_request",
        "alert",
        "verification",
    ] {
        assert!(
            kinds_seen.contains(kind),
            "{kind} never seen: {kinds_seen:?}"
        );
    }
}

/// The report without the connect-only fields, for the typed reader above.
fn strip(value: &serde_json::Value, fields: &[&str]) -> serde_json::Value {
    let mut value = value.clone();
    for field in fields {
        value.as_object_mut().unwrap().remove(*field);
    }
    value
}

/// `explain`'s reports, read with types written from the page's `explanation` and `log`
/// sections.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainReport {
    schema: String,
    tool: Tool,
    generated_at: String,
    command: String,
    outcome: String,
    /// `explain --log`: the stack of the log, whose fixes alone are given.
    stack: Option<String>,
    explanation: Option<Explanation>,
    log: Option<Log>,
    findings: Vec<Finding>,
    diagnosis: Diagnosis,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Explanation {
    query: String,
    stack: Option<String>,
    readings: Vec<Reading>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reading {
    stack: String,
    code: String,
    name: String,
    message: Option<String>,
    versions: Option<String>,
    meaning: String,
    sender: Option<String>,
    causes: Vec<ReadingCause>,
    next: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadingCause {
    id: String,
    summary: String,
    fixes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Log {
    source: String,
    stacks: Vec<String>,
    lines: usize,
    side: String,
    tls_version: Option<String>,
    events: Vec<serde_json::Value>,
}

/// The fields each log event kind may carry besides `line`, `stack`, `kind` and `text`.
fn log_event_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "session_created" => &["call"],
        "credential_loaded" => &["call", "item", "scope"],
        "message" => &["from", "message", "certificates"],
        "no_signature" => &["detail"],
        "alert" => &["from", "level", "code", "name"],
        "error" => &["code", "name", "message"],
        "verify_error" => &["code", "depth", "subject", "message"],
        "connection_failed" => &["failure", "detail"],
        "handshake_done" => &[],
        "application_data" => &["from"],
        other => panic!("undocumented log event kind {other}"),
    }
}

#[test]
fn explain_reports_follow_the_contract() {
    let run = iotdoctor(&["explain", "-0x7580", "--format", "json"]);
    assert_eq!(run.code, 0);
    let report: ExplainReport = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (
            report.schema.as_str(),
            report.command.as_str(),
            report.outcome.as_str()
        ),
        ("iotdoctor.report/1", "explain", "ok")
    );
    assert_made_by_iotdoctor(&report.tool, &report.generated_at);
    assert_eq!(report.stack, None);
    let explanation = report.explanation.unwrap();
    assert_eq!(explanation.query, "-0x7580");
    assert_eq!(explanation.stack, None);
    for reading in &explanation.readings {
        assert!(
            ["tls", "wolfssl", "mbedtls", "openssl", "gnutls", "mqtt"]
                .contains(&reading.stack.as_str())
        );
        assert!(
            !reading.code.is_empty() && !reading.name.is_empty() && !reading.meaning.is_empty()
        );
        assert!(reading.next.starts_with("iotdoctor "));
        assert!(
            reading
                .versions
                .as_deref()
                .is_none_or(|v| v == "2.x" || v == "3.x")
        );
        for cause in &reading.causes {
            assert!(is_kebab(&cause.id) && !cause.summary.is_empty() && !cause.fixes.is_empty());
        }
        let _ = (&reading.message, &reading.sender);
    }
    assert!(report.findings.is_empty() && report.log.is_none());

    let log = format!(
        "{}/fixtures/logs/wolfssl-late-cert-tls13.log",
        env!("CARGO_MANIFEST_DIR")
    );
    let run = iotdoctor(&["explain", "--log", &log, "--format", "json"]);
    assert_eq!(run.code, 1);
    let report: ExplainReport = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report.outcome, "problems");
    assert_made_by_iotdoctor(&report.tool, &report.generated_at);
    assert_eq!(report.stack.as_deref(), Some("wolfssl"));
    assert!(report.explanation.is_none());
    let log = report.log.unwrap();
    assert_eq!(
        (log.stacks.as_slice(), log.side.as_str()),
        (&["wolfssl".to_string()][..], "client")
    );
    assert!(log.source.ends_with(".log") && log.lines > 0);
    assert_eq!(log.tls_version.as_deref(), Some("TLSv1.3"));
    let mut last_line = 0;
    for event in &log.events {
        let line = event["line"].as_u64().unwrap() as usize;
        assert!(line >= last_line && line <= log.lines, "lines in order");
        last_line = line;
        let kind = event["kind"].as_str().unwrap();
        let allowed = log_event_fields(kind);
        for (field, _) in event.as_object().unwrap() {
            assert!(
                ["line", "stack", "kind", "text"].contains(&field.as_str())
                    || allowed.contains(&field.as_str()),
                "{kind} has undocumented field {field}"
            );
        }
    }
    assert_eq!(report.diagnosis.causes[0].id, "client-cert-not-sent");
}

#[test]
fn analyze_and_serve_reports_name_the_tool_and_the_time() {
    let run = iotdoctor(&[
        "analyze",
        &pcap("key-mismatch-tls12.pcap"),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_value_made_by_iotdoctor(&report);
    // Said once, in the header written with the first handshake: no key twice in the object.
    for key in ["\"tool\"", "\"generated_at\""] {
        assert_eq!(run.stdout.matches(key).count(), 1, "{key}: {}", run.stdout);
    }
    assert!(
        report["handshakes"]
            .as_array()
            .is_some_and(|h| !h.is_empty())
    );

    let serve = Serve::start(&[]);
    let device = pki_flags(&[("--cert", "client-ec.pem"), ("--key", "client-ec.key")]);
    let mut args = vec!["--ca", "root-ca.pem"];
    let root = pki("root-ca.pem");
    args[1] = &root;
    args.extend(strs(&device));
    let _ = connect_json(&serve.endpoint(), &args);
    let (_, report) = serve.report();
    assert_eq!(report["command"], "serve");
    assert_value_made_by_iotdoctor(&report);
}
