//! What a person reads: text wrapped to the terminal with hanging indents, the summary table of
//! a capture within 100 columns, fixes for the device's own TLS stack, no Rust debug notation,
//! `--insecure` not blaming the chain it let through, and the completions and manual page.

use std::process::Output;

use crate::common::*;
use iotdoctor::diagnose::{Cause, CauseId, Diagnosis};
use iotdoctor::report::{Report, style::Style, text};

/// The labels that start a line of the diagnosis; any other line of it continues one.
const LABELS: [&str; 2] = ["     evidence ", "     fix      "];

/// Runs iotdoctor with `COLUMNS` set (or removed), stdout a pipe.
fn run_with_columns(args: &[&str], columns: Option<&str>) -> (i32, String) {
    let mut command = binary();
    command.args(args);
    match columns {
        Some(columns) => command.env("COLUMNS", columns),
        None => command.env_remove("COLUMNS"),
    };
    let Output { status, stdout, .. } = command.output().expect("binary runs");
    (status.code().unwrap(), String::from_utf8(stdout).unwrap())
}

/// Every line within `width` columns, but for a word longer than a line (a fingerprint), which
/// is never split and stands whole at the end of its line; the lines that continue an evidence
/// or fix line start under their text, 14 columns in. Returns how many continuation lines there
/// were.
fn assert_wrapped(text: &str, width: usize) -> usize {
    let mut continued = 0;
    let mut in_item = false;
    for line in text.lines() {
        let last_word = line.split_whitespace().last().unwrap_or_default();
        let unbreakable = last_word.chars().count() > width / 2;
        assert!(
            line.chars().count() <= width || unbreakable,
            "line of {} columns, over {width}:\n{line}\n\n{text}",
            line.chars().count()
        );
        assert!(
            !unbreakable || line.len() - last_word.len() <= width,
            "a long word after others that could have gone on the line before:\n{line}"
        );
        if LABELS.iter().any(|label| line.starts_with(label)) {
            in_item = true;
        } else if in_item && line.starts_with("     ") {
            assert!(
                line.starts_with(&" ".repeat(14)) && !line.starts_with(&" ".repeat(15)),
                "a continuation not under its text:\n{line}\n\n{text}"
            );
            continued += 1;
        } else {
            in_item = false;
        }
    }
    continued
}

fn long_report() -> Report {
    let evidence = "the server sent alert 48 unknown_ca (encrypted, 105.1 ms): the certificate \
        chain does not lead to a CA the sender trusts (or an intermediate is missing), and the \
        client certificate 'iotdoctor test device unrelated' was issued by 'Unrelated Root CA'";
    let cause = Cause {
        id: CauseId::ClientCaUntrusted,
        confidence: 0.8,
        summary: CauseId::ClientCaUntrusted.summary().into(),
        evidence: vec![evidence.into(), "short".into()],
        fixes: CauseId::ClientCertNotSent
            .stack_fixes()
            .iter()
            .map(|f| f.to_string())
            .collect(),
    };
    Report::new(
        "connect",
        vec![],
        Diagnosis {
            causes: vec![cause],
            set_aside: vec![],
        },
    )
}

#[test]
fn a_report_wraps_to_the_width_with_hanging_indents() {
    let report = long_report();
    for width in [60, 100] {
        let mut out = Vec::new();
        text::render(&report, Style::plain().with_width(width), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let continued = assert_wrapped(&text, width);
        assert!(
            continued > 0,
            "nothing was long enough to wrap at {width}:\n{text}"
        );
        // Wrapping moves words, it loses none.
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words(&text).contains(&words(&report.diagnosis.causes[0].evidence[0])));
    }
}

