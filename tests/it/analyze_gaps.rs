//! `iotdoctor analyze` on captures that lost bytes: the fixture captures with packets dropped,
//! cut short by a snapshot length, or with bytes cut out of one packet's TCP payload. Whatever
//! is lost, a side that spoke TLS is never called "not TLS", no alert is invented, and what
//! the capture still holds is diagnosed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::*;
use serde_json::Value;

// ---------------------------------------------------------------- damaging a pcap

/// A little-endian microsecond pcap of Ethernet frames, as the fixtures are: its file header
/// and its packets, each with its original length on the wire.
#[derive(Clone)]
struct Pcap {
    header: Vec<u8>,
    packets: Vec<Packet>,
}

#[derive(Clone)]
struct Packet {
    /// Seconds and microseconds.
    time: [u8; 8],
    data: Vec<u8>,
    wire_len: u32,
}

const ETHERNET: usize = 14;

impl Pcap {
    fn read(path: &Path) -> Pcap {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(
            bytes[..4],
            [0xd4, 0xc3, 0xb2, 0xa1],
            "{path:?}: not LE microsecond"
        );
        assert_eq!(u32_le(&bytes[20..24]), 1, "{path:?}: not Ethernet");
        let mut packets = Vec::new();
        let mut at = 24;
        while at + 16 <= bytes.len() {
            let captured = u32_le(&bytes[at + 8..at + 12]) as usize;
            packets.push(Packet {
                time: bytes[at..at + 8].try_into().unwrap(),
                data: bytes[at + 16..at + 16 + captured].to_vec(),
                wire_len: u32_le(&bytes[at + 12..at + 16]),
            });
            at += 16 + captured;
        }
        Pcap {
            header: bytes[..24].to_vec(),
            packets,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = self.header.clone();
        for p in &self.packets {
            out.extend_from_slice(&p.time);
            out.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&p.wire_len.to_le_bytes());
            out.extend_from_slice(&p.data);
        }
        out
    }

    /// Without the packets numbered in `numbers` (1-based, as Wireshark numbers them).
    fn without(mut self, numbers: &[usize]) -> Pcap {
        let mut number = 0;
        self.packets.retain(|_| {
            number += 1;
            !numbers.contains(&number)
        });
        self
    }

    /// As `tcpdump -s snaplen` would have captured it.
    fn snaplen(mut self, snaplen: usize) -> Pcap {
        self.header[16..20].copy_from_slice(&(snaplen as u32).to_le_bytes());
        for p in &mut self.packets {
            p.data.truncate(snaplen);
        }
        self
    }

    /// Packet `number` (1-based) captured without its last `lost` bytes.
    fn cut_short(mut self, number: usize, lost: usize) -> Pcap {
        let p = &mut self.packets[number - 1];
        p.data.truncate(p.data.len() - lost);
        self
    }

    /// Packet `number` (1-based) without `len` bytes of its TCP payload from `offset` on. With
    /// `Rest::InPlace` the bytes after the cut keep their sequence numbers (the middle of the
    /// segment was lost); with `Rest::MovedUp` they take the place of the cut bytes (a
    /// shorter packet, the stream shifted: the hole shows only at the next segment).
    fn cut_payload(mut self, number: usize, offset: usize, len: usize, rest: Rest) -> Pcap {
        let packet = self.packets[number - 1].clone();
        let start = tcp_payload_start(&packet.data);
        let payload = &packet.data[start..];
        let (before, after) = (&payload[..offset], &payload[offset + len..]);
        let seq = u32::from_be_bytes(
            packet.data[start - tcp_header_len(&packet.data)..][4..8]
                .try_into()
                .unwrap(),
        );
        let replacement = match rest {
            Rest::MovedUp => vec![with_payload(&packet, &[before, after].concat(), seq)],
            Rest::InPlace if after.is_empty() => vec![with_payload(&packet, before, seq)],
            Rest::InPlace => vec![
                with_payload(&packet, before, seq),
                with_payload(&packet, after, seq.wrapping_add((offset + len) as u32)),
            ],
        };
        self.packets.splice(number - 1..number, replacement);
        self
    }

