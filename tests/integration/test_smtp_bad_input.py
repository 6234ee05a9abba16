#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input against `postlab-cli serve`'s SMTP: each gets the right reply, and the session goes on."""

import time

from plserve import Server, check, check_equal, cli_from_argv, run_tests
from plsmtp import SmtpRaw, files_under, message, wait_for

CLI = cli_from_argv()


def goes_on(client, what):
    """The session is still there: NOOP gets 250."""
    check_equal(client.cmd("NOOP"), 250, "NOOP after %s" % what)


def new_messages(server, user="bob"):
    return [m for m in server.messages_on_disk(user) if b"Received: " in m]


def size_limit(lines):
    for line in lines:
        if line.upper().startswith("SIZE "):
            return int(line.split()[1])
    raise AssertionError("no SIZE in the EHLO reply: %r" % lines)


def test_long_line():
    with Server(CLI) as server:
        with SmtpRaw(server.smtp_b) as client:
            client.ehlo()
            texts = client.expect(b"NOOP " + b"x" * 1995, 500, "a 2,000-octet line")
            check("too long" in texts[0].lower(), texts)
            goes_on(client, "a 2,000-octet line")
            # Inside a message: the rest of the message is read, then 500, and nothing is stored.
            client.expect("MAIL FROM:<alice@a.example>", 250)
            client.expect("RCPT TO:<bob@b.example>", 250)
            client.expect("DATA", 354)
            client.send(b"Subject: long\r\n\r\n" + b"y" * 2000 + b"\r\nafter\r\n.\r\n")
            check_equal(client.code(), 500, "a 2,000-octet message line")
            goes_on(client, "a long message line")
        check_equal(new_messages(server), [], "nothing delivered")
        server.stop()


def test_bad_sequences():
    with Server(CLI) as server:
        with SmtpRaw(server.smtp_b) as client:
            client.expect("MAIL FROM:<alice@a.example>", 503, "MAIL before EHLO")
            client.ehlo()
            client.expect("RCPT TO:<bob@b.example>", 503, "RCPT before MAIL")
            goes_on(client, "RCPT before MAIL")
            client.expect("DATA", 503, "DATA before MAIL")
            client.expect("MAIL FROM:<alice@a.example>", 250)
            client.expect("DATA", 503, "DATA with no recipient")
            goes_on(client, "DATA with no recipient")
            client.expect("MAIL FROM:<alice@a.example>", 503, "a second MAIL in a transaction")
            client.expect("FROB", 500, "an unknown command")
            client.expect("RSET", 250)
            client.expect("MAIL TO:<alice@a.example>", 501, "MAIL with bad arguments")
            client.expect("VRFY bob", 252)
            goes_on(client, "bad sequences")
            client.expect("QUIT", 221)
        server.stop()


def test_101_recipients():
    with Server(CLI) as server:
        with SmtpRaw(server.smtp_b) as client:
            client.ehlo()
            client.expect("MAIL FROM:<alice@a.example>", 250)
            for number in range(100):
                client.expect("RCPT TO:<%s@b.example>" % ("bob" if number % 2 else "postmaster"), 250,
                              "recipient %d" % (number + 1))
            texts = client.expect("RCPT TO:<bob@b.example>", 452, "recipient 101")
            check("recipients" in texts[0].lower(), texts)
            goes_on(client, "101 recipients")
            # The first hundred still stand: the message goes to them.
            client.expect("DATA", 354)
            client.send(message("Hundred") + b".\r\n")
            check_equal(client.code(), 250, "the message to 100 recipients")
        stored = wait_for(lambda: new_messages(server), what="the message in bob's Maildir")
        check(len(stored) >= 1 and b"Subject: Hundred" in stored[0], stored)
        server.stop()


