#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""`postlab-cli fetch` (our POP3 client on a real socket) against `postlab-cli serve`."""

import base64
import json
import os
import shutil
import subprocess
import tempfile

from plserve import (Pop3Raw, Server, check, check_equal, cli_from_argv, dot_unstuff, free_port,
                     run_tests)

CLI = cli_from_argv()


def fetch(*args, timeout=30):
    return subprocess.run([CLI, "fetch", *args], capture_output=True, timeout=timeout)


def url(server, user="bob", password="hungry"):
    return "pop3://%s:%s@127.0.0.1:%d" % (user, password, server.port)


def text(result):
    return result.stdout.decode("utf-8", "replace")


def test_fetch_keeps_messages():
    with Server(CLI) as server:
        m1, m2 = server.textbook_messages()
        save = os.path.join(server.tmp, "saved")
        result = fetch(url(server), "--save", save)
        check_equal(result.returncode, 0, "exit code; stderr %r" % result.stderr)
        out = text(result)
        for expected in ("* Connected to 127.0.0.1 (127.0.0.1:%d)" % server.port,
                         "S: +OK POP3 server ready", "C: USER bob", "C: PASS hungry",
                         "S: +OK user successfully logged on", "C: LIST", "S: 1 498", "S: 2 912",
                         "C: RETR 1", "C: RETR 2", "C: QUIT", "S: +OK POP3 server signing off",
                         "* 2 messages retrieved (1410 octets), left on the server"):
            check(expected in out, "fetch output lacks %r:\n%s" % (expected, out))
        check("C: DELE" not in out, "no DELE without --delete")
        # The transcript comes in wire order: each command before its reply.
        check(out.index("C: RETR 1") < out.index("S: +OK 498 octets") < out.index("C: RETR 2"), out)
        for number, message in ((1, m1), (2, m2)):
            with open(os.path.join(save, "%d.eml" % number), "rb") as f:
                check_equal(f.read(), message, "saved message %d" % number)
        check_equal(server.messages_on_disk(), [m1, m2], "the Maildir after fetch")
        server.stop()


def test_fetch_json():
    with Server(CLI) as server:
        m1, m2 = server.textbook_messages()
        result = fetch(url(server), "--json")
        check_equal(result.returncode, 0, "exit code; stderr %r" % result.stderr)
        lines = result.stdout.decode("utf-8").splitlines()
        objects = [json.loads(line) for line in lines]  # each line parses on its own

        session, events, end = objects[0], objects[1:-1], objects[-1]
        check_equal(session["type"], "session", "first line")
        check_equal(session["session"], 1, "session id")
        check_equal(session["protocol"], "pop3", "protocol")
        check_equal(session["server"], "127.0.0.1:%d" % server.port, "server endpoint")
        check(session["client"].startswith("127.0.0.1:"), session["client"])
        check(isinstance(session["t"], float) and session["t"] > 1e9, "session time is epoch seconds")
        check_equal(end["type"], "end", "last line")
        check_equal(end["session"], 1, "end session id")

        last_t = session["t"]
        streams = {"C": b"", "S": b""}
        for event in events:
            check(event["type"] in ("event", "note"), event)
            check_equal(event["session"], 1, "event session")
            check(event["t"] >= last_t, "times never go back")
            last_t = event["t"]
            if event["type"] == "note":
                continue
            for field in ("dir", "kind", "text", "b64"):
                check(field in event, "event lacks %r: %r" % (field, event))
            streams[event["dir"]] += base64.b64decode(event["b64"])
            if event["dir"] == "C":
                check_equal(event["kind"], "command", "client events are commands")
                check("verb" in event, event)
            else:
                check_equal(event["kind"], "reply", "server events are replies")
                check(event["status"] in ("+OK", "-ERR"), event)

        verbs = [e["verb"] for e in events if e.get("dir") == "C"]
        check_equal(verbs, ["USER", "PASS", "LIST", "RETR", "RETR", "QUIT"], "commands sent")
        check_equal(streams["C"], b"USER bob\r\nPASS hungry\r\nLIST\r\nRETR 1\r\nRETR 2\r\nQUIT\r\n",
                    "the client's byte stream, from the b64 fields")
        # The RETR 2 reply's octets: status line, the message dot-stuffed, the terminator.
        retr2 = [e for e in events if e.get("dir") == "S"][5]  # greeting, USER, PASS, LIST, RETR 1, RETR 2
        octets = base64.b64decode(retr2["b64"])
        first, rest = octets.split(b"\r\n", 1)
        check(first.startswith(b"+OK"), first)
        check(rest.endswith(b"\r\n.\r\n"), "terminator")
        check_equal(dot_unstuff(rest[:-3]), m2, "RETR 2 from the JSON octets")
        check(b"\r\n..." in rest, "the JSON octets are the stuffed wire octets")
        server.stop()


