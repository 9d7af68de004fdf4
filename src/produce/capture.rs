//! Packet captures: reads pcap and pcapng files in bounded memory and reassembles each direction
//! of each TCP connection into an ordered byte stream, as [`CaptureEvent`]s. TLS is decoded by
//! the next stage; this module stops at TCP payload bytes.
//!
//! Reading goes through pcap-parser's streaming readers (one buffer of 1 MiB, grown only for a
//! block that does not fit); `packet` decodes link, IP and TCP headers; `flows` keeps flows and
//! puts bytes back in order.

mod flows;
mod packet;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{
    InterfaceDescriptionBlock, LegacyPcapReader, OptionCode, PcapBlockOwned, PcapError,
    PcapNGReader,
};
use serde::Serialize;

use self::flows::Tracker;

/// Which way bytes flow within a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dir {
    /// From the flow's endpoint `a` to `b`. `a` is the client (the SYN's sender, or the
    /// receiver of the SYN-ACK when only that was captured); when neither was captured, `a` is
    /// the sender of the first packet seen.
    AtoB,
    /// From `b` to `a`.
    BtoA,
}

impl Dir {
    /// The other direction.
    pub fn reverse(self) -> Dir {
        match self {
            Dir::AtoB => Dir::BtoA,
            Dir::BtoA => Dir::AtoB,
        }
    }

    /// 0 for `AtoB`, 1 for `BtoA`: handy to index per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Dir::AtoB => 0,
            Dir::BtoA => 1,
        }
    }
}

/// How one side closed its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Close {
    Fin,
    Rst,
}

/// What a capture says, in capture order. For one direction of one flow, `Data` and `Gap`
/// events together cover the stream exactly once, in order, from the first byte seen.
///
/// `B` holds the bytes of `Data`: owned as the iterator gives them, borrowed (from the packet,
/// most of the time) as [`CaptureReader::visit`] gives them.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptureEvent<B = Vec<u8>> {
    /// A TCP connection seen for the first time. `syn_seen`: its opening SYN was captured, so
    /// both streams are complete from their first byte (as far as the capture goes).
    FlowStarted {
        flow: u64,
        a: SocketAddr,
        b: SocketAddr,
        /// Capture timestamp, seconds since the Unix epoch.
        at: f64,
        syn_seen: bool,
    },
    /// The next in-order bytes of one direction.
    Data {
        flow: u64,
        dir: Dir,
        at: f64,
        bytes: B,
    },
    /// Bytes of one direction that were never captured: the stream skips over them.
    Gap {
        flow: u64,
        dir: Dir,
        at: f64,
        missing: u64,
    },
    /// FIN (once every byte before it was delivered or reported missing) or RST from one side.
    Closed {
        flow: u64,
        dir: Dir,
        at: f64,
        how: Close,
    },
    /// The flow will produce nothing more (both FINs, a RST, idle for 5 minutes of capture
    /// time, or end of capture); its state is freed. A later SYN on the same 4-tuple starts a
    /// new flow.
    FlowEnded { flow: u64, at: f64 },
    /// Something about the capture worth telling the user (snapshot length cut packets, a link
    /// type iotdoctor cannot read on one interface, fragments ignored, ...). Each kind is said
    /// once (per flow when tied to one).
    Note { flow: Option<u64>, message: String },
}

impl<B> CaptureEvent<B> {
    /// The same event with its `Data` bytes, if any, passed through `f`.
    fn map_bytes<C>(self, f: impl FnOnce(B) -> C) -> CaptureEvent<C> {
        match self {
            CaptureEvent::FlowStarted {
                flow,
                a,
                b,
                at,
                syn_seen,
            } => CaptureEvent::FlowStarted {
                flow,
                a,
                b,
                at,
                syn_seen,
            },
            CaptureEvent::Data {
                flow,
                dir,
                at,
                bytes,
            } => CaptureEvent::Data {
                flow,
                dir,
                at,
                bytes: f(bytes),
            },
            CaptureEvent::Gap {
                flow,
                dir,
                at,
                missing,
            } => CaptureEvent::Gap {
                flow,
                dir,
                at,
                missing,
            },
            CaptureEvent::Closed { flow, dir, at, how } => {
                CaptureEvent::Closed { flow, dir, at, how }
            }
            CaptureEvent::FlowEnded { flow, at } => CaptureEvent::FlowEnded { flow, at },
            CaptureEvent::Note { flow, message } => CaptureEvent::Note { flow, message },
        }
    }

