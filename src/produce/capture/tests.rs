//! Captures built byte by byte in memory: pcap and pcapng writers, link-layer wrappers, and TCP
//! conversations scripted segment by segment.

use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};

use etherparse::{PacketBuilder, TcpHeader};

use super::*;
use crate::test_support::Rng;

// ---------------------------------------------------------------- packets

/// One TCP segment to put in a capture.
#[derive(Debug, Clone)]
struct Tcp {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    /// Any of "S", "A", "F", "R", "P".
    flags: &'static str,
    payload: Vec<u8>,
}

impl Tcp {
    /// The IP packet (v4 or v6 after the addresses).
    fn ip(&self) -> Vec<u8> {
        let mut header = TcpHeader::new(self.src.port(), self.dst.port(), self.seq, 64240);
        header.syn = self.flags.contains('S');
        header.ack = self.flags.contains('A');
        header.fin = self.flags.contains('F');
        header.rst = self.flags.contains('R');
        header.psh = self.flags.contains('P');
        header.acknowledgment_number = if header.ack { self.ack } else { 0 };
        let builder = match (self.src.ip(), self.dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), 64),
            (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), 64),
            _ => panic!("mixed address families"),
        };
        let builder = builder.tcp_header(header);
        let mut out = Vec::with_capacity(builder.size(self.payload.len()));
        builder.write(&mut out, &self.payload).unwrap();
        out
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A scripted connection: keeps both sides' sequence numbers.
struct Conn {
    c: SocketAddr,
    s: SocketAddr,
    cseq: u32,
    sseq: u32,
}

impl Conn {
    fn new(c: &str, s: &str, cisn: u32, sisn: u32) -> Conn {
        Conn {
            c: addr(c),
            s: addr(s),
            cseq: cisn,
            sseq: sisn,
        }
    }

    fn client_sends(&mut self, flags: &'static str, payload: &[u8]) -> Tcp {
        let tcp = Tcp {
            src: self.c,
            dst: self.s,
            seq: self.cseq,
            ack: self.sseq,
            flags,
            payload: payload.to_vec(),
        };
        let used =
            payload.len() as u32 + u32::from(flags.contains('S')) + u32::from(flags.contains('F'));
        self.cseq = self.cseq.wrapping_add(used);
        tcp
    }

    fn server_sends(&mut self, flags: &'static str, payload: &[u8]) -> Tcp {
        let tcp = Tcp {
            src: self.s,
            dst: self.c,
            seq: self.sseq,
            ack: self.cseq,
            flags,
            payload: payload.to_vec(),
        };
        let used =
            payload.len() as u32 + u32::from(flags.contains('S')) + u32::from(flags.contains('F'));
        self.sseq = self.sseq.wrapping_add(used);
        tcp
    }

    fn handshake(&mut self) -> Vec<Tcp> {
        vec![
            self.client_sends("S", b""),
            self.server_sends("SA", b""),
            self.client_sends("A", b""),
        ]
    }

    fn c(&mut self, data: &[u8]) -> Tcp {
        self.client_sends("PA", data)
    }

    fn s(&mut self, data: &[u8]) -> Tcp {
        self.server_sends("PA", data)
    }
}

// ---------------------------------------------------------------- link layers

fn ethertype_of(ip: &[u8]) -> [u8; 2] {
    if ip[0] >> 4 == 6 {
        [0x86, 0xDD]
    } else {
        [0x08, 0x00]
    }
}

fn ethernet(ip: &[u8]) -> Vec<u8> {
    ethernet_tagged(ip, &[])
}

/// Ethernet with VLAN tags (TPIDs given outermost first).
fn ethernet_tagged(ip: &[u8], tpids: &[u16]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    for (i, tpid) in tpids.iter().enumerate() {
        f.extend_from_slice(&tpid.to_be_bytes());
        f.extend_from_slice(&(100 + i as u16).to_be_bytes()); // TCI: VLAN id
    }
    f.extend_from_slice(&ethertype_of(ip));
    f.extend_from_slice(ip);
    // Minimum frame size padding, which the IP length must make us ignore.
    while f.len() < 60 {
        f.push(0);
    }
    f
}

fn sll(ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    f.extend_from_slice(&ethertype_of(ip));
    f.extend_from_slice(ip);
    f
}

fn sll2(ip: &[u8]) -> Vec<u8> {
    let mut f = ethertype_of(ip).to_vec();
    f.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    f.extend_from_slice(ip);
    f
}

/// BSD loopback header with the given IPv6 family value, in the given byte order.
fn null(ip: &[u8], v6_family: u32, big_endian: bool) -> Vec<u8> {
    let family = if ip[0] >> 4 == 6 { v6_family } else { 2 };
    let mut f = if big_endian {
        family.to_be_bytes()
    } else {
        family.to_le_bytes()
    }
    .to_vec();
    f.extend_from_slice(ip);
    f
}

fn ppp(ip: &[u8]) -> Vec<u8> {
    let protocol: [u8; 2] = if ip[0] >> 4 == 6 {
        [0x00, 0x57]
    } else {
        [0x00, 0x21]
    };
    let mut f = vec![0xFF, 0x03];
    f.extend_from_slice(&protocol);
    f.extend_from_slice(ip);
    f
}

// ---------------------------------------------------------------- capture files

const T0: u64 = 1_700_000_000_000_000_000; // nanoseconds since the epoch

/// One packet record: time in nanoseconds, captured bytes, length on the wire.
#[derive(Debug, Clone)]
struct Rec {
    ns: u64,
    data: Vec<u8>,
    orig_len: u32,
}

impl Rec {
    fn new(ns: u64, data: Vec<u8>) -> Rec {
        let orig_len = data.len() as u32;
        Rec { ns, data, orig_len }
    }
}

/// Records one millisecond apart, framed by `link`.
fn records(packets: &[Tcp], link: impl Fn(&[u8]) -> Vec<u8>) -> Vec<Rec> {
    packets
        .iter()
        .enumerate()
        .map(|(i, p)| Rec::new(T0 + i as u64 * 1_000_000, link(&p.ip())))
        .collect()
}

fn put32(out: &mut Vec<u8>, v: u32, big_endian: bool) {
    out.extend_from_slice(&if big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    });
}

fn put16(out: &mut Vec<u8>, v: u16, big_endian: bool) {
    out.extend_from_slice(&if big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    });
}

/// A legacy pcap file.
fn pcap(link: u32, big_endian: bool, nanos: bool, recs: &[Rec]) -> Vec<u8> {
    let mut out = Vec::new();
    put32(
        &mut out,
        if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 },
        big_endian,
    );
    put16(&mut out, 2, big_endian);
    put16(&mut out, 4, big_endian);
    put32(&mut out, 0, big_endian);
    put32(&mut out, 0, big_endian);
    put32(&mut out, 262_144, big_endian);
    put32(&mut out, link, big_endian);
    for r in recs {
        let units = if nanos { 1_000_000_000 } else { 1_000_000 };
        put32(&mut out, (r.ns / 1_000_000_000) as u32, big_endian);
        put32(
            &mut out,
            ((r.ns % 1_000_000_000) * units / 1_000_000_000) as u32,
            big_endian,
        );
        put32(&mut out, r.data.len() as u32, big_endian);
        put32(&mut out, r.orig_len, big_endian);
        out.extend_from_slice(&r.data);
    }
    out
}

fn eth_pcap(packets: &[Tcp]) -> Vec<u8> {
    pcap(1, false, false, &records(packets, ethernet))
}

/// A pcapng file, block by block.
struct Ng {
    out: Vec<u8>,
    big_endian: bool,
}

impl Ng {
    fn new(big_endian: bool) -> Ng {
        let mut ng = Ng {
            out: Vec::new(),
            big_endian,
        };
        ng.shb();
        ng
    }

    fn block(&mut self, kind: u32, body: &[u8]) -> &mut Self {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        let be = self.big_endian;
        put32(&mut self.out, kind, be);
        put32(&mut self.out, len, be);
        self.out.extend_from_slice(body);
        self.out.resize(self.out.len() + padded - body.len(), 0);
        put32(&mut self.out, len, be);
        self
    }

