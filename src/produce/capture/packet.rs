//! One captured frame down to the TCP segment it carries: link-layer headers, IPv4/IPv6 (via
//! etherparse, lax so that frames cut by the snapshot length still decode), TCP header.

use std::net::SocketAddr;

use etherparse::{IpNumber, LaxIpSlice, TcpSlice};

/// The link types we can read (pcap `LINKTYPE_*` values).
pub(super) mod linktype {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: i32 = 0;
    pub const ETHERNET: i32 = 1;
    /// PPP, with or without the HDLC-like address and control bytes.
    pub const PPP: i32 = 9;
    /// `DLT_RAW` as numbered on OpenBSD (12) and BSD/OS (14).
    pub const RAW_OPENBSD: i32 = 12;
    pub const RAW_BSDOS: i32 = 14;
    /// PPP in HDLC-like framing, or Cisco HDLC.
    pub const PPP_HDLC: i32 = 50;
    pub const RAW: i32 = 101;
    /// OpenBSD loopback: like NULL, but the family is always big-endian.
    pub const LOOP: i32 = 108;
    pub const LINUX_SLL: i32 = 113;
    pub const IPV4: i32 = 228;
    pub const IPV6: i32 = 229;
    pub const LINUX_SLL2: i32 = 276;
}

/// Whether [`decode`] understands frames of this link type.
pub(super) fn is_supported(link: i32) -> bool {
    use linktype::*;
    matches!(
        link,
        NULL | ETHERNET
            | PPP
            | RAW_OPENBSD
            | RAW_BSDOS
            | PPP_HDLC
            | RAW
            | LOOP
            | LINUX_SLL
            | IPV4
            | IPV6
            | LINUX_SLL2
    )
}

/// A TCP segment as captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Segment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub syn: bool,
    pub has_ack: bool,
    pub fin: bool,
    pub rst: bool,
    /// The payload bytes that were captured.
    pub payload: &'a [u8],
    /// Payload bytes that followed `payload` on the wire but were cut off by the capture's
    /// snapshot length.
    pub cut: u64,
}

/// Why a frame yields no TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Skip {
    /// ARP, LLDP, and other non-IP traffic.
    NotIp,
    /// UDP, ICMP, and anything else that is not TCP.
    NotTcp,
    /// A fragment of a fragmented IP packet (not reassembled).
    Fragment,
    /// The TCP header itself was cut off by the snapshot length.
    HeaderCut,
    /// Bytes that do not form a valid IP or TCP header.
    Malformed,
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
/// 802.1Q, 802.1ad (QinQ) and the pre-standard QinQ tags.
const ETHERTYPE_VLANS: [u16; 4] = [0x8100, 0x88A8, 0x9100, 0x9200];

/// Decodes one frame of link type `link`. `orig_len` is the frame's length on the wire, which is
/// more than `frame.len()` when the snapshot length cut it.
pub(super) fn decode(link: i32, frame: &[u8], orig_len: u32) -> Result<Segment<'_>, Skip> {
    let ip = ip_bytes(link, frame)?;
    let cut_on_wire = u64::from(orig_len).saturating_sub(frame.len() as u64);
    decode_ip(ip, cut_on_wire)
}

/// The IP packet inside a frame, after the link-layer header(s).
fn ip_bytes(link: i32, frame: &[u8]) -> Result<&[u8], Skip> {
    use linktype::*;
    match link {
        ETHERNET => {
            let ethertype = be16(frame, 12).ok_or(Skip::Malformed)?;
            after_ethertype(ethertype, frame.get(14..).ok_or(Skip::Malformed)?)
        }
        RAW | RAW_OPENBSD | RAW_BSDOS | IPV4 | IPV6 => Ok(frame),
        NULL | LOOP => {
            let family: [u8; 4] = frame
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or(Skip::Malformed)?;
            let rest = &frame[4..];
            // NULL is in the capturing host's byte order, LOOP should be big-endian; accept both
            // orders for both, since only small values are valid.
            match (u32::from_le_bytes(family), u32::from_be_bytes(family)) {
                (2, _) | (_, 2) => Ok(rest),
                (24 | 28 | 30, _) | (_, 24 | 28 | 30) => Ok(rest),
                _ => Err(Skip::NotIp),
            }
        }
        LINUX_SLL => {
            // 16 bytes: packet type, ARPHRD type, address length, 8 address bytes, protocol.
            let protocol = be16(frame, 14).ok_or(Skip::Malformed)?;
            after_ethertype(protocol, frame.get(16..).ok_or(Skip::Malformed)?)
        }
        LINUX_SLL2 => {
            // 20 bytes, the protocol first.
            let protocol = be16(frame, 0).ok_or(Skip::Malformed)?;
            after_ethertype(protocol, frame.get(20..).ok_or(Skip::Malformed)?)
        }
        PPP | PPP_HDLC => ppp(frame),
        _ => Err(Skip::NotIp),
    }
}

