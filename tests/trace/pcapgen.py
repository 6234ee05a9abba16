# SPDX-License-Identifier: GPL-3.0-or-later
"""Small pcap files written from Python for the tracer's tests: an Ethernet/IPv4 TCP
connection whose segments are given one by one (pcap-savefile(5), stdlib only)."""

import struct


class Pcap:
    def __init__(self, link=1, client=("192.0.2.1", 40312), server=("192.0.2.25", 110)):
        self.link = link
        self.records = []
        self.client, self.server = client, server
        self.seq = {True: 1000, False: 0xFFFFFFF0}
        self.t = 1700000000.0

    @staticmethod
    def _ip(text):
        return bytes(int(x) for x in text.split("."))

    def segment(self, from_client, flags, payload=b"", doff=5):
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        ack = self.seq[not from_client] if flags & 0x10 else 0
        tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], self.seq[from_client], ack, doff << 4, flags, 65535, 0, 0)
        tcp += payload
        self.seq[from_client] = (self.seq[from_client] + len(payload) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0,
                         self._ip(src[0]), self._ip(dst[0]))
        frame = b"\x00\x11\x22\x33\x44\x55\x00\x11\x22\x33\x44\x66\x08\x00" + ip + tcp
        self.t += 0.001
        self.records.append((self.t, frame))
        return self

    def handshake(self):
        return self.segment(True, 0x02).segment(False, 0x12).segment(True, 0x10)

    def send(self, from_client, payload):
        return self.segment(from_client, 0x18, payload)

    def close(self):
        return self.segment(True, 0x11).segment(False, 0x11).segment(True, 0x10)

    def bytes(self):
        out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, self.link)
        for t, frame in self.records:
            out += struct.pack("<IIII", int(t), int((t - int(t)) * 1e6), len(frame), len(frame)) + frame
        return out


def textbook_pop3():
    p = Pcap()
    p.handshake()
    for from_client, line in ((False, b"+OK POP3 server ready\r\n"), (True, b"user bob\r\n"), (False, b"+OK\r\n"),
                              (True, b"pass hungry\r\n"), (False, b"+OK user successfully logged on\r\n"),
                              (True, b"list\r\n"), (False, b"+OK\r\n1 498\r\n2 912\r\n.\r\n"),
                              (True, b"quit\r\n"), (False, b"+OK POP3 server signing off\r\n")):
        p.send(from_client, line)
    p.close()
    return p