    fn shb(&mut self) -> &mut Self {
        let be = self.big_endian;
        let mut body = Vec::new();
        put32(&mut body, 0x1A2B_3C4D, be);
        put16(&mut body, 1, be);
        put16(&mut body, 0, be);
        body.extend_from_slice(&[0xFF; 8]); // section length unknown
        self.block(0x0A0D_0D0A, &body)
    }

    /// Interface with optional `if_tsresol` and `if_tsoffset`.
    fn idb(&mut self, link: u16, tsresol: Option<u8>, tsoffset: Option<i64>) -> &mut Self {
        let be = self.big_endian;
        let mut body = Vec::new();
        put16(&mut body, link, be);
        put16(&mut body, 0, be);
        put32(&mut body, 262_144, be);
        if let Some(r) = tsresol {
            put16(&mut body, 9, be);
            put16(&mut body, 1, be);
            body.extend_from_slice(&[r, 0, 0, 0]);
        }
        if let Some(o) = tsoffset {
            put16(&mut body, 14, be);
            put16(&mut body, 8, be);
            body.extend_from_slice(&if be { o.to_be_bytes() } else { o.to_le_bytes() });
        }
        if tsresol.is_some() || tsoffset.is_some() {
            put32(&mut body, 0, be); // opt_endofopt
        }
        self.block(1, &body)
    }

    fn epb(&mut self, if_id: u32, ts: u64, data: &[u8], orig_len: u32) -> &mut Self {
        let be = self.big_endian;
        let mut body = Vec::new();
        put32(&mut body, if_id, be);
        put32(&mut body, (ts >> 32) as u32, be);
        put32(&mut body, ts as u32, be);
        put32(&mut body, data.len() as u32, be);
        put32(&mut body, orig_len, be);
        body.extend_from_slice(data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        self.block(6, &body)
    }

    fn spb(&mut self, data: &[u8]) -> &mut Self {
        let be = self.big_endian;
        let mut body = Vec::new();
        put32(&mut body, data.len() as u32, be);
        body.extend_from_slice(data);
        self.block(3, &body)
    }

    fn bytes(&self) -> Vec<u8> {
        self.out.clone()
    }
}

// ---------------------------------------------------------------- reading

fn read_all(bytes: Vec<u8>) -> (Vec<CaptureEvent>, Option<CaptureError>) {
    let reader = CaptureReader::new(io::Cursor::new(bytes.clone())).expect("capture should open");
    let (events, error) = collect(reader);
    // Visiting gives the same events, bytes borrowed or not, and the same error.
    let mut visited = Vec::new();
    let result = CaptureReader::new(io::Cursor::new(bytes))
        .expect("capture should open")
        .visit(|e| visited.push(e.map_bytes(<[u8]>::to_vec)));
    assert_eq!(visited, events, "visit and iteration differ");
    assert_eq!(
        result.err().map(|e| e.to_string()),
        error.as_ref().map(|e| e.to_string())
    );
    (events, error)
}

fn collect<R: Read>(reader: CaptureReader<R>) -> (Vec<CaptureEvent>, Option<CaptureError>) {
    let mut events = Vec::new();
    let mut error = None;
    let mut reader = reader;
    for item in reader.by_ref() {
        match item {
            Ok(e) => {
                assert!(error.is_none(), "event after the error: {e:?}");
                events.push(e);
            }
            Err(e) => {
                assert!(error.is_none(), "two errors");
                error = Some(e);
            }
        }
    }
    assert!(reader.next().is_none(), "the iterator is fused");
    assert_eq!(reader.open_flows(), 0, "flow state left behind");
    check_consistency(&events);
    (events, error)
}

fn events(bytes: Vec<u8>) -> Vec<CaptureEvent> {
    let (events, error) = read_all(bytes);
    if let Some(e) = error {
        panic!("unexpected error {e}; events {events:#?}");
    }
    events
}

/// Invariants every event sequence must satisfy.
fn check_consistency(events: &[CaptureEvent]) {
    use std::collections::HashMap;
    #[derive(Default)]
    struct F {
        ended: bool,
        closed_fin: [bool; 2],
    }
    let mut flows: HashMap<u64, F> = HashMap::new();
    for e in events {
        match e {
            CaptureEvent::FlowStarted { flow, .. } => {
                assert!(
                    flows.insert(*flow, F::default()).is_none(),
                    "flow {flow} started twice"
                );
            }
            CaptureEvent::Note { flow: None, .. } => {}
            other => {
                let id = other.flow().unwrap();
                let f = flows
                    .get_mut(&id)
                    .unwrap_or_else(|| panic!("event before start: {other:?}"));
                assert!(!f.ended, "event after end: {other:?}");
                match other {
                    CaptureEvent::Data { dir, bytes, .. } => {
                        assert!(!bytes.is_empty());
                        assert!(!f.closed_fin[dir.index()], "data after FIN: {other:?}");
                    }
                    CaptureEvent::Gap { dir, missing, .. } => {
                        assert!(*missing > 0);
                        assert!(!f.closed_fin[dir.index()], "gap after FIN: {other:?}");
                    }
                    CaptureEvent::Closed {
                        dir,
                        how: Close::Fin,
                        ..
                    } => {
                        assert!(!f.closed_fin[dir.index()], "FIN twice: {other:?}");
                        f.closed_fin[dir.index()] = true;
                    }
                    CaptureEvent::FlowEnded { .. } => f.ended = true,
                    _ => {}
                }
            }
        }
    }
    for (id, f) in flows {
        assert!(f.ended, "flow {id} never ended");
    }
}

/// The stream of one direction as text: data as (lossy) UTF-8, gaps as `[gap N]`.
fn stream(events: &[CaptureEvent], flow: u64, dir: Dir) -> String {
    let mut s = String::new();
    for e in events {
        match e {
            CaptureEvent::Data {
                flow: f,
                dir: d,
                bytes,
                ..
            } if *f == flow && *d == dir => s.push_str(&String::from_utf8_lossy(bytes)),
            CaptureEvent::Gap {
                flow: f,
                dir: d,
                missing,
                ..
            } if *f == flow && *d == dir => s.push_str(&format!("[gap {missing}]")),
            _ => {}
        }
    }
    s
}

/// One line per event, for exact comparisons.
fn summary(events: &[CaptureEvent]) -> Vec<String> {
    let arrow = |d: &Dir| if *d == Dir::AtoB { ">" } else { "<" };
    events
        .iter()
        .map(|e| match e {
            CaptureEvent::FlowStarted {
                flow,
                a,
                b,
                syn_seen,
                ..
            } => {
                format!(
                    "start {flow} {a} {b}{}",
                    if *syn_seen { " syn" } else { "" }
                )
            }
            CaptureEvent::Data {
                flow, dir, bytes, ..
            } => {
                format!(
                    "data {flow} {} {}",
                    arrow(dir),
                    String::from_utf8_lossy(bytes)
                )
            }
            CaptureEvent::Gap {
                flow, dir, missing, ..
            } => format!("gap {flow} {} {missing}", arrow(dir)),
            CaptureEvent::Closed { flow, dir, how, .. } => {
                format!("closed {flow} {} {how:?}", arrow(dir))
            }
            CaptureEvent::FlowEnded { flow, .. } => format!("end {flow}"),
            CaptureEvent::Note { flow, message } => format!("note {flow:?} {message}"),
        })
        .collect()
}

fn notes(events: &[CaptureEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            CaptureEvent::Note { message, .. } => Some(message.as_str()),
            _ => None,
        })
        .collect()
}

fn started(events: &[CaptureEvent]) -> Vec<(u64, SocketAddr, SocketAddr, f64, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            CaptureEvent::FlowStarted {
                flow,
                a,
                b,
                at,
                syn_seen,
            } => Some((*flow, *a, *b, *at, *syn_seen)),
            _ => None,
        })
        .collect()
}

/// A complete short conversation.
fn conversation(conn: &mut Conn) -> Vec<Tcp> {
    let mut p = conn.handshake();
    p.push(conn.c(b"hello"));
    p.push(conn.s(b"world"));
    p.push(conn.c(b"!"));
    p.push(conn.client_sends("FA", b""));
    p.push(conn.server_sends("FA", b""));
    p.push(conn.client_sends("A", b""));
    p
}

