#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The textbook's POP3 session, typed over a raw socket as at telnet, against `postlab-cli serve`."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from plserve import (GREETING, LOGGED_ON, SIGNING_OFF, Pop3Raw, Server, check, check_equal,
                     cli_from_argv, dot_stuff, dot_unstuff, free_ports, port_args, run_tests)

CLI = cli_from_argv()


def retrieve(client, number, expected):
    """RETR as the figure shows it: +OK, the message dot-stuffed, '.'; checked octet for octet."""
    first, body = client.multi("retr %d" % number)
    check(first.startswith(b"+OK"), "RETR %d: %r" % (number, first))
    check(expected.endswith(b"\r\n"), "message %d ends with CRLF" % number)
    check_equal(body, dot_stuff(expected) + b".\r\n", "RETR %d on the wire" % number)
    check_equal(dot_unstuff(body[:-3]), expected, "RETR %d after un-stuffing" % number)
    return body


def textbook_session(client, messages, quit=True):
    check_equal(client.readline(), GREETING, "greeting")
    check(client.cmd("user bob").startswith(b"+OK"), "USER bob")
    check_equal(client.cmd("pass hungry"), LOGGED_ON, "PASS hungry")
    first, body = client.multi("list")
    check_equal(body, b"1 498\r\n2 912\r\n.\r\n", "LIST")
    retrieve(client, 1, messages[0])
    check(client.cmd("dele 1").startswith(b"+OK"), "DELE 1")
    wire2 = retrieve(client, 2, messages[1])
    check(client.cmd("dele 2").startswith(b"+OK"), "DELE 2")
    if quit:
        check_equal(client.cmd("quit"), SIGNING_OFF, "QUIT")
        check(client.at_eof(), "the server closes the connection after QUIT")
    return wire2


def test_textbook_session():
    with Server(CLI, verbose=True) as server:
        messages = server.textbook_messages()
        with Pop3Raw(server.port) as client:
            wire2 = textbook_session(client, messages)
        # Message 2 has a line that starts with '.', so the wire shows the stuffing.
        check(b"\r\n..." in wire2 and b"\r\n..." not in messages[1], "message 2 is dot-stuffed on the wire")

        # UPDATE happened at QUIT: a new session finds the maildrop empty, and so does the disk.
        with Pop3Raw(server.port) as client:
            check_equal(client.readline(), GREETING, "greeting")
            check_equal(client.login(), LOGGED_ON, "PASS")
            check_equal(client.cmd("stat"), b"+OK 0 0\r\n", "STAT after QUIT")
            check_equal(client.cmd("quit"), SIGNING_OFF, "QUIT")
        check_equal(server.messages_on_disk(), [], "messages left in the Maildir")

        server.stop()
        out = server.stdout()
        check("POP3 server for b.example listening on 127.0.0.1:%d" % server.port in out, out)
        check("try: telnet 127.0.0.1 %d, then: user bob / pass hungry / list / retr 1 / quit"
              % server.port in out, "the hint is printed")
        # --verbose: the transcript, with session lines and ids.
        for expected in ("S: +OK POP3 server ready", "C: user bob", "C: pass hungry",
                         "S: +OK user successfully logged on", "C: list", "1 498", "2 912",
                         "C: retr 1", "C: dele 2", "S: +OK POP3 server signing off"):
            check(expected in out, "verbose transcript lacks %r:\n%s" % (expected, out))
        check(re.search(r"^\* session \d+: pop3, client 127\.0\.0\.1:\d+, server 127\.0\.0\.1:%d, access$"
                        % server.port, out, re.M), "session line (with the hop) in:\n" + out)
        check(re.search(r"#\d+\s+C: retr 1", out), "session ids on event lines")


def test_cut_off_before_quit_deletes_nothing():
    with Server(CLI) as server:
        messages = server.textbook_messages()
        before = server.messages_on_disk()
        with Pop3Raw(server.port) as client:
            textbook_session(client, messages, quit=False)
        # The connection dropped without QUIT: no UPDATE state, so nothing is deleted.
        with Pop3Raw(server.port) as client:
            check_equal(client.readline(), GREETING, "greeting")
            check_equal(client.login(), LOGGED_ON, "PASS after the cut-off session")
            check_equal(client.cmd("stat"), b"+OK 2 1410\r\n", "STAT after the cut-off")
            check_equal(client.cmd("quit"), SIGNING_OFF, "QUIT")
        check_equal(server.messages_on_disk(), before, "the Maildir after the cut-off")
        server.stop()


