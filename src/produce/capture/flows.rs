//! TCP flows: which segments belong together, and each direction's bytes put back in order.
//!
//! Each direction keeps its next expected sequence number and the *stream offset* of that
//! number (bytes delivered plus bytes skipped as gaps). Incoming sequence numbers are placed
//! relative to it with wrapping arithmetic, so wraparound needs no special case, and out-of-order
//! data is buffered by stream offset, which never wraps.
//!
//! A hole waits for a retransmission to fill it, until the other side acknowledges bytes past
//! it: the receiver had them, so the capture lost them, and the hole is declared a gap right
//! away. Buffered bytes keep the capture time of the segment that brought them, and a gap
//! carries the time of the segment after the hole, so that both are reported where they are.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

use super::packet::Segment;
use super::{CaptureEvent, Close, Dir, Sink};

/// Capture time after which a silent flow is forgotten (seconds).
pub(super) const IDLE_TIMEOUT: f64 = 300.0;
/// How often (in capture time) flows are checked for idleness.
const SWEEP_INTERVAL: f64 = 10.0;
/// Out-of-order data one direction may hold waiting for a hole, measured from the hole to the
/// end of the furthest buffered byte. Past that the hole is declared a gap.
pub(super) const MAX_OUT_OF_ORDER: u64 = 1 << 20;
/// Separate buffered pieces one direction may hold (bounds the bookkeeping for hostile
/// captures made of tiny segments with holes between them).
const MAX_OUT_OF_ORDER_PIECES: usize = 1024;
/// How long a 4-tuple closed by FIN or RST swallows stray packets (final ACKs,
/// retransmissions) instead of starting a new flow mid-connection.
const ENDED_MEMORY: f64 = 120.0;
/// At most this many such closed 4-tuples are remembered.
const MAX_ENDED: usize = 65_536;

/// A flow's 4-tuple, the same for both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key(SocketAddr, SocketAddr);

impl Hash for Key {
    /// Every packet looks its flow up; the derived hash feeds SipHash a dozen small pieces, an
    /// IPv4 4-tuple here goes in as one. Equal keys still hash equally: both forms cover only
    /// fields that equality compares.
    fn hash<H: Hasher>(&self, state: &mut H) {
        match (self.0, self.1) {
            (SocketAddr::V4(x), SocketAddr::V4(y)) => {
                let mut bytes = [0u8; 12];
                bytes[..4].copy_from_slice(&x.ip().octets());
                bytes[4..6].copy_from_slice(&x.port().to_be_bytes());
                bytes[6..10].copy_from_slice(&y.ip().octets());
                bytes[10..].copy_from_slice(&y.port().to_be_bytes());
                state.write(&bytes);
            }
            (x, y) => {
                x.hash(state);
                y.hash(state);
            }
        }
    }
}

impl Key {
    fn new(x: SocketAddr, y: SocketAddr) -> Key {
        if x <= y { Key(x, y) } else { Key(y, x) }
    }
}

/// All flows of a capture.
#[derive(Debug, Default)]
pub(super) struct Tracker {
    flows: HashMap<Key, Flow>,
    /// 4-tuples whose flow ended by FIN or RST, with the time it ended.
    ended: HashMap<Key, f64>,
    ended_order: VecDeque<(Key, f64)>,
    next_id: u64,
    /// The latest capture time seen.
    now: f64,
    last_sweep: f64,
}

impl Tracker {
    /// Flows currently open.
    pub(super) fn open_flows(&self) -> usize {
        self.flows.len()
    }

    /// Closed 4-tuples remembered (bounded by [`MAX_ENDED`]).
    #[cfg(test)]
    pub(super) fn remembered_ended(&self) -> usize {
        self.ended.len()
    }