const CONVERSATION: [&str; 8] = [
    "start 0 10.0.0.1:40000 10.0.0.2:443 syn",
    "data 0 > hello",
    "data 0 < world",
    "data 0 > !",
    "closed 0 > Fin",
    "closed 0 < Fin",
    "end 0",
    "",
];

fn client_server() -> Conn {
    Conn::new("10.0.0.1:40000", "10.0.0.2:443", 1000, 5000)
}

// ---------------------------------------------------------------- tests: TCP

#[test]
fn handshake_with_data_both_ways() {
    let mut conn = client_server();
    let ev = events(eth_pcap(&conversation(&mut conn)));
    assert_eq!(summary(&ev), CONVERSATION[..7]);
    let (_, _, _, at, _) = started(&ev)[0];
    assert!((at - 1_700_000_000.0).abs() < 1e-6);
    // Data carries the time of the packet that delivered it.
    let data_at: Vec<f64> = ev
        .iter()
        .filter_map(|e| match e {
            CaptureEvent::Data { at, .. } => Some(*at),
            _ => None,
        })
        .collect();
    assert!((data_at[0] - 1_700_000_000.003).abs() < 1e-6, "{data_at:?}");
    assert!((data_at[1] - 1_700_000_000.004).abs() < 1e-6, "{data_at:?}");
}

#[test]
fn out_of_order_segments_are_reordered() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    let (a, b, c, d) = (
        conn.c(b"aaa"),
        conn.c(b"bbb"),
        conn.c(b"ccc"),
        conn.c(b"ddd"),
    );
    p.extend([a, d, c, b]);
    let ev = events(eth_pcap(&p));
    assert_eq!(stream(&ev, 0, Dir::AtoB), "aaabbbcccddd");
    // "bbb" fills the hole and releases the rest in one piece.
    assert_eq!(summary(&ev)[1..3], ["data 0 > aaa", "data 0 > bbbcccddd"]);
}

#[test]
fn retransmissions_deliver_each_byte_once() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    let a = conn.c(b"first");
    let b = conn.c(b"second");
    let r = conn.s(b"reply");
    p.extend([a.clone(), a.clone(), b.clone(), a, r.clone(), b, r]);
    let ev = events(eth_pcap(&p));
    assert_eq!(stream(&ev, 0, Dir::AtoB), "firstsecond");
    assert_eq!(stream(&ev, 0, Dir::BtoA), "reply");
    // A retransmitted SYN is not a new connection.
    let mut conn = client_server();
    let mut p = conn.handshake();
    p.insert(1, p[0].clone());
    p.push(conn.c(b"x"));
    let ev = events(eth_pcap(&p));
    assert_eq!(started(&ev).len(), 1);
    assert_eq!(stream(&ev, 0, Dir::AtoB), "x");
}

#[test]
fn overlapping_segments_keep_the_first_copy() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    let base = conn.cseq;
    let mut seg = |off: u32, data: &[u8]| Tcp {
        seq: base.wrapping_add(off),
        ..conn.c(data)
    };
    p.extend([
        seg(0, b"ABCDE"),
        seg(3, b"xxFGH"), // overlaps the delivered "DE"
        seg(12, b"MNOP"), // buffered
        seg(10, b"yyzz"), // overlaps the start of the buffered piece
        seg(9, b"JK"),    // overlaps the buffered "y", leaves a one-byte hole at 8
        seg(7, b"H?QR"),  // fills the hole with "?"; "QR" lose to the buffered "Jy"
    ]);
    let ev = events(eth_pcap(&p));
    assert_eq!(stream(&ev, 0, Dir::AtoB), "ABCDEFGH?JyyMNOP");
}

#[test]
fn capture_starting_mid_connection() {
    let mut conn = client_server();
    conn.handshake();
    conn.c(b"lost before the capture started");
    let p = vec![
        conn.s(b"server speaks"),
        conn.c(b"client answers"),
        conn.s(b" again"),
    ];
    let ev = events(eth_pcap(&p));
    let (_, a, b, _, syn_seen) = started(&ev)[0];
    assert_eq!((a, b, syn_seen), (conn.s, conn.c, false));
    assert_eq!(stream(&ev, 0, Dir::AtoB), "server speaks again");
    assert_eq!(stream(&ev, 0, Dir::BtoA), "client answers");
}

#[test]
fn syn_ack_without_syn_makes_the_client_a() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    p.remove(0);
    let late_syn = Tcp {
        seq: 1000,
        ..p[0].clone()
    };
    let late_syn = Tcp {
        src: conn.c,
        dst: conn.s,
        flags: "S",
        ..late_syn
    };
    p.push(conn.c(b"hi"));
    p.push(late_syn); // the SYN, captured late, belongs to the same connection
    p.push(conn.s(b"ho"));
    let ev = events(eth_pcap(&p));
    assert_eq!(started(&ev).len(), 1);
    let (_, a, _, _, syn_seen) = started(&ev)[0];
    assert_eq!((a, syn_seen), (conn.c, false));
    assert_eq!(stream(&ev, 0, Dir::AtoB), "hi");
    assert_eq!(stream(&ev, 0, Dir::BtoA), "ho");
}

#[test]
fn sequence_numbers_wrap_around() {
    let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:443", 0xFFFF_FFF0, 0xFFFF_FFFE);
    let mut p = conn.handshake();
    let segs: Vec<Tcp> = (0..5)
        .map(|i| conn.c(format!("<{i:08}>").as_bytes()))
        .collect();
    p.extend([
        segs[0].clone(),
        segs[2].clone(),
        segs[1].clone(),
        segs[4].clone(),
        segs[3].clone(),
    ]);
    p.push(conn.s(b"pong"));
    p.push(conn.client_sends("FA", b""));
    p.push(conn.server_sends("FA", b""));
    let ev = events(eth_pcap(&p));
    assert_eq!(
        stream(&ev, 0, Dir::AtoB),
        "<00000000><00000001><00000002><00000003><00000004>"
    );
    assert_eq!(stream(&ev, 0, Dir::BtoA), "pong");
    assert!(summary(&ev).contains(&"end 0".to_string()));
}

#[test]
fn a_hole_becomes_a_gap() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    p.push(conn.c(b"before"));
    conn.c(b"lost!"); // never captured
    p.push(conn.c(b"after"));
    p.push(conn.client_sends("FA", b""));
    let ev = events(eth_pcap(&p));
    // The hole is declared at the end of the capture, then the FIN behind it is reached.
    assert_eq!(stream(&ev, 0, Dir::AtoB), "before[gap 5]after");
    let s = summary(&ev);
    assert_eq!(s[s.len() - 2..], ["closed 0 > Fin", "end 0"]);
}

/// The capture time of the `i`th packet (from 0) of the captures built here.
fn packet_time(i: usize) -> f64 {
    T0 as f64 / 1e9 + i as f64 / 1000.0
}

/// The times of a direction's data and gaps, in order.
fn times(events: &[CaptureEvent], dir: Dir) -> Vec<(String, f64)> {
    events
        .iter()
        .filter_map(|e| match e {
            CaptureEvent::Data {
                dir: d, at, bytes, ..
            } if *d == dir => Some((String::from_utf8_lossy(bytes).into_owned(), *at)),
            CaptureEvent::Gap {
                dir: d,
                at,
                missing,
                ..
            } if *d == dir => Some((format!("[gap {missing}]"), *at)),
            _ => None,
        })
        .collect()
}

fn assert_times(actual: &[(String, f64)], expected: &[(&str, usize)]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?}");
    for ((what, at), (expected, packet)) in actual.iter().zip(expected) {
        assert_eq!(what, expected);
        assert!(
            (at - packet_time(*packet)).abs() < 1e-6,
            "{what} at {at}: {actual:?}"
        );
    }
}