#[test]
fn the_command_line_wraps_to_columns_and_to_100_in_a_pipe() {
    let log = fixture("logs", "wolfssl-late-cert-tls13.log");
    let log = log.to_str().unwrap();
    let (code, narrow) = run_with_columns(&["explain", "--log", log], Some("60"));
    assert_eq!(code, 1);
    assert!(assert_wrapped(&narrow, 60) > 0, "{narrow}");
    let (_, piped) = run_with_columns(&["explain", "--log", log], None);
    assert_wrapped(&piped, 100);
    assert!(
        piped.lines().any(|l| l.chars().count() > 60),
        "a pipe is 100 wide"
    );

    let files = pki_flags(&[("--cert", "client-ec.pem"), ("--key", "stranger.key")]);
    let mut args = vec!["check-certs"];
    args.extend(strs(&files));
    let (code, text) = run_with_columns(&args, Some("60"));
    assert_eq!(code, 1);
    assert_wrapped(&text, 60);
    // A fingerprint is copied whole: it is never split across lines.
    let fingerprint = "E1:2F:8E:EA:5E:F1:90:D4:39:EC:C0:5E:D5:B8:CB:09:1D:D2:AF:C0:71:27:B5:8E:A2:17:FA:30:BF:19:D8:E7";
    assert!(text.contains(fingerprint), "{text}");
}

#[test]
fn the_capture_summary_fits_in_100_columns() {
    let (_, text) = run_with_columns(&["analyze", &pcap("all.pcapng")], Some("200"));
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "Handshakes")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(table.len() > 5, "{text}");
    for row in &table {
        assert!(
            row.chars().count() <= 100,
            "{} columns: {row}",
            row.chars().count()
        );
    }
    assert!(
        table
            .iter()
            .any(|row| row.contains("PROBLEMS") || row.contains('%'))
    );
}

/// The first lines of the catalogue's stack-specific fixes, by the stack each names.
fn stack_lines(text: &str) -> Vec<&'static str> {
    ["wolfSSL:", "mbedTLS:", "OpenSSL:", "GnuTLS:"]
        .into_iter()
        .filter(|stack| text.contains(&format!("fix      {stack}")))
        .collect()
}

#[test]
fn fixes_are_those_of_the_stack_in_use() {
    // A debug log says its stack.
    let (_, wolfssl) = run_with_columns(
        &[
            "explain",
            "--log",
            fixture("logs", "wolfssl-late-cert-tls13.log")
                .to_str()
                .unwrap(),
        ],
        Some("1000"),
    );
    assert_eq!(stack_lines(&wolfssl), ["wolfSSL:"], "{wolfssl}");
    let (_, openssl) = run_with_columns(
        &[
            "explain",
            "--log",
            fixture("logs", "openssl-no-cert-tls13.log")
                .to_str()
                .unwrap(),
        ],
        Some("1000"),
    );
    assert_eq!(stack_lines(&openssl), ["OpenSSL:"], "{openssl}");

    // connect: every stack's fixes, unless --stack names one; fixes of no stack stay.
    let server = mutual_tls_server(&[]);
    let root = pki("root-ca.pem");
    let args = [
        "connect",
        "--endpoint",
        &server.endpoint(),
        "--ca",
        &root,
        "--timeout",
        "5",
    ];
    let (code, all) = run_with_columns(&args, Some("1000"));
    assert_eq!(code, 1);
    assert_eq!(
        stack_lines(&all),
        ["wolfSSL:", "mbedTLS:", "OpenSSL:", "GnuTLS:"],
        "{all}"
    );
    let mut only = args.to_vec();
    only.extend(["--stack", "mbedtls"]);
    let (code, mbedtls) = run_with_columns(&only, Some("1000"));
    assert_eq!(code, 1);
    assert_eq!(stack_lines(&mbedtls), ["mbedTLS:"], "{mbedtls}");
    assert!(mbedtls.contains("fix      Load the client certificate and key"));
    assert!(mbedtls.contains("fix      AWS IoT Core answers"));

    only.extend(["--format", "json"]);
    let (_, json) = run_with_columns(&only, None);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["stack"], "mbedtls");
    let fixes = report["diagnosis"]["causes"][0]["fixes"]
        .as_array()
        .unwrap();
    assert!(
        fixes
            .iter()
            .any(|f| f.as_str().unwrap().starts_with("mbedTLS:"))
    );
    assert!(
        !fixes
            .iter()
            .any(|f| f.as_str().unwrap().starts_with("wolfSSL:"))
    );
}

