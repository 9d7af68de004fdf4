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