#[test]
fn a_gap_and_the_data_behind_it_carry_the_time_they_were_captured() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    p.push(conn.c(b"before")); // packet 3
    conn.c(b"lost!"); // never captured
    p.push(conn.c(b"after")); // 4
    p.push(conn.c(b"more")); // 5
    p.push(conn.client_sends("FA", b"")); // 6
    // Nothing acknowledges the hole: it is declared when the capture ends, yet reported where
    // it was, with the data after it.
    let ev = events(eth_pcap(&p));
    assert_times(
        &times(&ev, Dir::AtoB),
        &[("before", 3), ("[gap 5]", 4), ("after", 4), ("more", 5)],
    );
}

#[test]
fn a_hole_the_receiver_acknowledged_is_declared_at_once() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    p.push(conn.c(b"before")); // packet 3
    conn.c(b"lost!"); // never captured
    p.push(conn.c(b"after")); // 4
    // The server acknowledges every byte: the hole was lost by the capture, not the network.
    p.push(conn.s(b"ok")); // 5
    p.push(conn.s(b"more")); // 6
    let ev = events(eth_pcap(&p));
    assert_eq!(
        summary(&ev)[1..6],
        [
            "data 0 > before",
            "gap 0 > 5",
            "data 0 > after",
            "data 0 < ok",
            "data 0 < more"
        ]
    );
    assert_times(
        &times(&ev, Dir::AtoB),
        &[("before", 3), ("[gap 5]", 4), ("after", 4)],
    );
    // The acknowledgment may come first: the hole is declared when data arrives behind it.
    let mut conn = client_server();
    let mut p = conn.handshake();
    p.push(conn.c(b"before")); // 3
    conn.c(b"lost!");
    p.push(conn.s(b"ok")); // 4, acknowledging the lost bytes
    p.push(conn.c(b"after")); // 5
    p.push(conn.s(b"more")); // 6
    let ev = events(eth_pcap(&p));
    assert_eq!(
        summary(&ev)[1..6],
        [
            "data 0 > before",
            "data 0 < ok",
            "gap 0 > 5",
            "data 0 > after",
            "data 0 < more"
        ]
    );
}

#[test]
fn a_hole_filled_later_is_no_gap_whatever_the_acknowledgments() {
    // Out of order, not lost: the receiver acknowledges only what it has, so the hole waits.
    let mut conn = client_server();
    let mut p = conn.handshake();
    let first = conn.c(b"first");
    let second = conn.c(b"second");
    let mut ack = conn.s(b"ok");
    ack.ack = first.seq; // acknowledges nothing of this data yet
    p.extend([second, ack, first]);
    let ev = events(eth_pcap(&p));
    assert_eq!(stream(&ev, 0, Dir::AtoB), "firstsecond");
}

#[test]
fn a_hole_with_more_than_a_mebibyte_behind_it_is_skipped() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    p.push(conn.c(b"start"));
    conn.c(&[b'?'; 100]);
    let chunk = vec![b'x'; 1000];
    for _ in 0..1100 {
        p.push(conn.c(&chunk));
    }
    p.push(conn.s(b"marker")); // the last packet
    let ev = events(eth_pcap(&p));
    let expected = format!("start[gap 100]{}", "x".repeat(1_100_000));
    assert_eq!(stream(&ev, 0, Dir::AtoB), expected);
    // The gap was declared while reading, not at the end: data followed in order before the
    // marker packet.
    let gap = ev
        .iter()
        .position(|e| matches!(e, CaptureEvent::Gap { .. }))
        .unwrap();
    let marker = ev
        .iter()
        .position(|e| matches!(e, CaptureEvent::Data { dir: Dir::BtoA, .. }))
        .unwrap();
    let data_between = ev[gap..marker]
        .iter()
        .filter(|e| matches!(e, CaptureEvent::Data { dir: Dir::AtoB, .. }))
        .count();
    assert!(data_between > 40, "{data_between}");
    // Never more than 1 MiB waited behind the hole.
    if let CaptureEvent::Data { bytes, .. } = &ev[gap + 1] {
        assert!(bytes.len() as u64 <= flows::MAX_OUT_OF_ORDER + 1000);
    }
}

#[test]
fn out_of_order_fin_closes_after_the_data() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    let a = conn.c(b"one");
    let b = conn.c(b"two");
    let fin = conn.client_sends("FA", b"");
    p.extend([a, fin, b, conn.server_sends("FA", b"")]);
    let ev = events(eth_pcap(&p));
    let s = summary(&ev);
    assert_eq!(
        s[1..],
        [
            "data 0 > one",
            "data 0 > two",
            "closed 0 > Fin",
            "closed 0 < Fin",
            "end 0"
        ]
    );
}

#[test]
fn data_after_fin_is_ignored_and_stragglers_start_nothing() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    p.push(conn.client_sends("FPA", b"bye"));
    p.push(conn.c(b"ghost")); // after the FIN
    p.push(conn.s(b"ok"));
    p.push(conn.server_sends("FA", b""));
    p.push(conn.client_sends("A", b"")); // final ACK: the flow is over, no new flow
    p.push(conn.server_sends("FA", b"")); // retransmitted FIN
    let ev = events(eth_pcap(&p));
    assert_eq!(stream(&ev, 0, Dir::AtoB), "bye");
    assert_eq!(stream(&ev, 0, Dir::BtoA), "ok");
    assert_eq!(started(&ev).len(), 1);
}

#[test]
fn rst_ends_the_flow() {
    let mut conn = client_server();
    let mut p = vec![conn.client_sends("S", b"")];
    p.push(conn.server_sends("RA", b""));
    p.push(conn.server_sends("RA", b"")); // a second RST belongs to no flow
    let ev = events(eth_pcap(&p));
    assert_eq!(
        summary(&ev),
        [
            "start 0 10.0.0.1:40000 10.0.0.2:443 syn",
            "closed 0 < Rst",
            "end 0"
        ]
    );
    // A RST flushes what waited behind a hole.
    let mut conn = client_server();
    let mut p = conn.handshake();
    conn.c(b"lost");
    p.push(conn.c(b"late"));
    p.push(conn.server_sends("RA", b""));
    let ev = events(eth_pcap(&p));
    assert_eq!(
        summary(&ev)[1..],
        ["gap 0 > 4", "data 0 > late", "closed 0 < Rst", "end 0"]
    );
}

#[test]
fn port_reuse_starts_a_new_flow() {
    let mut first = client_server();
    let mut p = conversation(&mut first);
    let mut second = Conn::new("10.0.0.1:40000", "10.0.0.2:443", 777_777, 888_888);
    p.extend(second.handshake());
    p.push(second.c(b"again"));
    // Then a third connection whose predecessor's end was never captured.
    let mut third = Conn::new("10.0.0.1:40000", "10.0.0.2:443", 42, 4242);
    p.extend(third.handshake());
    p.push(third.c(b"third"));
    let ev = events(eth_pcap(&p));
    let ids: Vec<u64> = started(&ev).iter().map(|s| s.0).collect();
    assert_eq!(ids, [0, 1, 2]);
    assert_eq!(stream(&ev, 0, Dir::AtoB), "hello!");
    assert_eq!(stream(&ev, 1, Dir::AtoB), "again");
    assert_eq!(stream(&ev, 2, Dir::AtoB), "third");
    let s = summary(&ev);
    let end1 = s.iter().position(|l| l == "end 1").unwrap();
    let start2 = s.iter().position(|l| l.starts_with("start 2")).unwrap();
    assert!(end1 < start2, "{s:#?}");
}