    /// The flow the event belongs to, if any.
    pub fn flow(&self) -> Option<u64> {
        match self {
            CaptureEvent::FlowStarted { flow, .. }
            | CaptureEvent::Data { flow, .. }
            | CaptureEvent::Gap { flow, .. }
            | CaptureEvent::Closed { flow, .. }
            | CaptureEvent::FlowEnded { flow, .. } => Some(*flow),
            CaptureEvent::Note { flow, .. } => *flow,
        }
    }
}

/// Where the reader puts events as it makes them: the iterator's queue, or the function given
/// to [`CaptureReader::visit`]. `Data` bytes come borrowed when they can (a segment that
/// arrived in order is delivered straight from the packet) and owned when they had to be put
/// together.
trait Sink {
    fn push(&mut self, event: CaptureEvent<Cow<'_, [u8]>>);
}

impl Sink for VecDeque<CaptureEvent> {
    fn push(&mut self, event: CaptureEvent<Cow<'_, [u8]>>) {
        self.push_back(event.map_bytes(Cow::into_owned));
    }
}

/// Hands each event to a function, `Data` bytes as a slice.
struct Visit<F>(F);

impl<F: FnMut(CaptureEvent<&[u8]>)> Sink for Visit<F> {
    fn push(&mut self, event: CaptureEvent<Cow<'_, [u8]>>) {
        let mut data = Cow::Borrowed(&[][..]);
        let event = event.map_bytes(|bytes| data = bytes);
        (self.0)(event.map_bytes(|()| &*data));
    }
}

/// Why a capture cannot be read (further).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read the capture: {0}")]
    Io(#[from] io::Error),
    #[error("the file is empty, not a pcap or pcapng file")]
    Empty,
    #[error("not a pcap or pcapng file (starts with {start})")]
    NotACapture {
        /// The first bytes, in hex and as text, with a guess at what the file is.
        start: String,
    },
    #[error(
        "truncated capture: the file ends inside {inside} at byte {offset} (was it copied while \
         the capture was still running?)"
    )]
    Truncated {
        /// "the file header", "a packet record", "a block".
        inside: &'static str,
        /// Where that header, record or block starts.
        offset: u64,
    },
    #[error("corrupt capture at byte {offset}: {problem}")]
    Corrupt { offset: u64, problem: String },
    #[error(
        "unsupported link type {} in every interface (iotdoctor reads Ethernet, raw IP, Linux \
         cooked, BSD loopback and PPP captures)",
        describe_link_types(.link_types)
    )]
    UnsupportedLinkType { link_types: Vec<i32> },
}

/// Reads a capture as [`CaptureEvent`]s. Memory stays bounded by the open flows (and 1 MiB of
/// out-of-order data per direction at most), whatever the file size.
///
/// The iteration ends with `None` after the last event; when the file cannot be read to its end
/// (truncated, corrupt, I/O error), every event before the problem is delivered first, all open
/// flows are ended, and the last item is the error.
pub struct CaptureReader<R: Read> {
    format: Format<R>,
    state: State,
    /// Events made and not yet handed out by the iterator.
    queue: VecDeque<CaptureEvent>,
}

enum Format<R: Read> {
    Legacy(LegacyPcapReader<Prefixed<R>>),
    Ng(PcapNGReader<Prefixed<R>>),
}