    /// Takes one segment captured at `at`, pushing what it causes onto `events`.
    pub(super) fn segment(&mut self, at: f64, seg: &Segment<'_>, events: &mut dyn Sink) {
        if at > self.now {
            self.now = at;
        }
        if self.now - self.last_sweep >= SWEEP_INTERVAL {
            self.sweep(events);
        }
        let key = Key::new(seg.src, seg.dst);
        let opening = seg.syn && !seg.has_ack;
        // The usual case, a segment of an open flow, in one look-up.
        if let Some(flow) = self.flows.get_mut(&key)
            && !(opening && flow.reopened_by(seg))
        {
            if flow.segment(at, seg, events) == Status::Ended {
                self.flows.remove(&key);
                self.remember_ended(key, at);
            }
            return;
        }
        if opening && self.flows.get(&key).is_some_and(|f| f.reopened_by(seg)) {
            // Port reuse: the old connection's end was not captured.
            if let Some(old) = self.flows.remove(&key) {
                let at = old.last_seen;
                old.end(at, events);
            }
        }
        if !self.flows.contains_key(&key) {
            if self.ended.contains_key(&key) {
                if !opening {
                    return; // a straggler of a connection already closed
                }
                self.ended.remove(&key);
            }
            let flow = Flow::new(self.next_id, seg, at);
            self.next_id += 1;
            events.push(CaptureEvent::FlowStarted {
                flow: flow.id,
                a: flow.a,
                b: flow.b,
                at,
                syn_seen: opening,
            });
            self.flows.insert(key, flow);
        }
        let Some(flow) = self.flows.get_mut(&key) else {
            return;
        };
        if flow.segment(at, seg, events) == Status::Ended {
            self.flows.remove(&key);
            self.remember_ended(key, at);
        }
    }

    /// Ends every open flow (end of capture), in the order they started.
    pub(super) fn finish(&mut self, events: &mut dyn Sink) {
        let mut flows: Vec<Flow> = self.flows.drain().map(|(_, f)| f).collect();
        flows.sort_by_key(|f| f.id);
        for flow in flows {
            let at = flow.last_seen;
            flow.end(at, events);
        }
        self.ended.clear();
        self.ended_order.clear();
    }

    /// Ends flows idle for longer than [`IDLE_TIMEOUT`] and forgets old closed 4-tuples.
    fn sweep(&mut self, events: &mut dyn Sink) {
        self.last_sweep = self.now;
        let cutoff = self.now - IDLE_TIMEOUT;
        let mut idle: Vec<(u64, Key)> = self
            .flows
            .iter()
            .filter(|(_, f)| f.last_seen < cutoff)
            .map(|(k, f)| (f.id, *k))
            .collect();
        idle.sort_unstable_by_key(|(id, _)| *id);
        for (_, key) in idle {
            if let Some(flow) = self.flows.remove(&key) {
                let at = flow.last_seen;
                flow.end(at, events);
            }
        }
        let forget_before = self.now - ENDED_MEMORY;
        while let Some(&(key, at)) = self.ended_order.front() {
            if at >= forget_before {
                break;
            }
            self.ended_order.pop_front();
            self.forget_ended(key, at);
        }
    }

    fn remember_ended(&mut self, key: Key, at: f64) {
        self.ended.insert(key, at);
        self.ended_order.push_back((key, at));
        while self.ended_order.len() > MAX_ENDED {
            if let Some((key, at)) = self.ended_order.pop_front() {
                self.forget_ended(key, at);
            }
        }
    }

