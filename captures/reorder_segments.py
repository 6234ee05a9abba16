#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rewrites a pcap of TCP over Ethernet (IPv4 or IPv6) so that its segments come out of order,
twice, and overlapping, as a lossy network or a busy capture box delivers them; every IP and TCP
checksum of the result is valid.

    python3 reorder_segments.py IN.pcap OUT.pcap

What is done, record by record (deterministic: the same input gives the same output):
- a data segment of MIN_SPLIT octets or more is cut in three, A B C, written C, A, B (C is
  ahead of its place, A fills the hole, B completes it), then B and C again as one segment (a
  retransmission that overlaps what has already arrived);
- the first shorter data segment of each side is written twice (an exact duplicate);
- every other record is copied, its checksums recomputed (a capture on `lo` holds the partial
  checksums of checksum offload, which no receiver would have accepted).
Times stay in file order: a written record is at least 1 us after the one before it."""

import struct
import sys

MIN_SPLIT = 48
ETH_IPV4, ETH_IPV6 = 0x0800, 0x86DD


def checksum(data):
    """RFC 1071: the ones' complement of the ones' complement sum of 16-bit words."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Segment:
    """One Ethernet frame holding IPv4 or IPv6 and TCP, taken apart so it can be rebuilt."""

    def __init__(self, frame):
        self.eth = frame[:14]
        ethertype = struct.unpack("!H", frame[12:14])[0]
        if ethertype == ETH_IPV4:
            ihl = (frame[14] & 0x0F) * 4
            self.ip = bytearray(frame[14:14 + ihl])
            total = struct.unpack("!H", frame[16:18])[0]
            rest = frame[14 + ihl:14 + total]
            self.family = 4
        elif ethertype == ETH_IPV6:
            self.ip = bytearray(frame[14:54])
            if self.ip[6] != 6:
                raise ValueError("IPv6 extension headers are not rewritten")
            plen = struct.unpack("!H", frame[18:20])[0]
            rest = frame[54:54 + plen]
            self.family = 6
        else:
            raise ValueError("not IP over Ethernet (ethertype 0x%04x)" % ethertype)
        doff = (rest[12] >> 4) * 4
        self.tcp = bytearray(rest[:doff])
        self.payload = bytes(rest[doff:])

    @property
    def seq(self):
        return struct.unpack("!I", self.tcp[4:8])[0]

    @property
    def flags(self):
        return self.tcp[13]

    def side(self):
        return bytes(self.ip[12:20] if self.family == 4 else self.ip[8:40]) + bytes(self.tcp[0:4])

    def piece(self, start, end):
        """A segment carrying payload[start:end], its sequence number moved to match."""
        s = Segment.__new__(Segment)
        s.eth, s.family = self.eth, self.family
        s.ip, s.tcp = bytearray(self.ip), bytearray(self.tcp)
        struct.pack_into("!I", s.tcp, 4, (self.seq + start) & 0xFFFFFFFF)
        if start > 0:
            s.tcp[13] &= ~0x02 & 0xFF   # only the first piece can carry a SYN
        s.payload = self.payload[start:end]
        return s

    def frame(self):
        tcp = bytearray(self.tcp)
        struct.pack_into("!H", tcp, 16, 0)
        segment_len = len(tcp) + len(self.payload)
        ip = bytearray(self.ip)
        if self.family == 4:
            struct.pack_into("!H", ip, 2, len(ip) + segment_len)
            struct.pack_into("!H", ip, 10, 0)
            struct.pack_into("!H", ip, 10, checksum(bytes(ip)))
            pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, 6, segment_len)
        else:
            struct.pack_into("!H", ip, 4, segment_len)
            pseudo = bytes(ip[8:40]) + struct.pack("!IxxxB", segment_len, 6)
        struct.pack_into("!H", tcp, 16, checksum(pseudo + bytes(tcp) + self.payload))
        return self.eth + bytes(ip) + bytes(tcp) + self.payload


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise ValueError("%s: not a little-endian pcap file" % path)
    header = data[:24]
    if struct.unpack("<I", data[20:24])[0] != 1:
        raise ValueError("%s: only Ethernet (link type 1) is rewritten" % path)
    scale = 1000000000 if magic == 0xA1B23C4D else 1000000
    records, pos = [], 24
    while pos + 16 <= len(data):
        sec, frac, caplen, length = struct.unpack("<IIII", data[pos:pos + 16])
        if caplen != length:
            raise ValueError("%s: a record cut by the snaplen cannot be rewritten" % path)
        records.append((sec * scale + frac, data[pos + 16:pos + 16 + caplen]))
        pos += 16 + caplen
    return header, scale, records


def rewrite(records, tick):
    """The records as they come out: (time, frame) pairs, times in ticks of the file's resolution."""
    out = []
    duplicated = set()
    last = 0

    def emit(t, frame):
        nonlocal last
        t = max(t, last + tick)
        last = t
        out.append((t, frame))

    for t, frame in records:
        seg = Segment(frame)
        n = len(seg.payload)
        if n >= MIN_SPLIT:
            a, b = n // 3, 2 * n // 3
            for start, end in ((b, n), (0, a), (a, b), (a, n)):
                emit(t, seg.piece(start, end).frame())
        elif n > 0 and seg.side() not in duplicated:
            duplicated.add(seg.side())
            emit(t, seg.frame())
            emit(t, seg.frame())
        else:
            emit(t, seg.frame())
    return out


def write_pcap(path, header, scale, records):
    with open(path, "wb") as f:
        f.write(header)
        for t, frame in records:
            sec, frac = divmod(t, scale)
            f.write(struct.pack("<IIII", sec, frac, len(frame), len(frame)))
            f.write(frame)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: %s IN.pcap OUT.pcap" % sys.argv[0])
    header, scale, records = read_pcap(sys.argv[1])
    write_pcap(sys.argv[2], header, scale, rewrite(records, scale // 1000000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