def test_ctrl_c_with_open_session_deletes_nothing():
    with Server(CLI) as server:
        before = server.messages_on_disk()
        with Pop3Raw(server.port) as client:
            check_equal(client.readline(), GREETING, "greeting")
            check_equal(client.login(), LOGGED_ON, "PASS")
            check(client.cmd("dele 1").startswith(b"+OK"), "DELE 1")
            server.stop()  # SIGTERM: exit 0, the open session goes the connection-lost way
            check(client.at_eof(), "the server closed the open connection")
        check_equal(server.messages_on_disk(), before, "the Maildir after stopping")
        check("Stopping" in server.stdout(), server.stdout())


def test_idle_timeout_deletes_nothing():
    with Server(CLI, "--idle-timeout", "1", verbose=True) as server:
        before = server.messages_on_disk()
        with Pop3Raw(server.port) as client:
            check_equal(client.readline(), GREETING, "greeting")
            check_equal(client.login(), LOGGED_ON, "PASS")
            check(client.cmd("dele 1").startswith(b"+OK"), "DELE 1")
            start = time.monotonic()
            # RFC 1939 section 3: the autologout timer closes without a word and without UPDATE.
            check(client.at_eof(), "the idle connection is closed")
            waited = time.monotonic() - start
            check(0.9 <= waited < 5, "closed after %.2f s of idleness, not about 1 s" % waited)
        check_equal(server.messages_on_disk(), before, "the Maildir after the idle timeout")
        server.stop()
        check("idle timeout" in server.stdout(), server.stdout())


def test_seeded_data_folder_layout():
    with Server(CLI) as server:
        users = open(os.path.join(server.domain_folder("b.example"), "users"), encoding="utf-8").read()
        check("bob:hungry" in users, "users file: %r" % users)
        users = open(os.path.join(server.domain_folder("a.example"), "users"), encoding="utf-8").read()
        check("alice:crepes" in users, "a.example's users file: %r" % users)
        check(not os.path.exists(os.path.join(server.data, "users")), "no users file at the top any more")
        check("New data folder" in server.stdout(), server.stdout())
        server.stop()
    # A second start on the same folder does not seed again.
    with Server(CLI) as first:
        first.stop()
        with Server(CLI, data=first.data) as second:
            check_equal(len(second.messages_on_disk()), 2, "messages after restart")
            check("New data folder" not in second.stdout(), second.stdout())
            second.stop()