#[test]
fn idle_flows_are_evicted() {
    let mut idle = client_server();
    let mut busy = Conn::new("10.0.0.3:50000", "10.0.0.2:443", 1, 2);
    let mut recs = Vec::new();
    for p in idle.handshake().into_iter().chain([idle.c(b"early")]) {
        recs.push(Rec::new(T0, ethernet(&p.ip())));
    }
    for i in 0..40u64 {
        recs.push(Rec::new(
            T0 + i * 10_000_000_000,
            ethernet(&busy.c(b".").ip()),
        ));
    }
    // The idle connection speaks again after 7 minutes: a new flow, mid-connection.
    recs.push(Rec::new(
        T0 + 420_000_000_000,
        ethernet(&idle.c(b"late").ip()),
    ));
    let mut reader = CaptureReader::new(io::Cursor::new(pcap(1, false, false, &recs))).unwrap();
    let mut ev = Vec::new();
    let mut max_open = 0;
    while let Some(e) = reader.next() {
        max_open = max_open.max(reader.open_flows());
        ev.push(e.unwrap());
    }
    assert_eq!(max_open, 2);
    let s = summary(&ev);
    let end0 = ev
        .iter()
        .find_map(|e| match e {
            CaptureEvent::FlowEnded { flow: 0, at } => Some(*at),
            _ => None,
        })
        .unwrap();
    assert!(
        (end0 - 1_700_000_000.0).abs() < 1e-6,
        "ended at the last packet: {end0}"
    );
    let end0_pos = s.iter().position(|l| l == "end 0").unwrap();
    let start2_pos = s.iter().position(|l| l.starts_with("start 2")).unwrap();
    assert!(end0_pos < start2_pos);
    assert!(
        s[start2_pos].ends_with("10.0.0.1:40000 10.0.0.2:443"),
        "{}",
        s[start2_pos]
    );
    assert_eq!(stream(&ev, 2, Dir::AtoB), "late");
}

#[test]
fn many_short_flows_leave_no_state_behind() {
    let mut recs = Vec::new();
    for i in 0..10_000u32 {
        let client = format!(
            "10.{}.{}.{}:{}",
            i >> 16,
            (i >> 8) & 255,
            i & 255,
            10_000 + i % 50_000
        );
        let mut conn = Conn::new(
            &client,
            "10.255.0.1:8883",
            i.wrapping_mul(7919),
            i.wrapping_mul(104_729),
        );
        for p in conversation(&mut conn) {
            recs.push(Rec::new(T0 + recs.len() as u64 * 1000, ethernet(&p.ip())));
        }
    }
    let mut reader = CaptureReader::new(io::Cursor::new(pcap(1, false, false, &recs))).unwrap();
    let (mut starts, mut ends, mut max_open) = (0, 0, 0);
    while let Some(e) = reader.next() {
        match e.unwrap() {
            CaptureEvent::FlowStarted { .. } => starts += 1,
            CaptureEvent::FlowEnded { .. } => ends += 1,
            _ => {}
        }
        max_open = max_open.max(reader.open_flows());
        // Closed 4-tuples are remembered for a while, but boundedly.
        assert!(reader.state.tracker.remembered_ended() <= 65_536);
    }
    assert_eq!((starts, ends), (10_000, 10_000));
    assert!(max_open <= 1, "{max_open}");
    assert_eq!(reader.open_flows(), 0);
    assert_eq!(reader.packets(), 90_000);
}

#[test]
fn snaplen_cut_packets_deliver_the_captured_part_then_a_gap() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    p.push(conn.c(&[b'a'; 100]));
    p.push(conn.c(&[b'b'; 100]));
    p.push(conn.s(b"short"));
    let mut recs = records(&p, ethernet);
    // 14 Ethernet + 20 IP + 20 TCP + 30 payload bytes captured of the data packets.
    for r in &mut recs[3..5] {
        r.orig_len = r.data.len() as u32;
        r.data.truncate(84);
    }
    let ev = events(pcap(1, false, false, &recs));
    let a = "a".repeat(30);
    let b = "b".repeat(30);
    assert_eq!(stream(&ev, 0, Dir::AtoB), format!("{a}[gap 70]{b}[gap 70]"));
    assert_eq!(stream(&ev, 0, Dir::BtoA), "short");
    let n = notes(&ev);
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(n[0].contains("snapshot length"));
    // Cut inside the TCP header: ignored, with a note.
    let mut recs = records(&p, ethernet);
    recs[3].orig_len = recs[3].data.len() as u32;
    recs[3].data.truncate(40);
    let ev = events(pcap(1, false, false, &recs));
    assert_eq!(
        stream(&ev, 0, Dir::AtoB),
        format!("[gap 100]{}", "b".repeat(100))
    );
    assert!(notes(&ev)[0].contains("TCP header"));
}

// ---------------------------------------------------------------- tests: files and links

#[test]
fn pcap_byte_orders_and_resolutions() {
    let mut conn = client_server();
    let p = conversation(&mut conn);
    let mut recs = records(&p, ethernet);
    recs[0].ns = T0 + 123_456_789;
    for (big_endian, nanos, expected) in [
        (false, false, 0.123_456),
        (true, false, 0.123_456),
        (false, true, 0.123_456_789),
        (true, true, 0.123_456_789),
    ] {
        let ev = events(pcap(1, big_endian, nanos, &recs));
        assert_eq!(
            summary(&ev),
            CONVERSATION[..7],
            "big endian {big_endian}, ns {nanos}"
        );
        let at = started(&ev)[0].3;
        // f64 seconds since the epoch keep about 0.24 µs.
        assert!((at - 1_700_000_000.0 - expected).abs() < 3e-7, "{at}");
    }
}

#[test]
fn pcapng_with_two_interfaces() {
    for big_endian in [false, true] {
        let mut one = client_server();
        let mut two = Conn::new("[2001:db8::1]:50000", "[2001:db8::2]:8883", 10, 20);
        let p1 = conversation(&mut one);
        let p2 = conversation(&mut two);
        let mut ng = Ng::new(big_endian);
        ng.idb(1, None, None); // Ethernet, microseconds
        ng.idb(101, Some(9), Some(100)); // raw IP, nanoseconds, +100 s
        ng.block(4, &[0, 0, 0, 0]); // name resolution block: skipped
        for (i, (x, y)) in p1.iter().zip(&p2).enumerate() {
            let us = (T0 / 1000) + i as u64 * 1000;
            let x = ethernet(&x.ip());
            ng.epb(0, us, &x, x.len() as u32);
            let y = y.ip();
            ng.epb(1, T0 + 5 + i as u64 * 1_000_000, &y, y.len() as u32);
            ng.block(0x0BAD, &[1, 2, 3, 4, 5, 6, 7, 8]); // custom block: skipped
        }
        ng.block(5, &[0; 12]); // interface statistics: skipped
        let ev = events(ng.bytes());
        assert!(notes(&ev).is_empty(), "{:?}", notes(&ev));
        assert_eq!(stream(&ev, 0, Dir::AtoB), "hello!");
        assert_eq!(stream(&ev, 1, Dir::BtoA), "world");
        let s = started(&ev);
        assert_eq!(s[1].1, two.c);
        assert!((s[0].3 - 1_700_000_000.0).abs() < 1e-6);
        assert!((s[1].3 - 1_700_000_100.0).abs() < 1e-6, "{}", s[1].3);
    }
}

#[test]
fn pcapng_simple_packets_binary_resolution_and_new_sections() {
    let mut conn = client_server();
    let p = conversation(&mut conn);
    let mut ng = Ng::new(false);
    ng.idb(1, Some(0x80 | 10), None); // 1/1024 s units
    ng.epb(0, 1024 * 1_700_000_000 + 512, &ethernet(&p[0].ip()), 60);
    for x in &p[1..4] {
        ng.spb(&ethernet(&x.ip())); // no timestamp: the previous one is used
    }
    // A new section (big-endian this time) with its own interfaces.
    ng.big_endian = true;
    ng.shb();
    ng.idb(113, None, None);
    for x in &p[4..] {
        let f = sll(&x.ip());
        ng.epb(0, 1_700_000_001_000_000, &f, f.len() as u32);
    }
    let ev = events(ng.bytes());
    assert_eq!(summary(&ev), CONVERSATION[..7]);
    assert!((started(&ev)[0].3 - 1_700_000_000.5).abs() < 1e-6);
}

