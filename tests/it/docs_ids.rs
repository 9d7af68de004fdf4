//! Every stable id the code can emit is documented in docs/ids.md, and the doc names no id the
//! code does not know.

use std::collections::BTreeSet;

use iotdoctor::credentials::FindingId;
use iotdoctor::diagnose::CauseId;

fn documented_ids() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ids.md")).unwrap();
    // Ids are the first cell of each table row: "| `client-key-mismatch` | ...".
    doc.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_id_is_documented_and_every_documented_id_exists() {
    let documented = documented_ids();
    let mut known = BTreeSet::new();
    for id in CauseId::ALL {
        known.insert(id.to_string());
    }
    for id in FindingId::ALL {
        known.insert(id.to_string());
    }
    let undocumented: Vec<_> = known.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&known).collect();
    assert!(
        undocumented.is_empty(),
        "ids missing from docs/ids.md: {undocumented:?}"
    );
    assert!(
        unknown.is_empty(),
        "docs/ids.md names ids the code does not have: {unknown:?}"
    );
}

#[test]
fn finding_ids_that_share_a_cause_name_map_to_that_cause() {
    for id in FindingId::ALL {
        let same_name = CauseId::ALL
            .into_iter()
            .find(|c| c.to_string() == id.to_string());
        assert_eq!(id.cause(), same_name, "{id}");
    }
}