/// Buffer size to start with: large reads, few system calls.
const INITIAL_BUFFER: usize = 1024 * 1024;
/// The largest block or packet record accepted; anything claiming more is corruption.
const MAX_BLOCK: usize = 16 * 1024 * 1024;
/// A legacy pcap record may exceed a small snapshot length up to this much (as libpcap allows).
const LEGACY_MAX_RECORD: usize = 262_144;
const PCAPNG_MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const EPB_TYPE: u32 = 6;
const SPB_TYPE: u32 = 3;
const OBSOLETE_PB_TYPE: u32 = 2;

/// A capture read from a file, or from stdin (`-`: `tcpdump -w - | iotdoctor analyze -`).
pub type Source = Box<dyn Read + Send>;

impl CaptureReader<Source> {
    /// Opens the capture at `path`; `-` is stdin.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let source: Source = if path == Path::new("-") {
            Box::new(std::io::stdin())
        } else {
            Box::new(File::open(path)?)
        };
        Self::new(source)
    }
}

impl<R: Read> CaptureReader<R> {
    /// Checks that `reader` starts like a pcap or pcapng file and prepares to read it.
    pub fn new(mut reader: R) -> Result<Self, CaptureError> {
        let mut head = Vec::with_capacity(64);
        read_up_to(&mut reader, &mut head, 24)?;
        if head.is_empty() {
            return Err(CaptureError::Empty);
        }
        let file = if head.starts_with(&PCAPNG_MAGIC) {
            let big_endian = section_big_endian(&head)?;
            let len = read_u32(&head, 4, big_endian).unwrap_or(0) as usize;
            if !(28..=MAX_BLOCK).contains(&len) {
                return Err(corrupt(
                    0,
                    format!("the pcapng section header claims {len} bytes"),
                ));
            }
            read_up_to(&mut reader, &mut head, len)?;
            if head.len() < len {
                return Err(CaptureError::Truncated {
                    inside: "the section header",
                    offset: 0,
                });
            }
            FileKind::Ng { big_endian }
        } else if let Some(header) = LegacyHeader::parse(&head)? {
            if !packet::is_supported(header.link) {
                return Err(CaptureError::UnsupportedLinkType {
                    link_types: vec![header.link],
                });
            }
            FileKind::Legacy(header)
        } else {
            return Err(CaptureError::NotACapture {
                start: describe_start(&head),
            });
        };
        let capacity = INITIAL_BUFFER.max(head.len().next_power_of_two());
        let read_error = Arc::new(Mutex::new(None));
        let source = Prefixed {
            head,
            pos: 0,
            inner: reader,
            error: Arc::clone(&read_error),
        };
        let mut state = State {
            read_error,
            capacity,
            big_endian: false,
            legacy: None,
            interfaces: Vec::new(),
            any_interface: false,
            any_supported: false,
            unsupported: Vec::new(),
            last_at: 0.0,
            packets: 0,
            tracker: Tracker::default(),
            phase: Phase::Reading,
            noted: 0,
        };
        let format = match file {
            FileKind::Legacy(header) => {
                state.any_interface = true;
                state.any_supported = true;
                state.interfaces.push(Interface::legacy(&header));
                state.legacy = Some(header);
                LegacyPcapReader::new(capacity, source).map(Format::Legacy)
            }
            FileKind::Ng { big_endian } => {
                state.big_endian = big_endian;
                PcapNGReader::new(capacity, source).map(Format::Ng)
            }
        };
        // The header was checked above, so this fails only on a read error.
        let format = format.map_err(|_| CaptureError::Io(state.take_read_error()))?;
        Ok(CaptureReader {
            format,
            state,
            queue: VecDeque::new(),
        })
    }

    /// Flows currently open (started and not yet ended).
    pub fn open_flows(&self) -> usize {
        self.state.tracker.open_flows()
    }

    /// Packet records read so far (TCP or not).
    pub fn packets(&self) -> u64 {
        self.state.packets
    }