#[test]
fn every_link_type() {
    type Wrap = Box<dyn Fn(&[u8]) -> Vec<u8>>;
    let cases: Vec<(&str, u32, Wrap)> = vec![
        ("ethernet", 1, Box::new(ethernet)),
        ("802.1Q", 1, Box::new(|ip| ethernet_tagged(ip, &[0x8100]))),
        (
            "QinQ",
            1,
            Box::new(|ip| ethernet_tagged(ip, &[0x88A8, 0x8100])),
        ),
        (
            "old QinQ",
            1,
            Box::new(|ip| ethernet_tagged(ip, &[0x9100, 0x8100])),
        ),
        ("raw 101", 101, Box::new(|ip| ip.to_vec())),
        ("raw 12", 12, Box::new(|ip| ip.to_vec())),
        ("raw 14", 14, Box::new(|ip| ip.to_vec())),
        ("sll", 113, Box::new(sll)),
        ("sll2", 276, Box::new(sll2)),
        ("null le 24", 0, Box::new(|ip| null(ip, 24, false))),
        ("null be 28", 0, Box::new(|ip| null(ip, 28, true))),
        ("null le 30", 0, Box::new(|ip| null(ip, 30, false))),
        ("loop", 108, Box::new(|ip| null(ip, 24, true))),
        ("ppp", 9, Box::new(ppp)),
        ("ppp hdlc", 50, Box::new(ppp)),
        (
            "ppp compressed",
            9,
            Box::new(|ip| {
                let mut f = vec![if ip[0] >> 4 == 6 { 0x57 } else { 0x21 }];
                f.extend_from_slice(ip);
                f
            }),
        ),
    ];
    for (name, link, wrap) in cases {
        for (c, s) in [
            ("10.0.0.1:40000", "10.0.0.2:443"),
            ("[fe80::1]:40000", "[fe80::2]:443"),
        ] {
            let mut conn = Conn::new(c, s, 1000, 5000);
            let p = conversation(&mut conn);
            let ev = events(pcap(link, false, false, &records(&p, &wrap)));
            assert_eq!(stream(&ev, 0, Dir::AtoB), "hello!", "{name} {c}");
            assert_eq!(stream(&ev, 0, Dir::BtoA), "world", "{name} {c}");
        }
    }
    // Raw IPv4 and IPv6 link types.
    let mut conn = client_server();
    let ev = events(pcap(
        228,
        false,
        false,
        &records(&conversation(&mut conn), |ip| ip.to_vec()),
    ));
    assert_eq!(stream(&ev, 0, Dir::AtoB), "hello!");
    let mut conn = Conn::new("[::1]:40000", "[::1]:443", 1, 2);
    let ev = events(pcap(
        229,
        false,
        false,
        &records(&conversation(&mut conn), |ip| ip.to_vec()),
    ));
    assert_eq!(stream(&ev, 0, Dir::BtoA), "world");
}

#[test]
fn ipv6_extension_headers_and_non_tcp_traffic() {
    let mut conn = Conn::new("[2001:db8::1]:40000", "[2001:db8::2]:443", 1, 2);
    let p = conversation(&mut conn);
    // Insert a hop-by-hop options header (PadN) into every packet.
    let with_hbh = |ip: &[u8]| {
        let mut v = ip[..40].to_vec();
        v[6] = 0; // next header: hop-by-hop
        let len = u16::from_be_bytes([v[4], v[5]]) + 8;
        v[4..6].copy_from_slice(&len.to_be_bytes());
        v.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        v.extend_from_slice(&ip[40..]);
        ethernet(&v)
    };
    let mut recs = records(&p, with_hbh);
    // ARP, UDP and ICMP in between.
    let arp = {
        let mut f = vec![0xFF; 12];
        f.extend_from_slice(&[0x08, 0x06]);
        f.extend_from_slice(&[0; 28]);
        f
    };
    let mut udp = Vec::new();
    PacketBuilder::ipv4([1, 2, 3, 4], [5, 6, 7, 8], 9)
        .udp(53, 53)
        .write(&mut udp, b"dns")
        .unwrap();
    recs.insert(2, Rec::new(T0, arp));
    recs.insert(4, Rec::new(T0, ethernet(&udp)));
    let ev = events(pcap(1, false, false, &recs));
    assert_eq!(stream(&ev, 0, Dir::AtoB), "hello!");
    assert!(notes(&ev).is_empty(), "{:?}", notes(&ev));
}

#[test]
fn ip_fragments_are_ignored_with_one_note() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    p.push(conn.c(b"fragmented"));
    p.push(conn.c(b"also fragmented"));
    let mut recs = records(&p, |ip| {
        let mut ip = ip.to_vec();
        if ip.len() > 40 {
            ip[6] |= 0x20; // more fragments
        }
        ethernet(&ip)
    });
    recs.push(recs[0].clone());
    let ev = events(pcap(1, false, false, &recs));
    assert_eq!(stream(&ev, 0, Dir::AtoB), "");
    let n = notes(&ev);
    assert_eq!(n.len(), 1);
    assert!(n[0].contains("fragment"));
}

