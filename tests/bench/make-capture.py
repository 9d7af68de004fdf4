#!/usr/bin/env python3
"""Writes a large pcap for the `analyze` benchmark from the real captures in fixtures/pcaps.

Each handshake of the output is a copy of one fixture connection (good TLS 1.2 and 1.3 sessions,
a missing client certificate, a key that does not match, the wolfSSL bug) with its own loopback
client address and port and its own ClientHello random, shifted in time, interleaved with the
others. Good sessions carry
application data (16 KiB TLS records) so that the file is mostly what real device traffic is:
encrypted records. Only loopback addresses (127.0.0.0/8) appear.

usage: make-capture.py OUT.pcap [--handshakes N] [--megabytes M] [--connections NAME,NAME...]
"""
import argparse
import os
import random
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
PCAPS = HERE.parent.parent / "fixtures" / "pcaps"
TEMPLATES = ["ok-tls12", "ok-tls13", "no-cert-tls12", "key-mismatch-tls12", "wolfssl-late-cert-tls13", "no-cert-tls13"]
DATA_TEMPLATES = {"ok-tls12", "ok-tls13"}


def read_pcap(path):
    """Packets of a little-endian microsecond pcap of Ethernet frames: (seconds, frame bytes)."""
    data = path.read_bytes()
    magic, = struct.unpack_from("<I", data, 0)
    assert magic == 0xA1B2C3D4, f"{path}: expected a little-endian microsecond pcap"
    packets, offset = [], 24
    while offset + 16 <= len(data):
        sec, usec, incl, _orig = struct.unpack_from("<IIII", data, offset)
        packets.append((sec + usec / 1e6, data[offset + 16 : offset + 16 + incl]))
        offset += 16 + incl
    return packets


def checksum(header):
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


class Template:
    """One fixture connection, split into the fields a copy rewrites."""

    def __init__(self, name):
        self.name = name
        packets = read_pcap(PCAPS / f"{name}.pcap")
        self.start = packets[0][0]
        first = packets[0][1]
        self.client_port = struct.unpack_from("!H", first, 14 + 20)[0]
        self.packets = []
        for at, frame in packets:
            ihl = (frame[14] & 0x0F) * 4
            tcp = 14 + ihl
            src_port, = struct.unpack_from("!H", frame, tcp)
            from_client = src_port == self.client_port
            self.packets.append((at - self.start, from_client, bytearray(frame), tcp))

    def copy(self, number, t0, data_records):
        """The packets of copy `number`, starting at t0, with `data_records` 16 KiB records from the server."""
        client_ip = bytes([127, 1 + (number >> 16) % 250, (number >> 8) & 0xFF, number & 0xFF])
        client_port = 1024 + number % 60000
        out = []
        inserted = False
        shift = 0  # bytes of application data added to the server's stream so far
        for offset, from_client, frame, tcp in self.packets:
            frame = bytearray(frame)
            # Before the first packet of the close (a FIN), the server sends its data.
            flags = frame[tcp + 13]
            if data_records and not inserted and flags & 0x01:
                inserted = True
                for _ in range(data_records):
                    out.append(self.data_packet(offset, client_ip, client_port, shift, t0))
                    shift += RECORD_LEN
            ip_src, ip_dst = (14 + 12, 14 + 16) if from_client else (14 + 16, 14 + 12)
            frame[ip_src : ip_src + 4] = client_ip
            port_field = tcp if from_client else tcp + 2
            struct.pack_into("!H", frame, port_field, client_port)
            if from_client:
                ack, = struct.unpack_from("!I", frame, tcp + 8)
                if flags & 0x10:
                    struct.pack_into("!I", frame, tcp + 8, (ack + shift) & 0xFFFFFFFF)
            else:
                seq, = struct.unpack_from("!I", frame, tcp + 4)
                struct.pack_into("!I", frame, tcp + 4, (seq + shift) & 0xFFFFFFFF)
            if from_client:
                make_random_unique(frame, tcp, number)
            fix_ip_checksum(frame)
            out.append((t0 + offset, bytes(frame)))
        return out

    def data_packet(self, offset, client_ip, client_port, shift, t0):
        """A server segment carrying one encrypted 16 KiB application_data record."""
        # The server's last data-carrying packet gives addresses, ports and the next sequence number.
        for off, from_client, frame, tcp in reversed(self.packets):
            if off <= offset and not from_client and len(frame) > tcp + (frame[tcp + 12] >> 4) * 4:
                break
        frame = bytearray(frame[: tcp + (frame[tcp + 12] >> 4) * 4])
        seq, = struct.unpack_from("!I", frame, tcp + 4)
        payload_len = len(self.last_payload_end(offset))
        struct.pack_into("!I", frame, tcp + 4, (seq + payload_len + shift) & 0xFFFFFFFF)
        frame[14 + 16 : 14 + 20] = client_ip
        struct.pack_into("!H", frame, tcp + 2, client_port)
        frame += RECORD
        struct.pack_into("!H", frame, 14 + 2, len(frame) - 14)
        fix_ip_checksum(frame)
        return (t0 + offset, bytes(frame))

    def last_payload_end(self, offset):
        for off, from_client, frame, tcp in reversed(self.packets):
            if off <= offset and not from_client:
                payload = frame[tcp + (frame[tcp + 12] >> 4) * 4 :]
                if payload:
                    return payload
        return b""