    /// Reads the whole capture, handing each event to `visit` as it is made, with `Data` bytes
    /// borrowed where they can be (from the packet that carried them) instead of copied: the
    /// same events as the iterator gives, in the same order. On a file that cannot be read to
    /// its end, every event before the problem is delivered and all open flows are ended, then
    /// the error is returned.
    pub fn visit(mut self, visit: impl FnMut(CaptureEvent<&[u8]>)) -> Result<(), CaptureError> {
        let mut sink = Visit(visit);
        for event in self.queue.drain(..) {
            sink.push(event.map_bytes(Cow::Owned));
        }
        loop {
            match std::mem::replace(&mut self.state.phase, Phase::Done) {
                Phase::Reading => {
                    self.state.phase = Phase::Reading;
                    step(&mut self.format, &mut self.state, &mut sink);
                }
                Phase::Failed(error) => return Err(error),
                Phase::Done => return Ok(()),
            }
        }
    }
}

/// Reads one block or record from the file, or handles the end of the file.
fn step<R: Read>(format: &mut Format<R>, st: &mut State, sink: &mut dyn Sink) {
    let reader: &mut dyn PcapReaderIterator = match format {
        Format::Legacy(r) => r,
        Format::Ng(r) => r,
    };
    let outcome = match reader.next() {
        Ok((len, block)) => {
            st.block(block, sink);
            Outcome::Read(len)
        }
        Err(PcapError::Eof) => Outcome::Eof,
        Err(PcapError::UnexpectedEof) => Outcome::Truncated,
        Err(PcapError::Incomplete(_) | PcapError::BufferTooSmall) => Outcome::NeedMore,
        Err(PcapError::ReadError) => Outcome::ReadError,
        Err(_) => Outcome::Malformed,
    };
    let offset = reader.consumed() as u64;
    match outcome {
        // Not `consume`, which moves the unread data to the front of the buffer whenever half
        // of it is read: `refill` does that once, when the buffer runs out.
        Outcome::Read(len) => reader.consume_noshift(len),
        Outcome::Eof => st.finish(None, sink),
        Outcome::Truncated => {
            let inside = st.what_is_at(reader.data());
            st.finish(Some(CaptureError::Truncated { inside, offset }), sink);
        }
        Outcome::ReadError => {
            let error = st.take_read_error();
            st.finish(Some(CaptureError::Io(error)), sink);
        }
        Outcome::NeedMore => match st.block_len(reader.data()) {
            Some(len)
                if len > MAX_BLOCK || st.legacy.as_ref().is_some_and(|h| len > h.max_record()) =>
            {
                let problem = format!("{} claims {len} bytes", st.what_is_at(reader.data()));
                st.finish(Some(corrupt(offset, problem)), sink);
            }
            Some(len) if len <= reader.data().len() => st.malformed(reader, offset, sink),
            need => {
                if let Some(len) = need.filter(|&len| len >= st.capacity) {
                    // The reader wants room for the whole block plus a little.
                    st.capacity = len + 4096;
                    reader.grow(st.capacity);
                }
                if reader.refill().is_err() {
                    let error = st.take_read_error();
                    st.finish(Some(CaptureError::Io(error)), sink);
                }
            }
        },
        Outcome::Malformed => st.malformed(reader, offset, sink),
    }
}

impl<R: Read> Iterator for CaptureReader<R> {
    type Item = Result<CaptureEvent, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(Ok(event));
            }
            match std::mem::replace(&mut self.state.phase, Phase::Done) {
                Phase::Reading => {
                    self.state.phase = Phase::Reading;
                    step(&mut self.format, &mut self.state, &mut self.queue);
                }
                Phase::Failed(error) => return Some(Err(error)),
                Phase::Done => return None,
            }
        }
    }
}

impl<R: Read> std::iter::FusedIterator for CaptureReader<R> {}

enum Outcome {
    Read(usize),
    Eof,
    Truncated,
    NeedMore,
    ReadError,
    Malformed,
}

enum Phase {
    Reading,
    /// Events are drained, then this error is the last item.
    Failed(CaptureError),
    Done,
}

enum FileKind {
    Legacy(LegacyHeader),
    Ng { big_endian: bool },
}

