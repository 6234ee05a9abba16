#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes a large pcap of mixed mail sessions for the tracer's benchmark (run-bench-trace.sh):
SMTP (EHLO, AUTH, pipelined MAIL/RCPT/DATA, dot-stuffed bodies), POP3 (USER/PASS, STAT,
LIST, UIDL, RETR, DELE), IMAP (LOGIN, SELECT, FETCH of flags, FETCH BODY[] and APPEND with
literals) and HTTP/1.1 webmail (keep-alive, Content-Length and chunked bodies), 16 connections
at a time interleaved, IPv4 and some IPv6 over Ethernet, TCP segments of at most 1448 octets
each acknowledged as Linux does (every second segment). Messages are text, some with a base64
attachment, from 1 KiB to 1 MiB (most of a few tens of KiB, as mail is).

    python3 gen-mail-pcap.py OUT.pcap SIZE-MB [SEED]

The same SIZE-MB and SEED give the same file. TCP checksums are left 0 (readers do not check
them unless asked)."""

import random
import struct
import sys

MSS = 1448
CONCURRENT = 16
WORDS = ("the mail server relays each message to the next hop and the user agent pulls it down "
         "with POP3 or IMAP while the webmail shows it over HTTP alice bob lunch noodle bar "
         "chapter two push pull envelope header body dot stuffing literal chunked keep alive "
         "Received from by with ESMTP id for Date Subject Message-ID MIME-Version").split()


def make_body(rng, size):
    """A message of about @size octets: headers, text lines, maybe a base64 attachment; CRLF
    line ends; lines that start with '.' are dot-stuffed by the callers that need it."""
    lines = [
        "Received: from mail.a.example (mail.a.example [192.0.2.10])",
        "\tby mail.b.example (Postlab) with ESMTP id %08X" % rng.getrandbits(32),
        "\tfor <bob@b.example>; Mon, 14 Apr 2025 11:%02d:%02d +0000" % (rng.randrange(60), rng.randrange(60)),
        "Date: Mon, 14 Apr 2025 11:29:45 +0000",
        "From: Alice <alice@a.example>",
        "To: Bob <bob@b.example>",
        "Subject: %s" % " ".join(rng.choice(WORDS) for _ in range(rng.randrange(2, 8))),
        "Message-ID: <%d.%d@a.example>" % (rng.getrandbits(40), rng.getrandbits(16)),
        "MIME-Version: 1.0",
    ]
    attachment = size > 8192 and rng.random() < 0.5
    if attachment:
        lines += ['Content-Type: multipart/mixed; boundary="b1"', "", "--b1",
                  "Content-Type: text/plain; charset=utf-8", ""]
    else:
        lines += ["Content-Type: text/plain; charset=utf-8", ""]
    text_size = size // 4 if attachment else size
    total = sum(len(x) + 2 for x in lines)
    while total < text_size:
        n = rng.randrange(0, 14)
        line = " ".join(rng.choice(WORDS) for _ in range(n))
        if rng.random() < 0.02:
            line = "." + line   # a line that starts with a dot
        lines.append(line)
        total += len(line) + 2
    if attachment:
        lines += ["", "--b1", "Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64", ""]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        row = "".join(rng.choice(alphabet) for _ in range(76 * 64))
        while total < size:
            start = rng.randrange(0, 63) * 76
            lines.append(row[start:start + 76])
            total += 78
        lines += ["--b1--"]
    return ("\r\n".join(lines) + "\r\n").encode()


def dot_stuff(body):
    return body.replace(b"\r\n.", b"\r\n..")


class Pool:
    """Messages made once and used again and again: generating text is slower than writing it."""

    def __init__(self, rng):
        self.rng = rng
        self.messages = []
        for _ in range(64):
            # Log-normal sizes around 20 KiB, from 1 KiB to 1 MiB.
            size = int(min(max(rng.lognormvariate(10.0, 1.2), 1024), 1 << 20))
            body = make_body(rng, size)
            self.messages.append((body, dot_stuff(body)))

    def pick(self):
        return self.rng.choice(self.messages)


def smtp(rng, pool):
    body, stuffed = pool.pick()
    c, s = True, False
    yield s, b"220 mail.b.example ESMTP Postlab\r\n"
    yield c, b"EHLO mail.a.example\r\n"
    yield s, (b"250-mail.b.example Hello mail.a.example, pleased to meet you\r\n250-PIPELINING\r\n"
              b"250-SIZE 26214400\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES\r\n")
    if rng.random() < 0.5:
        yield c, b"AUTH PLAIN AGFsaWNlAGNyZXBlcw==\r\n"
        yield s, b"235 2.7.0 Authentication successful\r\n"
    yield c, b"MAIL FROM:<alice@a.example> SIZE=%d\r\nRCPT TO:<bob@b.example>\r\nDATA\r\n" % len(body)
    yield s, b"250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n354 Enter mail, end with \".\" on a line by itself\r\n"
    yield c, stuffed + b".\r\n"
    yield s, b"250 2.0.0 Ok: queued as %X\r\n" % rng.getrandbits(48)
    yield c, b"QUIT\r\n"
    yield s, b"221 2.0.0 mail.b.example closing connection\r\n"


def pop3(rng, pool):
    c, s = True, False
    n = rng.randrange(1, 4)
    messages = [pool.pick() for _ in range(n)]
    yield s, b"+OK POP3 server ready\r\n"
    yield c, b"USER bob\r\n"
    yield s, b"+OK\r\n"
    yield c, b"PASS hungry\r\n"
    yield s, b"+OK user successfully logged on\r\n"
    yield c, b"STAT\r\n"
    yield s, b"+OK %d %d\r\n" % (n, sum(len(m[0]) for m in messages))
    yield c, b"LIST\r\n"
    yield s, b"+OK %d messages\r\n" % n + b"".join(b"%d %d\r\n" % (i + 1, len(m[0])) for i, m in enumerate(messages)) + b".\r\n"
    yield c, b"UIDL\r\n"
    yield s, b"+OK\r\n" + b"".join(b"%d %016x\r\n" % (i + 1, rng.getrandbits(64)) for i in range(n)) + b".\r\n"
    for i, (body, stuffed) in enumerate(messages):
        yield c, b"RETR %d\r\n" % (i + 1)
        yield s, b"+OK %d octets\r\n" % len(body) + stuffed + b".\r\n"
        yield c, b"DELE %d\r\n" % (i + 1)
        yield s, b"+OK message %d deleted\r\n" % (i + 1)
    yield c, b"QUIT\r\n"
    yield s, b"+OK POP3 server signing off\r\n"


def imap(rng, pool):
    c, s = True, False
    body, _ = pool.pick()
    exists = rng.randrange(5, 60)
    yield s, b"* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ IDLE AUTH=PLAIN] Dovecot ready.\r\n"
    yield c, b"a1 LOGIN bob hungry\r\n"
    yield s, b"a1 OK [CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS] Logged in\r\n"
    yield c, b"a2 SELECT INBOX\r\n"
    yield s, (b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* %d EXISTS\r\n* 0 RECENT\r\n"
              b"* OK [UIDVALIDITY 1744630000] UIDs valid\r\n* OK [UIDNEXT %d] Predicted next UID\r\n"
              b"a2 OK [READ-WRITE] Select completed.\r\n" % (exists, exists + 1))
    yield c, b"a3 UID FETCH 1:* (FLAGS RFC822.SIZE)\r\n"
    yield s, b"".join(b"* %d FETCH (UID %d FLAGS (\\Seen) RFC822.SIZE %d)\r\n" % (i, i, rng.randrange(900, 90000))
                      for i in range(1, exists + 1)) + b"a3 OK Fetch completed.\r\n"
    yield c, b"a4 UID FETCH %d (BODY.PEEK[])\r\n" % exists
    yield s, b"* %d FETCH (UID %d BODY[] {%d}\r\n" % (exists, exists, len(body)) + body + b")\r\na4 OK Fetch completed.\r\n"
    if rng.random() < 0.3:
        sent, _ = pool.pick()
        yield c, b"a5 APPEND Sent (\\Seen) {%d+}\r\n" % len(sent) + sent + b"\r\n"
        yield s, b"a5 OK [APPENDUID 1744630000 %d] Append completed.\r\n" % rng.randrange(1, 999)
    yield c, b"a6 LOGOUT\r\n"
    yield s, b"* BYE Logging out\r\na6 OK Logout completed.\r\n"


def http(rng, pool):
    c, s = True, False
    inbox = b'{"folder":"INBOX","messages":[' + b",".join(
        b'{"id":%d,"from":"alice@a.example","subject":"lunch","size":%d}' % (i, rng.randrange(900, 90000))
        for i in range(rng.randrange(5, 40))) + b"]}"
    yield c, b"GET /api/inbox HTTP/1.1\r\nHost: webmail.b.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
    yield s, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(inbox) + inbox
    body, _ = pool.pick()
    chunks = []
    for i in range(0, len(body), 8000):
        part = body[i:i + 8000]
        chunks.append(b"%x\r\n" % len(part) + part + b"\r\n")
    yield c, b"GET /api/message/1 HTTP/1.1\r\nHost: webmail.b.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
    yield s, (b"HTTP/1.1 200 OK\r\nContent-Type: message/rfc822\r\nTransfer-Encoding: chunked\r\n\r\n"
              + b"".join(chunks) + b"0\r\n\r\n")
    form = b"to=alice%40a.example&subject=Re%3A+lunch&body=" + b"See+you+at+noon+" * rng.randrange(1, 40)
    yield c, (b"POST /api/send HTTP/1.1\r\nHost: webmail.b.example\r\nContent-Type: application/x-www-form-urlencoded\r\n"
              b"Content-Length: %d\r\n\r\n" % len(form) + form)
    yield s, b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"queued\":true}"


PROTOCOLS = [(smtp, 25, 0.40), (pop3, 110, 0.25), (imap, 143, 0.20), (http, 80, 0.15)]


class Connection:
    """One TCP connection: yields the frames of its packets one by one."""

    def __init__(self, rng, number, dialogue, port):
        self.ipv6 = rng.random() < 0.1
        if self.ipv6:
            self.addr = {True: bytes.fromhex("20010db8000000000000000000%06x" % (number & 0xFFFFFF)),
                         False: bytes.fromhex("20010db8000000000000000000000025")}
        else:
            self.addr = {True: bytes([10, (number >> 16) & 0xFF, (number >> 8) & 0xFF, number & 0xFF]),
                         False: bytes([192, 0, 2, 25])}
        self.port = {True: 1024 + number % 60000, False: port}
        self.seq = {True: rng.getrandbits(32), False: rng.getrandbits(32)}
        self.dialogue = dialogue
        self.ip_id = 0

    def frame(self, from_client, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", self.port[from_client], self.port[not from_client], self.seq[from_client],
                          self.seq[not from_client] if flags & 0x10 else 0, 0x50, flags, 65535, 0, 0)
        self.seq[from_client] = (self.seq[from_client] + len(payload) + (1 if flags & 0x03 else 0)) & 0xFFFFFFFF
        if self.ipv6:
            ip = struct.pack("!IHBB", 0x60000000, 20 + len(payload), 6, 64) + self.addr[from_client] + self.addr[not from_client]
            eth = b"\x00\x11\x22\x33\x44\x55\x00\x11\x22\x33\x44\x66\x86\xdd"
        else:
            self.ip_id = (self.ip_id + 1) & 0xFFFF
            ip = struct.pack("!BBHHHBBH", 0x45, 0, 40 + len(payload), self.ip_id, 0x4000, 64, 6, 0) \
                + self.addr[from_client] + self.addr[not from_client]
            eth = b"\x00\x11\x22\x33\x44\x55\x00\x11\x22\x33\x44\x66\x08\x00"
        return eth + ip + tcp + payload

    def packets(self):
        yield self.frame(True, 0x02)
        yield self.frame(False, 0x12)
        yield self.frame(True, 0x10)
        for from_client, data in self.dialogue:
            for i, start in enumerate(range(0, len(data), MSS)):
                yield self.frame(from_client, 0x18, data[start:start + MSS])
                if i % 2 == 1:
                    yield self.frame(not from_client, 0x10)
        yield self.frame(True, 0x11)
        yield self.frame(False, 0x11)
        yield self.frame(True, 0x10)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: %s OUT.pcap SIZE-MB [SEED]" % sys.argv[0])
    path, target = sys.argv[1], int(float(sys.argv[2]) * 1e6)
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) == 4 else 5)
    pool = Pool(rng)
    written = 24
    t = 1744630000 * 1000000
    number = 0
    active = []
    with open(path, "wb", buffering=1 << 20) as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        while written < target or active:
            while written < target and len(active) < CONCURRENT:
                number += 1
                r, acc = rng.random(), 0.0
                for make, port, share in PROTOCOLS:
                    acc += share
                    if r < acc:
                        break
                active.append(Connection(rng, number, list(make(rng, pool)), port).packets())
            i = rng.randrange(len(active))
            # A few packets of one connection, then another's: connections overlap in time.
            for _ in range(rng.randrange(1, 8)):
                frame = next(active[i], None)
                if frame is None:
                    active.pop(i)
                    break
                t += rng.randrange(5, 80)
                out.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(frame), len(frame)))
                out.write(frame)
                written += 16 + len(frame)
    print("%s: %d octets, %d connections" % (path, written, number))
    return 0


if __name__ == "__main__":
    sys.exit(main())