    /// Forgets a closed 4-tuple unless it was closed again later (then a newer entry exists).
    fn forget_ended(&mut self, key: Key, at: f64) {
        if self.ended.get(&key) == Some(&at) {
            self.ended.remove(&key);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Open,
    Ended,
}

#[derive(Debug)]
struct Flow {
    id: u64,
    a: SocketAddr,
    b: SocketAddr,
    last_seen: f64,
    /// Indexed by [`Dir::index`].
    halves: [Half; 2],
    cut_noted: bool,
}

impl Flow {
    /// A flow for the 4-tuple of `seg`, its first captured segment. `a` is the client when the
    /// segment says who that is (a SYN, or a SYN-ACK going to it), else the segment's sender.
    fn new(id: u64, seg: &Segment<'_>, at: f64) -> Flow {
        let (a, b) = if seg.syn && seg.has_ack {
            (seg.dst, seg.src)
        } else {
            (seg.src, seg.dst)
        };
        Flow {
            id,
            a,
            b,
            last_seen: at,
            halves: Default::default(),
            cut_noted: false,
        }
    }

    fn dir_of(&self, src: SocketAddr) -> Dir {
        if src == self.a { Dir::AtoB } else { Dir::BtoA }
    }

    /// Whether an opening SYN belongs to a new connection on this 4-tuple rather than to this
    /// flow (a retransmitted SYN, or the other side of a simultaneous open).
    fn reopened_by(&self, seg: &Segment<'_>) -> bool {
        let half = &self.halves[self.dir_of(seg.src).index()];
        half.started && half.isn != Some(seg.seq)
    }

    fn segment(&mut self, at: f64, seg: &Segment<'_>, events: &mut dyn Sink) -> Status {
        let dir = self.dir_of(seg.src);
        if at > self.last_seen {
            self.last_seen = at;
        }
        if seg.cut > 0 && !self.cut_noted {
            self.cut_noted = true;
            let captured = seg.payload.len();
            events.push(CaptureEvent::Note {
                flow: Some(self.id),
                message: format!(
                    "the capture's snapshot length cut this connection's packets short \
                     ({captured} of {} payload bytes of one segment captured); the missing bytes \
                     are reported as gaps (capture with `tcpdump -s 0` to keep whole packets)",
                    captured as u64 + seg.cut
                ),
            });
        }
        if seg.rst {
            self.flush(at, events);
            events.push(CaptureEvent::Closed {
                flow: self.id,
                dir,
                at,
                how: Close::Rst,
            });
            events.push(CaptureEvent::FlowEnded { flow: self.id, at });
            return Status::Ended;
        }
        let [ab, ba] = &mut self.halves;
        let (this, other) = match dir {
            Dir::AtoB => (ab, ba),
            Dir::BtoA => (ba, ab),
        };
        if seg.syn {
            this.isn.get_or_insert(seg.seq);
            this.start(seg.seq.wrapping_add(1));
            if seg.has_ack {
                // A SYN-ACK acknowledges the client's SYN: the client's data starts at `ack`.
                other.isn.get_or_insert(seg.ack.wrapping_sub(1));
                other.start(seg.ack);
            }
        }
        if seg.has_ack && other.note_acknowledged(seg.ack) {
            // The bytes behind the acknowledged hole were sent before this segment: they go first.
            let mut out = Out::new(events, self.id, dir.reverse(), at);
            other.release_acknowledged(&mut out);
            out.finish();
        }
        let data_seq = seg.seq.wrapping_add(u32::from(seg.syn));
        this.start(data_seq);
        let mut out = Out::new(events, self.id, dir, at);
        this.receive(data_seq, seg.payload, seg.cut, seg.fin, &mut out);
        out.finish();
        if self.halves.iter().all(|h| h.closed) {
            events.push(CaptureEvent::FlowEnded { flow: self.id, at });
            return Status::Ended;
        }
        Status::Open
    }

    /// Ends the flow: delivers what is still deliverable, then `FlowEnded`.
    fn end(mut self, at: f64, events: &mut dyn Sink) {
        self.flush(at, events);
        events.push(CaptureEvent::FlowEnded { flow: self.id, at });
    }

    /// Delivers buffered data of both directions past any holes, and FINs reached that way.
    fn flush(&mut self, at: f64, events: &mut dyn Sink) {
        for dir in [Dir::AtoB, Dir::BtoA] {
            let mut out = Out::new(events, self.id, dir, at);
            self.halves[dir.index()].flush(&mut out);
            out.finish();
        }
    }
}

/// One direction of a flow.
#[derive(Debug, Default)]
struct Half {
    /// Whether `next_seq` is known (a first segment was seen).
    started: bool,
    /// The sequence number of the next byte to deliver.
    next_seq: u32,
    /// The stream offset of `next_seq`: bytes delivered plus bytes reported missing.
    next_off: u64,
    /// The sequence number of this side's SYN, when known.
    isn: Option<u32>,
    /// The stream offset where this side's FIN sits, once seen.
    fin_off: Option<u64>,
    /// The capture time of the segment that carried the FIN.
    fin_at: f64,
    /// The FIN was reached: `Closed` was emitted, later data is ignored.
    closed: bool,
    /// Out-of-order data by stream offset; pieces never overlap and all start after `next_off`.
    pending: BTreeMap<u64, Piece>,
    /// The furthest stream offset the other side acknowledged: it received every byte before
    /// it, so a hole there was lost by the capture, not on the network.
    acknowledged: u64,
}

/// Out-of-order bytes, with the capture time of the segments they came in.
#[derive(Debug)]
struct Piece {
    bytes: Vec<u8>,
    /// The capture time of the segment the first bytes came in.
    at: f64,
    /// Where segments captured at another time start in `bytes`, and their times, in order. Empty
    /// in the usual case, one segment per piece.
    later: Vec<(usize, f64)>,
}

impl Piece {
    fn new(bytes: &[u8], at: f64) -> Piece {
        Piece {
            bytes: bytes.to_vec(),
            at,
            later: Vec::new(),
        }
    }

    fn end(&self, start: u64) -> u64 {
        start + self.bytes.len() as u64
    }

    fn append(&mut self, bytes: &[u8], at: f64) {
        let last_at = self.later.last().map_or(self.at, |&(_, t)| t);
        if at != last_at {
            self.later.push((self.bytes.len(), at));
        }
        self.bytes.extend_from_slice(bytes);
    }

    fn truncate(&mut self, len: usize) {
        self.bytes.truncate(len);
        self.later.retain(|&(from, _)| from < len);
    }

    /// Hands the bytes from `skip` on to `out`, each stretch with its capture time, or all of
    /// them at `delivered_at`.
    fn deliver(mut self, skip: usize, delivered_at: Option<f64>, out: &mut Out<'_, '_>) {
        if self.later.is_empty() || delivered_at.is_some() {
            if skip > 0 {
                self.bytes.drain(..skip);
            }
            out.data_owned(self.bytes, delivered_at.unwrap_or(self.at));
            return;
        }
        let mut starts = vec![(0, self.at)];
        starts.extend_from_slice(&self.later);
        for (i, &(from, at)) in starts.iter().enumerate() {
            let to = starts
                .get(i + 1)
                .map_or(self.bytes.len(), |&(next, _)| next);
            let from = from.max(skip);
            if from < to {
                out.data_owned(self.bytes[from..to].to_vec(), at);
            }
        }
    }
}

impl Half {
    fn start(&mut self, seq: u32) {
        if !self.started {
            self.started = true;
            self.next_seq = seq;
        }
    }

    fn advance(&mut self, by: u64) {
        self.next_off = self.next_off.saturating_add(by);
        // Truncation is the point: sequence numbers are modulo 2^32.
        self.next_seq = self.next_seq.wrapping_add(by as u32);
    }

    /// Takes one segment's payload starting at sequence number `seq`, of which `cut` more bytes
    /// were not captured, followed by a FIN if `fin`.
    fn receive<'p>(
        &mut self,
        seq: u32,
        payload: &'p [u8],
        cut: u64,
        fin: bool,
        out: &mut Out<'_, 'p>,
    ) {
        if self.closed {
            return;
        }
        let next = self.next_off as i64;
        // Where the payload starts relative to what we expect, within ±2 GiB.
        let start = next + i64::from(seq.wrapping_sub(self.next_seq) as i32);
        let mut data_end = start + payload.len() as i64;
        let mut wire_end = data_end + cut as i64;
        if fin && self.fin_off.is_none() && wire_end >= next {
            self.set_fin(wire_end as u64, out.at);
        }
        if let Some(fin_off) = self.fin_off {
            // Nothing exists past the FIN.
            data_end = data_end.min(fin_off as i64);
            wire_end = wire_end.min(fin_off as i64);
        }
        if start <= next {
            if data_end > next {
                let fresh = &payload[(next - start) as usize..(data_end - start) as usize];
                if self.pending.is_empty() {
                    out.data(fresh);
                    self.advance(fresh.len() as u64);
                } else {
                    // Where buffered copies exist they win; this copy fills the rest.
                    self.buffer(self.next_off, fresh, out.at);
                }
            }
            self.drain(out);
            if wire_end > self.next_off as i64 {
                // The snapshot length cut the rest: a gap, unless other copies filled it.
                self.skip_to(wire_end as u64, out.at, out);
            }
            self.drain(out);
        } else if cut == 0 && data_end > start {
            // Out of order. A cut segment here is dropped: its data is not contiguous.
            self.buffer(
                start as u64,
                &payload[..(data_end - start) as usize],
                out.at,
            );
            self.release_acknowledged(out);
            self.bound(out);
        }
        self.check_fin(out);
    }

    fn set_fin(&mut self, fin_off: u64, at: f64) {
        self.fin_off = Some(fin_off);
        self.fin_at = at;
        drop(self.pending.split_off(&fin_off));
        if let Some(mut last) = self.pending.last_entry() {
            let start = *last.key();
            let keep = (fin_off - start) as usize;
            last.get_mut().truncate(keep);
        }
    }

    /// Takes the other side's acknowledgment number; true when it covers a hole with data
    /// buffered behind it, which [`Half::release_acknowledged`] then delivers.
    fn note_acknowledged(&mut self, ack: u32) -> bool {
        if !self.started || self.closed {
            return false;
        }
        let ahead = ack.wrapping_sub(self.next_seq) as i32;
        if ahead <= 0 {
            return false;
        }
        self.acknowledged = self.acknowledged.max(self.next_off + ahead as u64);
        !self.pending.is_empty()
    }

    /// Declares the holes the other side acknowledged as gaps and delivers the data behind them:
    /// no retransmission will fill them. Only up to the data buffered: past it the
    /// acknowledgment may cover a FIN, or bytes the capture has not shown yet.
    fn release_acknowledged(&mut self, out: &mut Out<'_, '_>) {
        let Some((&start, piece)) = self.pending.last_key_value() else {
            return;
        };
        let target = self.acknowledged.min(piece.end(start));
        if target > self.next_off {
            self.skip_to(target, out.at, out);
            self.check_fin(out);
        }
    }

    fn check_fin(&mut self, out: &mut Out<'_, '_>) {
        if !self.closed && self.fin_off.is_some_and(|f| self.next_off >= f) {
            self.closed = true;
            self.pending.clear();
            out.closed(Close::Fin, self.fin_at);
        }
    }

    /// Stores bytes captured at `at` at stream offset `start` (at or after `next_off`), keeping
    /// bytes already buffered where they overlap: the first copy of a byte wins.
    fn buffer(&mut self, start: u64, data: &[u8], at: f64) {
        if data.is_empty() {
            return;
        }
        let end = start + data.len() as u64;
        let mut cursor = start;
        if let Some((&s, piece)) = self.pending.range(..=start).next_back() {
            cursor = cursor.max(piece.end(s));
        }
        let inside: Vec<(u64, u64)> = self
            .pending
            .range(start + 1..end)
            .map(|(&s, piece)| (s, piece.end(s)))
            .collect();
        for (s, e) in inside {
            if s > cursor {
                self.insert_piece(
                    cursor,
                    &data[(cursor - start) as usize..(s - start) as usize],
                    at,
                );
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            self.insert_piece(cursor, &data[(cursor - start) as usize..], at);
        }
    }

    /// Adds a piece that overlaps nothing buffered, appending it to the piece just before when
    /// they touch (the usual case: the segments that follow one lost segment).
    fn insert_piece(&mut self, offset: u64, bytes: &[u8], at: f64) {
        if let Some((&s, prev)) = self.pending.range_mut(..offset).next_back()
            && prev.end(s) == offset
        {
            prev.append(bytes, at);
            return;
        }
        self.pending.insert(offset, Piece::new(bytes, at));
    }

    /// Delivers buffered data that a segment made contiguous, at that segment's time: the
    /// receiver could read them only then.
    fn drain(&mut self, out: &mut Out<'_, '_>) {
        self.deliver_contiguous(Some(out.at), out);
    }

    /// Delivers buffered data that has become contiguous, at `delivered_at` or, when `None`,
    /// each byte at the time it was captured.
    fn deliver_contiguous(&mut self, delivered_at: Option<f64>, out: &mut Out<'_, '_>) {
        while let Some(entry) = self.pending.first_entry() {
            let start = *entry.key();
            if start > self.next_off {
                break;
            }
            let piece = entry.remove();
            let end = piece.end(start);
            if end > self.next_off {
                let skip = (self.next_off - start) as usize;
                piece.deliver(skip, delivered_at, out);
                self.advance(end - self.next_off);
            }
        }
    }

    /// Moves the stream forward to `target`: holes become gaps, buffered data in between is
    /// delivered. A gap carries the capture time of the data right after it, or `end_at` when
    /// it runs to `target` with nothing buffered there; the data keeps the time it was captured
    /// at, as no segment filled the hole before it.
    fn skip_to(&mut self, target: u64, end_at: f64, out: &mut Out<'_, '_>) {
        loop {
            self.deliver_contiguous(None, out);
            if self.next_off >= target {
                return;
            }
            let (hole_end, at) = match self.pending.first_key_value() {
                Some((&s, piece)) if s <= target => (s, piece.at),
                _ => (target, end_at),
            };
            out.gap(hole_end - self.next_off, at);
            self.advance(hole_end - self.next_off);
        }
    }

    /// Gives up on the first hole while too much is waiting behind it.
    fn bound(&mut self, out: &mut Out<'_, '_>) {
        loop {
            let Some((&last, piece)) = self.pending.last_key_value() else {
                return;
            };
            let span = piece.end(last).saturating_sub(self.next_off);
            if span <= MAX_OUT_OF_ORDER && self.pending.len() <= MAX_OUT_OF_ORDER_PIECES {
                return;
            }
            let Some(&first) = self.pending.keys().next() else {
                return;
            };
            self.skip_to(first, out.at, out);
        }
    }

    /// The flow is ending: deliver everything buffered, holes as gaps, up to the FIN if seen.
    fn flush(&mut self, out: &mut Out<'_, '_>) {
        if self.closed {
            return;
        }
        let buffered_end = self
            .pending
            .last_key_value()
            .map_or(0, |(&s, piece)| piece.end(s));
        let target = buffered_end.max(self.fin_off.unwrap_or(0));
        // A hole that runs to the FIN is reported when the FIN was seen.
        let end_at = if self.fin_off.is_some() {
            self.fin_at
        } else {
            out.at
        };
        self.skip_to(target, end_at, out);
        self.check_fin(out);
    }
}

/// Collects the events of one direction of one flow for one packet, merging adjacent data. In
/// the usual case, a segment that arrives in order, the data is the segment's own payload,
/// borrowed from the packet: nothing is copied unless pieces must be joined.
struct Out<'e, 'p> {
    events: &'e mut dyn Sink,
    flow: u64,
    dir: Dir,
    /// The capture time of the packet being taken.
    at: f64,
    data: Cow<'p, [u8]>,
    /// The capture time of the bytes in `data`: the packet's, or an earlier one for bytes that
    /// waited behind a hole.
    data_at: f64,
}

impl<'e, 'p> Out<'e, 'p> {
    fn new(events: &'e mut dyn Sink, flow: u64, dir: Dir, at: f64) -> Self {
        Out {
            events,
            flow,
            dir,
            at,
            data: Cow::Borrowed(&[]),
            data_at: at,
        }
    }

    fn data(&mut self, bytes: &'p [u8]) {
        self.start_data_at(self.at);
        if self.data.is_empty() {
            self.data = Cow::Borrowed(bytes);
        } else {
            self.data.to_mut().extend_from_slice(bytes);
        }
    }

    /// Bytes captured at `at`.
    fn data_owned(&mut self, bytes: Vec<u8>, at: f64) {
        self.start_data_at(at);
        if self.data.is_empty() {
            self.data = Cow::Owned(bytes);
        } else {
            self.data.to_mut().extend_from_slice(&bytes);
        }
    }

    /// Data captured at another time than the data collected so far is another event.
    fn start_data_at(&mut self, at: f64) {
        if self.data_at != at {
            self.finish();
            self.data_at = at;
        }
    }

    fn gap(&mut self, missing: u64, at: f64) {
        if missing == 0 {
            return;
        }
        self.finish();
        self.events.push(CaptureEvent::Gap {
            flow: self.flow,
            dir: self.dir,
            at,
            missing,
        });
    }

    /// The side closed its direction, as a segment captured at `at` said.
    fn closed(&mut self, how: Close, at: f64) {
        self.finish();
        self.events.push(CaptureEvent::Closed {
            flow: self.flow,
            dir: self.dir,
            at,
            how,
        });
    }

    /// Emits the data collected so far.
    fn finish(&mut self) {
        if !self.data.is_empty() {
            self.events.push(CaptureEvent::Data {
                flow: self.flow,
                dir: self.dir,
                at: self.data_at,
                bytes: std::mem::replace(&mut self.data, Cow::Borrowed(&[])),
            });
        }
    }
}