/// What we need from a legacy pcap file header.
#[derive(Debug, Clone)]
struct LegacyHeader {
    big_endian: bool,
    nanoseconds: bool,
    /// 24 for the "modified" (Kuznetzov) format, else 16.
    record_header: usize,
    snaplen: u32,
    link: i32,
}

impl LegacyHeader {
    /// `Ok(None)` when `head` does not start with a pcap magic number.
    fn parse(head: &[u8]) -> Result<Option<LegacyHeader>, CaptureError> {
        let Some(magic) = head.get(..4) else {
            return Ok(None);
        };
        let magic = [magic[0], magic[1], magic[2], magic[3]];
        let (big_endian, nanoseconds, record_header) =
            match (u32::from_le_bytes(magic), u32::from_be_bytes(magic)) {
                (0xA1B2_C3D4, _) => (false, false, 16),
                (0xA1B2_3C4D, _) => (false, true, 16),
                (0xA1B2_CD34, _) => (false, false, 24),
                (_, 0xA1B2_C3D4) => (true, false, 16),
                (_, 0xA1B2_3C4D) => (true, true, 16),
                _ => return Ok(None),
            };
        if head.len() < 24 {
            return Err(CaptureError::Truncated {
                inside: "the file header",
                offset: 0,
            });
        }
        let snaplen = read_u32(head, 16, big_endian).unwrap_or(0);
        // The upper 16 bits hold FCS information, not the link type.
        let link = (read_u32(head, 20, big_endian).unwrap_or(0) & 0xFFFF) as i32;
        Ok(Some(LegacyHeader {
            big_endian,
            nanoseconds,
            record_header,
            snaplen,
            link,
        }))
    }

    /// The largest packet record length believable for this file.
    fn max_record(&self) -> usize {
        (self.snaplen as usize).clamp(LEGACY_MAX_RECORD, MAX_BLOCK) + self.record_header
    }
}

/// One capture interface: how to decode its frames and timestamps.
#[derive(Debug)]
struct Interface {
    link: i32,
    supported: bool,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp (pcapng `if_tsoffset`).
    offset: i64,
    snaplen: u32,
    /// An unsupported link type was reported for this interface.
    noted: bool,
}

impl Interface {
    fn legacy(header: &LegacyHeader) -> Interface {
        Interface {
            link: header.link,
            supported: packet::is_supported(header.link),
            units: if header.nanoseconds {
                1_000_000_000
            } else {
                1_000_000
            },
            offset: 0,
            snaplen: header.snaplen,
            noted: false,
        }
    }

    /// Timestamp in seconds since the epoch for a raw count of units.
    fn timestamp(&self, raw: u64) -> f64 {
        (raw / self.units) as f64
            + (raw % self.units) as f64 / self.units as f64
            + self.offset as f64
    }
}

/// Everything but the pcap-parser reader, so that blocks borrowed from the reader can be handled.
struct State {
    read_error: Arc<Mutex<Option<io::Error>>>,
    capacity: usize,
    /// Byte order of the current pcapng section.
    big_endian: bool,
    legacy: Option<LegacyHeader>,
    /// Interfaces of the current pcapng section (or the one of a legacy pcap).
    interfaces: Vec<Interface>,
    any_interface: bool,
    any_supported: bool,
    unsupported: Vec<i32>,
    /// The latest packet timestamp (for Simple Packet Blocks, which have none).
    last_at: f64,
    packets: u64,
    tracker: Tracker,
    phase: Phase,
    /// Bit set of [`Once`] notes already given.
    noted: u32,
}

/// Notes given once per capture.
#[derive(Debug, Clone, Copy)]
enum Once {
    Fragments,
    HeaderCut,
    Malformed,
    UnknownInterface,
    NoInterface,
    TimestampResolution,
    SkippedBlock,
}