#[test]
fn failed_connects_speak_without_debug_notation() {
    let server = OpenSslServer::start(&[]);
    let root = pki("root-ca.pem");
    let unrelated = pki("unrelated-ca.pem");
    let endpoint = server.endpoint();
    let cases: [&[&str]; 2] = [
        // The name the certificate does not cover.
        &["--ca", &root, "--sni", "wrong.example"],
        // A CA that did not issue the server's chain.
        &["--ca", &unrelated],
    ];
    for case in cases {
        for format in ["text", "json"] {
            let mut args = vec!["connect", "--endpoint", &endpoint, "--timeout", "5"];
            args.extend_from_slice(case);
            args.extend(["--format", format]);
            let (code, out) = run_with_columns(&args, None);
            assert_eq!(code, 1, "{out}");
            for artefact in ["DnsName(", "IpAddress(", "Some(", "\\\"", "UnknownIssuer"] {
                assert!(!out.contains(artefact), "{artefact} in {args:?}:\n{out}");
            }
        }
    }
    let (_, text) = run_with_columns(
        &[
            "connect",
            "--endpoint",
            &endpoint,
            "--ca",
            &root,
            "--sni",
            "wrong.example",
        ],
        Some("1000"),
    );
    assert!(
        text.contains(
            "not valid for name 'wrong.example'; it is only valid for localhost, 127.0.0.1, ::1"
        ),
        "{text}"
    );
}

#[test]
fn insecure_does_not_blame_the_chain_it_let_through() {
    let server = mutual_tls_server(&[]);
    let unrelated = pki("unrelated-ca.pem");
    let device = pki_flags(&[
        ("--cert", "client-unrelated.pem"),
        ("--key", "client-unrelated.key"),
    ]);
    let mut args = vec!["--ca", &unrelated];
    args.extend(strs(&device));

    // Verified, the wrong CA stops the handshake: it is the cause.
    let (code, report) = connect_json(&server.endpoint(), &args);
    assert_eq!(code, 1);
    assert_eq!(
        report["diagnosis"]["causes"][0]["id"],
        "server-ca-untrusted"
    );

    // With --insecure the handshake goes on and the server rejects the client certificate:
    // that is the cause; the chain is the --insecure warning's business.
    args.push("--insecure");
    let (code, report) = connect_json(&server.endpoint(), &args);
    assert_eq!(code, 1);
    let ids = cause_ids(&report);
    assert_eq!(ids[0], "client-ca-untrusted", "{report:#}");
    assert!(!ids.iter().any(|id| id.starts_with("server-")), "{ids:?}");
    let warning = finding(&report, "verification-disabled");
    assert_eq!(warning["severity"], "warning");
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("the server's chain did not verify (server-ca-untrusted"),
        "{warning:#}"
    );
}

#[test]
fn completions_and_the_manual_page_come_from_the_command_line() {
    let run = iotdoctor(&["completions", "bash"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("connect") && run.stdout.contains("--endpoint"));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let run = iotdoctor(&["completions", shell]);
        assert_eq!(run.code, 0);
        assert!(run.stdout.contains("endpoint"), "{shell}");
    }
    let run = iotdoctor(&["man"]);
    assert_eq!(run.code, 0);
    // The page opens with its title; only the definition of the apostrophe string (`Aq`,
    // which the page uses) comes before it.
    let first = run
        .stdout
        .lines()
        .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
        .unwrap_or_default();
    assert!(first.starts_with(".TH iotdoctor 1"), "{first}");
    for command in [
        "connect",
        "serve",
        "analyze",
        "check-certs",
        "explain",
        "demo",
    ] {
        // roff writes a hyphen as `\-`.
        assert!(
            run.stdout
                .contains(&format!("iotdoctor\\-{}(1)", command.replace('-', "\\-"))),
            "the manual page lacks {command}"
        );
    }
}

#[test]
fn the_handshake_details_wrap_under_their_message() {
    // A wolfSSL ClientHello offers 53 suites, 13 groups and 17 schemes: long detail lines.
    let capture = pcap("wolfssl-late-cert-tls12.pcap");
    let (code, text) = run_with_columns(&["analyze", &capture], None);
    assert_eq!(code, 1);
    let ladder: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Handshake "))
        .take_while(|l| !l.starts_with("Diagnosis"))
        .collect();
    assert!(ladder.len() > 10, "{text}");
    for line in &ladder {
        assert!(line.chars().count() <= 100, "{line}");
    }
    let suites = ladder
        .iter()
        .position(|l| l.starts_with("               cipher suites "))
        .expect("the ClientHello's suites");
    assert!(
        ladder[suites + 1].starts_with("                 TLS_"),
        "continued two columns in: {}",
        ladder[suites + 1]
    );
}
