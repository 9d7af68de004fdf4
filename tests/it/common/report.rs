//! Reading a JSON report: findings, causes, transcript events.

use serde_json::Value;

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

/// The cause with this id; panics with the report when there is none.
pub fn cause<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["diagnosis"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no cause {id}: {report:#}"))
}

pub fn cause_ids(report: &Value) -> Vec<String> {
    report["diagnosis"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
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

/// The messages of the notes of a report's transcript, from either side.
pub fn notes(report: &Value) -> Vec<String> {
    report["transcript"]["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|e| e["kind"] == "note")
                .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The message of the finding with this id; panics with the report when there is none.
pub fn message<'a>(report: &'a Value, id: &str) -> &'a str {
    finding(report, id)["message"]
        .as_str()
        .unwrap_or_else(|| panic!("finding {id} has no message"))
}

/// Asserts that the finding with this id says `expected`, naming the finding and its message
/// when it does not.
pub fn assert_message(report: &Value, id: &str, expected: &str) {
    let message = message(report, id);
    assert!(
        message.contains(expected),
        "finding {id}: {expected:?} not in {message:?}"
    );
}

/// Asserts the finding's severity and that its message says `expected`.
pub fn assert_finding(report: &Value, id: &str, severity: &str, expected: &str) {
    assert_eq!(finding(report, id)["severity"], severity, "finding {id}");
    assert_message(report, id, expected);
}

/// Asserts the top cause, showing the whole report when it is another.
pub fn assert_top_cause(report: &Value, expected: &str) {
    assert_top_cause_in("", report, expected);
}

/// The same for one of several cases, named by `case` when it fails.
pub fn assert_top_cause_in(case: &str, report: &Value, expected: &str) {
    assert_eq!(
        top_cause(report),
        Some(expected),
        "{case}: causes {:?}\n{report:#}",
        cause_ids(report)
    );
}

/// The evidence of the top cause, as JSON text.
pub fn top_evidence(report: &Value) -> String {
    report["diagnosis"]["causes"][0]["evidence"].to_string()
}

/// Asserts that `text` says each of `expected`, naming the first one missing. A phrase may be
/// wrapped onto the next line: where it breaks depends on the length of the paths in the text,
/// so on where the checkout lives.
pub fn assert_says_all(text: &str, expected: &[&str]) {
    let joined = unwrapped(text);
    for expected in expected {
        assert!(
            text.contains(expected) || joined.contains(expected),
            "missing {expected:?} in:\n{text}"
        );
    }
}

/// `text` with every line break and the indent after it read as one space, so that a wrapped
/// phrase reads as it would on one line.
pub fn unwrapped(text: &str) -> String {
    let mut joined = String::with_capacity(text.len());
    for (n, line) in text.lines().enumerate() {
        if n > 0 {
            joined.push(' ');
        }
        joined.push_str(if n > 0 { line.trim_start() } else { line });
    }
    joined
}

/// Asserts that the evidence of the top cause of `report` (or of one handshake of a capture's
/// report) says each of `expected`.
pub fn assert_evidence_says(report: &Value, expected: &[&str]) {
    assert_says_all(&top_evidence(report), expected);
}

/// Asserts that the fixes of the top cause say each of `expected`.
pub fn assert_fixes_say(report: &Value, expected: &[&str]) {
    assert_says_all(
        &report["diagnosis"]["causes"][0]["fixes"].to_string(),
        expected,
    );
}