/// PPP (RFC 1661/1662: optional `ff 03`, then a 1- or 2-byte protocol) or Cisco HDLC
/// (`0f`/`8f`, `00`, then an ethertype).
fn ppp(frame: &[u8]) -> Result<&[u8], Skip> {
    match frame {
        [0x0F | 0x8F, 0x00, ..] => {
            let ethertype = be16(frame, 2).ok_or(Skip::Malformed)?;
            after_ethertype(ethertype, &frame[4..])
        }
        [0xFF, 0x03, rest @ ..] | rest => match rest {
            // An odd first byte is a compressed (1-byte) protocol field.
            [0x21, ip @ ..] | [0x00, 0x21, ip @ ..] | [0x57, ip @ ..] | [0x00, 0x57, ip @ ..] => {
                Ok(ip)
            }
            [] | [_] => Err(Skip::Malformed),
            _ => Err(Skip::NotIp),
        },
    }
}

/// Follows VLAN tags (each one 2 bytes of tag control and the next ethertype) to the IP packet.
fn after_ethertype(mut ethertype: u16, mut rest: &[u8]) -> Result<&[u8], Skip> {
    while ETHERTYPE_VLANS.contains(&ethertype) {
        ethertype = be16(rest, 2).ok_or(Skip::Malformed)?;
        rest = &rest[4..];
    }
    match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Ok(rest),
        _ => Err(Skip::NotIp),
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    let pair = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([pair[0], pair[1]]))
}

/// Decodes the IP and TCP headers. `cut_on_wire` bounds how much of the packet can be missing,
/// so that a bogus IP length field alone cannot invent a gap.
fn decode_ip(ip: &[u8], cut_on_wire: u64) -> Result<Segment<'_>, Skip> {
    let (slice, _extension_error) = LaxIpSlice::from_slice(ip).map_err(|_| Skip::Malformed)?;
    let payload = slice.payload();
    if payload.ip_number != IpNumber::TCP {
        return Err(Skip::NotTcp);
    }
    if payload.fragmented {
        return Err(Skip::Fragment);
    }
    let tcp = match TcpSlice::from_slice(payload.payload) {
        Ok(tcp) => tcp,
        Err(_) if payload.incomplete => return Err(Skip::HeaderCut),
        Err(_) => return Err(Skip::Malformed),
    };
    let cut = if payload.incomplete {
        declared_ip_len(&slice)
            .saturating_sub(ip.len() as u64)
            .min(cut_on_wire)
    } else {
        0
    };
    Ok(Segment {
        src: SocketAddr::new(slice.source_addr(), tcp.source_port()),
        dst: SocketAddr::new(slice.destination_addr(), tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        syn: tcp.syn(),
        has_ack: tcp.ack(),
        fin: tcp.fin(),
        rst: tcp.rst(),
        payload: tcp.payload(),
        cut,
    })
}

/// The length of the whole IP packet according to its header.
fn declared_ip_len(slice: &LaxIpSlice<'_>) -> u64 {
    match slice {
        LaxIpSlice::Ipv4(v4) => u64::from(v4.header().total_len()),
        LaxIpSlice::Ipv6(v6) => 40 + u64::from(v6.header().payload_length()),
    }
}
