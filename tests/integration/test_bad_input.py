#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad and hostile input against `postlab-cli serve`: each gets POP3's -ERR and the session goes on."""

import selectors
import socket
import time

from plserve import (GREETING, LOGGED_ON, SIGNING_OFF, Pop3Raw, Server, check, check_equal,
                     cli_from_argv, run_tests)

CLI = cli_from_argv()
AUTH_DELAY_MS = 50  # as every test serves; the -ERR must still come no sooner
REFUSAL = b"-ERR [SYS/TEMP] too many connections, try again later\r\n"

server = None
before = None


def expect_err(client, line, what):
    """Sends @line (str: a command, CRLF added; bytes: sent as they are) and expects -ERR."""
    if isinstance(line, bytes):
        client.send(line)
        reply = client.readline()
    else:
        reply = client.cmd(line)
    check(reply.startswith(b"-ERR"), "%s: expected -ERR, got %r" % (what, reply))
    return reply


def logged_in():
    client = Pop3Raw(server.port)
    check_equal(client.readline(), GREETING, "greeting")
    check_equal(client.login(), LOGGED_ON, "PASS")
    return client


def test_long_line():
    with logged_in() as client:
        reply = expect_err(client, b"NOOP " + b"A" * 10000 + b"\r\n", "a 10,000-octet line")
        check(len(reply) <= 512, "the -ERR line itself stays within RFC 2449's 512 octets")
        check_equal(client.cmd("stat"), b"+OK 2 1410\r\n", "STAT after the long line")
        # The same in AUTHORIZATION, and split across many small writes.
    with Pop3Raw(server.port) as client:
        check_equal(client.readline(), GREETING, "greeting")
        for _ in range(100):
            client.send(b"B" * 100)
        client.send(b"\r\n")
        check(client.readline().startswith(b"-ERR"), "a long line sent in pieces")
        check(client.cmd("user bob").startswith(b"+OK"), "USER after the long line")
        check_equal(client.cmd("quit"), SIGNING_OFF, "QUIT")


def test_nul_byte():
    with logged_in() as client:
        expect_err(client, b"ST\x00AT\r\n", "a NUL inside the verb")
        expect_err(client, b"RETR 1\x00\r\n", "a NUL after the argument")
        check_equal(client.cmd("noop"), b"+OK\r\n", "NOOP after NUL bytes")
        check_equal(client.cmd("stat"), b"+OK 2 1410\r\n", "STAT after NUL bytes")


def test_unknown_command():
    with logged_in() as client:
        expect_err(client, "frobnicate", "an unknown command")
        expect_err(client, "\x7f\x01", "control characters")
        expect_err(client, b"\xff\xfe\r\n", "octets that are not ASCII")
        expect_err(client, "", "an empty line")
        check_equal(client.cmd("stat"), b"+OK 2 1410\r\n", "STAT after unknown commands")


def test_transaction_commands_before_login():
    with Pop3Raw(server.port) as client:
        check_equal(client.readline(), GREETING, "greeting")
        for line in ("stat", "list", "list 1", "retr 1", "dele 1", "noop", "rset", "top 1 0", "uidl"):
            expect_err(client, line, "%s before login" % line)
        expect_err(client, "pass hungry", "PASS before USER")
        check(client.cmd("user bob").startswith(b"+OK"), "USER after all that")
        check_equal(client.cmd("pass hungry"), LOGGED_ON, "PASS after all that")
        check_equal(client.cmd("stat"), b"+OK 2 1410\r\n", "STAT")
        check_equal(client.cmd("quit"), SIGNING_OFF, "QUIT")


def test_missing_and_deleted_messages():
    with logged_in() as client:
        for line in ("retr 3", "retr 0", "retr -1", "retr x", "retr", "dele 3", "top 9 1", "list 3", "uidl 3"):
            expect_err(client, line, line)
        check(client.cmd("dele 1").startswith(b"+OK"), "DELE 1")
        expect_err(client, "dele 1", "DELE twice")
        expect_err(client, "retr 1", "RETR of a deleted message")
        expect_err(client, "list 1", "LIST of a deleted message")
        check_equal(client.cmd("stat"), b"+OK 1 912\r\n", "STAT after DELE 1")
        check(client.cmd("rset").startswith(b"+OK"), "RSET")
        check_equal(client.cmd("stat"), b"+OK 2 1410\r\n", "STAT after RSET")
        check_equal(client.cmd("quit"), SIGNING_OFF, "QUIT")


def test_wrong_password_is_delayed():
    with Pop3Raw(server.port) as client:
        check_equal(client.readline(), GREETING, "greeting")
        check(client.cmd("user bob").startswith(b"+OK"), "USER")
        start = time.monotonic()
        wrong = client.cmd("pass wrong")
        elapsed = time.monotonic() - start
        check(wrong.startswith(b"-ERR"), "wrong password: %r" % wrong)
        check(elapsed >= AUTH_DELAY_MS / 1000 * 0.95,
              "-ERR came after %.3f s, before the configured %d ms" % (elapsed, AUTH_DELAY_MS))
        check(elapsed < AUTH_DELAY_MS / 1000 + 5, "-ERR came only after %.3f s" % elapsed)
        # The session goes on: the right password works.
        check(client.cmd("user bob").startswith(b"+OK"), "USER again")
        check_equal(client.cmd("pass hungry"), LOGGED_ON, "the right password after a wrong one")
        check_equal(client.cmd("quit"), SIGNING_OFF, "QUIT")
    with Pop3Raw(server.port) as client:
        check_equal(client.readline(), GREETING, "greeting")
        check(client.cmd("user nobody").startswith(b"+OK"), "USER of an unknown user (no hint)")
        start = time.monotonic()
        check(client.cmd("pass x").startswith(b"-ERR"), "unknown user")
        check(time.monotonic() - start >= AUTH_DELAY_MS / 1000 * 0.95, "unknown users are delayed too")


