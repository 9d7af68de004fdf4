//! Writes the TLS connections of the fixture captures as inputs of the `wire` fuzz target, one
//! file per connection: `cargo run --example wire_seeds -- corpus/wire`.

use std::collections::HashMap;
use std::path::Path;

use iotdoctor::produce::capture::{CaptureEvent, CaptureReader, Dir};

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "corpus/wire".into());
    std::fs::create_dir_all(&out).unwrap();
    let pcaps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pcaps");
    let mut written = 0;
    for entry in std::fs::read_dir(&pcaps).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.ends_with(".pcap") || name.ends_with(".pcapng")) {
            continue;
        }
        let Ok(reader) = CaptureReader::open(&path) else {
            continue;
        };
        // Mode byte 1: the decoder gets the fixture captures' TLS 1.3 secrets.
        let mut flows: HashMap<u64, Vec<u8>> = HashMap::new();
        let side = |dir: Dir| u8::from(dir == Dir::BtoA);
        for event in reader.flatten() {
            match event {
                CaptureEvent::FlowStarted { flow, .. } => {
                    flows.insert(flow, vec![1]);
                }
                CaptureEvent::Data {
                    flow, dir, bytes, ..
                } => {
                    let input = flows.get_mut(&flow).unwrap();
                    for chunk in bytes.chunks(usize::from(u16::MAX)) {
                        input.push(side(dir));
                        input.extend((chunk.len() as u16).to_be_bytes());
                        input.extend_from_slice(chunk);
                    }
                }
                CaptureEvent::Gap {
                    flow, dir, missing, ..
                } => {
                    let input = flows.get_mut(&flow).unwrap();
                    input.push(2 | side(dir));
                    input.extend((missing.min(u64::from(u16::MAX)) as u16).to_be_bytes());
                }
                CaptureEvent::Closed { flow, dir, .. } => {
                    let input = flows.get_mut(&flow).unwrap();
                    input.extend([4 | side(dir), 0, 0]);
                }
                CaptureEvent::FlowEnded { .. } | CaptureEvent::Note { .. } => {}
            }
        }
        let mut flows: Vec<_> = flows.into_iter().collect();
        flows.sort_by_key(|(id, _)| *id);
        for (id, input) in flows {
            // Only connections that carry something past the SYN.
            if input.len() > 1 {
                let stem = name.split('.').next().unwrap();
                std::fs::write(Path::new(&out).join(format!("{stem}-{id}")), input).unwrap();
                written += 1;
            }
        }
    }
    println!("{written} inputs written to {out}");
}