impl State {
    fn block(&mut self, block: PcapBlockOwned<'_>, sink: &mut dyn Sink) {
        match block {
            PcapBlockOwned::LegacyHeader(_) => {}
            PcapBlockOwned::Legacy(record) => {
                let Some(interface) = self.interfaces.first() else {
                    return;
                };
                let frac = u64::from(record.ts_usec);
                let at = record.ts_sec as f64 + frac as f64 / interface.units as f64;
                self.frame(0, at, record.data, record.origlen, sink);
            }
            PcapBlockOwned::NG(block) => self.ng_block(block, sink),
        }
    }

    fn ng_block(&mut self, block: Block<'_>, sink: &mut dyn Sink) {
        match block {
            Block::SectionHeader(shb) => {
                self.big_endian = shb.big_endian();
                self.interfaces.clear();
            }
            Block::InterfaceDescription(idb) => {
                let interface = self.interface(&idb, sink);
                self.any_interface = true;
                if interface.supported {
                    self.any_supported = true;
                } else if !self.unsupported.contains(&interface.link) && self.unsupported.len() < 8
                {
                    self.unsupported.push(interface.link);
                }
                self.interfaces.push(interface);
            }
            Block::EnhancedPacket(epb) => {
                let index = epb.if_id as usize;
                let Some(interface) = self.interfaces.get(index) else {
                    self.packets += 1;
                    self.note_once(Once::UnknownInterface, "some packets refer to an interface the capture does not describe; they are ignored", sink);
                    return;
                };
                let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let at = interface.timestamp(raw);
                self.frame(index, at, epb.packet_data(), epb.origlen, sink);
            }
            Block::SimplePacket(spb) => {
                let Some(interface) = self.interfaces.first() else {
                    self.packets += 1;
                    self.note_once(
                        Once::NoInterface,
                        "some packets come before any interface description; they are ignored",
                        sink,
                    );
                    return;
                };
                // The captured length is the original length cut to the interface's snaplen.
                let snaplen = interface.snaplen as usize;
                let mut data = spb.packet_data();
                if snaplen > 0 && data.len() > snaplen {
                    data = &data[..snaplen];
                }
                self.frame(0, self.last_at, data, spb.origlen, sink);
            }
            _ => {}
        }
    }

    /// An interface from its description block, in the byte order of the current section.
    fn interface(&mut self, idb: &InterfaceDescriptionBlock<'_>, sink: &mut dyn Sink) -> Interface {
        let link = i32::from(idb.linktype.0 as u16);
        let mut units = 1_000_000;
        let mut offset = 0;
        for option in &idb.options {
            let value = option.value();
            if option.code == OptionCode::IfTsresol {
                let Some(&resolution) = value.first() else {
                    continue;
                };
                match units_per_second(resolution) {
                    Some(u) => units = u,
                    None => self.note_once(
                        Once::TimestampResolution,
                        "an interface declares an impossible timestamp resolution; its \
                         timestamps are read as microseconds",
                        sink,
                    ),
                }
            } else if option.code == OptionCode::IfTsoffset
                && let Some(raw) = read_u64(value, self.big_endian)
            {
                offset = raw as i64;
            }
        }
        Interface {
            link,
            supported: packet::is_supported(link),
            units,
            offset,
            snaplen: idb.snaplen,
            noted: false,
        }
    }

    /// One captured frame on interface `index`.
    fn frame(&mut self, index: usize, at: f64, data: &[u8], orig_len: u32, sink: &mut dyn Sink) {
        self.packets += 1;
        self.last_at = at;
        let Some(interface) = self.interfaces.get_mut(index) else {
            return;
        };
        if !interface.supported {
            if !interface.noted {
                interface.noted = true;
                let message = format!(
                    "interface {index} has link type {}, which iotdoctor cannot decode; its \
                     packets are ignored",
                    describe_link_types(&[interface.link])
                );
                sink.push(CaptureEvent::Note {
                    flow: None,
                    message,
                });
            }
            return;
        }
        match packet::decode(interface.link, data, orig_len) {
            Ok(segment) => self.tracker.segment(at, &segment, sink),
            Err(packet::Skip::NotIp | packet::Skip::NotTcp) => {}
            Err(packet::Skip::Fragment) => self.note_once(
                Once::Fragments,
                "IP fragments are not reassembled: fragmented TCP packets are ignored",
                sink,
            ),
            Err(packet::Skip::HeaderCut) => self.note_once(
                Once::HeaderCut,
                "the capture's snapshot length cut some packets inside their TCP header; they \
                 are ignored (capture with `tcpdump -s 0` to keep whole packets)",
                sink,
            ),
            Err(packet::Skip::Malformed) => self.note_once(
                Once::Malformed,
                "some packets have malformed IP or TCP headers; they are ignored",
                sink,
            ),
        }
    }