def test_locked_maildrop():
    with logged_in() as first:
        with Pop3Raw(server.port) as second:
            check_equal(second.readline(), GREETING, "greeting")
            check(second.cmd("user bob").startswith(b"+OK"), "USER")
            reply = second.cmd("pass hungry")
            check(reply.startswith(b"-ERR") and b"maildrop locked" in reply,
                  "second session on a locked maildrop: %r" % reply)
            # The second session goes on in AUTHORIZATION.
            check_equal(second.cmd("quit"), SIGNING_OFF, "QUIT of the second session")
        check_equal(first.cmd("stat"), b"+OK 2 1410\r\n", "the first session is unharmed")
        check_equal(first.cmd("quit"), SIGNING_OFF, "QUIT")
    # Released at QUIT: a new session gets in.
    with logged_in() as third:
        check_equal(third.cmd("quit"), SIGNING_OFF, "QUIT")


def test_many_connections():
    rss_before = server.rss_kib()
    sel = selectors.DefaultSelector()
    sockets = []
    for _ in range(500):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", server.port))
        sockets.append(s)
        sel.register(s, selectors.EVENT_READ, bytearray())

    # Read each one's first line (and, for refusals, the end of the stream) while all stay open.
    greeted, refused = 0, 0
    pending = set(sockets)
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s, buf = key.fileobj, key.data
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                chunk = b""
            buf += chunk
            if buf == GREETING:
                greeted += 1
            elif buf == REFUSAL and chunk:
                continue  # wait for the end of stream after the refusal line
            elif buf == REFUSAL and not chunk:
                refused += 1
            elif chunk and len(buf) < len(REFUSAL):
                continue
            else:
                raise AssertionError("connection got %r" % bytes(buf))
            sel.unregister(s)
            pending.discard(s)
    check(not pending, "%d of 500 connections got neither a greeting nor a refusal" % len(pending))
    check_equal(greeted + refused, 500, "greeted + refused")
    check(greeted >= 1, "some connections were served")
    check(greeted <= 200, "at most --max-connections (200) served at once, got %d" % greeted)
    check(refused >= 300, "the rest refused cleanly, got %d" % refused)

    server.check_rss_growth(rss_before, 32 * 1024, "with 500 connections open")
    for s in sockets:
        s.close()
    sel.close()

    # The server stays up and answers afterwards.
    time.sleep(0.2)
    with logged_in() as client:
        check_equal(client.cmd("stat"), b"+OK 2 1410\r\n", "STAT after the storm")
        check_equal(client.cmd("quit"), SIGNING_OFF, "QUIT")
    server.check_rss_growth(rss_before, 32 * 1024, "after 500 connections")


def test_flood_without_reading():
    # A client that sends commands and never reads: the server stops reading and stays bounded.
    rss_before = server.rss_kib()
    with logged_in() as client:
        client.sock.setblocking(False)
        sent = 0
        burst = b"retr 2\r\n" * 1024
        start = last_progress = time.monotonic()
        # Until the kernel's buffers are full both ways and the server has stopped reading.
        while time.monotonic() - last_progress < 1.0 and time.monotonic() - start < 10:
            try:
                sent += client.sock.send(burst)
                last_progress = time.monotonic()
            except BlockingIOError:
                time.sleep(0.01)
        check(time.monotonic() - start < 10, "the server kept reading RETRs it could not answer")
        check(sent < 64 * 1024 * 1024, "the server kept reading %d octets of RETRs without being read" % sent)
    server.check_rss_growth(rss_before, 32 * 1024, "after the flood")
    time.sleep(0.2)
    with logged_in() as client:
        check_equal(client.cmd("quit"), SIGNING_OFF, "QUIT after the flood")


def test_maildrop_unchanged():
    check_equal(server.messages_on_disk(), before, "the Maildir after all the bad input")
    with logged_in() as client:
        check_equal(client.cmd("stat"), b"+OK 2 1410\r\n", "STAT at the end")
        check_equal(client.cmd("quit"), SIGNING_OFF, "QUIT")


def main():
    global server, before
    with Server(CLI, auth_delay=AUTH_DELAY_MS) as running:
        server = running
        before = server.messages_on_disk()
        tests = [
            ("a 10,000-octet line", test_long_line),
            ("a NUL byte", test_nul_byte),
            ("an unknown command", test_unknown_command),
            ("TRANSACTION commands before login", test_transaction_commands_before_login),
            ("RETR of missing and deleted messages, DELE twice", test_missing_and_deleted_messages),
            ("a wrong password is answered after the delay", test_wrong_password_is_delayed),
            ("a second session on a locked maildrop", test_locked_maildrop),
            ("500 connections at once", test_many_connections),
            ("a client that floods and never reads", test_flood_without_reading),
            ("the maildrop is unchanged by all of it", test_maildrop_unchanged),
        ]
        try:
            run_tests(tests)
        finally:
            server.stop()


main()