    /// The TCP payload length of each packet.
    fn payload_lens(&self) -> Vec<usize> {
        self.packets
            .iter()
            .map(|p| p.data.len() - tcp_payload_start(&p.data))
            .collect()
    }
}

#[derive(Clone, Copy, Debug)]
enum Rest {
    InPlace,
    MovedUp,
}

fn u32_le(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes.try_into().unwrap())
}

fn ip_header_len(frame: &[u8]) -> usize {
    usize::from(frame[ETHERNET] & 0x0f) * 4
}

fn tcp_header_len(frame: &[u8]) -> usize {
    usize::from(frame[ETHERNET + ip_header_len(frame) + 12] >> 4) * 4
}

fn tcp_payload_start(frame: &[u8]) -> usize {
    ETHERNET + ip_header_len(frame) + tcp_header_len(frame)
}

/// The same packet carrying `payload` at sequence number `seq`, its IPv4 length to match.
fn with_payload(packet: &Packet, payload: &[u8], seq: u32) -> Packet {
    let start = tcp_payload_start(&packet.data);
    let mut data = packet.data[..start].to_vec();
    let tcp = ETHERNET + ip_header_len(&data);
    data[tcp + 4..tcp + 8].copy_from_slice(&seq.to_be_bytes());
    let ip_len = (start - ETHERNET + payload.len()) as u16;
    data[ETHERNET + 2..ETHERNET + 4].copy_from_slice(&ip_len.to_be_bytes());
    data.extend_from_slice(payload);
    Packet {
        time: packet.time,
        wire_len: data.len() as u32,
        data,
    }
}

// ---------------------------------------------------------------- analyzing

/// The JSON report of a damaged capture.
fn analyze(pcap: &Pcap, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.pcap");
    std::fs::write(&path, pcap.bytes()).unwrap();
    let mut args = vec!["analyze", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, report) = iotdoctor_json(&args);
    assert!(code == 0 || code == 1, "exit {code}: {report:#}");
    report
}

fn only_handshake(report: &Value) -> &Value {
    let handshakes = report["handshakes"].as_array().expect("handshakes");
    assert_eq!(handshakes.len(), 1, "{report:#}");
    &handshakes[0]
}

/// The top cause of a handshake, "ok" when it has none.
fn verdict(handshake: &Value) -> String {
    handshake["diagnosis"]["causes"][0]["id"]
        .as_str()
        .unwrap_or("ok")
        .to_string()
}