def test_message_over_size():
    with Server(CLI) as server:
        with SmtpRaw(server.smtp_b) as client:
            limit = size_limit(client.ehlo())
            texts = client.expect("MAIL FROM:<alice@a.example> SIZE=%d" % (limit + 1), 552, "SIZE= over the limit")
            check("size" in texts[0].lower(), texts)
            goes_on(client, "552 at MAIL")
            # A client that says nothing (or lies) about the size: the server counts, then 552 after ".".
            client.expect("MAIL FROM:<alice@a.example> SIZE=1000", 250)
            client.expect("RCPT TO:<bob@b.example>", 250)
            client.expect("DATA", 354)
            line = b"z" * 998 + b"\r\n"
            client.send(b"Subject: big\r\n\r\n" + line * (limit // len(line) + 2) + b".\r\n")
            check_equal(client.code(), 552, "a message over SIZE")
            goes_on(client, "552 after the message")
        check_equal(new_messages(server), [], "nothing delivered")
        server.stop()


def test_nul_bytes():
    with Server(CLI) as server:
        with SmtpRaw(server.smtp_b) as client:
            client.ehlo()
            client.expect(b"NO\x00OP", 500, "a NUL in a command")
            goes_on(client, "a NUL in a command")
            client.expect(b"MAIL FROM:<alice@a.example>\x00", 500, "a NUL after MAIL's argument")
            client.expect("MAIL FROM:<alice@a.example>", 250)
            client.expect("RCPT TO:<bob@b.example>", 250)
            client.expect("DATA", 354)
            client.send(b"Subject: nul\r\n\r\nbefore\x00after\r\n.\r\n")
            check_equal(client.code(), 554, "a NUL in the message")
            goes_on(client, "a NUL in the message")
        check_equal(new_messages(server), [], "nothing delivered")
        server.stop()


def test_bare_lf():
    with Server(CLI) as server:
        with SmtpRaw(server.smtp_b) as client:
            client.send(b"EHLO lf.example\n")
            check_equal(client.code(), 250, "EHLO ended by a bare LF")
            for line, code in ((b"MAIL FROM:<alice@a.example>\n", 250), (b"RCPT TO:<bob@b.example>\n", 250),
                               (b"DATA\n", 354)):
                client.send(line)
                check_equal(client.code(), code, line)
            client.send(b"Subject: bare LF\n\nline one\n..dot\nline three\n.\n")
            check_equal(client.code(), 250, "a message with bare LF line ends")
            goes_on(client, "bare LF")
        stored = wait_for(lambda: new_messages(server), what="the message")[0]
        check(b"\r\nSubject: bare LF\r\n" in stored, stored)
        check(stored.endswith(b"\r\n\r\nline one\r\n.dot\r\nline three\r\n"), "CRLF, unstuffed: %r" % stored)
        server.stop()


def test_whole_transaction_in_one_write():
    with Server(CLI) as server:
        with SmtpRaw(server.smtp_b) as client:
            client.send(b"EHLO one.example\r\nMAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\n"
                        b"DATA\r\n" + message("One write") + b".\r\nNOOP\r\nQUIT\r\n")
            codes = [client.code() for _ in range(7)]
            check_equal(codes, [250, 250, 250, 354, 250, 250, 221], "the replies, in order")
            check(client.at_eof(), "closed after QUIT")
        stored = wait_for(lambda: new_messages(server), what="the message")
        check_equal(len(stored), 1, "one message")
        check(b"Subject: One write\r\n" in stored[0], stored)
        server.stop()


def test_disconnect_in_data():
    with Server(CLI) as server:
        before = files_under(server.data)
        for port in (server.smtp_a, server.smtp_b):
            with SmtpRaw(port) as client:
                client.ehlo()
                client.expect("MAIL FROM:<alice@a.example>", 250)
                client.expect("RCPT TO:<bob@b.example>", 250)
                client.expect("DATA", 354)
                client.send(b"Subject: cut off\r\n\r\n" + b"half a message\r\n" * 2000)
            # The client is gone; give the server time to notice and to do anything it would do.
            time.sleep(0.5)
        check_equal(files_under(server.data), before, "files in the data folder (Maildirs and the queue)")
        # The server is still fine.
        with SmtpRaw(server.smtp_b) as client:
            client.ehlo()
            goes_on(client, "a disconnect in DATA")
        server.stop()


def test_relay_denied():
    with Server(CLI) as server:
        with SmtpRaw(server.smtp_b) as client:
            client.ehlo()
            client.expect("MAIL FROM:<alice@a.example>", 250)
            client.send(b"RCPT TO:<carol@c.example>\r\n")
            code, texts, raw = client.reply()
            check(code in (550, 554), "RCPT for a domain mail.b.example does not serve: %r" % raw)
            check("relay" in " ".join(texts).lower(), "the reply says relaying is denied: %r" % raw)
            client.expect("RCPT TO:<carol@a.example>", code, "RCPT for the other domain of the world")
            goes_on(client, "relay denied")
            client.expect("RCPT TO:<bob@b.example>", 250, "a local recipient after the refusals")
        server.stop()


run_tests([
    ("a 2,000-octet line: 500, in a command or in a message", test_long_line),
    ("bad sequences: RCPT before MAIL 503, DATA with no recipient 503, ...", test_bad_sequences),
    ("101 recipients: 452 for the extra one", test_101_recipients),
    ("over SIZE: 552 at MAIL (SIZE=) and after the message", test_message_over_size),
    ("NUL bytes: 500 in a command, 554 in a message", test_nul_bytes),
    ("bare LF line ends are accepted", test_bare_lf),
    ("a whole transaction pipelined in one write", test_whole_transaction_in_one_write),
    ("a disconnect in the middle of DATA leaves no file behind", test_disconnect_in_data),
    ("RCPT for a domain nobody serves here: 550 relay denied", test_relay_denied),
])