def test_serve_setup_errors():
    tmp = tempfile.mkdtemp(prefix="postlab-serve-")
    try:
        data = os.path.join(tmp, "data")
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            others = free_ports()
            del others["b.example:pop3"]
            result = subprocess.run([CLI, "serve", "--data", data, *port_args(others), "--pop3-port", str(port)],
                                    capture_output=True, timeout=20)
            check_equal(result.returncode, 2, "exit code for a port in use")
            check(b"127.0.0.1:%d" % port in result.stderr and b"already in use" in result.stderr,
                  result.stderr)
        for args, why in ((["--listen", "localhost"], b"not an IP address"),
                          (["--pop3-port", "70000"], b"not a port number"),
                          (["--max-connections", "0"], b"--max-connections"),
                          (["--frobnicate"], b"Unknown option"),
                          (["extra"], b"unexpected argument")):
            result = subprocess.run([CLI, "serve", "--data", data, *args], capture_output=True, timeout=20)
            check_equal(result.returncode, 2, "exit code for %r" % args)
            check(why in result.stderr, "%r: %r" % (args, result.stderr))
        not_a_folder = os.path.join(tmp, "file")
        open(not_a_folder, "w").close()
        result = subprocess.run([CLI, "serve", "--data", os.path.join(not_a_folder, "x")],
                                capture_output=True, timeout=20)
        check_equal(result.returncode, 2, "exit code for an unusable data folder")
        check(b"data folder" in result.stderr, result.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ipv6_loopback_works():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_ipv6_loopback():
    if not ipv6_loopback_works():
        print("  # no IPv6 loopback here: serve must warn and go on with 127.0.0.1")
        with Server(CLI) as server:
            server.stop()
            check("going on without IPv6" in server.stderr(), server.stderr())
        return
    with Server(CLI, verbose=True) as server:
        with Pop3Raw(server.port, host="::1") as client:
            check_equal(client.readline(), GREETING, "greeting over IPv6")
            check_equal(client.cmd("quit"), SIGNING_OFF, "QUIT")
        server.stop()
        out = server.stdout()
        check("POP3 server for b.example listening on [::1]:%d" % server.port in out, out)
        check(re.search(r"client \[::1\]:\d+, server \[::1\]:%d" % server.port, out), out)


def test_listen_one_address():
    with Server(CLI, "--listen", "127.0.0.1") as server:
        server.stop()
        out = server.stdout()
        # One line per service of the world (two SMTP, two POP3), each on 127.0.0.1 only.
        check_equal(out.count("listening on 127.0.0.1:"), 4, out)
        check_equal(out.count("listening on"), 4, out)
        check("[::1]" not in out, out)


def test_textbook_command():
    """`postlab-cli textbook` types the figure's session and prints it as the figure does."""
    with Server(CLI) as server:
        messages = server.textbook_messages()
        result = subprocess.run([CLI, "textbook", "127.0.0.1:%d" % server.port],
                                capture_output=True, text=True, timeout=30)
        check_equal(result.returncode, 0, "exit status (stderr: %s)" % result.stderr)
        lines = result.stdout.splitlines()
        dialogue = [l for l in lines if l.startswith(("C: ", "S: "))]
        check_equal(dialogue[:11], [
            "S: +OK POP3 server ready", "C: user bob", "S: +OK", "C: pass hungry",
            "S: +OK user successfully logged on", "C: list", "S: +OK 2 messages (1410 octets)",
            "S: 1 498", "S: 2 912", "S: .", "C: retr 1"], "the start of the dialogue")
        check_equal([l for l in dialogue if l.startswith("C: ")],
                    ["C: user bob", "C: pass hungry", "C: list", "C: retr 1", "C: dele 1",
                     "C: retr 2", "C: dele 2", "C: quit"], "the commands typed")
        check_equal(dialogue[-1], "S: +OK POP3 server signing off", "the last reply")
        # The messages are shown as they are, the stuffing taken away.
        for message in messages:
            for line in message.decode().split("\r\n")[:-1]:
                check("S: " + line in dialogue, "message line %r shown" % line)
        check_equal(server.messages_on_disk(), [], "messages left after QUIT")

        again = subprocess.run([CLI, "textbook", "127.0.0.1:%d" % server.port],
                               capture_output=True, text=True, timeout=30)
        check_equal(again.returncode, 0, "a second run still ends normally")
        check("S: -ERR no such message, only 0 messages in maildrop" in again.stdout,
              "an empty maildrop answers RETR with -ERR:\n" + again.stdout)

    bad = subprocess.run([CLI, "textbook", "not a host:x"], capture_output=True, text=True, timeout=30)
    check_equal(bad.returncode, 2, "a bad HOST:PORT is a usage error")
    check("textbook" in bad.stderr, bad.stderr)


run_tests([
    ("postlab-cli textbook prints the figure's session", test_textbook_command),
    ("textbook session, QUIT deletes", test_textbook_session),
    ("cut off before QUIT deletes nothing", test_cut_off_before_quit_deletes_nothing),
    ("Ctrl-C with an open session deletes nothing", test_ctrl_c_with_open_session_deletes_nothing),
    ("an idle session is closed and deletes nothing", test_idle_timeout_deletes_nothing),
    ("new data folder is seeded once", test_seeded_data_folder_layout),
    ("serve: port in use and bad options exit 2", test_serve_setup_errors),
    ("serve --listen 127.0.0.1 listens there only", test_listen_one_address),
    ("serve listens on ::1 too, endpoints in brackets", test_ipv6_loopback),
])