    fn note_once(&mut self, kind: Once, message: &str, sink: &mut dyn Sink) {
        let bit = 1 << kind as u32;
        if self.noted & bit == 0 {
            self.noted |= bit;
            sink.push(CaptureEvent::Note {
                flow: None,
                message: message.to_string(),
            });
        }
    }

    /// The total length of the block or record starting `data`, once its header is there.
    fn block_len(&self, data: &[u8]) -> Option<usize> {
        if let Some(header) = &self.legacy {
            let caplen = read_u32(data, 8, header.big_endian)?;
            return Some(header.record_header.saturating_add(caplen as usize));
        }
        let big_endian = if data.starts_with(&PCAPNG_MAGIC) {
            section_big_endian(data).ok()?
        } else {
            self.big_endian
        };
        read_u32(data, 4, big_endian).map(|len| len as usize)
    }

    /// Names what starts `data`, for error messages.
    fn what_is_at(&self, data: &[u8]) -> &'static str {
        if self.legacy.is_some() {
            return "a packet record";
        }
        match read_u32(data, 0, self.big_endian) {
            Some(EPB_TYPE | SPB_TYPE | OBSOLETE_PB_TYPE) => "a packet block",
            _ => "a block",
        }
    }

    /// The block at the start of the reader's data does not parse. A pcapng block whose two
    /// length fields agree is skipped; anything else ends the reading.
    fn malformed(&mut self, reader: &mut dyn PcapReaderIterator, offset: u64, sink: &mut dyn Sink) {
        let data = reader.data();
        let what = self.what_is_at(data);
        let skip = self.block_len(data).filter(|&len| {
            self.legacy.is_none()
                && !data.starts_with(&PCAPNG_MAGIC)
                && len >= 12
                && len % 4 == 0
                && len <= data.len()
                && read_u32(data, len - 4, self.big_endian) == Some(len as u32)
        });
        match skip {
            Some(len) => {
                reader.consume(len);
                self.note_once(
                    Once::SkippedBlock,
                    "some malformed pcapng blocks were skipped",
                    sink,
                );
            }
            None => self.finish(
                Some(corrupt(offset, format!("{what} does not parse"))),
                sink,
            ),
        }
    }

    /// The end of reading: ends all flows, then the iteration ends, with `error` if given.
    fn finish(&mut self, error: Option<CaptureError>, sink: &mut dyn Sink) {
        self.tracker.finish(sink);
        let error = error.or_else(|| {
            (self.any_interface && !self.any_supported).then(|| CaptureError::UnsupportedLinkType {
                link_types: self.unsupported.clone(),
            })
        });
        self.phase = match error {
            Some(error) => Phase::Failed(error),
            None => Phase::Done,
        };
    }

    fn take_read_error(&self) -> io::Error {
        self.read_error
            .lock()
            .ok()
            .and_then(|mut slot| slot.take())
            .unwrap_or_else(|| io::Error::other("read failed"))
    }
}

/// The wrapped reader: first the bytes already read to recognize the format, then the rest.
/// Keeps the I/O error, which pcap-parser reduces to "read error".
struct Prefixed<R> {
    head: Vec<u8>,
    pos: usize,
    inner: R,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head.len() {
            let n = buf.len().min(self.head.len() - self.pos);
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            if self.pos == self.head.len() {
                self.head = Vec::new();
                self.pos = 0;
            }
            return Ok(n);
        }
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let kind = e.kind();
                    if let Ok(mut slot) = self.error.lock() {
                        *slot = Some(e);
                    }
                    return Err(kind.into());
                }
                Ok(n) => return Ok(n),
            }
        }
    }
}

