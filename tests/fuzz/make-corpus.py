#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the seed corpus of fuzz-trace (tests/fuzz/corpus/): small capture files, good and bad,
each reaching a part of the tracer that the sample captures in captures/ (the other half of the
corpus) do not: damaged files, every link type, both byte orders and nanoseconds, pcapng, IP
fragments and extension headers, sequence wrap-around, gaps, out-of-order segments, a capture
that starts mid-session, SMTP BDAT and STARTTLS, IMAP literals split across segments, HTTP
chunks split anywhere.

    python3 make-corpus.py CORPUS-DIR

The same files every time (no clock, no randomness); a fuzzer adds its finds beside them."""

import os
import struct
import sys

# Link types (pcap-linktype(7) LINKTYPE_ values, as files hold them).
NULL, ETHERNET, RAW, SLL, SLL2, USER0 = 0, 1, 101, 113, 276, 147


def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Capture:
    """One TCP connection between a client and a server, written as records of a capture."""

    def __init__(self, link=ETHERNET, ipv6=False, vlan=False, server_port=110, client_port=40312,
                 isn=(1000, 0xFFFFFF00), hop_by_hop=False):
        self.link, self.ipv6, self.vlan, self.hop_by_hop = link, ipv6, vlan, hop_by_hop
        self.port = {True: client_port, False: server_port}
        self.seq = {True: isn[0], False: isn[1]}
        self.t = 1744630000_000000
        self.records = []   # (time in us, frame, original length)

    def addresses(self, from_client):
        if self.ipv6:
            a = bytes.fromhex("20010db8000000000000000000000001")
            b = bytes.fromhex("20010db8000000000000000000000025")
        else:
            a, b = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 25])
        return (a, b) if from_client else (b, a)

    def ip_packet(self, from_client, tcp, ip_id=1, fragment=0):
        src, dst = self.addresses(from_client)
        if self.ipv6:
            next_header, ext = 6, b""
            if self.hop_by_hop:
                next_header, ext = 0, bytes([6, 0, 1, 4, 0, 0, 0, 0])   # PadN option
            return struct.pack("!IHBB16s16s", 0x60000000, len(ext) + len(tcp), next_header, 64, src, dst) + ext + tcp
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ip_id, fragment, 64, 6, 0, src, dst)
        header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
        return header + tcp

    def link_header(self, ethertype, from_client):
        if self.link == ETHERNET:
            head = b"\x00\x11\x22\x33\x44\x55\x00\x11\x22\x33\x44\x66"
            if self.vlan:
                head += struct.pack("!HH", 0x8100, 42)
            return head + struct.pack("!H", ethertype)
        if self.link == SLL:
            head = struct.pack("!HHH8s", 0 if from_client else 4, 772, 6, b"\x00\x11\x22\x33\x44\x55\x00\x00")
            if self.vlan:
                return head + struct.pack("!HHH", 0x8100, 42, ethertype)
            return head + struct.pack("!H", ethertype)
        if self.link == SLL2:
            return struct.pack("!HHIHBB8s", ethertype, 0, 1, 772, 0 if from_client else 4, 6,
                               b"\x00\x11\x22\x33\x44\x55\x00\x00")
        if self.link == NULL:
            return struct.pack("<I", 30 if self.ipv6 else 2)
        return b""

    def segment(self, from_client, flags, payload=b"", seq=None, advance=True, keep=None, ack=None):
        """A TCP segment; @seq overrides the next sequence number, @keep cuts the record to that
        many octets (a snaplen), @ack overrides the acknowledgment number."""
        s = self.seq[from_client] if seq is None else seq
        a = (self.seq[not from_client] if ack is None else ack) if flags & 0x10 else 0
        tcp = struct.pack("!HHIIBBHHH", self.port[from_client], self.port[not from_client], s & 0xFFFFFFFF,
                          a & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0) + payload
        if advance:
            self.seq[from_client] = (s + len(payload) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF
        packet = self.ip_packet(from_client, tcp)
        frame = self.link_header(0x86DD if self.ipv6 else 0x0800, from_client) + packet
        self.t += 1000
        self.records.append((self.t, frame[:keep] if keep is not None else frame, len(frame)))
        return self

    def raw_frame(self, frame):
        self.t += 1000
        self.records.append((self.t, frame, len(frame)))
        return self

    def handshake(self):
        return self.segment(True, 0x02).segment(False, 0x12).segment(True, 0x10)

    def send(self, from_client, payload, **kwargs):
        return self.segment(from_client, 0x18, payload, **kwargs)

    def talk(self, *lines):
        """Alternating lines, the server first."""
        for i, line in enumerate(lines):
            self.send(i % 2 == 1, line)
        return self

    def close(self):
        return self.segment(True, 0x11).segment(False, 0x11).segment(True, 0x10)

    def pcap(self, big_endian=False, nanoseconds=False):
        e = ">" if big_endian else "<"
        magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
        out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 262144, self.link)
        for t, frame, length in self.records:
            sec, usec = divmod(t, 1000000)
            out += struct.pack(e + "IIII", sec, usec * 1000 if nanoseconds else usec, len(frame), length) + frame
        return out

    def pcapng(self):
        def block(kind, body):
            body += b"\x00" * (-len(body) % 4)
            return struct.pack("<II", kind, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
        out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
        out += block(1, struct.pack("<HHI", self.link, 0, 262144))
        for t, frame, length in self.records:
            out += block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(frame), length) + frame)
        return out


def pop3_session(**kwargs):
    c = Capture(**kwargs).handshake()
    c.talk(b"+OK POP3 server ready\r\n", b"USER bob\r\n", b"+OK\r\n", b"PASS hungry\r\n",
           b"+OK user successfully logged on\r\n", b"RETR 1\r\n")
    c.send(False, b"+OK 60 octets\r\nSubject: hi\r\n\r\n..a stuffed line\r\n")
    c.send(False, b"the end\r\n.\r\n")
    c.send(True, b"QUIT\r\n").send(False, b"+OK bye\r\n")
    return c.close()


def bad_files():
    good = pop3_session().pcap()
    files = {
        "bad-empty.pcap": b"",
        "bad-text.pcap": b"Hello, this is not a capture.\n",
        "bad-truncated-last-record.pcap": good[:-5],
        "bad-short-header.pcap": good[:20],
    }
    # The fourth record (the greeting): 24 + 3 * (16 + 54) = 234.
    huge = bytearray(good)
    struct.pack_into("<II", huge, 234 + 8, 300000, 300000)
    files["bad-record-over-256k.pcap"] = bytes(huge)
    over = bytearray(good)
    struct.pack_into("<I", over, 234 + 12, 20)
    files["bad-caplen-over-len.pcap"] = bytes(over)
    files["bad-unknown-link-type.pcap"] = pop3_session(link=USER0).pcap()
    doff = bytearray(good)
    doff[234 + 16 + 14 + 20 + 12] = 4 << 4
    files["bad-tcp-header-below-20.pcap"] = bytes(doff)
    ihl = bytearray(good)
    ihl[234 + 16 + 14] = 0x43   # IPv4 header length 12: below its minimum
    files["bad-ip-header-length.pcap"] = bytes(ihl)
    total = bytearray(good)
    struct.pack_into("!H", total, 234 + 16 + 14 + 2, 9000)   # IPv4 total length past the packet
    files["bad-ip-total-length.pcap"] = bytes(total)
    ng = bytearray(pop3_session().pcapng())
    struct.pack_into("<I", ng, 28 + 20 + 4, 7)   # the first packet block says it is 7 octets long
    files["bad-pcapng-block-length.pcapng"] = bytes(ng)
    return files


def good_files():
    files = {}
    files["link-null-ipv6-hop-by-hop.pcap"] = pop3_session(link=NULL, ipv6=True, hop_by_hop=True).pcap()
    files["link-raw-ipv4.pcap"] = pop3_session(link=RAW).pcap()
    files["link-sll-vlan.pcap"] = pop3_session(link=SLL, vlan=True).pcap()
    files["link-sll2-ipv6.pcap"] = pop3_session(link=SLL2, ipv6=True).pcap()
    files["link-ethernet-vlan.pcapng"] = pop3_session(vlan=True).pcapng()
    files["big-endian-nanoseconds.pcap"] = pop3_session().pcap(big_endian=True, nanoseconds=True)

    # A snaplen cut, an IP fragment and a UDP packet among the segments.
    c = Capture(server_port=25).handshake()
    c.send(False, b"220 mx.b.example ESMTP\r\n")
    c.send(True, b"EHLO a.example\r\n")
    c.send(False, b"250-mx.b.example\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 STARTTLS\r\n")
    src, dst = c.addresses(True)
    frag = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 7, 0x2001, 64, 6, 0, src, dst) + b"fragment"
    c.raw_frame(c.link_header(0x0800, True) + frag)
    udp = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 36, 8, 0, 64, 17, 0, src, dst) + struct.pack("!HHHH", 53, 53, 16, 0) + b"dnsquery"
    c.raw_frame(c.link_header(0x0800, True) + udp)
    c.send(True, b"MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\nBDAT 11 LAST\r\nHello Bob\r\n")
    c.send(False, b"250 ok\r\n250 ok\r\n250 11 octets\r\n")
    c.send(True, b"STARTTLS\r\n").send(False, b"220 go ahead\r\n")
    c.send(True, bytes([22, 3, 1, 0, 5, 1, 0, 0, 1, 0]))
    c.send(False, bytes([22, 3, 3, 0, 4, 2, 0, 0, 0, 20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 3]) + b"abc")
    c.send(True, bytes([23, 3, 3, 0, 200]) + b"x" * 200, keep=100)   # a record cut by the snaplen
    files["smtp-bdat-starttls-snaplen.pcap"] = c.close().pcap()

    # IMAP: literals both ways, split across segments; a {n+} literal; a gap in a literal.
    c = Capture(server_port=143).handshake()
    c.send(False, b"* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n")
    c.send(True, b"a1 LOGIN {3}\r\n").send(False, b"+ go on\r\n").send(True, b"bob {6+}\r\nhun")
    c.send(True, b"gry\r\n").send(False, b"a1 OK logged in\r\n")
    c.send(True, b"a2 FETCH 1 (BODY[] FLAGS)\r\n")
    c.send(False, b"* 1 FETCH (BODY[] {30}\r\nSubject: x\r\n\r\nhel")
    c.send(False, b"lo there\r\n\r\n FLAGS (\\Seen))\r\na2 OK done\r\n")
    c.send(True, b"a3 APPEND INBOX {2000+}\r\n" + b"y" * 100)
    c.seq[True] = (c.seq[True] + 1000) & 0xFFFFFFFF    # 1000 octets the capture missed
    c.send(True, b"z" * 900 + b"\r\n")
    c.send(False, b"a3 OK appended\r\n").send(True, b"a4 LOGOUT\r\n").send(False, b"* BYE\r\na4 OK\r\n")
    files["imap-literals-split-gap.pcap"] = c.close().pcap()

    # HTTP: a capture that starts mid-session (no SYN), chunks split at awkward places, keep-alive.
    c = Capture(server_port=80)
    c.send(True, b"GET /inbox HTTP/1.1\r\nHost: webmail\r\n\r\n")
    c.send(False, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/html\r\n\r\n1")
    c.send(False, b"a\r\n<p>From: alice@a.example</p>\r")
    c.send(False, b"\n0\r\nX-Trailer: yes\r\n\r\n")
    c.send(True, b"POST /send HTTP/1.1\r\nHost: webmail\r\nContent-Length: 11\r\n\r\nto=bob&x=1")
    c.send(True, b"\n")
    c.send(False, b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n")
    files["http-mid-session-chunked.pcap"] = c.close().pcap()

    # POP3 with sequence numbers that wrap, segments out of order and twice, then a gap acked past.
    c = Capture(server_port=8110, isn=(0xFFFFFFF0, 0xFFFFFFFA)).handshake()
    c.send(False, b"+OK ready\r\n").send(True, b"LIST\r\n")
    start = c.seq[False]
    body = b"+OK 2 messages\r\n1 498\r\n2 912\r\n.\r\n"
    c.send(False, body[16:], seq=start + 16, advance=False)
    c.send(False, body[:20], seq=start, advance=False)
    c.send(False, body[:20], seq=start, advance=False)
    c.seq[False] = start + len(body)
    c.send(True, b"RETR 1\r\n")
    c.seq[False] += 400   # lost, and the client acknowledges past it
    c.send(False, b"end of the message\r\n.\r\n")
    c.segment(True, 0x10)
    c.send(True, b"QUIT\r\n").send(False, b"+OK\r\n")
    files["pop3-wrap-reorder-gap.pcap"] = c.segment(True, 0x04).pcap()
    return files


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: %s CORPUS-DIR" % sys.argv[0])
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, data in sorted({**bad_files(), **good_files()}.items()):
        with open(os.path.join(sys.argv[1], name), "wb") as f:
            f.write(data)
        print("%-40s %6d octets" % (name, len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