def make_random_unique(frame, tcp, number):
    """Writes the copy's number into the ClientHello random, if this segment starts one.

    Each copy then signs and hashes different bytes, as real connections do: nothing a tool
    learnt from one copy's handshake (a signature verdict, say) applies to the next.
    """
    payload = tcp + (frame[tcp + 12] >> 4) * 4
    # record header (5 bytes), handshake type 1 and length (4), client_version (2), random (32)
    if len(frame) >= payload + 43 and frame[payload] == 22 and frame[payload + 5] == 1:
        struct.pack_into("!I", frame, payload + 11, number)


def fix_ip_checksum(frame):
    ihl = (frame[14] & 0x0F) * 4
    struct.pack_into("!H", frame, 14 + 10, 0)
    struct.pack_into("!H", frame, 14 + 10, checksum(bytes(frame[14 : 14 + ihl])))


RECORD_BODY = 16384 + 17
RECORD = bytes([23, 3, 3]) + struct.pack("!H", RECORD_BODY) + os.urandom(RECORD_BODY)
RECORD_LEN = len(RECORD)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--handshakes", type=int, default=50000)
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--connections", default=",".join(TEMPLATES),
                        help="the fixture connections to copy, in turn (default: all six)")
    args = parser.parse_args()
    names = args.connections.split(",")
    templates = [Template(name) for name in names]
    good = sum(1 for name in names if name in DATA_TEMPLATES)
    # Spread the data over the good sessions to reach the size asked for.
    handshake_bytes = sum(sum(len(f) + 16 for _, _, f, _ in t.packets) for t in templates) / len(templates)
    data_total = max(0, args.megabytes * 1024 * 1024 - args.handshakes * handshake_bytes)
    records_per_good = max(0, round(data_total / (args.handshakes * good / len(templates)) / (RECORD_LEN + 80)))
    rng = random.Random(7)
    with open(args.out, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        # Copies start 2 ms apart and overlap, so many connections are open at once.
        pending = []
        base = 1_764_000_000.0
        for number in range(args.handshakes):
            template = templates[number % len(templates)]
            records = records_per_good if template.name in DATA_TEMPLATES else 0
            pending.extend(template.copy(number, base + number * 0.002 + rng.random() * 0.001, records))
            if len(pending) > 20000 or number == args.handshakes - 1:
                pending.sort(key=lambda p: p[0])
                # Keep the tail: later copies may still interleave with it.
                cut = len(pending) if number == args.handshakes - 1 else len(pending) // 2
                for at, frame in pending[:cut]:
                    sec = int(at)
                    out.write(struct.pack("<IIII", sec, int((at - sec) * 1e6), len(frame), len(frame)))
                    out.write(frame)
                pending = pending[cut:]
    size = os.path.getsize(args.out)
    print(f"{args.out}: {size / 1e6:.0f} MB, {args.handshakes} handshakes, {records_per_good} data records per good session")


if __name__ == "__main__":
    main()
