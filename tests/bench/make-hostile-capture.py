#!/usr/bin/env python3
"""Writes a pcap of one hostile TLS connection, of a chosen size, to measure what `analyze` keeps
per connection.

One TCP connection on loopback (127.0.0.1:40000 -> 127.0.0.2:443): the client's handshake
(SYN), a ClientHello, the server's TLS 1.2 ServerHello, then the server sends, until the file
reaches the size asked for:

  tiny     records of 1 byte each, handshake and alert records in turn
  tinyapp  application_data records of 1 byte each
  bigmsg   handshake messages (Certificate) each declaring 16 MiB - 1 (the most a handshake
           length can say), followed by their bytes (zeros) in 16 KiB handshake records
  alerts   warning alerts (user_canceled), one record each
  appdata  16 KiB application_data records (only a key log makes `analyze` keep them)

With --gap, 100 bytes of the server's halfway through are left out of the capture, as if tcpdump lost it
(the client acknowledges past it). And then, unless --no-final-alert, a fatal handshake_failure alert; both sides then close (FIN).
With --keylog FILE, a TLS 1.3 key log for the connection's client random is written there, for
`analyze --keylog FILE`.

usage: make-hostile-capture.py OUT.pcap --kind tiny|tinyapp|bigmsg|alerts|appdata [--megabytes M]
                               [--keylog FILE] [--gap] [--no-final-alert]

Measure with:  /usr/bin/time -v target/release/iotdoctor analyze OUT.pcap  (Maximum resident set size)
"""
import argparse
import os
import struct

CLIENT = (bytes([127, 0, 0, 1]), 40000)
SERVER = (bytes([127, 0, 0, 2]), 443)
SEGMENT = 32 * 1024
RANDOM = bytes(range(32))


def checksum(header):
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def record(content_type, body):
    return bytes([content_type, 3, 3]) + struct.pack("!H", len(body)) + body


def handshake(message_type, body):
    return bytes([message_type]) + struct.pack("!I", len(body))[1:] + body


def client_hello():
    sni = b"hostile.example"
    server_name = struct.pack("!HBH", len(sni) + 3, 0, len(sni)) + sni
    extensions = struct.pack("!HH", 0, len(server_name)) + server_name
    body = (
        b"\x03\x03" + RANDOM + b"\x00"
        + struct.pack("!HHH", 4, 0xC02F, 0x1301)
        + b"\x01\x00"
        + struct.pack("!H", len(extensions)) + extensions
    )
    return record(22, handshake(1, body))


def server_hello():
    body = b"\x03\x03" + bytes(range(32, 64)) + b"\x00" + struct.pack("!HB", 0xC02F, 0) + b"\x00\x00"
    return record(22, handshake(2, body))


class Writer:
    def __init__(self, out):
        self.out = out
        self.at = 1_764_000_000.0
        self.seq = {CLIENT: 1000, SERVER: 5000}
        self.out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))

    def packet(self, src, dst, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], self.seq[src] & 0xFFFFFFFF,
                          self.seq[dst] & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000,
                                   64, 6, 0, src[0], dst[0]))
        struct.pack_into("!H", ip, 10, checksum(bytes(ip)))
        frame = b"\x00" * 12 + b"\x08\x00" + bytes(ip) + tcp + payload
        self.at += 0.00001
        sec = int(self.at)
        self.out.write(struct.pack("<IIII", sec, int((self.at - sec) * 1e6), len(frame), len(frame)))
        self.out.write(frame)
        self.seq[src] += len(payload) + (1 if flags & 0x03 else 0)

    def send(self, src, dst, data):
        for i in range(0, len(data), SEGMENT):
            self.packet(src, dst, 0x18, data[i : i + SEGMENT])

    def lose(self, src, dst, data):
        """Bytes sent but not captured; the receiver's acknowledgement of them is."""
        self.seq[src] += len(data)
        self.packet(dst, src, 0x10)


def flood(kind):
    """Server bytes of the flood, one segment's worth at a time, forever."""
    if kind == "tiny":
        chunk = (record(22, b"\x00") + record(21, b"\x01")) * (SEGMENT // 12)
        while True:
            yield chunk
    elif kind == "tinyapp":
        chunk = record(23, b"\x17") * (SEGMENT // 6)
        while True:
            yield chunk
    elif kind == "alerts":
        chunk = record(21, b"\x01\x5a") * (SEGMENT // 7)
        while True:
            yield chunk
    elif kind == "appdata":
        body = os.urandom(16384 + 17)
        while True:
            yield record(23, body)
    elif kind == "bigmsg":
        length = 0xFFFFFF
        while True:
            message = bytes([11]) + struct.pack("!I", length)[1:]
            left = length + len(message)
            first = True
            while left > 0:
                n = min(16384, left)
                body = message + bytes(n - len(message)) if first else bytes(n)
                first = False
                left -= n
                yield record(22, body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--kind", choices=["tiny", "tinyapp", "bigmsg", "alerts", "appdata"], required=True)
    parser.add_argument("--megabytes", type=float, default=16)
    parser.add_argument("--keylog", help="write a TLS 1.3 key log for the connection here")
    parser.add_argument("--gap", action="store_true", help="lose one server segment halfway")
    parser.add_argument("--no-final-alert", action="store_true")
    args = parser.parse_args()
    target = int(args.megabytes * 1e6)
    with open(args.out, "wb") as out:
        w = Writer(out)
        w.packet(CLIENT, SERVER, 0x02)
        w.packet(SERVER, CLIENT, 0x12)
        w.packet(CLIENT, SERVER, 0x10)
        w.send(CLIENT, SERVER, client_hello())
        w.send(SERVER, CLIENT, server_hello())
        pending = b""
        lost = not args.gap
        for piece in flood(args.kind):
            pending += piece
            if len(pending) >= SEGMENT:
                if not lost and out.tell() >= target // 2:
                    lost = True
                    w.send(SERVER, CLIENT, pending[:5000])
                    w.lose(SERVER, CLIENT, pending[5000:5100])
                    pending = pending[5100:]
                w.send(SERVER, CLIENT, pending)
                pending = b""
                if out.tell() >= target:
                    break
        w.send(SERVER, CLIENT, pending)
        if not args.no_final_alert:
            w.send(SERVER, CLIENT, record(21, b"\x02\x28"))
        w.packet(SERVER, CLIENT, 0x11)
        w.packet(CLIENT, SERVER, 0x11)
    if args.keylog:
        with open(args.keylog, "w") as keylog:
            for label in ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                          "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"]:
                keylog.write(f"{label} {RANDOM.hex()} {os.urandom(32).hex()}\n")
    print(f"{args.out}: {os.path.getsize(args.out) / 1e6:.1f} MB, kind {args.kind}")


if __name__ == "__main__":
    main()