/// Reads until `buf` holds `len` bytes or the reader ends.
fn read_up_to(reader: &mut impl Read, buf: &mut Vec<u8>, len: usize) -> io::Result<()> {
    while buf.len() < len {
        let have = buf.len();
        buf.resize(len, 0);
        match reader.read(&mut buf[have..]) {
            Ok(0) => {
                buf.truncate(have);
                return Ok(());
            }
            Ok(n) => buf.truncate(have + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(have),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The byte order of the pcapng section whose header starts `head`.
fn section_big_endian(head: &[u8]) -> Result<bool, CaptureError> {
    match (read_u32(head, 8, false), read_u32(head, 8, true)) {
        (Some(BYTE_ORDER_MAGIC), _) => Ok(false),
        (_, Some(BYTE_ORDER_MAGIC)) => Ok(true),
        (None, _) => Err(CaptureError::Truncated {
            inside: "the section header",
            offset: 0,
        }),
        _ => Err(corrupt(
            0,
            "the pcapng section header has no byte-order magic".into(),
        )),
    }
}

fn read_u32(bytes: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

fn read_u64(bytes: &[u8], big_endian: bool) -> Option<u64> {
    let b: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    Some(if big_endian {
        u64::from_be_bytes(b)
    } else {
        u64::from_le_bytes(b)
    })
}

/// Units per second of a pcapng `if_tsresol` value: a power of 10, or of 2 when the top bit is
/// set. `None` when it does not fit in 64 bits.
fn units_per_second(resolution: u8) -> Option<u64> {
    let exponent = u32::from(resolution & 0x7F);
    if resolution & 0x80 == 0 {
        10u64.checked_pow(exponent)
    } else {
        1u64.checked_shl(exponent)
    }
}

fn corrupt(offset: u64, problem: String) -> CaptureError {
    CaptureError::Corrupt { offset, problem }
}

/// "147 (user-defined)", "105 (IEEE 802.11), 127 (802.11 radiotap)".
fn describe_link_types(link_types: &[i32]) -> String {
    let mut text = String::new();
    for (i, &link) in link_types.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let _ = write!(text, "{link}");
        let name = match link {
            9 | 50 => Some("PPP"),
            105 => Some("IEEE 802.11"),
            127 => Some("IEEE 802.11 radiotap"),
            187 | 201 => Some("Bluetooth HCI"),
            195 | 215 | 230 => Some("IEEE 802.15.4"),
            147..=162 => Some("user-defined"),
            189 | 220 | 249 => Some("USB"),
            239 => Some("Linux NFLOG"),
            252 => Some("Wireshark upper PDU"),
            _ => None,
        };
        if let Some(name) = name {
            let _ = write!(text, " ({name})");
        }
    }
    text
}

/// The first bytes of a file that is not a capture, in hex and as text, with a guess.
fn describe_start(head: &[u8]) -> String {
    let first = &head[..head.len().min(8)];
    let mut text = String::new();
    for (i, byte) in first.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        let _ = write!(text, "{byte:02x}");
    }
    if first.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        let _ = write!(text, " \"{}\"", String::from_utf8_lossy(first));
    }
    let guess = if head.starts_with(b"-----BEGIN") {
        Some("a PEM file")
    } else if head.starts_with(&[0x1F, 0x8B]) {
        Some("gzip-compressed: decompress it first")
    } else if head.starts_with(b"PK\x03\x04") {
        Some("a zip archive: extract the capture first")
    } else if head.starts_with(b"CLIENT_RANDOM") || head.starts_with(b"# ") {
        Some("a text file, perhaps a key log")
    } else if head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        Some("a text file")
    } else {
        None
    };
    if let Some(guess) = guess {
        let _ = write!(text, ", {guess}");
    }
    text
}