def test_fetch_delete():
    with Server(CLI) as server:
        result = fetch(url(server), "--delete")
        check_equal(result.returncode, 0, "exit code; stderr %r" % result.stderr)
        out = text(result)
        for expected in ("C: DELE 1", "C: DELE 2", "C: QUIT", "deleted on the server"):
            check(expected in out, "fetch --delete output lacks %r:\n%s" % (expected, out))
        check_equal(server.messages_on_disk(), [], "the Maildir after fetch --delete")
        result = fetch(url(server))
        check_equal(result.returncode, 0, "exit code of the second fetch")
        check("* 0 messages retrieved" in text(result), text(result))
        server.stop()


def test_fetch_wrong_password():
    with Server(CLI) as server:
        result = fetch(url(server, password="not-hungry"))
        check_equal(result.returncode, 1, "exit code on -ERR")
        check("-ERR" in text(result), "the transcript shows the -ERR")
        check(b"-ERR" in result.stderr, "stderr names the refusal: %r" % result.stderr)
        check_equal(len(server.messages_on_disk()), 2, "nothing deleted")
        server.stop()


def test_fetch_locked_maildrop():
    with Server(CLI) as server:
        with Pop3Raw(server.port) as holder:
            holder.readline()
            holder.login()
            result = fetch(url(server), "--delete")
            check_equal(result.returncode, 1, "exit code on a locked maildrop")
            check(b"locked" in result.stderr, result.stderr)
        server.stop()


def test_fetch_percent_encoded_credentials():
    # A data folder of our own: a user whose password needs percent-encoding in a URL.
    data = tempfile.mkdtemp(prefix="postlab-fetch-")
    os.makedirs(os.path.join(data, "b.example"))
    with open(os.path.join(data, "b.example", "users"), "w", encoding="utf-8") as users:
        users.write("carol:p@ss w:rd%\n")
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(data, "b.example", "mail", "carol", sub))
    with Server(CLI, data=data) as server:
        result = fetch("pop3://carol:p%40ss%20w%3Ard%25@127.0.0.1:" + str(server.port))
        check_equal(result.returncode, 0, "exit code; stderr %r; out %r" % (result.stderr, result.stdout))
        check("C: PASS p@ss w:rd%" in text(result), text(result))
        check("* 0 messages retrieved" in text(result), text(result))
        server.stop()
    shutil.rmtree(data, ignore_errors=True)


def test_fetch_errors():
    port = free_port()
    result = fetch("pop3://bob:hungry@127.0.0.1:%d" % port)
    check_equal(result.returncode, 2, "exit code when nothing listens")
    check(b"Cannot connect to 127.0.0.1 port %d" % port in result.stderr, result.stderr)

    for bad, why in (("http://bob:hungry@127.0.0.1:1", b"pop3://"),
                     ("pop3://bob@127.0.0.1:1", b"no password"),
                     ("pop3://127.0.0.1:1", b"no user"),
                     ("pop3://bob:x%0d%0aDELE%201@127.0.0.1:1", b"control characters"),
                     ("pop3://bob:hungry@127.0.0.1:1/1", b"no path"),
                     ("not a url", b"not a URL")):
        result = fetch(bad)
        check_equal(result.returncode, 2, "exit code for %s" % bad)
        check(why in result.stderr, "%s: stderr %r" % (bad, result.stderr))

    result = fetch()
    check_equal(result.returncode, 2, "exit code without a URL")
    result = fetch("--frobnicate", "pop3://bob:hungry@127.0.0.1:1")
    check_equal(result.returncode, 2, "exit code with an unknown option")


def test_default_port_is_110():
    # Nothing of ours listens on 110 here (it needs root); the error names the port tried.
    result = fetch("pop3://bob:hungry@127.0.0.1")
    if result.returncode == 2:
        check(b"port 110" in result.stderr, result.stderr)


def test_cli_basics():
    result = subprocess.run([CLI, "--version"], capture_output=True)
    check_equal(result.returncode, 0, "--version")
    check(result.stdout.startswith(b"postlab-cli "), result.stdout)
    result = subprocess.run([CLI, "help"], capture_output=True)
    check_equal(result.returncode, 0, "help")
    for command in (b"serve", b"fetch"):
        check(command in result.stdout, result.stdout)
    result = subprocess.run([CLI, "help", "fetch"], capture_output=True)
    check_equal(result.returncode, 0, "help fetch")
    check(b"--delete" in result.stdout and b"--json" in result.stdout, result.stdout)
    result = subprocess.run([CLI], capture_output=True)
    check_equal(result.returncode, 2, "no command")
    result = subprocess.run([CLI, "frobnicate"], capture_output=True)
    check_equal(result.returncode, 2, "unknown command")
    check(b"frobnicate" in result.stderr, result.stderr)


run_tests([
    ("fetch keeps the messages and prints the dialogue", test_fetch_keeps_messages),
    ("fetch --json: JSON Lines with DESIGN.md's fields", test_fetch_json),
    ("fetch --delete empties the maildrop", test_fetch_delete),
    ("fetch with a wrong password exits 1", test_fetch_wrong_password),
    ("fetch on a locked maildrop exits 1", test_fetch_locked_maildrop),
    ("fetch percent-decodes user and password", test_fetch_percent_encoded_credentials),
    ("fetch: connection and usage errors exit 2", test_fetch_errors),
    ("fetch: the default port is 110", test_default_port_is_110),
    ("postlab-cli --version, help, unknown command", test_cli_basics),
])
