# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the SMTP integration tests: a client that types SMTP like telnet, and looks into the world's store."""

import os
import socket
import time

from plserve import check, check_equal


class SmtpRaw:
    """An SMTP client that sends exactly the octets given and reads whole replies back (RFC 5321 4.2)."""

    def __init__(self, port, host="127.0.0.1", timeout=10, greet=True):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        self.greeting = self.reply() if greet else None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def reply(self):
        """One whole reply: (code, [text of each line], raw octets). Code 0 when the server closed."""
        raw = b""
        texts = []
        while True:
            line = self.file.readline()
            if line == b"":
                return 0, texts, raw
            raw += line
            check(len(line) >= 4 and line[:3].isdigit() and line[3:4] in (b" ", b"-", b"\r", b"\n"),
                  "not a reply line: %r" % line)
            texts.append(line[4:].rstrip(b"\r\n").decode("utf-8", "replace"))
            if line[3:4] != b"-":
                return int(line[:3]), texts, raw

    def code(self):
        return self.reply()[0]

    def cmd(self, line):
        """Sends one command line (CRLF added); returns its reply's code."""
        self.send((line.encode() if isinstance(line, str) else line) + b"\r\n")
        return self.code()

    def expect(self, line, code, what=None):
        """Sends @line and checks the reply's code; returns the reply's lines."""
        self.send((line.encode() if isinstance(line, str) else line) + b"\r\n")
        got, texts, raw = self.reply()
        check_equal(got, code, "%s: reply %r" % (what or line, raw))
        return texts

    def ehlo(self, name="client.example"):
        return self.expect("EHLO " + name, 250)

    def at_eof(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            return self.file.read(1) == b""
        except OSError:
            return False

    def close(self):
        try:
            self.file.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def message(subject, body="Hello Bob.\r\n", sender="alice@a.example", to="bob@b.example", extra=""):
    """A small RFC 5322 message with CRLF line ends."""
    text = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Thu, 04 Sep 2025 10:00:00 +0000\r\n"
            "Message-ID: <%s@a.example>\r\n%s\r\n%s" % (sender, to, subject, subject.replace(" ", "-"), extra, body))
    return text.encode("utf-8")


def files_under(folder):
    """Every regular file below @folder (empty when it does not exist)."""
    found = []
    for root, _dirs, files in os.walk(folder):
        found += [os.path.join(root, name) for name in files]
    return sorted(found)


def wait_for(predicate, timeout=10, interval=0.05, what="condition"):
    """Polls @predicate until it returns something true; returns that, or fails after @timeout seconds.
    @what says what was awaited; it may be a function, called only on failure (to show a log)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %g s waiting for %s" % (timeout, what() if callable(what) else what))
        time.sleep(interval)