#[test]
fn large_packets_grow_the_buffer() {
    let mut conn = Conn::new("127.0.0.1:40000", "127.0.0.1:443", 1, 2);
    let mut p = conn.handshake();
    let big: Vec<u8> = (0..65_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    p.push(conn.c(&big));
    p.push(conn.c(&big));
    // Two loopback-sized packets, then a 200 KB jumbo record (as TSO/GRO captures have): the
    // IPv4 length field cannot say that much, so it is read as the captured length.
    let mut recs = records(&p, |ip| null(ip, 24, false));
    let mut jumbo = conn.c(b"").ip();
    jumbo[2..4].copy_from_slice(&[0, 0]);
    jumbo.extend_from_slice(&[b'z'; 200_000]);
    recs.push(Rec::new(T0 + 9_000_000, null(&jumbo, 24, false)));
    let ev = events(pcap(0, false, false, &recs));
    let expected = [big.clone(), big.clone(), vec![b'z'; 200_000]].concat();
    assert_eq!(
        stream(&ev, 0, Dir::AtoB),
        String::from_utf8(expected).unwrap()
    );
    // The same through pcapng.
    let mut ng = Ng::new(false);
    ng.idb(0, None, None);
    for r in &recs {
        ng.epb(0, r.ns / 1000, &r.data, r.orig_len);
    }
    let ev2 = events(ng.bytes());
    assert_eq!(summary(&ev), summary(&ev2));
}

#[test]
fn unsupported_link_types() {
    let mut conn = client_server();
    let p = conversation(&mut conn);
    let Err(e) = CaptureReader::new(io::Cursor::new(pcap(
        147,
        false,
        false,
        &records(&p, ethernet),
    ))) else {
        panic!("link type 147 accepted")
    };
    assert_eq!(
        e.to_string(),
        "unsupported link type 147 (user-defined) in every interface (iotdoctor reads Ethernet, \
         raw IP, Linux cooked, BSD loopback and PPP captures)"
    );
    // pcapng: only unsupported interfaces → notes, then the error.
    let mut ng = Ng::new(false);
    ng.idb(127, None, None).idb(147, None, None);
    let f = ethernet(&p[0].ip());
    ng.epb(0, 0, &f, 60).epb(1, 0, &f, 60).epb(1, 0, &f, 60);
    let (ev, err) = read_all(ng.bytes());
    assert_eq!(notes(&ev).len(), 2, "{ev:?}");
    assert!(notes(&ev)[0].starts_with("interface 0 has link type 127 (IEEE 802.11 radiotap)"));
    assert!(
        matches!(err, Some(CaptureError::UnsupportedLinkType { ref link_types }) if link_types == &[127, 147])
    );
    // One supported interface is enough; the other one gets a note.
    let mut ng = Ng::new(false);
    ng.idb(147, None, None).idb(1, None, None);
    for x in &p {
        let f = ethernet(&x.ip());
        ng.epb(0, 0, &f, f.len() as u32)
            .epb(1, 0, &f, f.len() as u32);
    }
    let (ev, err) = read_all(ng.bytes());
    assert!(err.is_none());
    assert_eq!(stream(&ev, 0, Dir::AtoB), "hello!");
    assert_eq!(notes(&ev).len(), 1);
}

#[test]
fn truncated_files_deliver_everything_before_the_cut() {
    let mut conn = client_server();
    let mut p = conn.handshake();
    p.push(conn.c(b"complete"));
    p.push(conn.s(b"also complete"));
    p.push(conn.c(b"cut in the middle"));
    let file = eth_pcap(&p);
    let last_start = file.len() - (16 + 14 + 40 + 17);
    for cut in [
        last_start + 3,
        last_start + 16,
        last_start + 30,
        file.len() - 1,
    ] {
        let (ev, err) = read_all(file[..cut].to_vec());
        assert_eq!(stream(&ev, 0, Dir::AtoB), "complete");
        assert_eq!(stream(&ev, 0, Dir::BtoA), "also complete");
        assert_eq!(summary(&ev).last().unwrap(), "end 0");
        let err = err.expect("truncation is an error");
        assert_eq!(
            err.to_string(),
            format!(
                "truncated capture: the file ends inside a packet record at byte {last_start} \
                 (was it copied while the capture was still running?)"
            )
        );
    }
    // pcapng, and a cut in the file header.
    let mut ng = Ng::new(false);
    ng.idb(1, None, None);
    for x in &p {
        let f = ethernet(&x.ip());
        ng.epb(0, 0, &f, f.len() as u32);
    }
    let bytes = ng.bytes();
    let (ev, err) = read_all(bytes[..bytes.len() - 10].to_vec());
    assert_eq!(stream(&ev, 0, Dir::BtoA), "also complete");
    assert!(err.unwrap().to_string().contains("inside a packet block"));
    for cut in [5, 23] {
        let Err(e) = CaptureReader::new(io::Cursor::new(file[..cut].to_vec())) else {
            panic!("accepted a cut header")
        };
        assert!(e.to_string().contains("inside the file header"), "{e}");
    }
    let Err(e) = CaptureReader::new(io::Cursor::new(bytes[..20].to_vec())) else {
        panic!("accepted a cut section header")
    };
    assert!(e.to_string().contains("inside the section header"), "{e}");
}

#[test]
fn files_that_are_not_captures() {
    let cases: [(&[u8], &str); 4] = [
        (
            b"-----BEGIN CERTIFICATE-----\nMIIB",
            "not a pcap or pcapng file (starts with 2d 2d 2d 2d 2d 42 45 47 \"-----BEG\", a PEM file)",
        ),
        (
            &[0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3],
            "not a pcap or pcapng file (starts with 1f 8b 08 00 00 00 00 00, gzip-compressed: decompress it first)",
        ),
        (
            b"hi",
            "not a pcap or pcapng file (starts with 68 69 \"hi\", a text file)",
        ),
        (b"", "the file is empty, not a pcap or pcapng file"),
    ];
    for (bytes, message) in cases {
        let Err(e) = CaptureReader::new(io::Cursor::new(bytes.to_vec())) else {
            panic!("accepted {bytes:?}")
        };
        assert_eq!(e.to_string(), message);
    }
    let missing = CaptureReader::open(Path::new("/nonexistent/capture.pcap"));
    assert!(matches!(missing, Err(CaptureError::Io(_))));
}

#[test]
fn absurd_lengths_are_corruption_not_allocations() {
    let mut conn = client_server();
    let p = conversation(&mut conn);
    let mut file = eth_pcap(&p[..3]);
    let record = file.len();
    file.extend_from_slice(&eth_pcap(&p[3..4])[24..]);
    file[record + 8..record + 12].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let (ev, err) = read_all(file);
    assert_eq!(started(&ev).len(), 1);
    assert_eq!(
        err.unwrap().to_string(),
        format!("corrupt capture at byte {record}: a packet record claims 4294967296 bytes")
    );
    // pcapng: a block whose length is absurd, and a packet block bigger than its block.
    let mut ng = Ng::new(false);
    ng.idb(1, None, None);
    let good = ng.bytes().len();
    ng.epb(0, 0, &[0; 60], 60);
    let mut bytes = ng.bytes();
    bytes[good + 4..good + 8].copy_from_slice(&0x7FFF_FFF0u32.to_le_bytes());
    let (_, err) = read_all(bytes);
    assert!(err.unwrap().to_string().contains("a packet block claims"));
    let mut bytes = ng.bytes();
    bytes[good + 20..good + 24].copy_from_slice(&1000u32.to_le_bytes()); // caplen > block
    ng.epb(0, 0, &ethernet(&p[0].ip()), 60);
    let tail = ng.bytes()[bytes.len()..].to_vec();
    bytes.extend_from_slice(&tail);
    let (ev, err) = read_all(bytes);
    assert!(err.is_none());
    assert_eq!(notes(&ev), ["some malformed pcapng blocks were skipped"]);
    assert_eq!(started(&ev).len(), 1);
}

/// Reads at most `chunk` bytes per call, and fails after `fail_after` bytes if set.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
    fail_after: Option<usize>,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.fail_after.is_some_and(|f| self.pos >= f) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "device gone",
            ));
        }
        let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn small_reads_and_read_errors() {
    let mut conn = client_server();
    let p = conversation(&mut conn);
    let file = eth_pcap(&p);
    let mut ng = Ng::new(true);
    ng.idb(1, None, None);
    for x in &p {
        let f = ethernet(&x.ip());
        ng.epb(0, 0, &f, f.len() as u32);
    }
    for bytes in [file.clone(), ng.bytes()] {
        for chunk in [1, 7, 100] {
            let reader = CaptureReader::new(Trickle {
                data: bytes.clone(),
                pos: 0,
                chunk,
                fail_after: None,
            })
            .unwrap();
            let (ev, err) = collect(reader);
            assert!(err.is_none());
            assert_eq!(summary(&ev), CONVERSATION[..7]);
        }
    }
    let reader = CaptureReader::new(Trickle {
        data: file.clone(),
        pos: 0,
        chunk: 100,
        fail_after: Some(300),
    })
    .unwrap();
    let (ev, err) = collect(reader);
    assert_eq!(summary(&ev).last().unwrap(), "end 0");
    assert_eq!(
        err.unwrap().to_string(),
        "cannot read the capture: device gone"
    );
}

// ---------------------------------------------------------------- tests: hostile input

/// Reads to the end, however bad the input, with a bound on the events.
fn survive(bytes: Vec<u8>) {
    let Ok(reader) = CaptureReader::new(io::Cursor::new(bytes)) else {
        return;
    };
    let mut n = 0;
    for item in reader {
        n += 1;
        assert!(n < 1_000_000, "runaway iteration");
        if item.is_err() {
            break;
        }
    }
}

#[test]
fn mutated_captures_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut conn = client_server();
    let p = conversation(&mut conn);
    let mut ng = Ng::new(false);
    ng.idb(1, Some(9), Some(5)).idb(276, None, None);
    for x in &p {
        let f = ethernet(&x.ip());
        ng.epb(0, 0, &f, f.len() as u32);
        ng.epb(1, 0, &sll2(&x.ip()), 90);
        ng.spb(&f);
    }
    let seeds = [
        eth_pcap(&p),
        pcap(113, true, true, &records(&p, sll)),
        pcap(0, false, false, &records(&p, |ip| null(ip, 30, false))),
        ng.bytes(),
    ];
    for round in 0..3000 {
        let mut bytes = seeds[round % seeds.len()].clone();
        for _ in 0..=rng.below(8) {
            if bytes.is_empty() {
                break;
            }
            let len = bytes.len() as u64;
            match rng.below(5) {
                0 => {
                    let i = rng.below(len) as usize;
                    bytes[i] = rng.next() as u8;
                }
                1 => {
                    let i = rng.below(len) as usize;
                    bytes[i] ^= 1 << rng.below(8);
                }
                2 => bytes.truncate(rng.below(len + 1) as usize),
                3 => {
                    // An extreme 32-bit value somewhere.
                    let i = rng.below(len.saturating_sub(4)) as usize;
                    let v = [0u32, 1, 0xFFFF_FFFF, 0x8000_0000, 0xFFFF, 12][rng.below(6) as usize];
                    if i + 4 <= bytes.len() {
                        bytes[i..i + 4].copy_from_slice(&v.to_le_bytes());
                    }
                }
                _ => {
                    let i = rng.below(len) as usize;
                    let junk: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
                    bytes.splice(i..i, junk);
                }
            }
        }
        survive(bytes);
    }
    // Random bytes behind each magic number.
    for round in 0..2000 {
        let magic: &[u8] = match round % 4 {
            0 => &[0xD4, 0xC3, 0xB2, 0xA1],
            1 => &[0xA1, 0xB2, 0x3C, 0x4D],
            2 => &[0x34, 0xCD, 0xB2, 0xA1],
            _ => &[0x0A, 0x0D, 0x0D, 0x0A],
        };
        let mut bytes = magic.to_vec();
        bytes.extend((0..rng.below(600)).map(|_| rng.next() as u8));
        if round % 8 == 3 && bytes.len() >= 12 {
            bytes[8..12].copy_from_slice(&[0x4D, 0x3C, 0x2B, 0x1A]);
        }
        survive(bytes);
    }
}