fn events<'a>(handshake: &'a Value, kind: &str) -> Vec<&'a Value> {
    handshake["transcript"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// Each alert of a handshake: who sent it and its description code.
fn alerts(handshake: &Value) -> BTreeSet<(String, u64)> {
    events(handshake, "alert")
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_string(),
                e["description"]["code"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// What every damaged capture must respect: no side called "not TLS", no alert invented, and
/// (given) a verdict among those allowed.
fn assert_sound(handshake: &Value, sent_alerts: &[(&str, u64)], verdicts: &[&str], what: &str) {
    assert!(
        events(handshake, "not_tls").is_empty(),
        "{what}: {handshake:#}"
    );
    let sent: BTreeSet<(String, u64)> = sent_alerts
        .iter()
        .map(|(from, code)| (from.to_string(), *code))
        .collect();
    assert!(
        alerts(handshake).is_subset(&sent),
        "{what}: {:?}",
        alerts(handshake)
    );
    assert!(
        verdicts.contains(&verdict(handshake).as_str()),
        "{what}: {} ({:?})",
        verdict(handshake),
        handshake["diagnosis"]["causes"][0]["evidence"]
    );
}

// ---------------------------------------------------------------- the cases

/// `editcap -s 1000`: the server's first flight and the client's loses their ends.
#[test]
fn a_capture_cut_by_its_snapshot_length_is_still_tls() {
    let damaged = Pcap::read(&fixture("pcaps", "ok-tls12.pcap")).snaplen(1000);
    let report = analyze(&damaged, &[]);
    let h = only_handshake(&report);
    assert_sound(h, &[], &["ok", "handshake-incomplete"], "snaplen 1000");
    assert_eq!(events(h, "capture_gap").len(), 2, "{h:#}");
    // The cut Certificate messages are left out, not decoded from the bytes after the hole.
    assert!(events(h, "certificate").is_empty(), "{h:#}");
}

/// 100 bytes lost in the middle of the server's Certificate: the empty client Certificate and
/// the alert after it are intact, and name the cause.
#[test]
fn bytes_lost_inside_the_server_certificate_keep_the_diagnosis() {
    // Packet 6 carries the server's flight; its Certificate record spans payload bytes 70 to
    // 1097.
    for rest in [Rest::InPlace, Rest::MovedUp] {
        let damaged =
            Pcap::read(&fixture("pcaps", "no-cert-tls12.pcap")).cut_payload(6, 400, 100, rest);
        let report = analyze(&damaged, &[]);
        let h = only_handshake(&report);
        let what = format!("{rest:?}");
        assert_sound(h, &[("server", 40)], &["client-cert-not-sent"], &what);
        assert_eq!(
            alerts(h).len(),
            1,
            "{what}: the alert after the hole is found"
        );
        assert!(!events(h, "capture_gap").is_empty(), "{what}");
    }
}

/// The client's whole last flight (its ChangeCipherSpec among it) or the server's lost: the
/// encrypted alerts after it are not read as plaintext ones.
#[test]
fn a_lost_change_cipher_spec_does_not_make_encrypted_alerts_plaintext() {
    for (lost, verdicts) in [
        (8, &["ok", "handshake-incomplete"][..]),
        (9, &["handshake-incomplete"][..]),
    ] {
        let damaged = Pcap::read(&fixture("pcaps", "ok-tls12.pcap")).without(&[lost]);
        let report = analyze(&damaged, &[]);
        let h = only_handshake(&report);
        assert_sound(h, &[], verdicts, &format!("packet {lost} lost"));
        let encrypted_alerts = h["transcript"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "record" && e["content_type"]["code"] == 21)
            .filter(|e| e["encrypted"] == true)
            .count();
        assert_eq!(encrypted_alerts, 2, "packet {lost} lost: {h:#}");
    }
}

/// Bytes lost from the client's flight: the device still speaks TLS, and its empty
/// Certificate, before the hole, still says what went wrong.
#[test]
fn a_gap_in_the_client_direction_is_not_a_device_without_tls() {
    let original = || Pcap::read(&fixture("pcaps", "no-cert-tls12.pcap"));
    // Packet 8: the client's empty Certificate (12 bytes), ClientKeyExchange, ...
    let cases = [
        (
            "middle lost",
            original().cut_payload(8, 20, 30, Rest::InPlace),
        ),
        (
            "bytes cut out",
            original().cut_payload(8, 20, 30, Rest::MovedUp),
        ),
        ("packet cut short", original().cut_short(8, 60)),
    ];
    for (what, damaged) in cases {
        let report = analyze(&damaged, &[]);
        let h = only_handshake(&report);
        assert_sound(h, &[("server", 40)], &["client-cert-not-sent"], what);
    }
    // The ClientHello's end lost: the server's answer still shows, and nothing is "not TLS".
    let report = analyze(&original().cut_short(4, 40), &[]);
    assert_sound(
        only_handshake(&report),
        &[("server", 40)],
        &[
            "client-cert-not-sent",
            "alert-unexplained",
            "handshake-incomplete",
        ],
        "ClientHello cut short",
    );
}

/// The server's whole first flight lost: the alert it sent later does not refuse the
/// ClientHello, and names no cause it cannot show.
#[test]
fn an_alert_after_a_lost_server_hello_is_not_a_refused_client_hello() {
    let damaged = Pcap::read(&fixture("pcaps", "no-cert-tls12.pcap")).without(&[6]);
    let report = analyze(&damaged, &[]);
    let h = only_handshake(&report);
    let verdicts = ["alert-unexplained", "handshake-incomplete"];
    assert_sound(h, &[("server", 40)], &verdicts, "server flight lost");
}

/// A hole is reported at the time of the packets around it, not when the connection ends.
#[test]
fn gaps_are_reported_where_they_are() {
    // Packet 6 (3.0 ms) loses the middle of its payload; the connection ends at 492 ms.
    let damaged =
        Pcap::read(&fixture("pcaps", "ok-tls12.pcap")).cut_payload(6, 600, 200, Rest::InPlace);
    let report = analyze(&damaged, &[]);
    let h = only_handshake(&report);
    let gaps = events(h, "capture_gap");
    assert_eq!(gaps.len(), 1, "{h:#}");
    assert_eq!(gaps[0]["missing"], 200);
    let at = gaps[0]["at_ms"].as_f64().unwrap();
    assert!((2.9..=3.1).contains(&at), "{at}");
    // The records after the hole keep their time too.
    let done = events(h, "handshake")
        .into_iter()
        .find(|e| e["message"] == "server_hello_done")
        .expect("ServerHelloDone after the hole");
    assert!(done["at_ms"].as_f64().unwrap() < 3.1, "{done:#}");
}

/// One random loss in a capture: a packet dropped, cut short, or bytes cut from its payload.
fn damage(original: &Pcap, rng: &mut Rng) -> (Pcap, String) {
    let lens = original.payload_lens();
    let with_data: Vec<usize> = (0..lens.len()).filter(|&i| lens[i] > 0).collect();
    let index = with_data[rng.below(with_data.len())];
    let (number, len) = (index + 1, lens[index]);
    let pcap = Pcap {
        header: original.header.clone(),
        packets: original.packets.clone(),
    };
    match rng.below(4) {
        0 => (pcap.without(&[number]), format!("packet {number} dropped")),
        1 => {
            let lost = 1 + rng.below(len);
            let what = format!("packet {number} without its last {lost} bytes");
            (pcap.cut_short(number, lost), what)
        }
        kind => {
            let offset = rng.below(len);
            let cut = 1 + rng.below(len - offset);
            let rest = if kind == 2 {
                Rest::InPlace
            } else {
                Rest::MovedUp
            };
            let what = format!("packet {number}: {cut} bytes at {offset} cut, rest {rest:?}");
            (pcap.cut_payload(number, offset, cut, rest), what)
        }
    }
}

/// Every fixture capture, with and without its key log, under many random single losses:
/// a connection that was not "not TLS" never becomes it, and no alert appears that the
/// undamaged capture does not hold.
#[test]
fn no_single_loss_makes_a_capture_not_tls_or_invents_an_alert() {
    let mut rng = Rng(0x9a95_5eed_0f00_d00d);
    let mut runs = 0;
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixture("pcaps", ""))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "pcap"))
        .collect();
    names.sort();
    for path in names {
        let original = Pcap::read(&path);
        let keys = path.with_extension("keys");
        let key_args = ["--keylog", keys.to_str().unwrap()];
        let variants: &[&[&str]] = if keys.exists() {
            &[&[], &key_args]
        } else {
            &[&[]]
        };
        for extra in variants {
            let undamaged = analyze(&original, extra);
            let baseline: Vec<(String, BTreeSet<(String, u64)>)> = undamaged["handshakes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (verdict(h), alerts(h)))
                .collect();
            for _ in 0..16 {
                let (damaged, what) = damage(&original, &mut rng);
                let what = format!("{:?} {extra:?}: {what}", path.file_name().unwrap());
                let report = analyze(&damaged, extra);
                runs += 1;
                for (h, (was, sent)) in report["handshakes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(&baseline)
                {
                    if was != "not-tls" {
                        assert_ne!(verdict(h), "not-tls", "{what}: {h:#}");
                        assert!(events(h, "not_tls").is_empty(), "{what}: {h:#}");
                    }
                    assert!(
                        alerts(h).is_subset(sent),
                        "{what}: {:?} not in {sent:?}",
                        alerts(h)
                    );
                }
            }
        }
    }
    assert!(runs >= 400, "{runs}");
}

/// The cause of a handshake: its id and confidence, and its evidence as one string.
fn top_cause(handshake: &Value) -> (String, f64, String) {
    let cause = &handshake["diagnosis"]["causes"][0];
    (
        verdict(handshake),
        cause["confidence"].as_f64().unwrap_or(0.0),
        cause["evidence"].to_string(),
    )
}

/// A handshake that stops short with no alert is not "ok": how far it got, who closed, and
/// what the capture lost are its evidence, and lost bytes make it less sure.
#[test]
fn a_handshake_that_stops_short_without_an_alert_is_not_ok() {
    let original = Pcap::read(&fixture("pcaps", "no-cert-tls12.pcap"));
    // Packets 8 and 9 (the client's last flight, the server's alert) lost.
    let lost = analyze(
        &Pcap::read(&fixture("pcaps", "no-cert-tls12.pcap")).without(&[8, 9]),
        &[],
    );
    let (id, lost_confidence, evidence) = top_cause(only_handshake(&lost));
    assert_eq!(id, "handshake-incomplete");
    for words in [
        "ServerHelloDone",
        "bytes the client sent are missing from the capture",
        "the client closed the connection without an alert",
    ] {
        assert!(evidence.contains(words), "{words:?} in {evidence}");
    }
    // The ClientHello answered by nothing: everything after it dropped.
    let unanswered = analyze(&original.without(&[5, 6, 7, 8, 9, 10, 11, 12]), &[]);
    let (id, confidence, evidence) = top_cause(only_handshake(&unanswered));
    assert_eq!(id, "handshake-incomplete");
    assert!(evidence.contains("got no ServerHello"), "{evidence}");
    assert!(evidence.contains("still open"), "{evidence}");
    assert!(
        lost_confidence < confidence,
        "{lost_confidence} vs {confidence}"
    );
}

/// Packets cut so short that no handshake message is whole: nothing can be told, and that is
/// not "ok".
#[test]
fn a_capture_too_short_to_show_any_message_is_not_ok() {
    let report = analyze(
        &Pcap::read(&fixture("pcaps", "ok-tls13.pcap")).snaplen(96),
        &[],
    );
    let (id, confidence, evidence) = top_cause(only_handshake(&report));
    assert_eq!(id, "handshake-incomplete");
    assert!(evidence.contains("no handshake message"), "{evidence}");
    assert!(confidence < 0.5);
}

/// TLS 1.3 without keys: the server's verdict on the client's flight is its next record. When
/// the capture lost it (here the alert 116 record, packet 9), the verdict is unknown, not "ok".
#[test]
fn a_lost_tls13_verdict_is_unknown_not_ok() {
    let report = analyze(
        &Pcap::read(&fixture("pcaps", "no-cert-tls13.pcap")).without(&[9]),
        &[],
    );
    let h = only_handshake(&report);
    assert_sound(h, &[], &["handshake-incomplete"], "packet 9 lost");
    let (_, confidence, evidence) = top_cause(h);
    assert!(evidence.contains("is not in what was seen"), "{evidence}");
    assert!(
        evidence.contains("bytes the server sent are missing"),
        "{evidence}"
    );
    assert!(confidence < 0.5);
}

/// The server's alert-sized answer to the client's flight is its refusal whoever closes first
/// and whether the capture shows the close: the capture stopped before the server's FIN, or the
/// client dropped the connection before the alert came (the client's FIN moved before it).
#[test]
fn a_tls13_refusal_is_seen_whoever_closes_and_whether_the_close_was_captured() {
    let original = Pcap::read(&fixture("pcaps", "no-cert-tls13.pcap"));
    let no_fins = original.clone().without(&[10, 11, 12]);
    let mut client_first = original.clone();
    // Packet 11, the client's FIN, before packet 9, the server's alert record.
    let fin = client_first.packets.remove(10);
    client_first.packets.insert(8, fin);
    for (what, damaged) in [("no FINs", no_fins), ("client FIN first", client_first)] {
        let report = analyze(&damaged, &[]);
        let (id, confidence, evidence) = top_cause(only_handshake(&report));
        assert_eq!(id, "client-cert-not-sent", "{what}: {evidence}");
        assert!(confidence < 0.95, "{what}");
        assert!(
            evidence.contains("exactly an empty Certificate")
                && evidence.contains("the size of an alert"),
            "{what}: {evidence}"
        );
    }
}
