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