#[test]
fn random_segments_keep_streams_consistent() {
    // Random flags, sequence numbers near the expected ones, lengths, cuts, and link framing:
    // the invariants of `check_consistency` hold and every byte is delivered at most once.
    let mut rng = Rng(12345);
    for round in 0..300 {
        let mut recs = Vec::new();
        let base = rng.next() as u32;
        let ends = [
            addr("10.0.0.1:1000"),
            addr("10.0.0.2:443"),
            addr("10.0.0.3:1000"),
        ];
        let mut t = T0;
        for _ in 0..rng.below(200) {
            let src = ends[rng.below(3) as usize];
            let dst = ends[rng.below(3) as usize];
            if src == dst {
                continue;
            }
            let flags = ["S", "SA", "A", "PA", "FA", "R", "RA", "FPA", "SF"][rng.below(9) as usize];
            let len = [0, 1, 10, 1400, 3000][rng.below(5) as usize];
            let tcp = Tcp {
                src,
                dst,
                seq: if round % 4 == 0 {
                    rng.next() as u32
                } else {
                    base.wrapping_add(rng.below(300_000) as u32)
                        .wrapping_sub(1000)
                },
                ack: rng.next() as u32,
                flags,
                payload: vec![b'.'; len],
            };
            let mut data = ethernet(&tcp.ip());
            let orig_len = data.len() as u32;
            if rng.below(5) == 0 {
                data.truncate(rng.below(orig_len as u64) as usize);
            }
            t += rng.below(if round % 10 == 0 {
                600_000_000_000
            } else {
                10_000_000
            });
            recs.push(Rec {
                ns: t,
                data,
                orig_len,
            });
        }
        let (ev, _) = read_all(pcap(1, false, false, &recs));
        // Each direction's data + gaps never exceed what the sequence space allows.
        for e in &ev {
            if let CaptureEvent::Gap { missing, .. } = e {
                assert!(*missing < 1 << 32);
            }
        }
    }
}

/// Reads a real capture (for example `tcpdump -i lo -w /tmp/lo.pcap` around a TLS handshake)
/// that `IOTDOCTOR_TEST_PCAP` names. Run it with
/// `IOTDOCTOR_TEST_PCAP=/tmp/lo.pcap cargo test --lib real_capture_from_env -- --ignored`.
#[test]
#[ignore = "needs a capture: IOTDOCTOR_TEST_PCAP=FILE cargo test --lib real_capture_from_env -- --ignored"]
fn real_capture_from_env() {
    let path = std::env::var_os("IOTDOCTOR_TEST_PCAP")
        .expect("IOTDOCTOR_TEST_PCAP names the capture to read");
    let reader = CaptureReader::open(Path::new(&path)).expect("the capture opens");
    let (ev, err) = collect(reader);
    assert!(err.is_none(), "{err:?}");
    let flows = started(&ev);
    assert!(!flows.is_empty(), "no TCP flow in {path:?}");
    let with_data = flows
        .iter()
        .filter(|f| {
            !stream(&ev, f.0, Dir::AtoB).is_empty() && !stream(&ev, f.0, Dir::BtoA).is_empty()
        })
        .count();
    assert!(with_data > 0, "no flow with data both ways");
    eprintln!(
        "{} flows, {} with data both ways, {} events",
        flows.len(),
        with_data,
        ev.len()
    );
}

/// The byte a test stream carries at sequence number `seq`: any misplaced byte shows.
fn content(seq: u32) -> u8 {
    (seq.wrapping_mul(2_654_435_761) >> 24) as u8
}

#[test]
fn random_reordering_keeps_every_byte_in_place() {
    let mut rng = Rng(0xDEAD_BEEF);
    let mut skipped_holes = 0;
    for round in 0..150 {
        let isn = if round % 3 == 0 {
            u32::MAX - rng.below(5000) as u32
        } else {
            rng.next() as u32
        };
        let mut conn = Conn::new("10.0.0.1:40000", "10.0.0.2:443", isn, 7);
        let mut p = conn.handshake();
        // Some rounds hold a segment back for more than a mebibyte: the hole is skipped.
        let hold_back = round % 5 == 1;
        let total = 1 + rng.below(if hold_back { 3_000_000 } else { 300_000 }) as u32;
        let first = isn.wrapping_add(1);
        let drops = round % 2 == 0;
        let mut segs = Vec::new();
        let mut off = 0;
        while off < total {
            let len = (1 + rng.below(3000) as u32).min(total - off);
            let start = if rng.below(4) == 0 {
                off.saturating_sub(rng.below(2000) as u32)
            } else {
                off
            };
            let end = off + len;
            segs.push((start, end));
            if rng.below(6) == 0 {
                segs.push((start, end)); // duplicate
            }
            off = end;
        }
        if drops {
            segs.retain(|_| rng.below(10) != 0);
        }
        // Local shuffling: swap neighbours within a window.
        for i in 0..segs.len() {
            let j = i + rng.below(8) as usize;
            if j < segs.len() {
                segs.swap(i, j);
            }
        }
        if hold_back && segs.len() > 1200 {
            let late = segs.remove(100);
            segs.insert(1100, late);
        }
        for (start, end) in segs {
            let seq = first.wrapping_add(start);
            let payload: Vec<u8> = (start..end)
                .map(|o| content(first.wrapping_add(o)))
                .collect();
            p.push(Tcp {
                src: conn.c,
                dst: conn.s,
                seq,
                ack: 0,
                flags: "PA",
                payload,
            });
        }
        let ev = events(pcap(101, false, false, &records(&p, |ip| ip.to_vec())));
        let mut at = 0u64;
        let mut gaps = 0;
        for e in &ev {
            match e {
                CaptureEvent::Data { bytes, .. } => {
                    for b in bytes {
                        assert_eq!(
                            *b,
                            content(first.wrapping_add(at as u32)),
                            "round {round} offset {at}"
                        );
                        at += 1;
                    }
                }
                CaptureEvent::Gap { missing, .. } => {
                    at += missing;
                    gaps += 1;
                }
                _ => {}
            }
        }
        assert!(at <= u64::from(total), "round {round}: {at} > {total}");
        if !drops && !hold_back {
            assert_eq!((at, gaps), (u64::from(total), 0), "round {round}");
        }
        if !drops && hold_back {
            skipped_holes += gaps;
        }
    }
    assert!(skipped_holes > 0, "{skipped_holes}");
}

#[test]
fn many_tiny_out_of_order_pieces_are_bounded() {
    // One-byte segments with a hole before each: more than 1024 separate pieces would wait.
    let mut conn = client_server();
    let mut p = conn.handshake();
    let base = conn.cseq;
    for i in 0..3000u32 {
        p.push(Tcp {
            seq: base.wrapping_add(2 * i + 1),
            ..conn.c(b"x")
        });
    }
    p.push(conn.s(b"last"));
    let ev = events(eth_pcap(&p));
    assert_eq!(stream(&ev, 0, Dir::AtoB), "[gap 1]x".repeat(3000));
    // Holes were given up while reading, long before the end.
    let first_gap = ev
        .iter()
        .position(|e| matches!(e, CaptureEvent::Gap { .. }))
        .unwrap();
    let last = ev
        .iter()
        .position(|e| matches!(e, CaptureEvent::Data { dir: Dir::BtoA, .. }))
        .unwrap();
    let gaps_before_last = ev[first_gap..last]
        .iter()
        .filter(|e| matches!(e, CaptureEvent::Gap { .. }))
        .count();
    assert!(gaps_before_last >= 3000 - 1025, "{gaps_before_last}");
}

#[test]
fn the_reader_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<CaptureReader<Source>>();
    send::<CaptureEvent>();
    send::<CaptureError>();
}
